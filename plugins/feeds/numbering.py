"""The feed's TeX, prepared as MathJax would have read it: the site's macros expanded,
AMS equation numbers assigned across a post (``tags: 'ams'``) and written as ``\\tag``,
``\\label``/``\\nonumber``/``\\notag`` removed, and ``\\eqref``/``\\ref`` replaced by the
number MathJax would print (latex2mathml knows neither macros nor references)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sitegen.texgroups import group_end

# Environments MathJax (tags: 'ams') numbers, and whether each row gets its own number.
NUMBERED_ENVIRONMENTS = {
    "equation": False,
    "multline": False,
    "align": True,
    "gather": True,
    "alignat": True,
    "flalign": True,
    "eqnarray": True,
}


def _group(tex: str, start: int) -> tuple[str, int] | None:
    """The argument at ``start`` (after spaces): a brace group's inside or one token.
    Returns (argument, index after it), or None at the end of the text."""
    i = start
    while i < len(tex) and tex[i].isspace():
        i += 1
    if i >= len(tex):
        return None
    if tex[i] == "{":
        end = group_end(tex, i)
        return None if end is None else (tex[i + 1 : end - 1], end)  # unbalanced: left alone
    if tex[i] == "\\":
        m = re.match(r"\\(?:[A-Za-z]+|.)", tex[i:])
        assert m is not None
        return m.group(0), i + m.end()
    return tex[i], i + 1


_CONTROL_WORD = re.compile(r"\\([A-Za-z]+)")


def expand_macros(tex: str, macros: dict[str, Any], rounds: int = 8) -> str:
    """Replace the site's ``\\newcommand`` macros (``{"R": "\\mathbb{R}"}`` or
    ``{"f": [body, nargs]}``), since latex2mathml knows no ``\\newcommand``."""
    if not macros:
        return tex
    for _ in range(rounds):  # macros may use macros; a bound stops self-recursion
        out, pos, changed = [], 0, False
        for m in _CONTROL_WORD.finditer(tex):
            if m.start() < pos or m.group(1) not in macros:
                continue
            if m.start() > 0 and tex[m.start() - 1] == "\\":
                continue  # "\\R" is a row break followed by R
            definition = macros[m.group(1)]
            body, nargs = (definition, 0) if isinstance(definition, str) else definition
            end, args = m.end(), []
            for _ in range(int(nargs)):
                found = _group(tex, end)
                if found is None:
                    break
                args.append(found[0])
                end = found[1]
            if len(args) < int(nargs):
                continue
            for n, arg in enumerate(args, start=1):
                body = body.replace(f"#{n}", arg)
            out.append(tex[pos : m.start()])
            out.append(body)
            pos, changed = end, True
        if not changed:
            return tex
        out.append(tex[pos:])
        tex = "".join(out)
    return tex


def commands(tex: str, name: str) -> list[tuple[int, int, str]]:
    """(start, end, argument) of every ``\\name{arg}`` in ``tex``."""
    found = []
    for m in re.finditer(r"\\" + name + r"(?![A-Za-z])\s*", tex):
        group = _group(tex, m.end())
        if group is not None and tex[m.end() : m.end() + 1] == "{":
            found.append((m.start(), group[1], group[0]))
    return found


def _remove_commands(tex: str, name: str) -> str:
    for start, end, _ in reversed(commands(tex, name)):
        tex = tex[:start] + tex[end:]
    return tex


def _split_rows(body: str) -> list[str]:
    """Rows of an environment's body: split at ``\\\\`` outside braces and nested
    environments (a matrix inside an align row keeps its own rows)."""
    rows, depth, start, i = [], 0, 0, 0
    while i < len(body):
        if body.startswith("\\begin", i):
            depth += 1
            i += 6
        elif body.startswith("\\end", i):
            depth -= 1
            i += 4
        elif body.startswith("\\\\", i):
            if depth == 0:
                rows.append(body[start:i])
                start = i + 2
            i += 2
        elif body[i] == "\\":
            i += 2
        elif body[i] == "{":
            depth += 1
            i += 1
        elif body[i] == "}":
            depth -= 1
            i += 1
        else:
            i += 1
    rows.append(body[start:])
    return rows


_ENVIRONMENT = re.compile(r"\A\s*\\begin\{([a-z]+)(\*?)\}(.*)\\end\{\1\2\}\s*\Z", re.DOTALL)
_NO_NUMBER = re.compile(r"\\(?:nonumber|notag)(?![A-Za-z])")


@dataclass
class EquationNumbers:
    """AMS numbering across one post, as MathJax does it with ``tags: 'ams'``."""

    counter: int = 0
    labels: dict[str, str] = field(default_factory=dict)  # label -> number shown

    def number(self, tex: str, display: bool = False) -> str:
        """Record the labels of one formula; return its TeX with every number written as
        ``\\tag`` and no ``\\label``/``\\nonumber``."""
        m = _ENVIRONMENT.match(tex)
        if m is None and display and commands(tex, "label"):
            # the theme numbers a labelled display outside any environment, as an equation
            return self._label_row(tex, self._auto(tex))
        if m is None or m.group(1) not in NUMBERED_ENVIRONMENTS or m.group(2):
            self._label_row(tex, None)  # only an explicit \tag numbers it
            return _clean(tex)
        name, body = m.group(1), m.group(3)
        if not NUMBERED_ENVIRONMENTS[name]:
            body = self._label_row(body, self._auto(body))
            return f"\\begin{{{name}}}{body}\\end{{{name}}}"
        rows = _split_rows(body)
        if len(rows) > 1 and not rows[-1].strip():
            rows = rows[:-1]  # a final "\\" opens no row of its own worth numbering
        done = [self._label_row(row, self._auto(row)) for row in rows]
        return f"\\begin{{{name}}}" + "\\\\".join(done) + f"\\end{{{name}}}"

    def _auto(self, row: str) -> str | None:
        if commands(row, "tag") or _NO_NUMBER.search(row) or not row.strip():
            return None
        self.counter += 1
        return str(self.counter)

    def _label_row(self, row: str, auto: str | None) -> str:
        tags = commands(row, "tag")
        shown = tags[0][2].strip() if tags else auto
        for _, _, label in commands(row, "label"):
            if shown is not None:
                self.labels.setdefault(label.strip(), shown)
        row = _clean(row)
        return row + f" \\tag{{{auto}}}" if auto is not None and not tags else row


def _clean(tex: str) -> str:
    return _NO_NUMBER.sub("", _remove_commands(tex, "label"))


_TEXT_COMMANDS = ("text", "mbox", "textrm", "textbf", "textit", "mathrm")


def resolve_refs(tex: str, labels: dict[str, str]) -> str:
    """``\\eqref{x}`` / ``\\ref{x}`` inside math become the number MathJax would print,
    as text (latex2mathml knows no references); inside ``\\text{..}`` as plain characters."""
    for name in ("eqref", "ref"):
        while found := commands(tex, name):
            start, end, label = found[0]
            shown = labels.get(label.strip(), label.strip())
            shown = f"({shown})" if name == "eqref" else shown
            in_text = any(
                a < start and end <= b
                for command in _TEXT_COMMANDS
                for a, b, _ in commands(tex, command)
            )
            tex = tex[:start] + (shown if in_text else f"\\text{{{shown}}}") + tex[end:]
    return tex


