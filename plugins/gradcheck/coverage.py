"""Which equations of a post state a gradient, and which of them a check verifies.

An equation row states a gradient when its left-hand side (before the first ``=``) holds
∂…/∂… (``\\frac{\\partial L}{\\partial W}``, ``\\partial L / \\partial W``, ``\\pdv{L}{W}``),
``\\nabla`` or d…/d… (``\\frac{dL}{dW}``, ``\\frac{\\mathrm{d} L}{\\mathrm{d} w}``, ``dL/dw``),
or is a differential on its own (``d\\mu = …``, ``\\mathrm{d}W = …``). The rows of a
``bmatrix`` (and the other matrix environments) are one row of the equation. A check names
an equation with ``eq=`` by one of its ``\\label``s or ``\\tag``s.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any

_D = r"(?:\\mathrm\s*\{\s*d\s*\}|\\operatorname\s*\{\s*d\s*\}|d)"
# gradient forms other than ∂ (which ``states_gradient`` handles first)
_OTHER_FORMS = [
    re.compile(r"\\nabla"),
    re.compile(
        r"\\[dt]?frac\s*\{\s*" + _D + r"\s*[A-Za-z\\{](?:[^{}]|\{[^{}]*\})*\}\s*\{\s*" + _D
        + r"\s*[A-Za-z\\{]"
    ),
    # the operator form: \frac{d}{dx} f(x)
    re.compile(r"\\[dt]?frac\s*\{\s*" + _D + r"\s*\}\s*\{\s*" + _D + r"\s*[A-Za-z\\{]"),
    re.compile(r"(?<![A-Za-z\\])d[A-Za-z](?:_\{?\w+\}?)?\s*/\s*d[A-Za-z]"),
    # the physics package: \pdv{L}{W}, \pdv[2]{L}{x}, \dv{L}{x}
    re.compile(r"\\(?:pdv|dv)\s*(?:\[[^\]]*\])?\s*\{"),
]
# a differential on its own: "d\mu = …", "\mathrm{d}W = …" (the whole left-hand side)
_DIFFERENTIAL = re.compile(
    r"^\s*(?:d\\[A-Za-z]+|\\(?:mathrm|operatorname)\s*\{d\}\s*(?:\\[A-Za-z]+|[A-Za-z]))"
    r"\s*(?:_\{?[\w,]+\}?)?\s*$"
)
_LABEL = re.compile(r"\\(?:label|tag\*?)\s*\{([^{}]*)\}")
_ROW_BREAK = re.compile(r"\\\\(?:\s*\[[^\]]*\])?")
# environments whose \\ separate the rows of one matrix, not rows of the equation
_MATRIX = re.compile(r"\\(begin|end)\s*\{\s*([pbBvV]?matrix|smallmatrix|array|cases)\*?\s*\}")
_COMMENT = re.compile(r"(?<!\\)%.*")
_ENVIRONMENT = re.compile(r"\\(?:begin|end)\s*\{[^{}]*\}")


def labels(tex: str) -> list[str]:
    """The names an ``eq=`` may use for this TeX: its ``\\label``s and ``\\tag``s."""
    return [m.group(1).strip() for m in _LABEL.finditer(tex) if m.group(1).strip()]


def split_rows(tex: str) -> list[str]:
    """The rows of an equation: split at ``\\\\``, except inside a ``bmatrix`` (and the
    other matrix environments), which is read whole."""
    if not _MATRIX.search(tex):
        return _ROW_BREAK.split(tex)
    rows, depth, start, at = [], 0, 0, 0
    events = sorted(
        [(m.start(), m.end(), "env", m.group(1)) for m in _MATRIX.finditer(tex)]
        + [(m.start(), m.end(), "break", "") for m in _ROW_BREAK.finditer(tex)]
    )
    for begin, end, kind, which in events:
        if begin < at:
            continue
        at = end
        if kind == "env":
            depth += 1 if which == "begin" else -1
        elif depth <= 0:
            rows.append(tex[start:begin])
            start = end
    rows.append(tex[start:])
    return rows


def _lhs(row: str) -> str | None:
    row = _ENVIRONMENT.sub(" ", row)
    cut = re.search(r"(?<![<>!:\\])=", row)
    return row[: cut.start()] if cut else None


def states_gradient(lhs: str) -> bool:
    if "\\partial" in lhs:
        # a ∂ in a fraction's numerator and denominator, or ∂L/∂W written with a slash
        if re.search(r"\\[dt]?frac\s*\{[^=]*?\\partial[^=]*?\}\s*\{\s*\\partial", lhs):
            return True
        if re.search(r"\\partial[^=]*?/\s*\\partial", lhs):
            return True
    return any(p.search(lhs) for p in _OTHER_FORMS) or bool(_DIFFERENTIAL.match(lhs))


@dataclass(frozen=True)
class Statement:
    """One row of an equation, as far as coverage is concerned (immutable: memoised ones
    are shared by every formula with the same TeX)."""

    gradient: bool
    labels: tuple[str, ...] = ()


# Cheap substrings one of which every gradient statement or label contains; most formulas of
# a post hold none of them and skip the regular expressions below. Each pattern the analysis
# matches needs one of them literally (\partial, \nabla, the "frac" of \frac, the "/" of
# dL/dw, \label, \tag, the "dv" of \pdv, the "d\" of d\mu, the "{d}" of \mathrm{d}W), and
# the analysis only removes text, never joins it, so a formula without them has no
# statements (the tests run both on real and synthetic TeX).
_TRIGGERS = ("\\partial", "\\nabla", "\\label", "\\tag", "frac", "/", "dv", "d\\", "{d}")
# Distinct formulas kept per process; a real post repeats $W$, ∂L/∂W… many times, and a
# build looks at each formula twice (when posts are parsed, and when they render).
CACHE_SIZE = 8192


# one search for all of them: a post has some seventy formulas, most of them with none
_TRIGGER = re.compile("|".join(map(re.escape, _TRIGGERS)))


def may_state(tex: str) -> bool:
    """False when ``tex`` certainly has no gradient row and no label (the cheap prefilter)."""
    return _TRIGGER.search(tex) is not None


def statements(tex: str) -> list[Statement]:
    """The rows of an equation that state a gradient or carry a label."""
    return list(_statements(tex))


@functools.lru_cache(maxsize=CACHE_SIZE)
def _statements(tex: str) -> tuple[Statement, ...]:
    return analyse(tex) if may_state(tex) else ()


def analyse(tex: str) -> tuple[Statement, ...]:
    """The full analysis behind ``statements``, without prefilter or memo."""
    tex = _COMMENT.sub("", tex)
    rows = split_rows(tex)
    found: list[tuple[bool, list[str]]] = []
    chain = False  # the rows since a gradient row continue its chain ("&= …")
    for row in rows:
        lhs = _lhs(row)
        gradient = lhs is not None and states_gradient(lhs)
        row_labels = labels(row)
        if chain and lhs is not None and not lhs.replace("&", "").strip():
            found[-1][1].extend(row_labels)  # a label on a later line names the same gradient
            continue
        chain = gradient
        if gradient or row_labels:
            found.append((gradient, row_labels))
    gradient_rows = [i for i, (gradient, _) in enumerate(found) if gradient]
    unattached = [label for gradient, names in found if not gradient for label in names]
    # "\begin{equation} … \end{equation}" with its \label on a row of its own
    if len(gradient_rows) == 1 and not found[gradient_rows[0]][1] and unattached:
        found[gradient_rows[0]] = (True, unattached)
    return tuple(Statement(gradient, tuple(names)) for gradient, names in found)


@dataclass(frozen=True)
class Equation:
    """A math token's coverage facts, computed the same way at parse and at render time.
    Immutable, since one is shared by every token with the same TeX and display."""

    tex: str
    display: bool
    statements: tuple[Statement, ...]

    def __post_init__(self) -> None:
        # callers may pass a list; keep a tuple so the shared value cannot change
        object.__setattr__(self, "statements", tuple(self.statements))

    @property
    def labels(self) -> list[str]:
        return [label for s in self.statements for label in s.labels]


def math_key(token: Any) -> tuple[str, bool] | None:
    """(TeX, display) of a math token (``math_block``/``math_inline``), None otherwise."""
    kind = token.type
    if kind == "math_block":
        return token.content, True
    if kind == "math_inline":
        return token.content, bool((token.meta or {}).get("display"))
    return None


def equation_of(token: Any) -> Equation | None:
    """Coverage facts of a math token (``math_block``/``math_inline``), None otherwise."""
    key = math_key(token)
    return None if key is None else equation_for(*key)


def stating_equation(token: Any) -> Equation | None:
    """Coverage facts of a math token that states a gradient or carries a label; None for
    other formulas (most of a post's) and other tokens, which cost no ``Equation``."""
    key = math_key(token)
    return None if key is None else stating_equation_for(*key)


def stating_equation_for(tex: str, display: bool) -> Equation | None:
    """``stating_equation`` by TeX: the prefilter first, then the memo (which a post's
    many formulas that state nothing would only churn)."""
    return equation_for(tex, display) if may_state(tex) and _statements(tex) else None


@functools.lru_cache(maxsize=CACHE_SIZE)
def equation_for(tex: str, display: bool) -> Equation:
    """Coverage facts of one formula (memoised: the result is immutable)."""
    return Equation(tex, display, _statements(tex))


def math_tokens(tokens: list[Any]) -> list[Any]:
    """Every math token of a parsed post, block and inline, in document order."""
    found = []
    for token in tokens:
        if token.type in ("math_block", "math_inline"):
            found.append(token)
        for child in token.children or []:
            if child.type in ("math_block", "math_inline"):
                found.append(child)
    return found


def anchor(label: str) -> str:
    """An HTML id for an equation label (MathJax uses ``mjx-eqn:…``; this must differ)."""
    return "sg-eq-" + re.sub(r"[^A-Za-z0-9_-]+", "-", label).strip("-")


@dataclass
class Coverage:
    """How many stated gradients of a post are verified."""

    stated: int = 0
    verified: int = 0
    unlinked_gradients: int = 0
    missing_labels: list[str] = field(default_factory=list)  # eq= naming no equation


def coverage(equations: list[Equation], checks: list[dict[str, Any]]) -> Coverage:
    """Count stated gradients: rows with a gradient on the left, and rows a check names."""
    by_label: dict[str, list[dict[str, Any]]] = {}
    for check in checks:
        if check.get("eq"):
            by_label.setdefault(str(check["eq"]), []).append(check)
    result = Coverage()
    seen: set[str] = set()
    for equation in equations:
        for statement in equation.statements:
            linked = [c for label in statement.labels for c in by_label.get(label, [])]
            seen.update(label for label in statement.labels if label in by_label)
            if not statement.gradient and not linked:
                continue
            result.stated += 1
            if linked and all(c.get("status") == "pass" and c.get("equation_status") not in
                              ("contradicts",) for c in linked):
                result.verified += 1
            if statement.gradient and not linked:
                result.unlinked_gradients += 1
    result.missing_labels = sorted(label for label in by_label if label not in seen)
    return result
