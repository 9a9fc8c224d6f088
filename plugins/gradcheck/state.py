"""A post's verification state: its blocks and equations, then its results once the code
ran, with what a strict build and the page report about them (checks that failed, block
errors, stated shapes that disagree with the code, ``eq=`` naming no equation)."""

from __future__ import annotations

import pickle
import re
from typing import TYPE_CHECKING, Any

from . import coverage, render, shapes
from .blocks import Block, option_problems
from .summary import FAILING, error_reason, post_rows

if TYPE_CHECKING:  # the runner (processes, pipes) is imported only when code runs
    from .runner import Verification

STATE_KEY = "verification"  # post.data[STATE_KEY]: the post's PostState
PENDING_KEY = "verify_pending"  # a post whose results are not in yet (--no-verify under serve)
_EQ_IN_CODE = re.compile(r"""\beq\s*=\s*(["'])(.+?)\1""")


def apply_results(site: Any, verification: Verification, by_rel: dict[str, Any]) -> None:
    """Fold finished results into their posts; posts still waiting get pending badges."""
    for rel, result in list(verification.results.items()):
        post = by_rel.get(rel)
        state = post.data.get(STATE_KEY) if post is not None else None
        if isinstance(state, PostState) and state.pending:
            state.finish(site, post, result)
    for rel in verification.pending:
        post = by_rel.get(rel)
        state = post.data.get(STATE_KEY) if post is not None else None
        if isinstance(state, PostState) and state.pending:
            post.data[PENDING_KEY] = True
            post.data["cacheable"] = False  # "verifying…" is not a result to keep
            post.data["badge_html"] = render.summary_badge([], 0, coverage.Coverage(), True)


# what a pickled state keeps packed until something reads it (see PostState.__getstate__)
_PACKED_FIELDS = ("result", "by_index", "first_number", "checks", "arrays", "cover", "errors",
                  "labels", "expected_labels")


class PostState:
    """A post's verification: its blocks, equations and (once run) results."""

    def __init__(self, blocks: list[Block], equations: list[coverage.Equation]) -> None:
        self.blocks = blocks
        self._equations: list[coverage.Equation] | None = equations
        self._packed = b""  # the equations, pickled, until someone asks for them
        self.pending = True
        self.result: dict[str, Any] = {}
        self.by_index: dict[int, dict[str, Any]] = {}
        self.first_number: dict[int, int] = {}  # block index → number of its first check
        self.checks: list[dict[str, Any]] = []  # every check, numbered from 1
        self.arrays: dict[str, list[int]] = {}
        self.labels = {label for e in equations for s in e.statements for label in s.labels}
        # the render rule looks each math token up here instead of analysing it again
        self._by_key: dict[tuple[str, bool], coverage.Equation] | None = None
        self.cover = coverage.Coverage()
        self.errors: list[dict[str, Any]] = []
        # labels named in the code, so equations can say "verifying…" before results arrive
        self.expected_labels = {
            m.group(2) for b in blocks for m in _EQ_IN_CODE.finditer(b.code)
        }

    @property
    def equations(self) -> list[coverage.Equation]:
        if self._equations is None:
            self._equations = [
                coverage.Equation(tex, display, tuple(coverage.Statement(g, ls) for g, ls in rows))
                for tex, display, rows in (pickle.loads(self._packed) if self._packed else [])
            ]
            self._packed = b""
        return self._equations

    def __getstate__(self) -> dict[str, Any]:
        # States travel from render workers to the builder and into the build cache, a
        # thousand of them for a large site. The equations are most of a state and are
        # needed only to render the post again: they stay pickled (bytes load at the
        # speed of a copy), as plain tuples, which load faster than the frozen dataclasses.
        # So do the results: a rebuild that renders the post again or shows its checks
        # reads them, the summary of the other posts only ``blocks`` and ``pending``.
        self._unpack()
        state = dict(self.__dict__, _by_key=None, _equations=None)
        rows = [
            (e.tex, e.display, tuple((s.gradient, s.labels) for s in e.statements))
            for e in self.equations
        ]
        state["_packed"] = pickle.dumps(rows, protocol=pickle.HIGHEST_PROTOCOL)
        results = {name: state.pop(name) for name in _PACKED_FIELDS}
        state["_results"] = pickle.dumps(results, protocol=pickle.HIGHEST_PROTOCOL)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def __getattr__(self, name: str) -> Any:
        # only for an attribute not set: the results of a state not unpacked yet
        if name in _PACKED_FIELDS and "_results" in self.__dict__:
            self._unpack()
            return self.__dict__[name]
        raise AttributeError(name)

    def _unpack(self) -> None:
        packed = self.__dict__.pop("_results", None)
        if packed is not None:
            self.__dict__.update(pickle.loads(packed))

    def finish(self, site: Any, post: Any, result: dict[str, Any] | None) -> None:
        self.pending = False
        self.result = result or {}
        number = 1
        for block in self.result.get("blocks", []):
            self.by_index[block["index"]] = block
            self.first_number[block["index"]] = number
            for check in block.get("checks", []):
                check["number"] = number
                check["block"] = block["index"]
                self.checks.append(check)
                number += 1
            for array in block.get("arrays", []):
                self.arrays[array["name"]] = array["shape"]
            if block.get("error"):
                self.errors.append(block)
        self.cover = coverage.coverage(self.equations, self.checks)
        if any(b.get("error_kind") == "timeout" for b in self.result.get("blocks", [])):
            post.data["cacheable"] = False  # a timeout depends on the machine's load
        # plain rows for ``sitegen check`` (which must not know this plugin's classes)
        post.data["checks"] = post_rows(post, self)
        post.data["badge_html"] = render.summary_badge(
            self.checks, len(self.errors), self.cover, False
        )
        self._report(site, post)

    def _report(self, site: Any, post: Any) -> None:
        failed = False
        for check in self.checks:
            status = check.get("status")
            if status != "pass":
                failed = failed or status in FAILING
                verdict = {"fail": "failed", "inconclusive": "is inconclusive"}.get(
                    status, "could not be checked")
                # a check that fails the build is an error: the summary's counts say why
                # it exits 1
                site.report.add_level(
                    "error" if status in FAILING else "warning",
                    post.rel,
                    check.get("line"),
                    f"check {check.get('name') or ''} {verdict}: {check.get('message')}",
                )
        for block in self.errors:
            failed = True
            site.report.error(
                post.rel,
                block.get("error_line") or block.get("line"),
                f"{block['kind']} block error: {error_reason(block)}",
            )
        for line, message in self.skipped():
            site.report.note(post.rel, line, message)
        for check in self.checks:
            for problem in equation_problems(check):
                failed = True
                site.report.warning(post.rel, self.equation_line(post, str(check["eq"])),
                                    problem)
        for line, kind, _, _, message in self.gate_problems(post):
            if kind != "option":  # options were reported when the blocks were read
                site.report.warning(post.rel, line, message)
            failed = True  # what the page marks red, a strict build refuses
        if failed:
            site.failed.append("verification")

    def skipped(self) -> list[tuple[int, str]]:
        """(fence line, message) for each block not run because an earlier one failed:
        the page says "Not run" under it, and the terminal says so too."""
        if self.pending or not self.errors:
            return []
        first = min(self.errors, key=lambda b: b["index"])
        where = f"the {first['kind']} block at line {first['line'] - 1} failed"
        return [(b.line - 1, f"{b.kind} block not run: {where}")
                for b in self.blocks if b.index > first["index"] and b.index not in self.by_index]

    def gate_problems(self, post: Any) -> list[tuple[int | None, str, str, str, str]]:
        """(line, kind, status, name, message) for the problems besides checks that the page
        shows: block options not understood, stated shapes, ``eq=`` naming no equation."""
        found = []
        for block in self.blocks:
            for message in option_problems(block.options, block.kind):
                found.append((block.line - 1, "option", "error", f"{block.kind} block", message))
        for tex, message in self.shape_problems():
            found.append((_line_of(post, tex), "shape", "fail", "stated shape",
                          f"stated shape: {message}"))
        for label in self.cover.missing_labels:
            check = next((c for c in self.checks if str(c.get("eq")) == label), {})
            found.append((check.get("line"), "eq", "error", check.get("name") or "check",
                          f"a check names eq='{label}' but no \\label or \\tag has it"))
        return found

    def equation_of(self, token: Any) -> coverage.Equation | None:
        """The coverage facts of a math token of this post (None for other tokens)."""
        key = coverage.math_key(token)
        if key is None:
            return None
        found = self._lookup().get(key)
        return found if found is not None else coverage.equation_for(*key)

    def stating_equation(self, token: Any) -> coverage.Equation | None:
        """``equation_of`` for a formula that states a gradient or carries a label; None
        for the others (no ``Equation`` is made for them)."""
        key = coverage.math_key(token)
        if key is None:
            return None
        found = self._lookup().get(key)
        if found is not None:
            return found if found.statements else None
        return coverage.stating_equation_for(*key)

    def _lookup(self) -> dict[tuple[str, bool], coverage.Equation]:
        if self._by_key is None:
            self._by_key = {(e.tex, e.display): e for e in self.equations}
        return self._by_key

    def equation_line(self, post: Any, label: str) -> int | None:
        """The file line where the equation carrying ``label`` starts."""
        for equation in self.equations:
            if label in equation.labels:
                return _line_of(post, equation.tex)
        return None

    @property
    def sizes(self) -> dict[str, int]:
        return dict(self.result.get("sizes", {}))

    def problems_in(self, tex: str) -> list[str]:
        """Shapes this TeX states that disagree with the code's arrays."""
        if self.pending or not self.arrays:
            return []
        stated = shapes.stated_shapes(tex)
        if not stated:
            return []
        found = (shapes.compare_stated(s, self.arrays, self.sizes) for s in stated)
        return [message for message in found if message]

    def shape_problems(self) -> list[tuple[str, str]]:
        if self.pending or not self.arrays:
            return []  # (what problems_in says of each)
        return [(e.tex, m) for e in self.equations for m in self.problems_in(e.tex)]


def equation_problems(check: dict[str, Any]) -> list[str]:
    """What is wrong with the equation a check names, as written (fails a strict build)."""
    found = []
    label = check.get("eq")
    if check.get("equation_status") == "contradicts":
        found.append(f"equation '{label}' contradicts check "
                     f"{check.get('name') or ''}: {check.get('equation_reason')}")
    for step in check.get("equation_steps") or []:
        if step.get("status") == "breaks":
            found.append(f"equation '{label}': step {step['from']} → {step['to']} breaks: "
                         f"{step.get('reason')}")
    return found


def _line_of(post: Any, tex: str) -> int | None:
    """The file line where this TeX starts (math tokens inside text carry no line)."""
    at = post.source.find(tex.strip()) if tex.strip() else -1
    if at < 0:  # the TeX was changed on its way (a Jekyll post's escapes): its first line
        first = tex.strip().splitlines()[0] if tex.strip() else ""
        at = post.source.find(first) if first else -1
    return post.source.count("\n", 0, at) + 1 if at >= 0 else None
