"""False-alarm and detection rates of the Monte Carlo rule (``check_grad(..., stderr=)``).

Simulates REINFORCE estimates for a linear-Gaussian policy whose 6 entries are strongly
correlated (they share every sample), checks each against the exact gradient, and counts:
unbiased estimates that fail (false alarms; target <= 0.5% per check) and estimates biased
by 8 standard errors that pass (misses).  Fixed seed, so the figures are reproducible.

Run from the repository root:  python bench/bench_montecarlo.py [N]
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from plugins.gradcheck.checker import check_grad  # noqa: E402

SEED = 20261204
SAMPLES = 1000  # episodes per estimate
DIM = 6
MEAN_STATE = 2 * np.array([2.0, 1.5, 1.0, -1.0, 0.5, 1.2])
TARGET = np.linspace(-0.5, 0.5, DIM)
THETA = np.full(DIM, 0.3)
SECOND = np.outer(MEAN_STATE, MEAN_STATE) + np.eye(DIM)  # E[s sᵀ]


def objective(theta: np.ndarray) -> float:
    """J(θ) = E[−(a − c·s)²] for a ~ N(θ·s, 1), in closed form."""
    d = theta - TARGET
    return -float(d @ SECOND @ d) - 1.0


def estimate(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    s = MEAN_STATE + rng.standard_normal((SAMPLES, DIM))
    mu = s @ THETA
    a = mu + rng.standard_normal(SAMPLES)
    terms = (-((a - s @ TARGET) ** 2) * (a - mu))[:, None] * s  # score-function terms
    cov = np.cov(terms, rowvar=False) / SAMPLES
    return terms.mean(0), np.sqrt(np.diag(cov)), cov


def independent_chi_square_rejects(z: np.ndarray, n_sigma: float = 4.0) -> bool:
    """The rule this benchmark replaced: Σz² against a chi-square quantile that assumes
    independent entries (Wilson–Hilferty), shown for comparison."""
    k = z.size
    q = k * (1 - 2 / (9 * k) + n_sigma * math.sqrt(2 / (9 * k))) ** 3
    return float(np.sum(z * z)) > q


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    rng = np.random.default_rng(SEED)
    true = -2 * SECOND @ (THETA - TARGET)
    alarms = {"stderr": 0, "stderr+cov": 0, "chi-square (independent)": 0}
    misses = {"stderr": 0, "stderr+cov": 0}
    estimates = []
    t0 = time.perf_counter()
    for _ in range(n):
        g, se, cov = estimate(rng)
        estimates.append(g)
        alarms["stderr"] += check_grad(objective, THETA, g, stderr=se).status != "pass"
        alarms["stderr+cov"] += check_grad(objective, THETA, g, stderr=se,
                                           cov=cov).status != "pass"
        alarms["chi-square (independent)"] += independent_chi_square_rejects((g - true) / se)
        biased = g + 8 * se * np.where(rng.random(DIM) < 0.5, 1.0, -1.0) * (
            np.arange(DIM) == rng.integers(DIM))  # 8 SE in one random entry
        misses["stderr"] += check_grad(objective, THETA, biased, stderr=se).status == "pass"
        misses["stderr+cov"] += check_grad(objective, THETA, biased, stderr=se,
                                           cov=cov).status == "pass"
    seconds = time.perf_counter() - t0
    corr = np.corrcoef(np.array(estimates), rowvar=False)
    off = np.abs(corr[~np.eye(DIM, dtype=bool)])
    print(f"{n} unbiased REINFORCE estimates ({SAMPLES} episodes each, {DIM} entries, "
          f"|correlation| between entries {off.min():.2f}–{off.max():.2f}), seed {SEED}")
    for rule, count in alarms.items():
        print(f"  false alarms, {rule}: {count} of {n} = {100 * count / n:.2f}% "
              f"(target <= 0.5%)" if rule != "chi-square (independent)" else
              f"  for comparison, a chi-square assuming independence rejects {count} of {n} "
              f"= {100 * count / n:.2f}%")
    for rule, count in misses.items():
        print(f"  biased by 8 SE in one entry, passed anyway, {rule}: {count} of {n}")
    print(f"  {seconds:.1f} s for {4 * n} checks ({1e3 * seconds / (4 * n):.2f} ms each)")


if __name__ == "__main__":
    main()
