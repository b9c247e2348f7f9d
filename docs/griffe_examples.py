"""A griffe extension (mkdocs.yml names it): Keras-style `Example:` sections for mkdocstrings.

The package's docstrings follow Keras's layout (shared/STYLE.md): the block under `Example:`
starts at the margin, as in Keras's own docstrings, where Google style (what mkdocstrings
parses) expects it indented under the heading. Left as it is, the heading stays plain text and
the doctest lines render as nested quotes. This extension indents such a block before the
docstring is parsed, so it becomes an examples section with highlighted code. A block that is
already indented is left alone; the source files are not touched.
"""

from __future__ import annotations

import re

import griffe

HEADING = re.compile(r"^(Example|Examples):\s*$")
SECTION = re.compile(r"^(Args|Arguments|Returns|Raises|Yields|Attributes|Warns|Notes?):\s*$")


def indent_examples(text: str) -> str:
    """Indents every margin-level `Example:` block of a dedented docstring by four spaces.

    The blank lines between the heading and its block are dropped, as Google style has it.
    """
    lines = text.splitlines()
    out = []
    inside = False
    heading = False  # Just after a heading whose block gets indented.
    for index, line in enumerate(lines):
        if HEADING.match(line):
            inside = heading = _next_content_at_margin(lines, index)
            # griffe reads `Example:` as an admonition (plain Markdown, where `>>>` is a
            # quote) and `Examples:` as the examples section, which highlights doctests.
            out.append("Examples:" if inside else line)
            continue
        if heading and not line.strip():
            continue  # griffe reads a heading followed by a blank line as plain text.
        heading = False
        if inside and SECTION.match(line):
            inside = False
        out.append("    " + line if inside and line.strip() else line)
    return "\n".join(out)


def _next_content_at_margin(lines: list[str], heading: int) -> bool:
    for line in lines[heading + 1 :]:
        if line.strip():
            return not line[0].isspace()
    return False


class KerasExamples(griffe.Extension):
    """Indents Keras-style `Example:` blocks so griffe reads them as examples sections."""

    def on_instance(self, *, obj: griffe.Object, **kwargs) -> None:
        if obj.docstring is not None:
            obj.docstring.value = indent_examples(obj.docstring.value)
