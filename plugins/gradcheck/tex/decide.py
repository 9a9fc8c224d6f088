"""Decide what a check says about the equation it names, as written.

The equation's stated gradient is evaluated with the namespace at the time of the check
and held to the check's own rule: when it equals the code's gradient (to 1e-6), it shares
the check's verdict; otherwise the check is run again with the equation's value as the
stated gradient. Outcomes (``Reading.status``):

* ``verified`` — the TeX itself evaluates to the true gradient;
* ``contradicts`` — it evaluates to something else, or its shapes do not fit;
* ``unread`` — it cannot be read soundly (the reason says why; see ``refusals``).

A derivation (``A &= B \\\\ &= C``) is checked step by step: each step ``holds``,
``breaks`` or is ``unread``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import evaluate as ev
from . import parse as p
from . import statement
from .bind import Bindings, names_for
from .refusals import ShapeError, Unread

AGREE = 1e-6  # relative agreement under which the equation shares the check's verdict
STEP_RTOL = 1e-6  # two lines of a derivation are equal to this relative tolerance


@dataclass
class Target:
    """The gradient the equation states: the check's (or one key's), and the entries the
    left-hand side picks (``∂L/∂w_j`` → every j; ``∂L/∂w_1`` → entry 0)."""

    grad: np.ndarray
    key: Any = None
    free: tuple[str, ...] = ()  # index letters, one per axis, or digits for fixed entries


@dataclass
class Reading:
    status: str
    reason: str = ""
    warnings: list[str] = field(default_factory=list)
    worst: list[dict[str, Any]] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "equation_status": self.status,
            "equation_reason": self.reason,
            "equation_warnings": self.warnings,
            "equation_worst": self.worst,
            "equation_steps": self.steps,
        }


def _same_array(a: Any, b: Any) -> bool:
    if a is b:
        return True
    try:
        return np.shape(a) == np.shape(b) and bool(np.array_equal(a, b))
    except Exception:
        return False


def _same_values(a: Any, b: Any) -> bool:
    """The same numbers, whatever the container (``delta.item()`` is still ``delta``)."""
    if a is None or callable(a):
        return False
    try:
        x, y = np.asarray(a, dtype=np.float64).ravel(), np.asarray(b, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        return False
    return x.shape == y.shape and bool(np.array_equal(x, y))


def target_of(wrt: p.Node, x: Any, grad: Any, bindings: Bindings) -> Target:
    """Which gradient (and entries of it) the left-hand side's ∂/∂wrt names."""
    if not isinstance(wrt, p.Sym):
        raise Unread("unsupported", "a left-hand side with respect to an expression")
    whole = p.Sym(wrt.base, wrt.accent, None, wrt.layer)
    keyed = isinstance(x, Mapping)
    candidates = [(k, x[k], grad[k]) for k in x] if keyed else [(None, x, grad)]
    if keyed and not isinstance(grad, Mapping):
        raise Unread("unsupported", "a dict check whose gradient is not a dict")
    for attempt, free in ((wrt, ()), (whole, _indices(wrt.sub))):
        if attempt is whole and not wrt.sub:
            break
        names = names_for(attempt)
        for key, xv, gv in candidates:
            bound = bindings.bind(attempt)
            named = keyed and str(key) in names
            if named or (bound is not None and _same_array(bound, xv)) or (
                    not keyed and bound is None and attempt is wrt and not wrt.sub):
                g = np.asarray(gv, dtype=np.float64)
                if free and len(free) != max(g.ndim, 1) and not (
                        len(free) == 1 and g.ndim == 2 and 1 in g.shape):
                    raise Unread("index-range", f"{wrt.tex} for a gradient of shape {g.shape}")
                return Target(g, key, free)
    raise Unread("wrt", wrt.tex)


def _indices(sub: str | None) -> tuple[str, ...]:
    if not sub:
        return ()
    return tuple(sub.split(",") if "," in sub else sub)


def _evaluate_at(tree: p.Node, target: Target, ctx: ev.Context) -> np.ndarray:
    """The expression in the gradient's shape (every free index run over its range)."""
    g = target.grad
    if not target.free:
        return ev.conform(ev.evaluate(tree, ctx), g.shape, ev.tex_of(tree))
    shape = g.shape if len(target.free) == g.ndim else (g.size,)
    out = np.array(g, dtype=np.float64).reshape(shape)
    fixed = [int(f) if f.isdigit() else None for f in target.free]
    ranges = [range(shape[a]) if fixed[a] is None else [fixed[a] - 1]
              for a in range(len(shape))]
    for where in itertools.product(*ranges):
        for letter, i in zip(target.free, where, strict=True):
            if not letter.isdigit():
                ctx.indices[letter] = i + 1
        value = ev.evaluate(tree, ctx)
        if isinstance(value, ev.Free) or value.size != 1:
            raise ShapeError(f"an entry of {ev.tex_of(tree)} is {ev.shape_text(value)}",
                             ev.tex_of(tree))
        out[where] = float(np.asarray(value).reshape(()))
    return out.reshape(g.shape)


def _both_ways(tree: p.Node, target: Target, ctx: ev.Context,
               fresh: Callable[[], ev.Context]) -> np.ndarray:
    """The value, reading a row ``X_n`` of a matrix as a column and, if the expression has
    one, as a row: the reading whose shapes fit; refused when both fit and differ."""
    try:
        first: np.ndarray | ShapeError = _evaluate_at(tree, target, ctx)
    except ShapeError as exc:
        first = exc
    if not ctx.read_a_row:
        if isinstance(first, ShapeError):
            raise first
        return first
    other = fresh()
    other.rows_as = "row"
    try:
        second: np.ndarray | ShapeError = _evaluate_at(tree, target, other)
    except ShapeError as exc:
        second = exc
    ctx.notes.extend(other.notes)
    if isinstance(first, ShapeError):
        if isinstance(second, ShapeError):
            raise first
        return second
    if isinstance(second, np.ndarray) and not _close(first, second, 1e-9):
        raise Unread("ambiguous", f"{ev.tex_of(tree)} reads differently with the rows it "
                     "indexes as columns and as rows")
    return first


def weak_test(bindings: Bindings, target: Target, notes: list[str]) -> list[str]:
    """Why the test data might not tell a wrong reading from the right one."""
    found = list(notes)
    for name, value in bindings.used.items():
        shape = np.shape(value) if hasattr(value, "shape") else ()
        if len(shape) >= 1 and int(np.prod(shape)) == 1:
            found.append(f"{name} is 1×1: orientation and products cannot be told apart")
        elif len(shape) == 2 and shape[0] == shape[1]:
            if np.allclose(value, np.transpose(value)):
                found.append(f"{name} is symmetric: {name} and its transpose are equal")
            else:
                found.append(f"{name} is square ({shape[0]}×{shape[1]}): a missing "
                             "transpose would still fit")
    if target.grad.size == 1:
        found.append("the gradient has one entry")
    return list(dict.fromkeys(found))


Rerun = Callable[[Any], dict[str, Any]]  # the check again, with another stated gradient


def _close(a: np.ndarray, b: np.ndarray, rtol: float) -> bool:
    scale = max(float(np.max(np.abs(b), initial=0.0)), 1e-300)
    # the floor: sums that cancel to ~1e-17 are zero, as far as a stated formula goes
    err = np.abs(a - b) / (np.maximum(np.abs(a), np.abs(b)) + 1e-8 * scale + 1e-10)
    return bool(np.all(np.isfinite(a))) and float(np.max(err, initial=0.0)) <= rtol


def decide(value: np.ndarray, target: Target, check_status: str, rerun: Rerun,
           grad: Any) -> Reading:
    if not np.all(np.isfinite(value)):
        return Reading("unread", str(Unread("nonfinite")))
    if check_status == "error":
        return Reading("unread", "the check itself could not run, so neither can the equation")
    if check_status not in ("pass", "fail"):  # inconclusive: nothing to hold the TeX to
        return Reading("unread", f"the check is {check_status}, so the equation is not decided")
    if _close(value, target.grad, AGREE):
        if check_status == "pass":
            return Reading("verified", "the equation evaluates to the code's gradient")
        return Reading("contradicts", "the equation evaluates to the code's gradient, "
                       "which fails the check")
    stated = dict(grad) if target.key is not None else None
    if stated is not None:
        stated[target.key] = value
    again = rerun(stated if stated is not None else value)
    if again.get("status") == "pass":
        return Reading("verified", "the equation evaluates to the true gradient")
    if again.get("status") != "fail":
        return Reading("unread", f"checking its value was {again.get('status')}: "
                       f"{again.get('message')}")
    return Reading("contradicts", f"the equation evaluates to something else: "
                   f"{again.get('message')}", worst=list(again.get("worst") or []))


def assess(tex: str, label: str, check: dict[str, Any], x: Any, grad: Any,
           namespace: Mapping[str, Any], symbols: Mapping[str, Any] | None,
           notation: Mapping[str, Any] | None, rerun: Rerun) -> Reading:
    """Read the equation ``label`` names and decide it against the check (see module)."""
    notation = notation or {}
    superscript_index = notation.get("superscript") == "index"
    try:
        bindings = Bindings(namespace, symbols or {})
        found = statement.find(tex, label, superscript_index)
        target = target_of(found.wrt, x, grad, bindings)
    except Unread as exc:
        return Reading("unread", exc.reason)
    ctx_of = lambda: ev.Context(bindings.bind, bindings.bind_partial,  # noqa: E731
                                notation.get("product") == "entrywise")
    values: list[np.ndarray | Exception] = []
    bare: list[str] = []  # the expressions that are only the name of the code's gradient
    notes: list[str] = []
    for text, _ in found.chain:
        ctx = ctx_of()
        try:
            tree = p.parse(text, superscript_index)
            if isinstance(tree, p.Sym) and _same_values(bindings.bind(tree), target.grad):
                bare.append(tree.tex)
            else:
                bare.append("")
            if isinstance(tree, p.Num) and tree.value == 0:
                values.append(np.zeros_like(target.grad))  # "= 0": the zero of its shape
                continue
            values.append(_both_ways(tree, target, ctx, ctx_of))
        except (Unread, ShapeError) as exc:
            values.append(exc)
        except (ArithmeticError, ValueError, TypeError) as exc:
            values.append(Unread("function", f"evaluating it failed: {exc}"))
        notes += ctx.notes
        bare += [""] * (len(values) - len(bare))
    # "∂L/∂Z = A ⊙ B = Δ": the statement is A ⊙ B; Δ only names it (and is the code's own)
    index = found.named
    while index > 0 and bare[index]:
        index -= 1
    named = Unread("bare-name", bare[index]) if bare[index] else values[index]
    if isinstance(named, Unread):
        reading = Reading("unread", named.reason)
    elif isinstance(named, ShapeError):
        where = f" in {named.where}" if named.where else ""
        reading = Reading("contradicts", f"its shapes do not fit{where}: {named}")
    else:
        reading = decide(named, target, str(check.get("status")), rerun, grad)
    if reading.status != "unread":
        reading.warnings = weak_test(bindings, target, notes)
    if len(found.chain) > 1:
        reading.steps = steps(found.chain, values)
    return reading


def steps(chain: tuple[tuple[str, int], ...], values: list[Any]) -> list[dict[str, Any]]:
    """Each step of a derivation: line k to line k+1 holds, breaks, or is unread."""
    out = []
    for k in range(len(chain) - 1):
        a, b = values[k], values[k + 1]
        step: dict[str, Any] = {"from": k + 1, "to": k + 2, "offset": chain[k + 1][1],
                                "tex": chain[k + 1][0]}
        if isinstance(a, Unread) or isinstance(b, Unread):
            why = a if isinstance(a, Unread) else b
            step.update(status="unread", reason=why.reason)
        elif isinstance(a, ShapeError) or isinstance(b, ShapeError):
            why = a if isinstance(a, ShapeError) else b
            step.update(status="breaks", reason=f"shapes do not fit: {why}")
        elif _close(b, a, STEP_RTOL):
            step.update(status="holds", reason="")
        else:
            diff = np.abs(b - a)
            at = np.unravel_index(int(np.argmax(diff)), diff.shape) if diff.ndim else ()
            step.update(status="breaks", reason=(
                f"line {k + 1} of the derivation is {float(np.asarray(a)[at]):.6g} but line "
                f"{k + 2} is {float(np.asarray(b)[at]):.6g}"
                + (f" at index {tuple(int(i) for i in at)}" if at else "")))
        out.append(step)
    return out
