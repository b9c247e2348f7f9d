"""`python -m benchmarks [--quick]`: every benchmark, one after the other.

Suggestion quality (`quality`), speed overhead (`overhead`) and memory (`memory`); each
writes its Markdown report under `benchmarks/results/` (the quick mode writes the quality
report only, `quality_quick.md`, and prints the others).
"""

import sys

from benchmarks import memory, overhead, quality


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    quick = ["--quick"] if "--quick" in argv else []
    status = quality.main(quick)
    overhead.main(quick)
    memory.main(quick)
    return status


if __name__ == "__main__":
    sys.exit(main())
