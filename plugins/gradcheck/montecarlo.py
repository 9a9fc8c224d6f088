"""The decision rule for Monte Carlo estimates (``check_grad(..., stderr=SE[, cov=C])``).

A stated gradient that is a Monte Carlo estimate (a REINFORCE / score-function estimate,
say) differs from the true gradient by its sampling error.  Its entries are usually
strongly correlated (they share the same samples), so no rule here assumes independence:

* per entry, the deviation beyond the numerical allowance, in standard errors, must stay
  within ``z*`` = max(n_sigma, the Bonferroni bound for k entries at a 1e-3 false-alarm
  rate).  By the union bound this holds with probability ≥ 1 − 1e-3 for an unbiased,
  roughly normal estimate, whatever the correlation;
* with a covariance ``cov``, the whole deviation vector is also judged by its Mahalanobis
  distance against the chi-square quantile at the same tail as n_sigma normal deviations,
  which sees a bias spread thinly over many entries.

A bias of 8 standard errors in any entry (or along the covariance's directions) fails.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np

DEFAULT_N_SIGMA = 4.0
FALSE_ALARM = 1e-3  # per check, for unbiased estimates, by the union bound


def entry_threshold(k: int, n_sigma: float) -> float:
    """Standard errors allowed per entry when k entries are judged."""
    if k <= 0:
        return n_sigma
    return max(n_sigma, NormalDist().inv_cdf(1.0 - FALSE_ALARM / (2 * k)))


def chi2_threshold(k: int, n_sigma: float) -> float:
    """The chi-square quantile (k dof) at the two-sided tail of n_sigma normal deviations,
    at most the FALSE_ALARM rate (Wilson–Hilferty)."""
    tail = min(FALSE_ALARM, 2.0 * (1.0 - NormalDist().cdf(n_sigma)))
    z = NormalDist().inv_cdf(1.0 - tail)
    return k * (1 - 2 / (9 * k) + z * math.sqrt(2 / (9 * k))) ** 3


@dataclass
class Joint:
    """The Mahalanobis verdict over the judged entries."""

    distance2: float
    threshold: float
    k: int

    @property
    def ok(self) -> bool:
        return self.distance2 <= self.threshold

    def text(self) -> str:
        return (f"jointly {math.sqrt(self.distance2):.3g} standard errors (Mahalanobis, "
                f"with the stated covariance) from the true gradient over {self.k} entries; "
                f"at most {math.sqrt(self.threshold):.3g} allowed")


def parse_cov(cov: Any, sizes: list[int]) -> np.ndarray:
    """The covariance over all entries (dict parameters concatenated in key order)."""
    n = sum(sizes)
    c = np.asarray(cov, dtype=np.float64)
    if c.shape != (n, n):
        raise ValueError(f"cov must be {n}×{n} (one row per gradient entry), not "
                         f"{'×'.join(map(str, c.shape)) or 'a scalar'}")
    if not np.all(np.isfinite(c)) or not np.allclose(c, c.T, rtol=1e-8, atol=0):
        raise ValueError("cov must be finite and symmetric")
    if np.any(np.diag(c) < 0):
        raise ValueError("cov has negative variances")
    return c


def split_cov(cov: np.ndarray, keys: list[Any], sizes: list[int]) -> Mapping[Any, np.ndarray]:
    out, start = {}, 0
    for k, n in zip(keys, sizes, strict=True):
        out[k] = cov[start:start + n, start:start + n]
        start += n
    return out


def beyond(err: np.ndarray, plain: np.ndarray, signed: np.ndarray) -> np.ndarray:
    """The signed deviation left once the numerical allowance is taken off."""
    return np.sign(signed) * np.maximum(err - plain, 0.0)


def norm_of(a: np.ndarray) -> float:
    return math.sqrt(float(np.sum(a * a)))


def z_scores(excess: np.ndarray, se: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(se > 0, np.abs(excess) / se, np.where(excess == 0, 0.0, np.inf))


def mahalanobis(excess: np.ndarray, cov: np.ndarray, n_sigma: float) -> Joint:
    """excessᵀ C⁺ excess: a least-squares solve, so a singular C (entries that are
    exact combinations of others) is fine."""
    sol, *_ = np.linalg.lstsq(cov, excess, rcond=1e-12)
    d2 = float(excess @ sol)
    if norm_of(cov @ sol - excess) > 1e-6 * max(norm_of(excess), 1e-300):
        d2 = math.inf  # a deviation the covariance says cannot happen
    return Joint(max(d2, 0.0), chi2_threshold(max(excess.size, 1), n_sigma), int(excess.size))
