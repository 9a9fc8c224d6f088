"""Find the stated gradient in an equation: its rows, the row a label names, the
left-hand side (what is differentiated, with respect to what) and the right-hand sides.

``\\frac{\\partial L}{\\partial W} = RHS``, ``\\partial L/\\partial W``, ``\\nabla_W L``,
``\\frac{dL}{dW}``, ``dL/dW`` and ``\\frac{d}{dx} f(x)`` are gradient statements; a row
``&= C`` continues the chain of the row before it (a derivation).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sitegen.texgroups import split_outside_groups

from ..coverage import split_rows
from . import parse as p
from .refusals import Unread

_ENV = re.compile(r"\\(?:begin|end)\s*\{(?:align|aligned|equation|gather|gathered|split|"
                  r"multline|eqnarray|alignat|alignedat)\*?\}(?:\{\d+\})?")
_LABEL = re.compile(r"\\(?:label|tag\*?)\s*\{([^{}]*)\}")
_COMMENT = re.compile(r"(?<!\\)%[^\n]*")
_REMARK = re.compile(r",?\s*\\q?quad\b")
_CONDITION = re.compile(r"\\forall|\\exists|[<>]|\\[gl]eq?\b|\\text\s*\{\s*(?:if|for)\b")


@dataclass(frozen=True)
class Row:
    text: str
    offset: int  # lines from the start of the formula
    parts: tuple[str, ...]  # split at top-level "=" (the first is "" for "&= C")
    labels: tuple[str, ...]


@dataclass(frozen=True)
class Statement:
    """A stated gradient: with respect to ``wrt``; ``chain`` its right-hand sides in order
    (a derivation has several), with the row offset of each, and the one ``label`` names."""

    wrt: p.Node
    chain: tuple[tuple[str, int], ...]
    named: int  # index in ``chain`` of the expression the label names


def rows(tex: str) -> list[Row]:
    clean = _ENV.sub(" ", _COMMENT.sub("", tex))
    found: list[Row] = []
    at = 0
    for piece in split_rows(clean):
        where = clean.find(piece, at)
        at = where + len(piece)
        lead = len(piece) - len(piece.lstrip())
        offset = clean.count("\n", 0, where + lead)
        labels = tuple(m.group(1).strip() for m in _LABEL.finditer(piece))
        body = _LABEL.sub(" ", piece).replace("&", " ").strip()
        if not body:
            continue
        if found and found[-1].text.rstrip().endswith(("+", "-")):
            # "a + \\ b": a sum carried over to the next line
            last = found.pop()
            body = f"{last.text} {body}"
            offset, labels = last.offset, last.labels + labels
        remark = _REMARK.search(body)
        if remark and "=" in body[remark.end():] and not _CONDITION.search(body[remark.end():]):
            body = body[:remark.start()]  # "…, \\qquad r_m = f(x_m)": where-clauses
        # split at "=" outside braces (``\\leq`` and the like hold none)
        parts = [s.strip() for s in split_outside_groups(body, "=")]
        for k, part in enumerate(parts[1:], 1):
            if part.startswith(":"):  # "… =: \\delta" names the value; it states nothing
                parts = parts[:k]
                break
        found.append(Row(body, offset, tuple(parts), labels))
    return found


def gradient_wrt(lhs: str, superscript_index: bool = False) -> p.Node | None:
    """What a left-hand side differentiates with respect to, None if it states none."""
    return _wrt(p.tokens(lhs), superscript_index)


def _wrt(toks: list[p.Token], superscript_index: bool) -> p.Node | None:
    texts = [t.text for t in toks]
    if not texts:
        return None
    if texts[0] in p.ACCENTS and len(texts) > 1 and texts[1] == "{":
        # \widehat{\nabla_\theta J}_\beta: an estimate of the gradient inside
        return _wrt(p.Parser(toks[1:], superscript_index).group_tokens(), superscript_index)
    if texts[0] in ("\\frac", "\\dfrac", "\\tfrac"):
        parser = p.Parser(toks[1:], superscript_index)
        num, den = parser.group_tokens(), parser.group_tokens()
        if num and den and num[0].text == "\\partial" and den[0].text == "\\partial":
            return _operand(den[1:], superscript_index)
        if num and den and _is_d(num) and _is_d(den):
            return _operand(den[1:] if den[0].text == "d" else den[2:], superscript_index)
        return None
    if texts[0] in ("\\pdv", "\\dv"):  # the physics package: \\pdv{L}{W}
        parser = p.Parser(toks[1:], superscript_index)
        if parser.at("["):
            raise Unread("unsupported", "a higher derivative \\pdv[n]")
        parser.group_tokens()
        return _operand(parser.group_tokens(), superscript_index)
    if texts[0] == "\\nabla":
        parser = p.Parser(toks[1:], superscript_index)
        if parser.at("_"):
            parser.take()
            return _operand(parser.group_tokens(), superscript_index)
        return None
    if "/" in texts:
        cut = texts.index("/")
        before, after = toks[:cut], toks[cut + 1:]
        if before and after and before[0].text == after[0].text and before[0].text in (
                "\\partial", "d"):
            return _operand(after[1:], superscript_index)
    return None


def _is_d(toks: list[p.Token]) -> bool:
    return toks[0].text == "d" or (toks[0].text in p.NAMED and len(toks) > 1 and
                                   toks[1].text in ("d", "{"))


def _operand(toks: list[p.Token], superscript_index: bool) -> p.Node:
    if toks and toks[0].text == "{" and toks[-1].text == "}":
        toks = toks[1:-1]
    if toks and toks[0].text in p.NAMED:  # \mathrm{d}x: the "d" was the first token
        toks = toks[4:] if len(toks) > 3 and toks[2].text == "}" else toks
    parser = p.Parser(list(toks), superscript_index)
    node = parser.atom() if toks else None
    if node is None:
        raise Unread("no-gradient")
    while parser.at("^"):
        parser.take()
        node = parser.superscript(node)
    return node


def find(tex: str, label: str, superscript_index: bool = False) -> Statement:
    """The stated gradient of the equation row ``label`` names (or the equation's only one)."""
    all_rows = rows(tex)
    starts = [i for i, row in enumerate(all_rows)
              if row.parts[0] and len(row.parts) > 1
              and gradient_wrt(row.parts[0], superscript_index) is not None]
    start, current = None, None
    for i, row in enumerate(all_rows):
        if row.parts[0] and len(row.parts) > 1:
            current = i if i in starts else None
        if label in row.labels:
            start = current
            if start is None and len(row.parts) == 1 and len(starts) == 1:
                start = starts[0]  # the label on a row of its own
            break
    else:
        start = starts[0] if len(starts) == 1 else None
    if start is None:
        raise Unread("no-gradient")
    wrt = gradient_wrt(all_rows[start].parts[0], superscript_index)
    assert wrt is not None
    chain: list[tuple[str, int]] = []
    named = None
    for j, row in enumerate(all_rows[start:]):
        if j and row.parts[0]:
            break  # a row with its own left-hand side starts a new statement
        for part in row.parts[1:]:
            chain.append((part, row.offset))
        if label in row.labels:
            named = len(chain) - 1
    if not chain or not chain[0][0]:
        raise Unread("no-rhs")
    return Statement(wrt, tuple(chain), len(chain) - 1 if named is None else named)
