"""Finite differences in float64: the reference every stated gradient is compared with.

``ev(s)`` evaluates (value, magnitude) of f at x + s·e for a signed step s along one entry,
a dense direction or a sparse block direction e; the estimators below take any of them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .objective import Objective, Param, Unresolvable, UserCodeError

NOISE_FACTOR = 8.0  # rounding noise of f, in units of eps_f * |f|
SMALLER_STEPS = (1e-2, 1e-4)  # retries when the base step straddles a kink or leaves f's domain

Eval = Callable[[float], tuple[float, float]]


@dataclass
class Estimate:
    value: float  # numerical derivative
    unc: float  # its uncertainty
    lo: float = math.nan  # one-sided slopes (kink interval), when computed
    hi: float = math.nan
    spread: float = 0.0  # |D(h) − D(2h)|: large when a kink lies within 2h
    noise: float = 0.0  # rounding noise of a central difference at this step
    sides: tuple[float, ...] = ()  # one-sided slopes seen near x (for ε-subgradients)
    moved: bool = True  # f changed at all between x − h and x + h


def norm(a: np.ndarray) -> float:
    # plain reduction rather than BLAS: steady timings on a busy machine
    return math.sqrt(float(np.sum(np.square(a))))


def step_base(eps_f: float) -> float:
    return eps_f ** (1.0 / 3.0)


def typical_scale(x: np.ndarray) -> float:
    """Scale used for the step of entries near zero: the parameter's rms, at most 1."""
    if x.size == 0:
        return 1.0
    rms = float(np.sqrt(np.mean(x * x)))
    return min(1.0, rms) if rms > 0 else 1.0


def entry_steps(obj: Objective, p: Param, idx: np.ndarray) -> np.ndarray:
    base = p.base.reshape(-1)[idx]
    return step_base(obj.eps_f) * np.maximum(np.abs(base), typical_scale(p.base))


def direction_step(obj: Objective, xs: np.ndarray) -> float:
    """A step of relative size eps**(1/3) along a unit direction over the entries ``xs``."""
    xnorm = norm(xs)
    return step_base(obj.eps_f) * (xnorm if xnorm > 0 else math.sqrt(max(xs.size, 1)))


def entry_eval(obj: Objective, p: Param, i: int) -> Eval:
    flat = p.flat
    x0 = float(p.base.reshape(-1)[i])

    def ev(s: float) -> tuple[float, float]:
        flat[i] = x0 + s
        try:
            return obj(f"x{p.index_str(i)} {'+' if s >= 0 else '−'} {abs(s):.3g}")
        finally:
            flat[i] = x0  # restore exactly, not by subtraction

    return ev


def dense_eval(obj: Objective, p: Param, v: np.ndarray, label: str) -> Eval:
    def ev(s: float) -> tuple[float, float]:
        np.add(p.base, s * v, out=p.work)  # in place: f keeps seeing the same array
        try:
            return obj(f"x moved by {s:.3g} along {label}")
        finally:
            p.work[...] = p.base

    return ev


def sparse_eval(obj: Objective, p: Param, idx: np.ndarray, w: np.ndarray, label: str) -> Eval:
    flat, base = p.flat, p.base.reshape(-1)
    x0 = base[idx]

    def ev(s: float) -> tuple[float, float]:
        flat[idx] = x0 + s * w
        try:
            return obj(f"x moved by {s:.3g} along {label}")
        finally:
            flat[idx] = x0

    return ev


def quick(ev: Eval, h: float, eps_f: float) -> Estimate:
    """Plain central difference; uncertainty from rounding noise only."""
    (fp, mp), (fm, mm) = ev(h), ev(-h)
    if not (math.isfinite(fp) and math.isfinite(fm)):
        raise Unresolvable
    return Estimate((fp - fm) / (2 * h), NOISE_FACTOR * eps_f * max(mp, mm) / (2 * h),
                    moved=fp != fm)


def careful(ev: Eval, h: float, f0: float, eps_f: float) -> Estimate:
    """Richardson from steps h and 2h, and the one-sided slopes for kinks."""
    vals = [ev(s) for s in (h, -h, 2 * h, -2 * h)]
    fp, fm, fp2, fm2 = (v for v, _ in vals)
    if not all(math.isfinite(v) for v in (fp, fm, fp2, fm2)):
        raise Unresolvable
    d1 = (fp - fm) / (2 * h)
    d2 = (fp2 - fm2) / (4 * h)
    noise = NOISE_FACTOR * eps_f * max(m for _, m in vals) / (2 * h)
    # one-sided slopes extrapolated to h -> 0 (2·F(h) − F(2h) cancels the curvature term),
    # so for a smooth f they coincide and only a kink right at x opens an interval
    f1, b1 = (fp - f0) / h, (f0 - fm) / h
    fwd = 2 * f1 - (fp2 - f0) / (2 * h)
    bwd = 2 * b1 - (f0 - fm2) / (2 * h)
    return Estimate(
        value=d1 + (d1 - d2) / 3.0, unc=abs(d1 - d2) + 2 * noise,
        lo=min(fwd, bwd) - 6 * noise, hi=max(fwd, bwd) + 6 * noise,
        spread=abs(d1 - d2), noise=noise,
        # raw slopes, and 2·F(2h) − F(h), which removes the share δ/h of the other side's
        # slope when a kink lies at a distance δ < h
        sides=(f1, b1, 2 * (fp2 - f0) / (2 * h) - f1, 2 * (f0 - fm2) / (2 * h) - b1),
        moved=len({fp, fm, fp2, fm2, f0}) > 1,
    )


def resolve_quick(ev: Eval, h: float, eps_f: float, where: Callable[[], str]) -> Estimate:
    """Quick estimate; if f is not finite at x±h, shrink the step."""
    for factor in (1.0, *SMALLER_STEPS):
        try:
            return quick(ev, h * factor, eps_f)
        except Unresolvable:
            continue
    raise UserCodeError(f"f is not finite near x{where()}: no step size gives a derivative")
