"""The numerics of gradient checking: is a stated gradient the derivative of a function?

Pure numpy, no I/O. ``check_grad`` and ``check_vjp`` return a ``CheckResult`` that the
worker serialises (``to_dict``) and the renderer turns into badges, tables and heat maps.
This module runs one check; each rule lives in a module of its own:

* ``arguments`` — the call is validated first (argument mistakes are errors, not math);
* ``differences``, ``complexstep``, ``directions`` — the estimators: central differences in
  float64, complex-step derivatives, directional derivatives over blocks and directions;
* ``tolerance``, ``kinks``, ``montecarlo`` — the decision rules: how far a value may be
  from the reference, what holds at kinks and ties, and for Monte Carlo estimates;
* ``entries`` (entry by entry), ``verdict`` (the row: status, message, map), ``hints``.

See the plugin's README, "How a check decides".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from . import kinks, montecarlo
from .arguments import Call, prepare, same_object, tolerance_error
from .directions import bisect, blocks, check_direction, dense_directions, joint_direction
from .entries import judge_entries
from .objective import Objective, UserCodeError, first_call
from .result import CheckResult, Entry, error_result
from .tolerance import default_rtol
from .verdict import Findings, summarise

__all__ = ["CheckResult", "Entry", "check_grad", "check_vjp"]

SAMPLE_ABOVE = 2000  # entries of one parameter above which it is covered by blocks
SAMPLE_ABOVE_IN_LARGE = 128  # ... or, when all parameters together exceed SAMPLE_ABOVE
N_RANDOM_ENTRIES = 32  # entries of a block-covered parameter also checked one by one


def _joint(obj: Objective, p: Any, r: float, a: float, f0: float, z: float | None,
           cov: np.ndarray | None, at_kink: bool, rng: np.random.Generator) -> list[Any]:
    """Directions through ties and kinks (see ``kinks``)."""
    found = []
    for grp in kinks.tie_groups(p.base):
        v = np.zeros(p.base.size)
        v[grp] = 1.0 / np.sqrt(grp.size)
        value = float(p.base.reshape(-1)[grp[0]])
        label = f"the {grp.size} entries equal to {value:.6g} moved together"
        found.append(joint_direction(obj, p, v.reshape(p.base.shape), label, r, a, f0, z, cov))
    if at_kink and p.eps_g <= kinks.LOW_PRECISION_EPS:
        for v, label, _ in dense_directions(p, rng, kinks.N_KINK_DIRECTIONS, own=False):
            found.append(joint_direction(obj, p, v, f"{label} through the kink", r, a, f0, z,
                                         cov))
    return found


def _cover(obj: Objective, p: Any, r: float, a: float, f0: float, z: float | None,
           cov: np.ndarray | None, rng: np.random.Generator, findings: Findings) -> np.ndarray:
    """A large parameter: every entry in one block, plus directions; the flat indices to
    check one by one (random ones and the culprits of failing blocks)."""
    drill: list[np.ndarray] = []
    parts = blocks(p.base.size, rng)
    for j, grp in enumerate(parts):
        w = rng.choice((-1.0, 1.0), size=grp.size) / np.sqrt(grp.size)
        d = check_direction(obj, p, w, f"block {j + 1} of {len(parts)} ({grp.size} entries)",
                            r, a, f0, support=grp, refine_it=len(drill) < 16, kind="block",
                            z=z, cov=cov)
        findings.directions.append((p, d))
        if not d.ok and not d.unresolved:
            drill.append(grp)
    findings.blocks[p.key] = (len(parts), int(np.median([g.size for g in parts])))
    suspects = [bisect(obj, p, grp, r, a, f0) for grp in drill[:4]]
    for v, label, kind in dense_directions(p, rng):
        findings.directions.append((p, check_direction(obj, p, v, label, r, a, f0, kind=kind,
                                                       z=z, cov=cov)))
    idx = rng.choice(p.base.size, size=min(N_RANDOM_ENTRIES, p.base.size // 4), replace=False)
    return np.unique(np.concatenate([idx, *suspects])) if suspects else np.unique(idx)


def _run(api: str, f: Callable[..., Any], x: Any, grad: Any, *, upstream: Any,
         name: str | None, eq: str | None, rtol: float | None, atol: float | None,
         stderr: Any, cov: Any, seed: int, n_sigma: float | None,
         sizes: Mapping[str, int] | None) -> CheckResult:
    bad_tolerance = tolerance_error(api, rtol, atol)
    if bad_tolerance:
        return error_result(bad_tolerance, name, eq, (), (), 0, method="arguments")
    call = prepare(api, f, x, grad, upstream, name, eq, stderr, cov, n_sigma)
    if isinstance(call, CheckResult):
        return call
    assert isinstance(call, Call)
    params = call.params
    obj = Objective(f, params, call.single, call.upstream)
    # a big model's middle-sized parameters are sampled too, or they would dominate the cost
    limit = SAMPLE_ABOVE if call.n_total <= SAMPLE_ABOVE else SAMPLE_ABOVE_IN_LARGE
    rng = np.random.default_rng(seed)
    z = (None if call.n_sigma is None
         else montecarlo.entry_threshold(call.n_total, call.n_sigma))
    findings = Findings(obj=obj, z=z, n_sigma=call.n_sigma, cov_of=call.cov_of)
    try:
        findings.f0 = f0 = first_call(obj, vjp=call.upstream is not None)
        for p in params:
            r = rtol if rtol is not None else default_rtol(p.eps_g, obj.eps_f)
            a = 0.0 if atol is None else float(atol)
            findings.rtols[p.key] = r
            cov_p = call.cov_of.get(p.key)
            if p.base.size <= limit:
                idx = np.arange(p.base.size)
            else:
                idx = _cover(obj, p, r, a, f0, z, cov_p, rng, findings)
            v = judge_entries(obj, p, idx, f0, r, a, z)
            findings.entries.append((p, v))
            joint = _joint(obj, p, r, a, f0, z, cov_p, bool(np.any(v.at_kink)), rng)
            findings.directions += [(p, d) for d in joint]
    except UserCodeError as exc:
        return error_result(str(exc), name, eq, call.pshape, call.gshape, call.n_total)
    finally:
        for p in params:  # leave nothing perturbed behind
            p.work[...] = p.base
    result = summarise(findings, name, eq, call.pshape, call.gshape, call.n_total,
                       dict(sizes or {}))
    mixed_up = same_object(api, x, grad)
    if mixed_up and result.status == "fail":
        return error_result(mixed_up, name, eq, call.pshape, call.gshape, call.n_total,
                            method="arguments")
    return result


def check_grad(
    f: Callable[..., Any], x: Any, grad: Any, *, name: str | None = None, eq: str | None = None,
    rtol: float | None = None, atol: float | None = None, stderr: Any = None, cov: Any = None,
    seed: int = 0, n_sigma: float | None = None, sizes: Mapping[str, int] | None = None,
) -> CheckResult:
    """Check that ``grad`` is the gradient of the scalar ``f`` at ``x``.

    ``x`` is an array (``f(x)``) or a dict of arrays (``f(**x)``, ``grad`` a dict with the
    same keys).  ``stderr`` marks ``grad`` as a Monte Carlo estimate with that standard error
    (scalar or per entry), ``cov`` optionally with that covariance (one row per entry); it
    then passes within ``n_sigma`` (default 4) standard errors, by a rule valid however the
    entries correlate.  ``sizes`` names dimensions (``{"N": 4}``) for hints.
    """
    return _run("check_grad", f, x, grad, upstream=None, name=name, eq=eq, rtol=rtol,
                atol=atol, stderr=stderr, cov=cov, seed=seed, n_sigma=n_sigma, sizes=sizes)


def check_vjp(
    f: Callable[..., Any], x: Any, upstream: Any, grad: Any, *, name: str | None = None,
    eq: str | None = None, rtol: float | None = None, atol: float | None = None, seed: int = 0,
    sizes: Mapping[str, int] | None = None,
) -> CheckResult:
    """Check that ``grad`` equals Jᵀ·upstream for the array-valued ``f`` at ``x``.

    This is the backward pass of a layer: it is checked as the gradient of the scalar
    ``sum(upstream * f(x))``.
    """
    return _run("check_vjp", f, x, grad, upstream=upstream, name=name, eq=eq, rtol=rtol,
                atol=atol, stderr=None, cov=None, seed=seed, n_sigma=None, sizes=sizes)
