"""The tolerance rule: how far a stated value may be from the float64 reference.

An entry (or a directional derivative) passes when

    |stated − numerical| <= rtol · (max(|stated|, |numerical|) + 1e-3 · scale)
                            + 2 · uncertainty + grad_abs · scale + atol

where ``scale`` is the largest gradient entry of the parameter (or the norm of the stated
gradient on a direction's support).  Near-zero entries are judged relative to the
gradient's scale, entries of ordinary size are held to ``rtol`` = 1e-5 relative.

Precision: the reference is computed from float64 copies of x, so it does not inherit the
author's precision.  The author's dtype only sets a floor: ``rtol`` is at least 8 ε of the
stated gradient's dtype (float16: 7.8e-3, float32: 1e-6 < 1e-5) and ``grad_abs`` is 100 ε,
at most 4e-3 (float16 rounding is ~1e-3 relative, not 10%).  When f itself returns a
low-precision float even at float64 points, the reference is only as precise as f, and
``rtol`` widens to 100 ε of f's dtype; the row says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .differences import NOISE_FACTOR, Estimate

DEFAULT_RTOL = 1e-5
GRAD_RTOL_EPS = 8.0  # rtol floor, in units of the stated gradient's epsilon
REF_RTOL_EPS = 100.0  # rtol when f rounds to a low precision itself, in its epsilon
GRAD_EPS_FACTOR = 100.0  # rounding error allowed in the author's gradient, in eps * scale
GRAD_ABS_CAP = 4e-3  # ... but never more than this fraction of the scale
SCALE_FLOOR = 1e-3  # entries below this fraction of the scale are judged against the scale


def default_rtol(eps_g: float, eps_f: float) -> float:
    return max(DEFAULT_RTOL, GRAD_RTOL_EPS * eps_g, REF_RTOL_EPS * eps_f)


@dataclass
class Rule:
    """The tolerance rule for one parameter (or for directional derivatives of it)."""

    rtol: float
    atol: float
    scale: float
    eps_g: float

    @property
    def grad_abs(self) -> float:
        return min(GRAD_EPS_FACTOR * self.eps_g, GRAD_ABS_CAP)

    def denom(self, g: Any, n: Any) -> Any:
        d = np.maximum(np.abs(g), np.abs(n)) + SCALE_FLOOR * self.scale
        return np.where(d > 0, d, 1.0)

    def allowed(self, g: Any, n: Any, unc: Any) -> Any:
        return (
            self.rtol * (np.maximum(np.abs(g), np.abs(n)) + SCALE_FLOOR * self.scale)
            + 2.0 * unc
            + self.grad_abs * self.scale
            + self.atol
        )


def resolution(h: float, f0: float, eps_f: float) -> float:
    """The smallest slope a difference with step h can see when f's inner terms are of
    unit size: a loss computed from probabilities near 1 moves in steps of ε, even when
    the loss itself is ~0."""
    return NOISE_FACTOR * eps_f * max(abs(f0), 1.0) / h


def below_resolution(g: float, est: Estimate, h: float, f0: float, eps_f: float) -> bool:
    """The reference cannot judge this value: the stated slope is below what a difference
    resolves and f did not move smoothly (not at all, or by rounding jumps)."""
    res = resolution(h, f0, eps_f)
    if abs(g) > res or abs(est.value) > res:
        return False
    if not est.moved:
        return True
    # rounding jumps: the two step sizes, or the two sides, disagree about the slope
    width = est.hi - est.lo - 12 * est.noise  # NaN for a quick estimate
    jumpy = est.spread > 0.25 * abs(est.value) or width > 0.25 * abs(est.value)
    return jumpy or est.value == 0
