"""What the workers get for one post: its blocks, the TeX of its labelled equations, how
its TeX is read (``notation:``) and the ``[verify]`` settings it runs with."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import coverage
from .blocks import Block
from .settings import settings

if TYPE_CHECKING:
    from .runner import PostJob

NOTATION = {"superscript": ("power", "index"), "product": ("matrix", "entrywise")}


def post_notation(site: Any, post: Any) -> dict[str, str]:
    """The post's ``notation:`` (how its TeX is read), unknown keys and values warned."""
    given = post.meta.get("notation")
    if given is None:
        return {}
    if not isinstance(given, dict):
        site.report.warning(post.rel, None, "notation: must be a mapping, e.g. "
                            "{superscript: index}")
        return {}
    found = {}
    for key, value in given.items():
        allowed = NOTATION.get(str(key))
        if allowed is None or str(value) not in allowed:
            choices = ", ".join(f"{k}: {'|'.join(v)}" for k, v in NOTATION.items())
            site.report.warning(post.rel, None, f"notation: unknown {key}: {value} ({choices})")
            continue
        found[str(key)] = str(value)
    return found


def post_job(site: Any, post: Any, blocks: list[Block], equations: list[Any]) -> PostJob:
    from .runner import PostJob  # a site without verify blocks never needs the runner

    config = settings(site)
    seed = post.meta.get("seed", config.seed)
    return PostJob(
        equations={label: e.tex for e in equations for label in e.labels},
        notation=post_notation(site, post),
        rel=post.rel,
        blocks=[b.to_dict() for b in blocks],
        seed=int(seed) if isinstance(seed, int | str) and str(seed).isdigit() else config.seed,
        timeout=float(config.timeout),
        memory_mb=int(config.memory_mb),
        rtol=config.rtol,
        atol=config.atol,
    )


def post_equations(post: Any, every: bool = True) -> list[coverage.Equation]:
    """The post's formulas, in order; without ``every``, only those stating a gradient or
    carrying a label (what a post without code needs: stated shapes are compared only
    with the arrays code made)."""
    tokens = post.data.get("tokens") or []
    of = coverage.equation_of if every else coverage.stating_equation
    found = [of(t) for t in coverage.math_tokens(tokens)]
    return [e for e in found if e is not None]
