"""Benchmarks of keras_lrfind: suggestion quality (`quality`), overhead and memory.

Run the suggestion-quality benchmark with `python -m benchmarks.quality [--quick]` (or
`make bench` / `make bench-quick`). Nothing here is part of the installed package.
"""
