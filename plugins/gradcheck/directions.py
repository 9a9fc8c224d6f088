"""Directional derivatives: blocks that cover every entry of a large parameter, random and
own-gradient directions, and the joint directions used at kinks and ties.

Large parameters: the flat indices are split into disjoint random blocks of about
``BLOCK_SIZE`` entries (at most ``MAX_BLOCKS`` blocks), and each block is checked as one
directional derivative along random ±1 weights on it (group testing): an error of 1e-3 in
any single entry of median size moves its block's derivative by ~7e-5 of the gradient's
rms, well past the 1e-5 tolerance.  The stated gradient's own direction catches any
uniform scale or sign error at once; dense random directions catch the rest.  The entries
of a failing block are halved down to a few, which are then judged one by one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .differences import (
    SMALLER_STEPS,
    Estimate,
    careful,
    dense_eval,
    direction_step,
    norm,
    resolve_quick,
    sparse_eval,
)
from .kinks import LOW_PRECISION_EPS, refine, smooth_along
from .objective import Objective, Param, Unresolvable
from .tolerance import Rule, below_resolution

BLOCK_SIZE = 100
MAX_BLOCKS = 1000
N_DIRECTIONS = 8  # dense random directions, besides the stated gradient's own
BISECT_TO = 4  # failing blocks are halved until this few entries remain, checked one by one
CONFIRMED_ENOUGH = 16  # refined failures after which the check's failure is settled


@dataclass
class DirVerdict:
    stated: float
    numerical: float
    err: float
    allowed: float
    denom: float
    label: str
    kind: str = "direction"  # "block" | "direction" | "own" | "joint"
    judged: bool = True  # False: f is not smooth along it, so it decides nothing
    unresolved: bool = False  # below what the reference resolves
    se: float = 0.0  # standard error of the stated directional derivative (Monte Carlo)

    @property
    def ok(self) -> bool:
        return not self.judged or self.err <= self.allowed


def blocks(size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """A random partition of all flat indices into disjoint blocks of ~BLOCK_SIZE."""
    n_blocks = min(MAX_BLOCKS, max(1, math.ceil(size / BLOCK_SIZE)))
    return np.array_split(rng.permutation(size), n_blocks)


def direction_se(p: Param, v: np.ndarray, support: np.ndarray | None,
                 cov: np.ndarray | None) -> float:
    """Standard error of <stated, v>: exact with a covariance, else the triangle
    inequality, which holds however the estimates correlate."""
    if p.stderr is None:
        return 0.0
    if cov is not None:
        full = np.zeros(p.base.size)
        if support is not None:
            full[support] = v
        else:
            full[:] = v.reshape(-1)
        return math.sqrt(max(float(full @ cov @ full), 0.0))
    sev = p.stderr.reshape(-1)[support] if support is not None else p.stderr
    return float(np.sum(np.abs(v) * sev))


def check_direction(
    obj: Objective, p: Param, v: np.ndarray, label: str, rtol: float, atol: float,
    f0: float, support: np.ndarray | None = None, refine_it: bool = True,
    kind: str = "direction", z: float | None = None, cov: np.ndarray | None = None,
) -> DirVerdict:
    """Compare <grad, v> with the derivative of f along the unit vector v.

    ``v`` is dense, or, with ``support``, the weights of a direction on those flat indices.
    ``z`` (Monte Carlo) allows that many standard errors of <grad, v> on top."""
    g = p.grad.reshape(-1) if support is not None else p.grad
    gv = g[support] if support is not None else g
    stated = float(np.sum(gv * v))
    # |<g, v>| <= ||g on v's support|| for a unit v: the scale of this check
    rule = Rule(rtol, atol, norm(gv), p.eps_g)
    se = direction_se(p, v, support, cov) if z is not None else 0.0
    extra = (z or 0.0) * se
    xs = p.base.reshape(-1)[support] if support is not None else p.base
    t = direction_step(obj, xs)
    ev = (sparse_eval(obj, p, support, v, label) if support is not None
          else dense_eval(obj, p, v, label))
    est = resolve_quick(ev, t, obj.eps_f, lambda: f" along {label}")
    num, err = est.value, abs(stated - est.value)
    allowed = float(rule.allowed(stated, num, est.unc)) + extra
    unresolved = False
    if refine_it and not err <= allowed:
        best = refine(ev, t, f0, obj.eps_f, stated, rule, extra,
                      low_precision=p.eps_g > LOW_PRECISION_EPS)
        if best is not None:
            num, err, allowed = best.value, best.err, best.allowed
            if not err <= allowed and best.first is not None:
                unresolved = below_resolution(stated, best.first, t, f0, obj.eps_f)
    return DirVerdict(stated, num, err, allowed, float(rule.denom(stated, num)), label, kind,
                      True, unresolved, se)


def joint_direction(
    obj: Objective, p: Param, v: np.ndarray, label: str, rtol: float, atol: float,
    f0: float, z: float | None = None, cov: np.ndarray | None = None,
) -> DirVerdict:
    """A direction through a kink: judged only at a step where f is smooth along it."""
    stated = float(np.sum(p.grad * v))
    # the rounding of every entry of the author's gradient may add up along v: its scale is
    # that of the largest entry on each of v's entries (a low-precision gradient needs it)
    support = int(np.count_nonzero(v))
    scale = max(norm(p.grad), math.sqrt(support) * float(np.max(np.abs(p.grad), initial=0.0)))
    rule = Rule(rtol, atol, scale, p.eps_g)
    se = direction_se(p, v, None, cov) if z is not None else 0.0
    extra = (z or 0.0) * se
    t = direction_step(obj, p.base)
    ev = dense_eval(obj, p, v, label)
    chosen: Estimate | None = None
    # a float32 gradient may see a kink near x on the other side than float64 does: only a
    # direction smooth at the full step judges it
    factors = (1.0,) if p.eps_g > LOW_PRECISION_EPS else (1.0, *SMALLER_STEPS)
    for factor in factors:
        try:
            est = careful(ev, t * factor, f0, obj.eps_f)
        except Unresolvable:
            continue
        if smooth_along(est, rule, stated):
            chosen = est
            break
    if chosen is None:
        return DirVerdict(stated, math.nan, 0.0, 0.0, 1.0, label, "joint", judged=False)
    err = abs(stated - chosen.value)
    allowed = float(rule.allowed(stated, chosen.value, chosen.unc)) + extra
    unresolved = not err <= allowed and below_resolution(stated, chosen, t, f0, obj.eps_f)
    return DirVerdict(stated, chosen.value, err, allowed, float(rule.denom(stated, chosen.value)),
                      label, "joint", True, unresolved, se)


def bisect(obj: Objective, p: Param, grp: np.ndarray, rtol: float, atol: float,
           f0: float) -> np.ndarray:
    """The few entries of a failing block that carry its error: keep the failing half.

    Quick checks only (two calls of f per half); the entries found are then judged one by
    one with the full rule, so a misleading half costs a name, never a verdict."""
    while grp.size > BISECT_TO:
        halves = np.array_split(grp, 2)
        worst, worst_ratio = None, 1.0
        for half in halves:
            w = np.full(half.size, 1.0 / math.sqrt(half.size))
            d = check_direction(obj, p, w, "half", rtol, atol, f0, support=half,
                                refine_it=False)
            ratio = d.err / d.allowed if d.allowed > 0 else math.inf
            if ratio > worst_ratio:
                worst, worst_ratio = half, ratio
        if worst is None:
            break  # the error is spread out (or cancels within halves): stop here
        grp = worst
    return grp[:BISECT_TO * 4]


def dense_directions(p: Param, rng: np.random.Generator, n: int = N_DIRECTIONS,
                     own: bool = True) -> list[tuple[np.ndarray, str, str]]:
    """The stated gradient's own direction (catches any scale or sign error) + random ones."""
    out = []
    gnorm = float(norm(p.grad))
    if own and gnorm > 0:
        out.append((p.grad / gnorm, "the stated gradient's direction", "own"))
    for k in range(n):
        v = rng.standard_normal(p.base.shape)
        out.append((v / norm(v), f"random direction {k + 1}", "direction"))
    return out
