"""Functions in an equation: ``\\exp``, ``\\log``, ``\\sigma`` and ``\\sigma'``, ``\\max(0, ·)``,
``\\operatorname{diag}``, ``\\operatorname{softmax}``, and the code's own functions (``f(x)``:
a call when ``f`` is a function of the code, else the product ``f·x``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import evaluate as ev
from . import parse as p
from .algebra import BUILTIN, Free, Value, apply_elementwise, call_code, derivative, entrywise
from .refusals import Unread


def _function_of(node: p.Call, ctx: ev.Context) -> tuple[Callable[[Value], Value], str]:
    name = node.name
    if node.sym is not None:
        bound = ctx.bind(node.sym, function=True)
        if bound is None:
            raise Unread("unbound", f"the function {node.sym.tex}")
        if not callable(bound):
            raise Unread("function", f"{node.sym.tex} is used as a function but is an array")
        return (lambda v: call_code(bound, v, node.sym.tex)), node.sym.tex  # type: ignore[union-attr]
    if name in BUILTIN:
        return (lambda v: apply_elementwise(BUILTIN[name], v)), name
    if name == "sigmoid":
        return (lambda v: apply_elementwise(lambda z: 1 / (1 + np.exp(-z)), v)), name
    raise Unread("unsupported", f"the function {name}")


def call(node: p.Call, ctx: ev.Context) -> Value:
    if node.name == "max":
        return _max(node, ctx)
    if node.name in ("diag", "softmax"):
        return _matrix_function(node, ctx)
    if len(node.args) != 1:
        raise Unread("unsupported", f"{node.name} of {len(node.args)} arguments")
    f, name = _function_of(node, ctx)
    arg = ev.evaluate(node.args[0], ctx)
    if node.primes:
        if isinstance(arg, Free):
            raise Unread("index-range", f"\\mathbf{{1}} inside {name}'")
        return derivative(f, arg, node.primes)
    return f(arg)


def _max(node: p.Call, ctx: ev.Context) -> Value:
    if len(node.args) != 2:
        raise Unread("unsupported", "\\max of other than two arguments")
    a, b = (ev.evaluate(arg, ctx) for arg in node.args)
    if node.primes:
        raise Unread("unsupported", "a derivative of \\max")
    return entrywise(a, b, np.maximum, "max", node.args[0], node.args[1])


def _matrix_function(node: p.Call, ctx: ev.Context) -> Value:
    if len(node.args) != 1 or node.primes:
        raise Unread("unsupported", f"this use of {node.name}")
    value = ev.evaluate(node.args[0], ctx)
    if isinstance(value, Free) or value.ndim == 0:
        raise Unread("unsupported", f"{node.name} of a scalar")
    if node.name == "softmax":
        bound = ctx.bind(p.Sym("softmax"), function=True)
        if callable(bound):
            return call_code(bound, value, "softmax")
    if 1 not in value.shape:
        raise Unread("ambiguous", f"{node.name} of a matrix (along which axis?)")
    vector = value.reshape(-1)
    if node.name == "diag":
        return np.diag(vector)
    e = np.exp(vector - vector.max())
    return (e / e.sum()).reshape(value.shape)


def apply(node: p.Apply, ctx: ev.Context) -> Value:
    """``f(x)``: a call when ``f`` is a function of the code, else the product ``f·x``."""
    bound = ctx.bind(node.sym, function=True)
    if bound is not None:
        return call(p.Call(node.sym.tex, (node.arg,), node.sym.primes, node.sym), ctx)
    if node.sym.primes:
        raise Unread("function", f"{node.sym.tex} is not a function of the code")
    left = ev.symbol_value(node.sym, ctx)
    right = ev.evaluate(node.arg, ctx)
    return ev.combine(left, right, "product", node.sym, node.arg, ctx)
