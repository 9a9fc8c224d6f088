"""Shapes in named sizes: ``dims``, dimension tables, traces of a gradient's expression, and
the shapes a post's math states (``W \\in \\mathbb{R}^{D \\times H}``, ``[W]_{3 \\times 1}``).

The worker uses the first half (it sees the arrays); the builder uses ``stated_shapes`` and
``compare_stated`` on the post's TeX. Nothing here imports numpy: arrays are recognised by
their ``shape`` attribute, so the builder process stays numpy-free.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

TIMES = "×"


# ----------------------------------------------------------------------- naming sizes


def size_names(declared: Mapping[str, int], namespace: Mapping[str, Any]) -> dict[int, str]:
    """value → name for the sizes a table may name.

    Sizes declared with ``dims`` win; without them, integer variables of the namespace are
    used where their value is unique (two names for 3 would make "3" ambiguous). 1 is
    never named: a column is ``N×1``, not ``N×K`` because some ``K = 1`` exists.
    """
    source = dict(declared) if declared else {
        k: v
        for k, v in namespace.items()
        if type(v) is int and not k.startswith("_") and len(k) <= 12
    }
    by_value: dict[int, list[str]] = {}
    for name, value in source.items():
        if isinstance(value, int) and value > 1:
            by_value.setdefault(value, []).append(name)
    return {value: names[0] for value, names in by_value.items() if len(names) == 1}


def named_shape(shape: tuple[int, ...] | list[int], names: Mapping[int, str]) -> str:
    """``(4, 3)`` → ``"N×D"``; a 0-d array is ``"scalar"``."""
    if len(shape) == 0:
        return "scalar"
    return TIMES.join(names.get(int(d), str(int(d))) for d in shape)


def shape_of(value: Any) -> tuple[int, ...] | None:
    """The shape of an array-like value, () for a plain number, None for anything else."""
    shape = getattr(value, "shape", None)
    if isinstance(shape, tuple) and all(isinstance(d, int) for d in shape):
        return shape
    if isinstance(value, int | float) and not isinstance(value, bool):
        return ()
    return None


# --------------------------------------------------------------- which names a block binds


def bound_names(tree: ast.Module) -> list[str]:
    """Names a block assigns at top level, in order of first assignment."""
    found: list[str] = []

    def add(target: ast.AST) -> None:
        if isinstance(target, ast.Name) and target.id not in found:
            found.append(target.id)
        elif isinstance(target, ast.Tuple | ast.List):
            for element in target.elts:
                add(element)
        elif isinstance(target, ast.Starred):
            add(target.value)

    for node in tree.body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                add(target)
        elif isinstance(node, ast.AnnAssign | ast.AugAssign):
            add(node.target)
    return found


# ------------------------------------------------------------------- shape traces

# method calls on arrays that are safe to evaluate again (no side effects, no rng draws)
SAFE_METHODS = frozenset(
    "T sum mean reshape transpose dot ravel flatten squeeze max min copy astype conj".split()
)
OP_SYMBOLS = {
    ast.MatMult: "@",
    ast.Mult: "*",
    ast.Add: "+",
    ast.Sub: "-",
    ast.Div: "/",
    ast.Pow: "**",
}


def _is_safe(node: ast.AST) -> bool:
    """Can this sub-expression be evaluated again without changing anything?"""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            func = sub.func
            if not isinstance(func, ast.Attribute):
                return False
            if func.attr.startswith("_"):
                return False
            chain = ast.unparse(func)
            if chain.startswith("np.") and ".random" not in chain:
                continue  # numpy's functions are pure
            if func.attr in SAFE_METHODS:
                continue
            return False
        if isinstance(sub, ast.Attribute) and sub.attr.startswith("_"):
            return False
        if isinstance(sub, ast.Lambda | ast.NamedExpr | ast.Await | ast.Yield | ast.YieldFrom):
            return False
    return True


def _shape_in(node: ast.expr, namespace: dict[str, Any]) -> tuple[int, ...] | None:
    if not _is_safe(node):
        return None
    try:
        code = compile(ast.Expression(node), "<trace>", "eval")
        return shape_of(eval(code, namespace))  # noqa: S307 - the author's own expression
    except Exception:
        return None


def _chain(node: ast.expr, op: type) -> list[ast.expr]:
    """``a @ b @ c`` → [a, b, c] (left-associative chains of one operator)."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, op):
        return _chain(node.left, op) + [node.right]
    return [node]


@dataclass
class Trace:
    """How a gradient's shape comes about: ``dW = X.T @ Delta : (D×N)(N×C) → D×C``."""

    expr: str
    factors: str  # "(D×N)(N×C)" or "(N×C) * (N×C)"; "" when nothing to show
    result: str
    param: str = ""  # the checked parameter's expression ("W")
    param_shape: str = ""
    matches: bool | None = None

    def text(self) -> str:
        left = f"{self.expr} : {self.factors} → {self.result}" if self.factors else (
            f"{self.expr} : {self.result}"
        )
        if self.param and self.matches is not None:
            verdict = "matching" if self.matches else "but"
            tail = f"{self.param}" if self.matches else f"{self.param} is {self.param_shape}"
            return f"{left}, {verdict} {tail}"
        return left


def trace_expression(
    expr: ast.expr, namespace: dict[str, Any], names: Mapping[int, str]
) -> tuple[str, str] | None:
    """(factors, result) in named sizes for one expression, or None if its shape is unknown."""
    result = _shape_in(expr, namespace)
    if result is None:
        return None
    if isinstance(expr, ast.BinOp) and type(expr.op) in OP_SYMBOLS:
        operands = _chain(expr, type(expr.op))
        shapes = [_shape_in(o, namespace) for o in operands]
        if all(s is not None for s in shapes):
            parts = [f"({named_shape(s, names)})" for s in shapes if s is not None]
            if isinstance(expr.op, ast.MatMult):
                factors = "".join(parts)
            else:
                factors = f" {OP_SYMBOLS[type(expr.op)]} ".join(parts)
            return factors, named_shape(result, names)
    return "", named_shape(result, names)


GRAD_POSITION = {"check_grad": (2, 1), "check_vjp": (3, 1)}  # (grad arg, param arg)


def find_check_call(tree: ast.AST, line: int) -> ast.Call | None:
    """The ``check_grad``/``check_vjp`` call that starts on ``line`` (file lines)."""
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in GRAD_POSITION
            and node.lineno == line
        ):
            return node
    return None


def _argument(call: ast.Call, position: int, keyword: str) -> ast.expr | None:
    for kw in call.keywords:
        if kw.arg == keyword:
            return kw.value
    return call.args[position] if len(call.args) > position else None


def last_assignment(trees: list[ast.Module], name: str, before: int) -> ast.expr | None:
    """The value most recently assigned to ``name`` at top level before file line ``before``."""
    found: ast.expr | None = None
    for tree in trees:
        for node in tree.body:
            if node.lineno >= before:
                break
            if (
                isinstance(node, ast.Assign)
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
                and node.targets[0].id == name
            ):
                found = node.value
    return found


def trace_check(
    trees: list[ast.Module], line: int, namespace: dict[str, Any], names: Mapping[int, str]
) -> Trace | None:
    """The shape trace of the gradient checked by the call on ``line``."""
    # newest block first: a helper defined in an earlier block may hold the call
    call = next((c for t in reversed(trees) if (c := find_check_call(t, line))), None)
    if call is None:
        return None
    grad_pos, param_pos = GRAD_POSITION[call.func.id]  # type: ignore[attr-defined]
    grad = _argument(call, grad_pos, "grad")
    param = _argument(call, param_pos, "x")
    if grad is None or isinstance(grad, ast.Dict):
        return None
    expr, label = grad, ast.unparse(grad)
    if isinstance(grad, ast.Name):
        value = last_assignment(trees, grad.id, line)
        if value is not None:
            expr, label = value, f"{grad.id} = {ast.unparse(value)}"
    traced = trace_expression(expr, namespace, names)
    if traced is None:
        return None
    factors, result = traced
    trace = Trace(label, factors, result)
    if param is not None:
        pshape = _shape_in(param, namespace)
        gshape = _shape_in(expr, namespace)
        if pshape is not None and gshape is not None:
            trace.param = ast.unparse(param)
            trace.param_shape = named_shape(pshape, names)
            trace.matches = tuple(pshape) == tuple(gshape)
    return trace


# --------------------------------------------------------------- shapes stated in TeX

_REALS = r"\\(?:mathbb|Bbb|mathbf|mathrm)\s*\{?\s*R\s*\}?|\\R\b|ℝ"
_EXPONENT = r"\^\s*(\{(?:[^{}]|\{[^{}]*\})*\}|\\?[A-Za-z0-9])"
_IN_REALS = re.compile(r"\\in\s*(?:" + _REALS + r")\s*" + _EXPONENT)
# what precedes ``\in``: an optional accent, a letter or a Greek macro, an optional subscript
_SYMBOL_BEFORE = re.compile(
    r"(?:\\(?P<accent>hat|bar|tilde|vec|mathbf|boldsymbol|bm)\s*\{?\s*)?"
    r"(?P<base>\\[A-Za-z]+|[A-Za-z])\s*\}?"
    r"(?:\s*_\s*(?:\{\s*(?P<sub1>[A-Za-z0-9]+)\s*\}|(?P<sub2>[A-Za-z0-9])))?\s*$"
)
_BRACKET = re.compile(
    r"\[\s*(?P<sym>[^\[\]]{1,40}?)\s*\]\s*_\s*\{\s*"
    r"(?:\\(?:scriptscriptstyle|scriptstyle|textstyle|displaystyle)\s*)?"
    r"(?P<dims>[^{}]*(?:\{[^{}]*\}[^{}]*)*)\}"
)
_TIMES_SPLIT = re.compile(r"\\times|×|\\!\\times")


@dataclass(frozen=True)
class StatedShape:
    symbol: str  # as written in TeX, e.g. "W_1" or "\\Delta"
    names: tuple[str, ...]  # code names it may stand for: ("W_1", "W1")
    dims: tuple[str, ...]  # "D", "H", "3"


def code_names(base: str, sub: str | None, accent: str | None) -> tuple[str, ...]:
    """The Python names a TeX symbol may be written as in the post's code."""
    greek = {"Delta": "Δ", "delta": "δ", "theta": "θ", "Theta": "Θ", "mu": "μ",
             "sigma": "σ", "Sigma": "Σ", "beta": "β", "gamma": "γ", "alpha": "α",
             "lambda": "λ", "pi": "π", "phi": "φ", "omega": "ω", "epsilon": "ε"}
    stem = base.lstrip("\\")
    stems = [stem] + ([greek[stem]] if stem in greek else [])
    names: list[str] = []
    for s in stems:
        if accent in ("hat", "bar", "tilde"):
            s_options = [f"{s}_{accent}", f"{s}{accent}"]
        else:
            s_options = [s]
        for option in s_options:
            if sub:
                names += [f"{option}_{sub}", f"{option}{sub}"]
            else:
                names.append(option)
    return tuple(dict.fromkeys(names))


def _split_dims(text: str) -> tuple[str, ...]:
    parts = [p.strip().strip("{}").strip() for p in _TIMES_SPLIT.split(text)]
    return tuple(p for p in parts if p)


def _symbol_from(text: str) -> tuple[str, tuple[str, ...]] | None:
    match = _SYMBOL_BEFORE.search(text)
    if match is None:
        return None
    sub = match.group("sub1") or match.group("sub2")
    base, accent = match.group("base"), match.group("accent")
    if base in ("\\in", "\\right", "\\left", "\\mathbb"):
        return None
    written = match.group(0).strip()
    return written, code_names(base, sub, accent)


def stated_shapes(tex: str) -> list[StatedShape]:
    """Every shape the TeX states for a named array."""
    return list(_stated_shapes(tex))


@functools.lru_cache(maxsize=8192)
def _stated_shapes(tex: str) -> tuple[StatedShape, ...]:
    # memoised per TeX (a post's formulas are compared once when results arrive and again
    # as they render); StatedShape is frozen, so sharing the tuple's items is safe
    if "\\in" not in tex and "[" not in tex:
        return ()  # _IN_REALS needs a literal \in, _BRACKET a literal [
    return find_stated_shapes(tex)


def find_stated_shapes(tex: str) -> tuple[StatedShape, ...]:
    """``stated_shapes`` without its prefilter and memo."""
    found: list[StatedShape] = []
    for match in _IN_REALS.finditer(tex):
        symbol = _symbol_from(tex[: match.start()])
        exponent = match.group(1).strip("{}")
        if symbol is not None:
            found.append(StatedShape(symbol[0], symbol[1], _split_dims(exponent)))
    for match in _BRACKET.finditer(tex):
        symbol = _symbol_from(match.group("sym"))
        dims = _split_dims(match.group("dims"))
        if symbol is not None and symbol[0] == match.group("sym").strip() and len(dims) >= 1:
            found.append(StatedShape(symbol[0], symbol[1], dims))
    return tuple(found)


def _resolve(dim: str, sizes: Mapping[str, int]) -> int | None:
    if dim.isdigit():
        return int(dim)
    return sizes.get(dim.lstrip("\\"))


def compare_stated(
    stated: StatedShape, arrays: Mapping[str, list[int]], sizes: Mapping[str, int]
) -> str | None:
    """A message when the stated shape disagrees with the code's array; None when it agrees
    or cannot be judged (no such array, a size the code does not name)."""
    name = next((n for n in stated.names if n in arrays), None)
    if name is None:
        return None
    values = [_resolve(d, sizes) for d in stated.dims]
    if any(v is None for v in values):
        return None
    want = tuple(v for v in values if v is not None)
    have = tuple(int(d) for d in arrays[name])
    if _compatible(want, have):
        return None
    written = TIMES.join(stated.dims)
    numbers = TIMES.join(str(v) for v in want)
    shown = written if written == numbers else f"{written} = {numbers}"
    actual = TIMES.join(str(d) for d in have) or "a scalar"
    return f"{stated.symbol} is stated as {shown}, but the code's {name} is {actual}"


def _compatible(want: tuple[int, ...], have: tuple[int, ...]) -> bool:
    if want == have:
        return True
    # ℝ^D is a vector: numpy may hold it flat, as a column, or as a row
    squeezed = tuple(d for d in have if d != 1)
    wanted = tuple(d for d in want if d != 1)
    if len(want) == 1:
        return squeezed == wanted
    # [x]_{1×1} is a number
    return not wanted and not squeezed
