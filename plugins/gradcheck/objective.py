"""The function being checked: the author's ``f`` called on float64 working copies of the
parameters, which the estimators perturb in place and restore exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .result import fmt_num, fmt_shape

EPS64 = float(np.finfo(np.float64).eps)


class UserCodeError(Exception):
    """The author's function misbehaved; the message is shown as the check's error."""


class Unresolvable(Exception):
    """f is not finite near the point, so no step size gives a derivative."""


def eps_of(*arrays: Any) -> float:
    """Machine epsilon of the least precise floating dtype among the author's arrays."""
    eps = EPS64
    for a in arrays:
        dt = getattr(a, "dtype", None)
        if dt is not None and np.issubdtype(dt, np.floating):
            eps = max(eps, float(np.finfo(dt).eps))
    return eps


def as_float64(a: Any) -> np.ndarray:
    """A fresh float64 copy, so the caller's arrays are never touched (C order, and a 0-d
    parameter stays 0-d: ``ascontiguousarray`` would make it 1-d, and ``float(x)`` in f
    would then raise)."""
    return np.array(a, dtype=np.float64, copy=True, order="C")


@dataclass
class Param:
    """One parameter being checked: its working copy (perturbed in place) and its grad."""

    key: str | None
    base: np.ndarray  # pristine float64 copy
    work: np.ndarray  # what f sees; perturbed and restored
    grad: np.ndarray  # the stated gradient, in float64
    eps_g: float  # epsilon of the author's own dtypes (x and the stated gradient)
    grad_dtype: str = "float64"
    stderr: np.ndarray | None = None

    @property
    def flat(self) -> np.ndarray:
        return self.work.reshape(-1)

    def index_str(self, i: int) -> str:
        idx = np.unravel_index(i, self.base.shape) if self.base.ndim else ()
        key = f"[{self.key!r}]" if self.key is not None else ""
        return f"{key}{tuple(int(v) for v in idx)}"


@dataclass
class Objective:
    """Calls the author's f on the working arrays and returns (value, magnitude)."""

    f: Callable[..., Any]
    params: list[Param]
    single: bool
    upstream: np.ndarray | None = None  # for check_vjp: value = sum(upstream * f(x))
    eps_f: float = EPS64  # epsilon of what f returns at float64 points
    out_dtype: str = "float64"

    def raw(self, perturbed: str | None = None) -> Any:
        try:
            if self.single:
                return self.f(self.params[0].work)
            return self.f(**{p.key: p.work for p in self.params})
        except Exception as exc:  # the author's code: report, never crash the build
            where = ""
            if perturbed:
                where = (f" at a perturbed point ({perturbed}), although f(x) itself ran: "
                         "f fails within a small step of x")
            raise UserCodeError(f"f raised {type(exc).__name__}: {exc}{where}") from exc

    def __call__(self, perturbed: str | None = None) -> tuple[float, float]:
        out = self.raw(perturbed)
        if self.upstream is None:
            v = float(np.asarray(out, dtype=np.float64).reshape(-1)[0])
            return v, abs(v)
        arr = np.asarray(out, dtype=np.float64)
        if arr.shape != self.upstream.shape:
            raise UserCodeError(
                f"f's output changed shape to {fmt_shape(arr.shape)} when x was perturbed"
            )
        terms = self.upstream * arr
        return float(terms.sum()), float(np.abs(terms).sum())


def first_call(obj: Objective, vjp: bool) -> float:
    """Evaluate f at x once, validating what it returns; the (scalar) value at x."""
    out = obj.raw()
    arr = np.asarray(out)
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)
            or arr.dtype == np.bool_):
        raise UserCodeError(f"f returned {type(out).__name__} of dtype {arr.dtype}, not numbers")
    if np.issubdtype(arr.dtype, np.floating):
        # f rounds to its own dtype even at float64 points (it casts inside): the reference
        # can be no more precise than that
        obj.eps_f = max(obj.eps_f, float(np.finfo(arr.dtype).eps))
        obj.out_dtype = str(arr.dtype)
    if vjp:
        assert obj.upstream is not None
        if arr.shape != obj.upstream.shape:
            raise UserCodeError(
                f"upstream is {fmt_shape(obj.upstream.shape)} but f(x) is "
                f"{fmt_shape(arr.shape)}; they must have the same shape"
            )
    elif arr.size != 1:
        raise UserCodeError(
            f"f returned an array of shape {fmt_shape(arr.shape)}, not a scalar: check_grad "
            "needs a scalar loss (for a layer's backward pass use check_vjp)"
        )
    if not np.all(np.isfinite(arr)):
        raise UserCodeError(f"f(x) is not finite ({fmt_num(float(arr.reshape(-1)[0]))})")
    for p in obj.params:  # f must not change its argument: we perturb it and restore it
        if not np.array_equal(p.work, p.base):
            raise UserCodeError(f"f modified its argument {p.key or 'x'} in place")
    # a loss that draws fresh random numbers (a dropout mask, a minibatch) has no derivative
    # to compare with: say so instead of reporting noise as a wrong gradient
    again, mag = obj()
    vals = arr.astype(np.float64).reshape(-1)
    f0 = float(vals[0]) if not vjp else float(np.sum(obj.upstream * arr.astype(np.float64)))
    if abs(again - f0) > 1e-9 * max(mag, abs(f0)):
        raise UserCodeError(
            f"f is not deterministic: two calls at the same x gave {fmt_num(f0)} and "
            f"{fmt_num(again)} (fix the random mask or seed inside f)"
        )
    return f0
