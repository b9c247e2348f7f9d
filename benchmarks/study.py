"""What the design studies share (`range_test_length.py`, `range_test_variants.py`): a JSON
file of entries under `benchmarks/results/` that a run fills in and resumes, and the command
line that computes what is missing, then writes and prints the Markdown report."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Iterable
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


class Entries:
    """The study's results file, `benchmarks/results/<name>.json`: `{key: entry}`."""

    def __init__(self, name: str, *, compact: bool = False):
        self.path = RESULTS / f"{name}.json"
        self.report_path = RESULTS / f"{name}.md"
        self.compact = compact

    def load(self) -> dict:
        return json.loads(self.path.read_text()) if self.path.exists() else {}

    def save(self, entries: dict) -> None:
        layout = {"separators": (",", ":")} if self.compact else {"indent": 1}
        self.path.write_text(json.dumps(entries, sort_keys=True, **layout) + "\n")


def main(
    argv: list[str] | None,
    doc: str,
    entries: Entries,
    measure: Callable[[list[str]], object],
    report: Callable[[dict], str],
    default_tasks: Callable[[], Iterable[str]],
) -> int:
    """`--report` only reports; otherwise `measure(tasks)` runs first (`--tasks a,b` or
    `default_tasks()`). The report goes to the study's `.md` and to stdout."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--report", action="store_true", help="Report from the JSON only.")
    parser.add_argument("--tasks", help="Comma-separated task names (default: all it runs).")
    args = parser.parse_args(argv)
    if not args.report:
        measure(args.tasks.split(",") if args.tasks else list(default_tasks()))
    text = report(entries.load())
    entries.report_path.write_text(text)
    print(text)
    return 0
