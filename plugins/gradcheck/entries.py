"""Entry by entry: each checked entry of a parameter against its central difference, the
entries that fail the quick look examined again closely (``kinks.refine``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .differences import (
    Estimate,
    careful,
    entry_eval,
    entry_steps,
    resolve_quick,
    step_base,
    typical_scale,
)
from .kinks import LOW_PRECISION_EPS, NOISE_SHARE, refine
from .objective import EPS64, Objective, Param, Unresolvable
from .tolerance import Rule, below_resolution

CONFIRMED_ENOUGH = 16  # refined failures after which the check's failure is settled
MAX_REFINE = 256  # failing entries examined closely, to bound the cost of a wrong gradient
MAX_WIDEN = 64  # noise-dominated entries retried with larger steps ...
NATURAL_SCALE = 1e-6  # a gradient scale below 1e-6·|f|/|x| is judged against this floor
WIDEST = 100.0  # ... up to this many times ε^(1/3)·max(|xᵢ|, 1)


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
    _widen(obj, p, idx, steps, f0, g, num, unc, rule.allowed(g, num, 0.0) + extra)
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
    _only_noise(g, num, err, allowed, rule.allowed(g, num, 0.0) + extra, ~at_kink,
                unresolved, NOISE_SHARE if obj.eps_f <= EPS64 else np.inf,
                NATURAL_SCALE * max(abs(f0), 1.0) / max(typical_scale(p.base), 1.0))
    plain = allowed - extra
    return EntryVerdicts(idx, g, num, err, allowed, rule.denom(g, num), rule, se, at_kink,
                         unresolved, moved, plain)


def _widen(obj: Objective, p: Param, idx: np.ndarray, steps: np.ndarray, f0: float,
           g: np.ndarray, num: np.ndarray, unc: np.ndarray, quiet: np.ndarray) -> None:
    """Entries whose allowance is mostly f's rounding (the step, scaled to tiny entries, is
    too small for how large f is): retry with larger steps, up to 100·ε^(1/3)·max(|xᵢ|, 1),
    with Richardson's truncation estimate in the uncertainty, keeping the estimate whose
    uncertainty is smallest (a kink or curvature within the step shows as a large one)."""
    noisy = np.flatnonzero(2 * unc > quiet)[:MAX_WIDEN]
    flat = p.base.reshape(-1)
    for k in noisy:
        i = int(idx[k])
        ceiling = WIDEST * step_base(obj.eps_f) * max(abs(float(flat[i])), 1.0)
        h = float(steps[k])
        ev = entry_eval(obj, p, i)
        while h * 10 <= ceiling * (1 + 1e-9):
            h *= 10
            try:
                est: Estimate = careful(ev, h, f0, obj.eps_f)
            except Unresolvable:
                break
            if est.unc < unc[k]:
                num[k], unc[k], steps[k] = est.value, est.unc, h
            if 2 * unc[k] <= quiet[k]:
                break


def _only_noise(g: np.ndarray, num: np.ndarray, err: np.ndarray, allowed: np.ndarray,
                quiet: np.ndarray, judged: np.ndarray, unresolved: np.ndarray,
                share: float, natural: float) -> None:
    """An entry that passes only because f's rounding is larger than a fair share
    (``share``, 1%) of the gradient itself has not been verified: it is below what the
    reference resolves (so the check is inconclusive unless complex steps settle it),
    never a pass.  Where f itself returns low-precision floats, the row already says the
    reference is only that precise and the rule does not apply (``share`` is infinite).
    ``natural`` (1e-6·|f|/|x|) floors the scale, so a zero gradient of a loss that moves
    by rounding only is still verified as zero to the precision a difference has."""
    noise = allowed - quiet  # twice the uncertainty of the reference
    resolved = np.abs(num) > 2 * noise
    scale = max(natural, float(np.max(np.abs(g), initial=0.0)),
                float(np.max(np.abs(num[resolved]), initial=0.0)))
    lean = judged & (err <= allowed) & (err > quiet) & (noise > share * scale)
    allowed[lean] = quiet[lean]
    unresolved[lean] = True
