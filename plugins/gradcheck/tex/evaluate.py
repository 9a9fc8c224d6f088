"""Evaluate an expression tree against the post's arrays, with strict shapes.

Values are numpy arrays of 0 dimensions (scalars) or 2 (matrices); a 1-D array of the code
is read as a column. The rules, each in one function below:

* ``+``/``-`` and ``\\odot``: equal shapes, or a scalar with anything (``1 - \\hat Y``);
  never numpy's broadcasting of an ``N×1`` against a ``1×H``.
* juxtaposition / ``\\cdot``: a scaling when one side is a scalar, else a matrix product
  whose inner sizes must be equal; a row times a column is a scalar. A 1×1 array may act
  as a scalar, and the reading notes it (a weak test).
* a chain mixing ``\\odot`` and matrix products is read both ways (left to right, and
  products first); if both fit and disagree, the grouping is ambiguous and refused.
* ``\\mathbf{1}`` has no length until an operand gives it one (``X^\\top \\mathbf 1``,
  ``\\mathbf 1 b^\\top``), or the gradient's own shape at the end.
* functions act entry-wise; ``\\sigma'`` and ``f'`` are central differences of the bound
  function; a function of the code is called as the code would call it.

Shapes that do not fit raise ``ShapeError`` (the equation contradicts the check); what
cannot be read raises ``Unread``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import batch, functions
from . import parse as p
from .algebra import (
    Free,
    Value,
    conform,
    entrywise,
    entrywise_power,
    lift,
    matrix_product,
    negate,
    same,
    shape_text,
    tex_of,
)
from .refusals import ShapeError, Unread

__all__ = ["Context", "Free", "conform", "evaluate", "shape_text", "tex_of"]


Binder = Callable[..., Any]  # (Sym, function=False) → value, None when unbound


@dataclass
class Context:
    """What an evaluation sees: names, indices in scope, the post's notation."""

    bind: Binder  # Sym → value, None when unbound (raises Unread on ambiguity)
    bind_partial: Callable[[p.Partial], Any]
    entrywise_products: bool = False
    indices: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # weak-test observations
    # values of sub-expressions, by (node, the indices it uses): a sum inside an entry-wise
    # statement does not depend on the outer index, and is evaluated once, not once per entry
    memo: dict[tuple[int, tuple[tuple[str, int], ...]], Value] = field(default_factory=dict)
    uses: dict[int, frozenset[str]] = field(default_factory=dict)
    # X_n, a row of a matrix: a column (x_n ∈ R^D) or a row (X_n X^T)? Both are common; the
    # decision reads the equation both ways when it has one (see decide.py)
    rows_as: str = "column"
    read_a_row: bool = False

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def indices_used(self, node: p.Node) -> frozenset[str]:
        found = self.uses.get(id(node))
        if found is None:
            letters: set[str] = set()
            for sym in walk_syms(node):
                if sym.sub:
                    letters.update(sym.sub.replace(",", ""))
            found = self.uses[id(node)] = frozenset(c for c in letters if c.isalpha())
        return found


def evaluate(node: p.Node, ctx: Context) -> Value:
    rule = _RULES.get(type(node).__name__)
    if rule is None:
        raise Unread("unsupported", type(node).__name__)
    if isinstance(node, p.Num | p.Ones):
        return rule(node, ctx)
    used = ctx.indices_used(node)
    key = (id(node), tuple(sorted((k, v) for k, v in ctx.indices.items() if k in used)))
    value = ctx.memo.get(key)
    if value is None:
        value = ctx.memo[key] = rule(node, ctx)
    return value




# ---------------------------------------------------------------------- names, numbers


def _num(node: p.Num, ctx: Context) -> Value:
    return np.asarray(node.value)


def symbol_value(node: p.Sym, ctx: Context) -> Value:
    value = ctx.bind(node)
    indexed = _indexed(node, ctx)
    if value is not None and indexed is not None:
        raise Unread("ambiguous", f"{node.tex} is both a name of the code and an entry of "
                     f"{node.base}")
    if indexed is not None:
        return indexed
    if value is None:
        if node.base == "e" and not node.sub and not node.accent:
            return np.asarray(np.e)
        if node.base == "pi" and not node.sub:
            return np.asarray(np.pi)
        raise Unread("unbound", node.tex)
    if callable(value) and not isinstance(value, np.ndarray):
        raise Unread("function", f"{node.tex} is a function but is used as a value")
    return lift(value, node.tex)


def _index_values(sub: str, ctx: Context) -> list[int] | None:
    parts = sub.split(",") if "," in sub else list(sub)
    values = []
    for part in parts:
        if part in ctx.indices:
            values.append(ctx.indices[part])
        elif part.isdigit() and any(q in ctx.indices for q in parts):
            values.append(int(part))
        else:
            return None
    return values


def _indexed(node: p.Sym, ctx: Context) -> Value | None:
    """``x_n`` with ``n`` an index in scope: an entry (or row) of ``x``."""
    if not node.sub:
        return None
    where = _index_values(node.sub, ctx)
    if where is None:
        return None
    base = ctx.bind(p.Sym(node.base, node.accent, None, node.layer, node.primes))
    if base is None:
        raise Unread("unbound", f"{node.base} (indexed as {node.tex})")
    raw = np.asarray(base, dtype=np.float64)
    try:
        if len(where) == 1 and raw.ndim == 2 and 1 not in raw.shape:
            ctx.read_a_row = True
            row = raw[where[0] - 1]  # x_n: the n-th row
            return row.reshape(-1, 1) if ctx.rows_as == "column" else row.reshape(1, -1)
        if len(where) == 1:
            return np.asarray(raw.reshape(-1)[where[0] - 1])
        if len(where) == raw.ndim:
            return np.asarray(raw[tuple(i - 1 for i in where)])
    except IndexError:
        raise Unread("index-range", f"{node.tex} = {where} in an array of shape "
                     f"{raw.shape}") from None
    raise Unread("unsupported", f"{len(where)} indices on the {raw.ndim}-D array {node.base}")


def _partial(node: p.Partial, ctx: Context) -> Value:
    value = ctx.bind_partial(node)
    if value is None:
        raise Unread("unbound", f"∂{tex_of(node.of)}/∂{tex_of(node.wrt)}")
    return lift(value, f"∂{tex_of(node.of)}/∂{tex_of(node.wrt)}")


# ---------------------------------------------------------------------- arithmetic


def combine(a: Value, b: Value, op: str, left: p.Node, right: p.Node, ctx: Context) -> Value:
    if op == "entrywise" or (op == "product" and ctx.entrywise_products):
        return entrywise(a, b, np.multiply, "⊙", left, right)
    if op == "divide":
        return entrywise(a, b, np.divide, "/", left, right)
    return matrix_product(a, b, left, right, ctx.note)


def _left_to_right(values: list[Value], node: p.Mul, ctx: Context) -> Value:
    acc = values[0]
    for i, op in enumerate(node.ops):
        acc = combine(acc, values[i + 1], op, node.factors[i], node.factors[i + 1], ctx)
    return acc


def _products_first(values: list[Value], node: p.Mul, ctx: Context) -> Value:
    groups: list[tuple[Value, p.Node]] = [(values[0], node.factors[0])]
    joins: list[str] = []
    for i, op in enumerate(node.ops):
        value, factor = values[i + 1], node.factors[i + 1]
        if op == "product":
            prev, prev_node = groups[-1]
            groups[-1] = (combine(prev, value, op, prev_node, factor, ctx), factor)
        else:
            groups.append((value, factor))
            joins.append(op)
    acc, acc_node = groups[0]
    for (value, factor), op in zip(groups[1:], joins, strict=True):
        acc = combine(acc, value, op, acc_node, factor, ctx)
    return acc


def _mul(node: p.Mul, ctx: Context) -> Value:
    values = [evaluate(f, ctx) for f in node.factors]
    mixed = "product" in node.ops and any(op != "product" for op in node.ops)
    if not mixed or ctx.entrywise_products:
        return _left_to_right(values, node, ctx)
    readings: list[Value] = []
    errors: list[ShapeError] = []
    for read in (_left_to_right, _products_first):
        try:
            readings.append(read(values, node, ctx))
        except ShapeError as exc:
            errors.append(exc)
    if not readings:
        raise errors[0]
    if len(readings) == 2 and not same(readings[0], readings[1]):
        raise Unread("ambiguous", f"the grouping of {tex_of(node)} changes its value "
                     "(add parentheses)")
    return readings[0]


def _add(node: p.Add, ctx: Context) -> Value:
    acc: Value | None = None
    previous: p.Node | None = None
    for sign, term in node.terms:
        value = evaluate(term, ctx)
        if not isinstance(value, Free) and value.size and not np.any(value):
            ctx.note(f"the term {tex_of(term)} is zero in the test data")
        if sign < 0:
            value = negate(value)
        if acc is None:
            acc = value
        else:
            acc = entrywise(acc, value, np.add, "+", previous or term, term)
        previous = term
    return acc


def _frac(node: p.Frac, ctx: Context) -> Value:
    num, den = evaluate(node.num, ctx), evaluate(node.den, ctx)
    return entrywise(num, den, np.divide, "/", node.num, node.den)


def _unary(node: p.Unary, ctx: Context) -> Value:
    value = evaluate(node.arg, ctx)
    if node.op == "neg":
        return negate(value)
    if node.op == "transpose":
        return value.T
    if isinstance(value, Free) or (value.ndim == 2 and value.shape[0] != value.shape[1]):
        return entrywise_power(value, -1.0, node)
    if value.ndim == 0 or value.shape == (1, 1):
        return 1.0 / value
    try:
        return np.linalg.inv(value)
    except np.linalg.LinAlgError:
        raise Unread("function", f"{tex_of(node.arg)} is singular") from None


def _power(node: p.Power, ctx: Context) -> Value:
    base = evaluate(node.arg, ctx)
    exponent = evaluate(node.exponent, ctx)
    if isinstance(exponent, Free) or exponent.ndim != 0:
        if isinstance(base, np.ndarray) and base.ndim == 0 and float(base) == np.e:
            return np.exp(exponent) if not isinstance(exponent, Free) else \
                Free(np.exp(exponent.value), exponent.axis)
        raise Unread("unsupported", f"a power with the array exponent {tex_of(node.exponent)}")
    k = float(exponent)
    if not isinstance(base, Free) and base.ndim == 2 and base.shape[0] == base.shape[1] > 1:
        raise Unread("ambiguous", f"{tex_of(node)}: a power of the square matrix "
                     f"{tex_of(node.arg)} (entry-wise or matrix power?)")
    return entrywise_power(base, k, node)


# ---------------------------------------------------------------------- sums, conditions


def index_range(node: p.Node, index: str, ctx: Context) -> int | None:
    """How far ``index`` runs in ``node``: the size of the axis it indexes first."""
    for sym in walk_syms(node):
        if not sym.sub:
            continue
        parts = sym.sub.split(",") if "," in sym.sub else list(sym.sub)
        if index not in parts:
            continue
        base = ctx.bind(p.Sym(sym.base, sym.accent, None, sym.layer))
        if base is None or callable(base):
            continue
        shape = np.shape(base)
        axis = parts.index(index)
        if len(parts) == 1 and len(shape) == 2 and 1 in shape:
            return int(np.size(base))
        if axis < len(shape):
            return int(shape[axis])
    return None


def walk_syms(node: Any) -> list[p.Sym]:
    found: list[p.Sym] = []
    if isinstance(node, p.Sym):
        return [node]
    if isinstance(node, p.Node):
        for value in node.__dict__.values():
            found += walk_syms(value)
    elif isinstance(node, tuple):
        for value in node:
            found += walk_syms(value)
    return found


def _sum(node: p.Sum, ctx: Context) -> Value:
    lower = 1 if node.lower is None else _integer(node.lower, ctx)
    if node.upper is not None:
        upper = _integer(node.upper, ctx)
    else:
        size = index_range(node.body, node.index, ctx)
        if size is None:
            raise Unread("index-range", node.index)
        upper = size
    if upper < lower:
        raise Unread("index-range", f"{node.index} from {lower} to {upper}")
    outer = ctx.indices.pop(node.index, None)
    try:
        value = batch.summed(node.body, node.index, range(lower, upper + 1), ctx.bind,
                             ctx.indices_used, lambda child: evaluate(child, ctx), ctx.rows_as)
        ctx.read_a_row = ctx.read_a_row or _rows_in(node.body, ctx)
        return value
    except batch.NoBatch:
        pass  # term by term, below
    finally:
        if outer is not None:
            ctx.indices[node.index] = outer
    acc: Value | None = None
    try:
        for i in range(lower, upper + 1):
            ctx.indices[node.index] = i
            value = evaluate(node.body, ctx)
            acc = value if acc is None else entrywise(acc, value, np.add, "+", node, node)
    finally:
        if outer is None:
            ctx.indices.pop(node.index, None)
        else:
            ctx.indices[node.index] = outer
    return acc


def _rows_in(node: p.Node, ctx: Context) -> bool:
    """Whether ``node`` indexes a row of a matrix (the batched sum does not say)."""
    for sym in walk_syms(node):
        if sym.sub and len(sym.sub.replace(",", "")) == 1 and sym.sub.isalpha():
            base = ctx.bind(p.Sym(sym.base, sym.accent, None, sym.layer, sym.primes))
            if hasattr(base, "shape") and len(base.shape) == 2 and 1 not in base.shape:
                return True
    return False


def _integer(node: p.Node, ctx: Context) -> int:
    value = evaluate(node, ctx)
    if isinstance(value, Free) or value.ndim != 0 or float(value) != int(float(value)):
        raise Unread("index-range", f"a bound {tex_of(node)} that is not an integer")
    return int(float(value))


_OPS: dict[str, Callable[[Any, Any], Any]] = {
    ">": np.greater, "<": np.less, ">=": np.greater_equal, "<=": np.less_equal,
    "!=": np.not_equal,
}


def _iverson(node: p.Iverson, ctx: Context) -> Value:
    cond = node.cond
    a, b = evaluate(cond.left, ctx), evaluate(cond.right, ctx)
    result = entrywise(a, b, _OPS[cond.op], cond.op, cond.left, cond.right)
    if isinstance(result, Free):
        return Free(result.value.astype(np.float64), result.axis)
    return np.asarray(result, dtype=np.float64)


def _ones(node: p.Ones, ctx: Context) -> Value:
    return Free(np.ones((1, 1)), 0)


def _compare(node: p.Compare, ctx: Context) -> Value:
    raise Unread("unsupported", "a comparison outside an Iverson bracket")


_RULES: dict[str, Callable[[Any, Context], Value]] = {
    "Num": _num, "Sym": symbol_value, "Partial": _partial, "Mul": _mul, "Add": _add, "Frac": _frac,
    "Unary": _unary, "Power": _power, "Call": functions.call, "Apply": functions.apply, "Sum": _sum,
    "Iverson": _iverson, "Ones": _ones, "Compare": _compare,
}

