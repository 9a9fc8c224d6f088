"""Kinks and ties: where f is not differentiable at (or near) x.

Per entry: an entry that fails the quick look is examined again with Richardson (steps h
and 2h).  If f is smooth there, that verdict stands.  If it visibly is not (the two steps
or the two sides disagree by a fair part of the discrepancy), a kink lies within the step
and steps 100 and 10,000 times smaller are tried; a kink closer than the smallest step
counts as "at x", where the stated value passes if it lies between the one-sided slopes (a
subgradient, as ReLU and hinge code computes).  A step that straddles a kink never decides
a pass.  float32 gradients also pass as ε-subgradients (between slopes seen within up to
100 steps), since float32 code may see a point 1e-8 from a kink on the other side.

Jointly: each entry's own slopes cannot see a max whose tied entries all claim the
upstream gradient (counted twice) or none of them (dropped).  So where x has ties (entries
of exactly equal value) or an entry passed only as a subgradient, the stated gradient must
also agree with the derivative along joint directions: all entries of one tied value moved
together (raising every tied entry of a pooling window raises the max by the step, shifting
every logit of a max together leaves a margin unchanged) and random directions over all
entries.  Moving tied entries together keeps them tied, so f is usually smooth along such
a direction and every consistent convention (first index wins, split equally) agrees with
it; a direction along which f is still not smooth is not judged (the one-sided slopes of a
sum of kinks bound no subgradient).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .differences import SMALLER_STEPS, Estimate, Eval, careful
from .objective import EPS64, Unresolvable
from .tolerance import Rule

LOW_PRECISION_WIDER_STEPS = (10.0, 100.0)  # where a float32 gradient's kink may hide
LOW_PRECISION_EPS = 1e-10  # an author's dtype with a larger epsilon than this is float32 or less
MAX_TIE_GROUPS = 8  # tied values whose entries are moved together, largest groups first
N_KINK_DIRECTIONS = 4  # random directions over all entries, when x is at a kink
NOISE_SHARE = 1e-2  # f's rounding may hide at most this share of the gradient's scale


@dataclass
class Refined:
    value: float  # the numerical derivative decided on
    err: float  # distance of the stated value to the accepted set
    allowed: float
    at_kink: bool = False  # accepted as a subgradient, between one-sided slopes
    first: Estimate | None = None  # the estimate at the largest step


def is_rough(est: Estimate, g: float) -> bool:
    """f visibly not smooth at this step: the two steps or the two sides disagree by a fair
    part of the discrepancy, and by more than rounding noise."""
    rough = max(est.spread, est.hi - est.lo - 12 * est.noise)
    return rough >= 0.1 * abs(g - est.value) and rough >= 10 * est.noise


def smooth_along(est: Estimate, rule: Rule, g: float) -> bool:
    """The one-sided slopes agree within the tolerance: f is differentiable along e."""
    width = est.hi - est.lo - 12 * est.noise
    return width <= float(rule.allowed(g, est.value, 0.0)) and est.spread <= float(
        rule.allowed(g, est.value, est.noise))


def refine(
    ev: Eval, h: float, f0: float, eps_f: float, g: float, rule: Rule, extra: float = 0.0,
    low_precision: bool = False,
) -> Refined | None:
    """The first careful estimate that passes, else the one at the largest step, which is
    the most accurate where f is smooth.  ``extra`` widens the allowance (Monte Carlo)."""
    first: Refined | None = None
    slopes: list[float] = []
    noise = 0.0
    rough_seen = False
    for factor in (1.0, *SMALLER_STEPS):
        try:
            est = careful(ev, h * factor, f0, eps_f)
        except Unresolvable:
            continue
        allowed = float(rule.allowed(g, est.value, est.unc)) + extra
        err = abs(g - est.value)
        rough = is_rough(est, g)
        at_kink = False
        if factor == SMALLER_STEPS[-1]:
            # only a kink closer than the smallest step counts as "at x": at larger steps
            # the one-sided slopes would also span a kink that smaller steps resolve
            allowed_k = float(rule.allowed(g, est.value, 0.0)) + extra
            dist = max(est.lo - g, g - est.hi, 0.0)
            if dist / allowed_k < err / allowed:
                err, allowed, at_kink = dist, allowed_k, True
            rough = False  # nothing smaller to try: this is the verdict
        # a step that straddles a kink gives no trustworthy estimate (nor uncertainty);
        # nor does a smaller step whose rounding noise alone would swallow the discrepancy
        drowned = (factor != 1.0 and not at_kink and 2 * est.unc > NOISE_SHARE * rule.scale
                   and eps_f <= EPS64
                   and err > float(rule.allowed(g, est.value, 0.0)) + extra)
        if not rough and err <= allowed and not drowned:
            return Refined(est.value, err, allowed, at_kink, first.first if first else est)
        slopes += [*est.sides, est.lo + 6 * est.noise, est.hi - 6 * est.noise]
        noise = max(noise, est.noise)
        rough_seen = rough_seen or rough
        if first is None:
            first = Refined(est.value, err, allowed, False, est)
        if not rough:
            break  # smooth at this step: the discrepancy is the stated gradient's
    if low_precision and first is not None:
        for factor in LOW_PRECISION_WIDER_STEPS:
            try:
                est = careful(ev, h * factor, f0, eps_f)
            except Unresolvable:
                break
            if is_rough(est, g):
                rough_seen = True
                slopes += est.sides
                noise = max(noise, est.noise)
                break
    if first is not None and rough_seen and low_precision:
        dist = max(min(slopes) - 6 * noise - g, g - max(slopes) - 6 * noise, 0.0)
        allowed_k = float(rule.allowed(g, first.value, 0.0)) + extra
        if dist <= allowed_k:
            return Refined(first.value, dist, allowed_k, True, first.first)
    return first


def tie_groups(x: np.ndarray) -> list[np.ndarray]:
    """Flat indices of entries sharing one exact value, groups of two or more, the largest
    first (at most MAX_TIE_GROUPS)."""
    flat = x.reshape(-1)
    if flat.size < 2:
        return []
    order = np.argsort(flat, kind="stable")
    values = flat[order]
    starts = np.flatnonzero(np.concatenate(([True], values[1:] != values[:-1])))
    sizes = np.diff(np.concatenate((starts, [flat.size])))
    big = np.flatnonzero(sizes >= 2)
    if big.size == 0:
        return []
    big = big[np.argsort(-sizes[big], kind="stable")][:MAX_TIE_GROUPS]
    return [np.sort(order[starts[k]:starts[k] + sizes[k]]) for k in big]
