"""What every benchmark study shares: where results go, how TensorFlow is pinned, which
machine measured, and the resumable JSON file and command line of the design studies.

- `RESULTS_DIR`: `benchmarks/results/`, the one folder every study writes its committed
  results to (`BENCHMARK_DIR` is the folder above it, which also holds the caches).
- `configure_threads`: TensorFlow on a fixed number of threads, so that timings compare.
- `machine_info` and `machine_header`: the platform, CPU and versions a results file was
  measured with, and the commit of the measured `keras_lrfind`.
- `Entries` and `main`: a JSON file of entries under `RESULTS_DIR` that a run fills in and
  resumes, and the command line that computes what is missing, then writes and prints the
  Markdown report (`range_test_length.py`, `range_test_variants.py`, `search_design.py`).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import importlib.metadata
import json
import os
import platform
import subprocess
from collections.abc import Callable, Iterable
from pathlib import Path

BENCHMARK_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCHMARK_DIR / "results"


def configure_threads(threads: int = 1) -> None:
    """Runs TensorFlow on `threads` intra- and inter-op threads (call before any op runs;
    once TensorFlow's runtime is initialised, the setting stays as it was)."""
    import tensorflow as tf

    with contextlib.suppress(RuntimeError):
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)


def machine_info() -> dict[str, str]:
    """Platform, CPU and library versions, for the header of a results file."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass

    def version(package: str) -> str:
        try:
            return importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            return "not installed"

    return {
        "date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "keras_lrfind": _source_version(),
        "platform": platform.platform(),
        "cpu": f"{cpu}, {os.cpu_count()} logical cores",
        "python": platform.python_version(),
        "tensorflow": version("tensorflow"),
        "keras": version("keras"),
        "numpy": version("numpy"),
        "keras_backend": os.environ.get("KERAS_BACKEND", "tensorflow"),
    }


def _source_version() -> str:
    """The git commit of the measured `keras_lrfind`, and whether its sources were edited."""
    root = BENCHMARK_DIR.parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        edited = subprocess.run(
            ["git", "status", "--porcelain", "--", "keras_lrfind"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (no git)"
    return f"git {commit}" + (" + uncommitted changes" if edited else "")


def machine_header(info: dict[str, str]) -> str:
    """The machine info as a Markdown list."""
    return "\n".join(f"- {key}: {value}" for key, value in info.items())


class Entries:
    """The study's results file, `benchmarks/results/<name>.json`: `{key: entry}`."""

    def __init__(self, name: str, *, compact: bool = False):
        self.path = RESULTS_DIR / f"{name}.json"
        self.report_path = RESULTS_DIR / f"{name}.md"
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
