"""From the checked entries and directions to the row a reader sees: the status, the
message, the worst entries, the error map, the hint, and what was covered and how.

``pass`` needs every judged entry and direction within its allowance; ``fail`` needs one
that is not and that the reference resolves (or a Monte Carlo estimate jointly too far);
``inconclusive`` is left when every disagreement lies below what the reference resolves
and complex steps cannot settle it either.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import complexstep, hints, montecarlo
from .directions import DirVerdict
from .entries import EntryVerdicts
from .objective import EPS64, Objective, Param
from .result import CheckResult, Entry, fmt_num

N_WORST = 5


@dataclass
class Findings:
    """Everything one check measured."""

    obj: Objective
    z: float | None  # standard errors allowed per entry (Monte Carlo), else None
    n_sigma: float | None
    cov_of: dict[str | None, np.ndarray]
    f0: float = 0.0
    entries: list[tuple[Param, EntryVerdicts]] = field(default_factory=list)
    directions: list[tuple[Param, DirVerdict]] = field(default_factory=list)
    rtols: dict[str | None, float] = field(default_factory=dict)
    blocks: dict[str | None, tuple[int, int]] = field(default_factory=dict)  # (count, size)


def _method(fd: Findings, n_checked: int, n_total: int, complex_used: bool) -> str:
    dirs = [d for _, d in fd.directions]
    parts = []
    if fd.blocks:
        nb = sum(c for c, _ in fd.blocks.values())
        size = max(s for _, s in fd.blocks.values())
        nd = sum(1 for d in dirs if d.kind == "direction")
        own = " + the stated gradient's own" if any(d.kind == "own" for d in dirs) else ""
        parts.append(f"sampled: every entry in {nb:,} blocks of {size} + {nd} random "
                     f"directions{own}; {n_checked} entries one by one")
    else:
        parts.append(f"central differences, all {n_total} entries")
    at_kink = sum(int(np.count_nonzero(v.at_kink)) for _, v in fd.entries)
    joint = [d for d in dirs if d.kind == "joint"]
    if joint or at_kink:
        judged = sum(1 for d in joint if d.judged)
        ties = sum(1 for d in joint if "moved together" in d.label)
        text = (f"at a kink: {at_kink} entr{'y' if at_kink == 1 else 'ies'} passed as "
                "subgradients (between one-sided slopes); " if at_kink else "ties in x: ")
        text += (f"{len(joint)} joint directions ({ties} through tied entries moved together)"
                 f", {judged} judged where f is smooth along them")
        parts.append(text)
    obj = fd.obj
    if obj.eps_f > EPS64:
        r = max(fd.rtols.values(), default=0.0)
        parts.append(f"f returns low-precision floats ({obj.out_dtype}) even at float64 "
                     f"points, so the reference is only that precise: rtol widened to {r:.1e}")
    else:
        low = sorted({p.grad_dtype for p, _ in fd.entries if p.eps_g > EPS64})
        if low:
            r = max(fd.rtols.values(), default=0.0)
            parts.append(f"reference in float64; the {'/'.join(low)} gradient sets a floor "
                         f"rtol {r:.1e}")
    if complex_used:
        parts.append("complex-step derivatives where differences could not resolve")
    if fd.z is not None:
        cov = " and the stated covariance" if fd.cov_of else ""
        parts.append(f"Monte Carlo: within {fd.z:.3g} SE per entry{cov}, valid under any "
                     "correlation")
    return "; ".join(parts)


def _try_complex_step(fd: Findings) -> bool:
    """Settle below-resolution entries by complex steps; True when every one agrees."""
    for p, v in fd.entries:
        todo = np.flatnonzero(~v.ok)
        if todo.size == 0:
            continue
        idx = v.idx
        cs = complexstep.derivatives(fd.obj, p, idx, fd.f0)
        if cs is None:
            return False
        resolved = v.ok & v.moved & (np.abs(v.numerical) > 0)
        if not complexstep.trusted(cs[resolved], v.numerical[resolved], v.allowed[resolved]):
            return False
        allowed = v.rule.allowed(v.stated, cs, 0.0) + (v.allowed - v.plain)
        if not np.all(np.abs(v.stated - cs) <= allowed):
            return False
    for _, d in fd.directions:
        if not d.ok:
            return False  # a direction cannot be settled entry by entry
    return True


def _entry_measure(fd: Findings, v: EntryVerdicts) -> tuple[np.ndarray, np.ndarray]:
    """(measure, threshold) per entry: standard errors for Monte Carlo, else relative."""
    if fd.z is not None and v.se is not None:
        excess = montecarlo.beyond(v.err, v.plain, v.stated - v.numerical)
        return montecarlo.z_scores(excess, v.se), np.full(v.err.shape, fd.z)
    return v.err / v.denom, v.allowed / v.denom


@dataclass
class _Shown:
    """The worst measure seen so far against its threshold: what the row shows."""

    ratio: float = -1.0
    err: float = 0.0
    tol: float = 0.0
    measure: str = "rel"

    def offer(self, ratio: float, err: float, tol: float, measure: str) -> None:
        if ratio > self.ratio:
            self.ratio, self.err, self.tol, self.measure = ratio, err, tol, measure


@dataclass
class _Tally:
    resolved_bad: int = 0  # failing entries the reference resolves
    unresolved_bad: int = 0  # failing entries below its resolution
    candidates: list[tuple[float, Entry]] = field(default_factory=list)
    se_max: float | None = None


def _scan_entries(fd: Findings, shown: _Shown) -> _Tally:
    tally = _Tally()
    mc = fd.z is not None
    for p, v in fd.entries:
        ok = v.ok
        tally.resolved_bad += int(np.count_nonzero(~ok & ~v.unresolved))
        tally.unresolved_bad += int(np.count_nonzero(~ok & v.unresolved))
        m, thresh = _entry_measure(fd, v)
        if v.se is not None and v.se.size:
            tally.se_max = max(tally.se_max or 0.0, float(np.max(v.se)))
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(v.allowed > 0, v.err / v.allowed, np.where(v.err > 0, np.inf, 0.0))
        if ratio.size:
            k = int(np.argmax(ratio))
            if not mc and v.numerical[k] == 0:
                # a zero reference has no relative error: say how far off, absolutely
                shown.offer(float(ratio[k]), float(v.err[k]), float(v.allowed[k]), "abs")
            else:
                shown.offer(float(ratio[k]), float(m[k]), float(thresh[k]),
                            "se" if mc else "rel")
        for k in np.argsort(-ratio)[:N_WORST]:
            if ok[k]:
                continue
            index = tuple(int(i) for i in np.unravel_index(int(v.idx[k]), p.base.shape))
            tally.candidates.append((float(ratio[k]), Entry(
                index, float(v.stated[k]), float(v.numerical[k]), float(m[k]), p.key)))
    return tally


def _scan_directions(fd: Findings, shown: _Shown) -> None:
    for _, d in fd.directions:
        if not d.judged:
            continue
        ratio = d.err / d.allowed if d.allowed > 0 else math.inf
        if fd.z is not None:
            plain = d.allowed - fd.z * d.se
            in_se = max(d.err - plain, 0.0) / d.se if d.se > 0 else math.inf
            shown.offer(ratio, in_se, fd.z, "se")
        else:
            shown.offer(ratio, d.err / d.denom, d.allowed / d.denom, "rel")


def _joint_failures(fd: Findings) -> list[montecarlo.Joint]:
    """Monte Carlo with a covariance: the whole deviation vector, by its Mahalanobis
    distance."""
    if fd.z is None or not fd.cov_of:
        return []
    joints = []
    for p, v in fd.entries:
        cov = fd.cov_of.get(p.key)
        if cov is None or v.se is None:
            continue
        excess = montecarlo.beyond(v.err, v.plain, v.stated - v.numerical)
        joints.append(montecarlo.mahalanobis(excess, cov[np.ix_(v.idx, v.idx)],
                                             fd.n_sigma or montecarlo.DEFAULT_N_SIGMA))
    return [j for j in joints if not j.ok]


# f's own precision above which no pass is claimed: float16's ε (9.8e-4) widens rtol to
# ~1e-1, too coarse to tell a right gradient from one 10% off; float32's (1.2e-7) does not
VERIFIABLE_EPS_F = 1e-4


def summarise(fd: Findings, name: str | None, eq: str | None, pshape: Any, gshape: Any,
              n_total: int, sizes: Mapping[str, int]) -> CheckResult:
    n_checked = sum(len(v.idx) for _, v in fd.entries)
    shown = _Shown(measure="se" if fd.z is not None else "rel")
    tally = _scan_entries(fd, shown)
    _scan_directions(fd, shown)
    bad_dirs = [(p, d) for p, d in fd.directions if not d.ok]
    joint_bad = _joint_failures(fd)

    complex_used = False
    if tally.resolved_bad or any(not d.unresolved for _, d in bad_dirs) or joint_bad:
        status = "fail"
    elif tally.unresolved_bad or bad_dirs:
        complex_used = not fd.blocks and _try_complex_step(fd)
        status = "pass" if complex_used else "inconclusive"
    else:
        status = "pass"
    too_coarse = status == "pass" and fd.obj.eps_f > VERIFIABLE_EPS_F
    if too_coarse:  # a reference this coarse would pass a gradient 10% off as well
        status = "inconclusive"
    worst = [e for _, e in sorted(tally.candidates, key=lambda t: -t[0])[:N_WORST]]
    hint = None
    if too_coarse:
        r = max(fd.rtols.values(), default=0.0)
        msg = (f"cannot verify here: f returns {fd.obj.out_dtype} even at float64 points, so "
               f"the reference is only good to a relative error of {r:.1e}, and a gradient "
               "that far off would pass as well; compute f in float64 to verify it")
    elif status == "pass":
        msg = (f"within {fd.z:.3g}·SE (largest deviation {shown.err:.2g}·SE)"
               if fd.z is not None else "within tolerance")
        if complex_used:
            msg += " (by complex-step derivatives: differences cannot resolve it here)"
    elif status == "inconclusive":
        msg = _inconclusive_message(fd)
    else:
        msg, hint = _failure(fd, worst, tally.resolved_bad + tally.unresolved_bad, n_checked,
                             bad_dirs, joint_bad, sizes)
    error_map, map_key = (_error_map(fd, shown.tol, joint_bad) if not fd.blocks
                          else (None, None))
    return CheckResult(
        status=status, name=name, eq=eq, message=msg,
        max_rel_err=shown.err, tolerance=shown.tol, n_checked=n_checked, n_total=n_total,
        param_shape=pshape, grad_shape=gshape, worst=worst if status == "fail" else [],
        error_map=error_map, hint=hint, stderr=tally.se_max,
        method=_method(fd, n_checked, n_total, complex_used), map_key=map_key,
        measure=shown.measure,
    )


def _inconclusive_message(fd: Findings) -> str:
    gmax = max((float(np.max(np.abs(p.grad), initial=0.0)) for p, _ in fd.entries),
               default=0.0)
    obj = fd.obj
    if obj.eps_f > EPS64:
        return (f"cannot verify here: f returns {obj.out_dtype} even at float64 points, and "
                f"its rounding (f(x) = {fmt_num(fd.f0 + 0.0)}) is as large as the changes "
                f"that would tell this gradient (largest entry {gmax:.2g}) from a wrong one; "
                "compute f in float64 to verify it")
    if any(bool(np.any(v.moved & v.unresolved)) for _, v in fd.entries):
        return (f"cannot verify here: f's float64 rounding at x (f(x) = "
                f"{fmt_num(fd.f0 + 0.0)}) is larger than the changes the stated gradient "
                f"(largest entry {gmax:.2g}) predicts over the steps tried; move the point, "
                "or check a loss that is not dominated by a large constant")
    return (f"cannot verify here: the loss does not change in float64 within the steps "
            f"tried (f(x) = {fmt_num(fd.f0 + 0.0)}; the stated gradient, largest entry "
            f"{gmax:.2g}, is below what a difference resolves); move the point or use less "
            "confident logits")


def _failure(fd: Findings, worst: list[Entry], n_bad: int, n_checked: int,
             bad_dirs: list[tuple[Param, DirVerdict]], joint_bad: list[Any],
             sizes: Mapping[str, int]) -> tuple[str, str | None]:
    parts = []
    mc = fd.z is not None
    if n_bad and worst:
        e = worst[0]
        where = (f"[{e.key!r}]" if e.key is not None else "") + str(e.index)
        parts.append(
            f"{n_bad} of {n_checked} entries differ; worst at {where}: stated "
            f"{fmt_num(e.stated)}, numerical {fmt_num(e.numerical)}"
            + (f" ({e.rel_err:.2g}·SE off, {fd.z:.3g}·SE allowed)" if mc else "")
        )
    if bad_dirs:
        p, d = max(bad_dirs, key=lambda t: t[1].err / max(t[1].allowed, 1e-300))
        parts.append(
            f"derivative along {d.label}{'' if p.key is None else f' of {p.key}'} is "
            f"{fmt_num(d.numerical)} but the stated gradient gives {fmt_num(d.stated)}"
        )
        if d.kind == "joint" and "moved together" in d.label and not n_bad:
            parts[-1] += (" (each entry alone lies between its one-sided slopes, but not "
                          "jointly: a tie counted more than once, or dropped?)")
    for j in joint_bad:
        parts.append(j.text())
    msg = "; ".join(parts)
    failing = [(p, v) for p, v in fd.entries if np.any(~v.ok)]
    hint = hints.integer_buffer({p.key: p.grad_dtype for p, _ in fd.entries})
    if hint is not None and not any(
            np.any(~v.ok & (np.abs(v.numerical - np.round(v.numerical)) > v.allowed))
            for _, v in fd.entries):
        hint = None  # no failing entry needs a fraction: truncation is not what went wrong
    if hint is None:
        f_moved = any(bool(np.any(v.moved)) for _, v in fd.entries) or any(
            d.judged and d.numerical != 0 for _, d in fd.directions)
        hint = hints.entry_hint(failing, fd.entries, sizes, not fd.blocks, f_moved)
    if hint is None and bad_dirs and not n_bad:
        # only directions failed: the ratio along the gradient's own direction still talks
        own = [d for _, d in fd.directions if d.kind == "own"]
        if own and own[0].numerical != 0 and not own[0].ok:
            dims = {dd for p, _ in fd.entries for dd in p.base.shape}
            hint = hints.nice_ratio(own[0].stated / own[0].numerical, sizes, dims)
    return msg, hint


def _error_map(fd: Findings, tol: float, joint_bad: list[Any]) -> tuple[Any, str | None]:
    """The map of the parameter holding the worst entry: each entry's error as a share of
    its own allowance, scaled to the shown tolerance, so red is exactly where it failed."""
    if not fd.entries:
        return None, None
    p, v = max(fd.entries, key=lambda pv: float(np.max(pv[1].err / np.maximum(
        pv[1].allowed, 1e-300), initial=0.0)))
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(v.allowed > 0, v.err / v.allowed, np.where(v.err > 0, np.inf, 0.0))
    if joint_bad and not np.any(share > 1):
        # failed jointly: every entry scaled by how far the whole vector is past its limit
        # (the largest deviation then shows red, the others in proportion)
        worst = max(joint_bad, key=lambda j: j.distance2 / j.threshold)
        excess = math.sqrt(worst.distance2 / worst.threshold) if math.isfinite(
            worst.distance2) else 10.0
        share = share / max(float(np.max(share, initial=0.0)), 1e-300) * excess
    emap = np.zeros(p.base.size)
    emap[v.idx] = share * (tol if tol > 0 and math.isfinite(tol) else 1.0)
    return emap.reshape(hints.view2d(p.base.shape)), p.key
