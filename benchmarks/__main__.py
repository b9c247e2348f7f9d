"""`python -m benchmarks [--quick]`: the suggestion-quality benchmark (see `quality`)."""

import sys

from benchmarks.quality import main

if __name__ == "__main__":
    sys.exit(main())
