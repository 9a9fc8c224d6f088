"""The shape rules of the evaluator: how scalars, matrices and ``\\mathbf{1}`` combine.

Strict: entry-wise operations need equal shapes (or a scalar), matrix products equal
inner sizes; nothing is broadcast. Shapes that do not fit raise ``ShapeError``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import parse as p
from .refusals import ShapeError, Unread


def tex_of(node: p.Node) -> str:
    """A short TeX rendering of a sub-expression, for messages."""
    from .printer import wrapped

    return wrapped(node)


@dataclass
class Free:
    """``\\mathbf 1`` (and what it was multiplied by) along an axis of unknown length:
    ``value`` has size 1 on ``axis``."""

    value: np.ndarray
    axis: int

    def fill(self, length: int) -> np.ndarray:
        return np.repeat(self.value, length, axis=self.axis)

    @property
    def T(self) -> Free:  # noqa: N802 - mirrors numpy
        return Free(self.value.T, 1 - self.axis)


Value = Any  # np.ndarray (0-d or 2-d) or Free


def lift(value: Any, name: str) -> np.ndarray:
    """A bound value as a scalar or a matrix (a 1-D array becomes a column)."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.ndarray | np.number):
        kind = type(value).__name__
        raise Unread("not-array", name, kind=f"a {kind}")
    array = np.asarray(value, dtype=np.float64)
    if array.ndim == 1:
        return array.reshape(-1, 1)
    if array.ndim > 2:
        raise Unread("high-rank", name, rank=array.ndim)
    return array


def shape_text(value: Value) -> str:
    if isinstance(value, Free):
        dims = ["n" if i == value.axis else str(d) for i, d in enumerate(value.value.shape)]
        return "×".join(dims)
    return "scalar" if value.ndim == 0 else "×".join(str(d) for d in value.shape)


def _fit(a: Value, b: Value) -> tuple[Value, Value]:
    """Give a ``Free`` operand the length the other one has (entry-wise operations)."""
    if isinstance(a, Free) and isinstance(b, Free):
        if a.axis != b.axis:
            raise Unread("index-range", "two \\mathbf{1} of unknown lengths")
        return a, b
    if isinstance(a, Free):
        return (a.fill(b.shape[a.axis]) if b.ndim == 2 else a), b
    if isinstance(b, Free):
        return a, (b.fill(a.shape[b.axis]) if a.ndim == 2 else b)
    return a, b


def entrywise(a: Value, b: Value, op: Callable[[Any, Any], Any], what: str,
              left: p.Node, right: p.Node) -> Value:
    a, b = _fit(a, b)
    if isinstance(a, Free) or isinstance(b, Free):
        if isinstance(a, Free) and isinstance(b, Free):
            return Free(op(a.value, b.value), a.axis)
        free, other = (a, b) if isinstance(a, Free) else (b, a)
        if other.ndim == 0:
            value = op(a.value, b) if free is a else op(a, b.value)
            return Free(value, free.axis)
    sa, sb = np.shape(a), np.shape(b)
    if sa == sb or len(sa) == 0 or len(sb) == 0:
        return op(a, b)
    raise ShapeError(f"{what} of {shape_text(a)} and {shape_text(b)} (no broadcasting)",
                     f"{tex_of(left)} {what} {tex_of(right)}")


def matrix_product(a: Value, b: Value, left: p.Node, right: p.Node,
                   note: Callable[[str], None]) -> Value:
    if not isinstance(a, Free) and a.ndim == 0:
        return b * a if not isinstance(b, Free) else Free(b.value * a, b.axis)
    if not isinstance(b, Free) and b.ndim == 0:
        return a * b if not isinstance(a, Free) else Free(a.value * b, a.axis)
    if isinstance(a, Free) and isinstance(b, Free):
        if a.axis == 1 and b.axis == 0:
            raise Unread("index-range", "\\mathbf{1}^\\top \\mathbf{1}")
        if a.axis == 0:
            return Free(a.value @ b.fill(1) if b.axis == 1 else a.value @ b.value, 0)
    if isinstance(a, Free):
        if a.axis == 1:
            a = a.fill(b.shape[0])
        else:
            return Free(_matmul(a.value, b, left, right), 0)
    if isinstance(b, Free):
        if b.axis == 0:
            b = b.fill(a.shape[1])
        else:
            return Free(_matmul(a, b.value, left, right), 1)
    if a.shape[1] != b.shape[0] and (a.shape == (1, 1) or b.shape == (1, 1)):
        note("a 1×1 array acts as a scalar here: a product and a scaling look alike")
        return a * b
    return _matmul(a, b, left, right)


def _matmul(a: np.ndarray, b: np.ndarray, left: p.Node, right: p.Node) -> np.ndarray:
    if a.shape[1] != b.shape[0]:
        raise ShapeError(f"matrix product of {shape_text(a)} and {shape_text(b)}",
                         f"{tex_of(left)} · {tex_of(right)}")
    out = a @ b
    return out.reshape(()) if out.shape == (1, 1) and a.shape[0] == 1 and b.shape[1] == 1 \
        and a.shape[1] > 1 else out


def same(a: Value, b: Value) -> bool:
    if isinstance(a, Free) or isinstance(b, Free):
        return isinstance(a, Free) and isinstance(b, Free) and a.axis == b.axis and \
            np.allclose(a.value, b.value)
    return np.shape(a) == np.shape(b) and bool(np.allclose(a, b, rtol=1e-9, atol=1e-12))


def negate(value: Value) -> Value:
    return Free(-value.value, value.axis) if isinstance(value, Free) else -value


def entrywise_power(value: Value, exponent: float, node: p.Node) -> Value:
    if isinstance(value, Free):
        return Free(value.value ** exponent, value.axis)
    return np.power(value, exponent)


def apply_elementwise(f: Callable[[Any], Any], value: Value) -> Value:
    if isinstance(value, Free):
        return Free(np.asarray(f(value.value), dtype=np.float64), value.axis)
    return np.asarray(f(value), dtype=np.float64)


BUILTIN: dict[str, Callable[[Any], Any]] = {
    "exp": np.exp, "log": np.log, "tanh": np.tanh, "sqrt": np.sqrt, "sin": np.sin,
    "cos": np.cos, "sinh": np.sinh, "cosh": np.cosh, "abs": np.abs,
    "relu": lambda z: np.maximum(z, 0.0),
}


def call_code(f: Callable[..., Any], value: Value, name: str) -> Value:
    """Call a function of the code as the code would: a column is tried as a 1-D array
    too, and the two must agree (an axis-dependent function would be misread)."""
    if isinstance(value, Free):
        raise Unread("index-range", f"\\mathbf{{1}} inside {name}")
    try:
        out = lift(f(value), name)
        if value.ndim == 2 and value.shape[1] == 1 and value.shape[0] > 1:
            flat = lift(f(value[:, 0]), name)
            if flat.shape != out.shape or not np.allclose(flat, out, rtol=1e-12, atol=0):
                raise Unread("ambiguous", f"{name} gives different values for a column and "
                             "a 1-D array")
    except Unread:
        raise
    except Exception as exc:  # the author's function on our argument
        raise Unread("function", f"calling {name} failed: {type(exc).__name__}: {exc}") \
            from None
    return out


def derivative(f: Callable[[Value], Value], value: Value, order: int) -> Value:
    """``f'`` entry-wise by central differences (f must act entry-wise)."""
    if order == 0:
        return f(value)
    h = 1e-4 * np.maximum(1.0, np.abs(value))
    return (derivative(f, value + h, order - 1) - derivative(f, value - h, order - 1)) / (2 * h)


def conform(value: Value, target_shape: tuple[int, ...], where: str) -> np.ndarray:
    """The value in the gradient's own shape, or ShapeError (a 1-D gradient is a column)."""
    if isinstance(value, Free):
        want = target_shape if len(target_shape) == 2 else (int(np.prod(target_shape)), 1)
        if value.value.shape[1 - value.axis] != want[1 - value.axis]:
            raise ShapeError(f"{shape_text(value)} where the gradient is "
                             f"{'×'.join(map(str, want))}", where)
        value = value.fill(want[value.axis])
    size = int(np.prod(target_shape)) if target_shape else 1
    if value.ndim == 0:
        if size == 1:
            return value.reshape(target_shape)
        raise ShapeError(f"a scalar where the gradient is {'×'.join(map(str, target_shape))}",
                         where)
    if len(target_shape) == 2 and value.shape == target_shape:
        return value
    if len(target_shape) == 1 and value.shape == (target_shape[0], 1):
        return value.reshape(target_shape)
    if len(target_shape) == 0 and value.shape == (1, 1):
        return value.reshape(())
    if value.size == size and size == 1:
        return value.reshape(target_shape)
    want = "×".join(map(str, target_shape)) or "scalar"
    raise ShapeError(f"{shape_text(value)} where the gradient is {want}", where)
