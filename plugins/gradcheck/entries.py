"""Entry by entry: each checked entry of a parameter against its central difference, the
entries that fail the quick look examined again closely (``kinks.refine``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .differences import entry_eval, entry_steps, resolve_quick
from .kinks import LOW_PRECISION_EPS, refine
from .objective import Objective, Param
from .tolerance import Rule, below_resolution

CONFIRMED_ENOUGH = 16  # refined failures after which the check's failure is settled
MAX_REFINE = 256  # failing entries examined closely, to bound the cost of a wrong gradient


@dataclass
class EntryVerdicts:
    """Per-entry results of one parameter (over the checked flat indices)."""

    idx: np.ndarray
    stated: np.ndarray
    numerical: np.ndarray
    err: np.ndarray  # error measure in the numerator (distance to the accepted set)
    allowed: np.ndarray
    denom: np.ndarray
    rule: Rule
    se: np.ndarray | None
    at_kink: np.ndarray  # passed as a subgradient, between one-sided slopes
    unresolved: np.ndarray  # failed, but below what the reference resolves
    moved: np.ndarray  # f changed along this entry at all
    plain: np.ndarray  # the allowance without the Monte Carlo share

    @property
    def ok(self) -> np.ndarray:
        return self.err <= self.allowed


def judge_entries(
    obj: Objective, p: Param, idx: np.ndarray, f0: float, rtol: float, atol: float,
    z: float | None,
) -> EntryVerdicts:
    """``z``: a Monte Carlo estimate may be that many standard errors off per entry."""
    g = p.grad.reshape(-1)[idx]
    se = None if p.stderr is None else p.stderr.reshape(-1)[idx]
    steps = entry_steps(obj, p, idx)
    n = len(idx)
    num, unc = np.empty(n), np.empty(n)
    moved = np.zeros(n, dtype=bool)
    unresolved = np.zeros(n, dtype=bool)
    for k, i in enumerate(idx):
        est = resolve_quick(entry_eval(obj, p, int(i)), float(steps[k]), obj.eps_f,
                            lambda i=i: p.index_str(int(i)))
        num[k], unc[k], moved[k] = est.value, est.unc, est.moved
        unresolved[k] = below_resolution(float(g[k]), est, float(steps[k]), f0, obj.eps_f)
    # the whole stated gradient is known, so a sample's scale is the parameter's scale
    scale = float(max(np.max(np.abs(num), initial=0.0), np.max(np.abs(p.grad), initial=0.0)))
    rule = Rule(rtol, atol, scale, p.eps_g)
    extra = np.zeros(n) if se is None or z is None else z * se
    err = np.abs(g - num)
    allowed = rule.allowed(g, num, unc) + extra
    at_kink = np.zeros(n, dtype=bool)
    # look again, closely, at the entries that fail the quick look (mildest first: those are
    # the kinks and noisy spots; gross errors stay failures either way)
    bad = np.flatnonzero(~(err <= allowed))
    order = bad[np.argsort(err[bad] / np.maximum(allowed[bad], 1e-300))][:MAX_REFINE]
    confirmed = 0
    for k in order:
        if confirmed >= CONFIRMED_ENOUGH:
            break  # the rest fail worse than these: examining them costs time, changes nothing
        ev = entry_eval(obj, p, int(idx[k]))
        best = refine(ev, float(steps[k]), f0, obj.eps_f, float(g[k]), rule, float(extra[k]),
                      low_precision=p.eps_g > LOW_PRECISION_EPS)
        if best is None:
            continue
        num[k], err[k], allowed[k], at_kink[k] = best.value, best.err, best.allowed, best.at_kink
        if not best.err <= best.allowed and best.first is not None:
            unresolved[k] = below_resolution(float(g[k]), best.first, float(steps[k]), f0,
                                             obj.eps_f)
            moved[k] = moved[k] or best.first.moved
            confirmed += int(not unresolved[k])
    plain = allowed - extra
    return EntryVerdicts(idx, g, num, err, allowed, rule.denom(g, num), rule, se, at_kink,
                         unresolved, moved, plain)
