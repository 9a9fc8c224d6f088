"""references: a warning, with file and line, for every ``\\eqref{x}`` / ``\\ref{x}`` to a
label that no equation on the page defines. MathJax would show such a reference as
"(???)" without a word; this says so at build time.

Labels are looked for in every formula of the page (displays, environments, inline math);
references in formulas and in running text. What HTML comments and code hold is not math
and is not looked at.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from sitegen.hooks import hookimpl
from sitegen.markdown.lines import report

SETTINGS: dict = {}  # only "enabled"

_LABEL = re.compile(r"\\label\s*\{([^{}]*)\}")
REFERENCE = re.compile(r"\\(eqref|ref)\s*\{([^{}]*)\}")
MATH_TOKENS = ("math_block", "math_inline")


def math_tokens(tokens: list[Any]) -> Iterator[tuple[int, Any]]:
    """(0-based body line, token) of every math token, in document order. A token inside
    a paragraph gets the paragraph's first line plus the line breaks before it."""
    for token in tokens:
        if token.type in MATH_TOKENS:
            yield (token.map[0] if token.map else 0), token
        elif token.children:
            line = token.map[0] if token.map else 0
            for child in token.children:
                if child.type in ("softbreak", "hardbreak"):
                    line += 1
                elif child.type in MATH_TOKENS:
                    yield line, child
                line += child.content.count("\n") if child.type in MATH_TOKENS else 0


def unresolved_references(tokens: list[Any]) -> list[tuple[int, str, str]]:
    """(0-based body line, "eqref" | "ref", label) of references to labels the page lacks."""
    labels: set[str] = set()
    references: list[tuple[int, str, str]] = []
    for line, token in math_tokens(tokens):
        content = token.content
        # most formulas have neither: a substring test is cheaper than a regex search
        if "\\label" in content:
            labels.update(label.strip() for label in _LABEL.findall(content))
        if "ref" in content:
            for match in REFERENCE.finditer(content):
                before = content.count("\n", 0, match.start())
                references.append((line + before, match.group(1), match.group(2).strip()))
    return [r for r in references if r[2] not in labels]


def check_references(state: Any) -> None:
    """A core rule, after inline parsing: report each reference to nothing."""
    for line, kind, label in unresolved_references(state.tokens):
        report(
            state.env,
            line,
            "warning",
            f"\\{kind}{{{label}}}: no equation on this page has \\label{{{label}}} "
            "(MathJax would show '(???)')",
        )


@hookimpl
def sitegen_extend_markdown(md: Any, site: Any) -> None:
    md.core.ruler.push("sitegen_references", check_references)
