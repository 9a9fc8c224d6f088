"""Shared builders for the checker's rule tests: the realistic cases each rule is about."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # the built-in plugins live at the top of the repository
    sys.path.insert(0, str(ROOT))


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def reinforce(rng: np.random.Generator, samples: int = 2000, dim: int = 6):
    """A linear-Gaussian policy a ~ N(θ·s, 1) with reward −(a − c·s)² over states s with a
    shared mean: the score-function estimate's entries are strongly correlated.

    Returns (J, θ, estimate, per-entry standard errors, covariance, true gradient)."""
    m = np.array([2.0, 1.5, 1.0, -1.0, 0.5, 1.2])[:dim]
    c = np.linspace(-0.5, 0.5, dim)
    theta = np.full(dim, 0.3)
    second = np.outer(m, m) + np.eye(dim)  # E[s sᵀ]

    def J(theta):
        d = theta - c
        return -float(d @ second @ d) - 1.0

    s = m + rng.standard_normal((samples, dim))
    mu = s @ theta
    a = mu + rng.standard_normal(samples)
    terms = (-((a - s @ c) ** 2) * (a - mu))[:, None] * s
    cov = np.cov(terms, rowvar=False) / samples
    true = -2 * second @ (theta - c)
    return J, theta, terms.mean(0), np.sqrt(np.diag(cov)), cov, true
