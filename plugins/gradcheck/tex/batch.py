"""A sum evaluated for all values of its index at once (a Monte Carlo average over 4,000
samples would otherwise take 4,000 evaluations of its body).

Only a narrow part of the grammar is batched: names indexed by the sum's index alone,
numbers, ``+``/``-``, products, ``\\odot``, fractions, negation, transposes and entry-wise
functions; anything else (and any shape the strict rules would refuse) raises ``NoBatch``
and the sum is evaluated term by term, which gives the exact same value or error.
A batched value is an array whose first axis runs over the index; its other axes (none for
a scalar, two for a matrix) follow the evaluator's rules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import parse as p
from .algebra import BUILTIN


class NoBatch(Exception):
    """This body is not batched; evaluate it term by term."""


Evaluate = Callable[[p.Node], Any]


def summed(body: p.Node, index: str, values: range, bind: Callable[..., Any],
           uses: Callable[[p.Node], frozenset[str]], evaluate: Evaluate,
           rows_as: str = "column") -> Any:
    """Σ body over ``index`` in ``values`` (1-based), or NoBatch. ``rows_as``: whether
    ``X_n`` (a row of a matrix) is read as a column or as a row."""
    batch = _batched(body, index, values, bind, uses, evaluate, rows_as)
    if batch is None:
        raise NoBatch()  # the body does not depend on the index: let the loop say so
    return np.asarray(batch.sum(axis=0))


def _core(a: np.ndarray, batched: bool) -> tuple[int, ...]:
    return a.shape[1:] if batched else a.shape


def _spread(a: np.ndarray, batched: bool, ndim: int) -> np.ndarray:
    """A batched scalar (B,) as (B, 1, 1) next to matrices."""
    if batched and a.ndim == 1 and ndim == 2:
        return a.reshape(-1, 1, 1)
    return a


def _batched(node: p.Node, index: str, values: range, bind: Callable[..., Any],
             uses: Callable[[p.Node], frozenset[str]], evaluate: Evaluate,
             rows_as: str = "column") -> Any:
    """The batched value of ``node``, or None when it does not depend on ``index``."""
    if index not in uses(node):
        return None
    if isinstance(node, p.Sym):
        return _indexed(node, index, values, bind, rows_as)
    parts: list[tuple[np.ndarray, bool]] = []
    children: list[p.Node]
    if isinstance(node, p.Mul):
        children = list(node.factors)
    elif isinstance(node, p.Add):
        children = [term for _, term in node.terms]
    elif isinstance(node, p.Frac):
        children = [node.num, node.den]
    elif isinstance(node, p.Unary) and node.op in ("neg", "transpose"):
        children = [node.arg]
    elif isinstance(node, p.Call) and node.sym is None and node.name in BUILTIN \
            and not node.primes and len(node.args) == 1:
        children = [node.args[0]]
    else:
        raise NoBatch()
    for child in children:
        value = _batched(child, index, values, bind, uses, evaluate, rows_as)
        if value is None:
            const = evaluate(child)
            if not isinstance(const, np.ndarray):
                raise NoBatch()  # a \mathbf{1} of unknown length
            parts.append((const, False))
        else:
            parts.append((value, True))
    if isinstance(node, p.Mul):
        return _product(parts, node.ops)
    if isinstance(node, p.Add):
        return _sum_terms(parts, [sign for sign, _ in node.terms])
    if isinstance(node, p.Frac):
        return _entrywise(parts[0], parts[1], np.divide)[0]
    if isinstance(node, p.Unary):
        value, _ = parts[0]
        if node.op == "neg":
            return -value
        if value.ndim != 3:
            raise NoBatch()
        return np.swapaxes(value, 1, 2)
    value, _ = parts[0]
    return np.asarray(BUILTIN[node.name](value), dtype=np.float64)  # type: ignore[union-attr]


def _indexed(node: p.Sym, index: str, values: range, bind: Callable[..., Any],
             rows_as: str) -> np.ndarray:
    if node.sub != index or bind(node) is not None:
        raise NoBatch()  # two indices, or x_n is also a name of the code
    base = bind(p.Sym(node.base, node.accent, None, node.layer, node.primes))
    if base is None or callable(base):
        raise NoBatch()
    raw = np.asarray(base, dtype=np.float64)
    rows = np.asarray(values) - 1
    if rows.size == 0 or rows.min() < 0:
        raise NoBatch()
    try:
        if raw.ndim == 2 and 1 not in raw.shape:
            # x_n: row n, as a column (or as a row)
            return raw[rows][:, :, None] if rows_as == "column" else raw[rows][:, None, :]
        return raw.reshape(-1)[rows]
    except IndexError:
        raise NoBatch() from None


def _entrywise(a: tuple[np.ndarray, bool], b: tuple[np.ndarray, bool],
               op: Callable[[Any, Any], Any]) -> tuple[np.ndarray, bool]:
    (x, xb), (y, yb) = a, b
    cx, cy = _core(x, xb), _core(y, yb)
    if cx != cy and cx != () and cy != ():
        raise NoBatch()
    ndim = max(len(cx), len(cy))
    return op(_spread(x, xb, ndim), _spread(y, yb, ndim)), xb or yb


def _product(parts: list[tuple[np.ndarray, bool]], ops: tuple[str, ...]) -> np.ndarray:
    if "product" in ops and any(op != "product" for op in ops):
        raise NoBatch()  # a grouping question: the term-by-term reading decides it
    acc = parts[0]
    for op, part in zip(ops, parts[1:], strict=True):
        if op == "entrywise":
            acc = _entrywise(acc, part, np.multiply)
        elif op == "divide":
            acc = _entrywise(acc, part, np.divide)
        else:
            acc = _matrix_product(acc, part)
    return acc[0]


def _matrix_product(a: tuple[np.ndarray, bool], b: tuple[np.ndarray, bool]
                    ) -> tuple[np.ndarray, bool]:
    (x, xb), (y, yb) = a, b
    cx, cy = _core(x, xb), _core(y, yb)
    if cx == () or cy == ():
        return _entrywise(a, b, np.multiply)
    if cx[1] != cy[0] or (cx[0] == 1 and cy[1] == 1) or (1, 1) in (cx, cy):
        raise NoBatch()  # inner products to scalars and 1×1 cases: term by term
    return np.matmul(x, y), xb or yb


def _sum_terms(parts: list[tuple[np.ndarray, bool]], signs: list[int]) -> np.ndarray:
    acc = (parts[0][0] * signs[0], parts[0][1])
    for (value, batched), sign in zip(parts[1:], signs[1:], strict=True):
        acc = _entrywise(acc, (value * sign, batched), np.add)
    return acc[0]
