"""Time gradient checks of 100,000-entry parameters (SPEC §10 target: under 1 s each),
correct ones and one with a 1e-3 error in a single median-size entry (which must fail:
every entry lies in one of 1,000 blocks of 100).

Run from the repository root:  python bench/bench_checker.py
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Verification runs one worker per core, so each should use one BLAS thread; on a shared
# 2-core machine a multi-threaded BLAS made the 2-layer f ~10x slower per call.  Override
# by setting OPENBLAS_NUM_THREADS yourself.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from plugins.gradcheck.checker import check_grad  # noqa: E402

REPEATS = 5


def quadratic_case() -> tuple[Callable[..., Any], Any, Any, str]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((316, 317))  # 100,172 entries
    c = rng.random(x.shape) + 0.5

    def f(x):
        return 0.5 * float(np.sum(c * x * x))

    return f, x, c * x, "quadratic, 316×317"


def one_wrong_entry_case() -> tuple[Callable[..., Any], Any, Any, str]:
    f, x, g, _ = quadratic_case()
    wrong = g.copy()
    i = int(np.argsort(np.abs(g).reshape(-1))[g.size // 2])  # the median-size entry
    wrong.flat[i] *= 1 + 1e-3
    where = tuple(int(v) for v in np.unravel_index(i, g.shape))
    return f, x, wrong, f"quadratic, 316×317, entry {where} 1e-3 off"


def two_layer_case() -> tuple[Callable[..., Any], Any, Any, str]:
    rng = np.random.default_rng(1)
    n, d, h, k = 32, 500, 200, 10  # W1 has 100,000 entries
    X, Y = rng.standard_normal((n, d)), rng.standard_normal((n, k))
    p = {"W1": rng.standard_normal((d, h)) / np.sqrt(d), "b1": np.zeros(h),
         "W2": rng.standard_normal((h, k)) / np.sqrt(h), "b2": np.zeros(k)}

    def f(W1, b1, W2, b2):
        return 0.5 * float(np.sum((np.maximum(X @ W1 + b1, 0) @ W2 + b2 - Y) ** 2)) / n

    z = X @ p["W1"] + p["b1"]
    a = np.maximum(z, 0)
    e = (a @ p["W2"] + p["b2"] - Y) / n
    dz = (e @ p["W2"].T) * (z > 0)
    g = {"W1": X.T @ dz, "b1": dz.sum(0), "W2": a.T @ e, "b2": e.sum(0)}
    total = sum(v.size for v in p.values())
    return f, p, g, f"2-layer ReLU net, W1 {d}×{h}, {total:,} parameters, batch {n}"


def time_case(make: Callable[[], tuple[Callable[..., Any], Any, Any, str]]) -> None:
    f, x, g, label = make()
    times = []
    calls = 0

    def counted(*a: Any, **kw: Any) -> Any:
        nonlocal calls
        calls += 1
        return f(*a, **kw)

    res = None
    cpu = []
    for _ in range(REPEATS):
        calls = 0
        t0, c0 = time.perf_counter(), time.process_time()
        res = check_grad(counted, x, g)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    assert res is not None
    t_f = time.perf_counter()
    for _ in range(20):
        f(**x) if isinstance(x, dict) else f(x)
    per_call = (time.perf_counter() - t_f) / 20
    print(f"{label}: {res.status}, {res.method}")
    if res.status != "pass":
        print(f"  {res.message}")
    print(f"  wall median {statistics.median(times):.3f} s (min {min(times):.3f}, max "
          f"{max(times):.3f}), CPU median {statistics.median(cpu):.3f} s, over {REPEATS} runs; "
          f"{calls} calls of f at {per_call * 1e3:.3f} ms each; target < 1 s")


def main() -> None:
    # the load matters on shared machines: timings here are only comparable at equal load
    print(f"numpy {np.__version__}, OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}, "
          f"load average {os.getloadavg()[0]:.1f}")
    time_case(quadratic_case)
    time_case(one_wrong_entry_case)
    time_case(two_layer_case)


if __name__ == "__main__":
    main()
