"""gradcheck: run the numpy code in posts and show which stated gradients it verifies.

Hooks (see ``sitegen.hooks``):

* ``sitegen_extend_markdown`` — render ``python verify`` / ``python exec`` fences with
  their results, and add badges next to equations (checks naming them, "not verified",
  stated shapes that disagree with the code);
* ``sitegen_posts_parsed`` — collect every post's executed blocks and run them, posts in
  parallel in worker processes (``runner``), before any post is rendered;
* ``sitegen_extra_pages`` — ``/verification/`` and ``/verification.json``.

Per post, ``post.data["verification"]`` holds the results (see ``PostState``) and
``post.data["badge_html"]`` the summary badge the theme shows. This module never imports
numpy: only the workers do.
"""

from __future__ import annotations

import os
import pickle
import re
import sys
import threading
from copy import copy
from pathlib import Path
from typing import Any

from sitegen.hooks import hookimpl

from . import coverage, render, shapes
from .blocks import META_KEY, Block, collect_blocks, option_problems, parse_info
from .runner import PostJob, Verification, WorkerPool, run_jobs
from .settings import SETTINGS_KEY, TABLES, settings  # noqa: F401 (TABLES: the engine reads it)
from .summary import FAILING, error_reason, extra_pages, post_rows

STATE_KEY = "verification"
PENDING_KEY = "verify_pending"  # a post whose results are not in yet (--no-verify under serve)
_EQ_IN_CODE = re.compile(r"""\beq\s*=\s*(["'])(.+?)\1""")


# Its settings are the [verify] table (TABLES); [plugins.gradcheck] takes only "enabled".
SETTINGS: dict = {}


# ------------------------------------------------------------------ collecting & running


NOTATION = {"superscript": ("power", "index"), "product": ("matrix", "entrywise")}


def _notation(site: Any, post: Any) -> dict[str, str]:
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


def _job(site: Any, post: Any, blocks: list[Block], equations: list[Any]) -> PostJob:
    config = settings(site)
    seed = post.meta.get("seed", config.seed)
    return PostJob(
        equations={label: e.tex for e in equations for label in e.labels},
        notation=_notation(site, post),
        rel=post.rel,
        blocks=[b.to_dict() for b in blocks],
        seed=int(seed) if isinstance(seed, int | str) and str(seed).isdigit() else config.seed,
        timeout=float(config.timeout),
        memory_mb=int(config.memory_mb),
        rtol=config.rtol,
        atol=config.atol,
    )


def _equations(post: Any) -> list[coverage.Equation]:
    tokens = post.data.get("tokens") or []
    found = [coverage.equation_of(t) for t in coverage.math_tokens(tokens)]
    return [e for e in found if e is not None]


def _workers(site: Any) -> int:
    import multiprocessing

    if multiprocessing.parent_process() is not None:
        return 1  # the engine forked one render process per core: one worker each
    return site.options.jobs or os.cpu_count() or 1


def _verifying(site: Any) -> bool:
    """Whether this build runs the code (``--no-verify`` turns it off)."""
    return site.options.extra.get("verify") is not False


@hookimpl
def sitegen_add_options(command: str, parser: Any) -> None:
    parser.add_argument(
        "--no-verify", dest="verify", action="store_false", help="skip running verify blocks"
    )


@hookimpl
def sitegen_add_commands(subparsers: Any, common: Any) -> None:
    from .command import add_command

    add_command(subparsers, common)


THEME_FOLDER = Path(__file__).parent / "theme"  # verification.html, static/gradcheck.css
STYLESHEET = "/theme/gradcheck.css"


@hookimpl
def sitegen_theme_folder(site: Any) -> Path:
    return THEME_FOLDER


@hookimpl
def sitegen_configure(site: Any) -> None:
    site.data.pop(SETTINGS_KEY, None)
    settings(site)  # [verify] is checked before anything is read
    sheets = site.data.setdefault("stylesheets", [])
    if STYLESHEET not in sheets:  # serve copies site.data into every rebuild
        sheets.append(STYLESHEET)
    if _verifying(site) or site.options.serve:
        nav = site.data.setdefault("nav", [])
        if ("Verification", "/verification/") not in nav:
            nav.append(("Verification", "/verification/"))
    if site.options.serve and "gradcheck_pool" not in site.data:
        # sitegen serve copies site.data into every rebuild: one warm pool for the session
        site.data["gradcheck_pool"] = WorkerPool(size=_workers(site), cwd=site.root)


@hookimpl
def sitegen_body_key(site: Any, post: Any) -> str:
    """A post's results depend on the options its code runs with and the versions it
    runs on (this plugin's own code is part of the site's settings)."""
    key = site.data.get("gradcheck_body_key")
    if key is None:
        # serve with --no-verify shows cached results only (and keeps no body of it)
        peek = not _verifying(site) and site.options.serve
        key = f"{_verifying(site)}\0{peek}\0{settings(site)!r}\0{_numpy_install()}"
        site.data["gradcheck_body_key"] = key
    return key


def _numpy_install() -> str:
    """Which numpy (and Python) the code would run with, told without importing numpy or
    reading package metadata (both cost more than a rebuild's other work): where its
    package is and when it was installed. An upgrade changes the time."""
    import importlib.util

    spec = importlib.util.find_spec("numpy")
    where = spec.origin if spec is not None and spec.origin else ""
    try:
        stamp = os.stat(where).st_mtime_ns if where else 0
    except OSError:
        stamp = 0
    return f"{sys.version_info[:3]}\0{where}\0{stamp}"


@hookimpl
def sitegen_posts_parsed(site: Any, posts: list[Any]) -> None:
    """Run every post's blocks (from the cache when nothing changed) before rendering.

    With ``--no-verify`` nothing runs; under ``sitegen serve`` (its first, fast
    pass) cached results are still shown, and posts that need a run are marked
    ``post.data["verify_pending"]`` and render "verifying…" badges until the second pass.
    """
    peek = not _verifying(site) and site.options.serve
    if not _verifying(site) and not peek:
        return
    jobs: list[PostJob] = []
    for post in posts:
        if post.meta.get("verify") is False or "tokens" not in post.data:
            continue
        env = post.data.get("env") or {}
        blocks = collect_blocks(post.data["tokens"], int(env.get("line_offset", 1)))
        for block in blocks:
            for message in option_problems(block.options, block.kind):
                site.report.warning(post.rel, block.line - 1, message)
        state = PostState(blocks=blocks, equations=_equations(post))
        post.data[STATE_KEY] = state
        if blocks:
            jobs.append(_job(site, post, blocks, state.equations))
        else:
            state.finish(site, post, None)
    by_rel = {p.rel: p for p in posts}
    pool = site.data.get("gradcheck_pool")
    verification = run_jobs(
        site.root,
        jobs,
        workers=_workers(site) if jobs else 1,  # asking imports multiprocessing
        rerun=site.options.rerun,
        pool=pool if isinstance(pool, WorkerPool) else None,
        cache_only=peek,
        on_result=_progress(site, len(jobs)) if not peek else None,
    )
    # which posts' code ran in this build (tests read it: a cached rebuild runs none)
    site.data["gradcheck_executed"] = sorted(verification.executed)
    apply_results(site, verification, by_rel)


def _progress(site: Any, total: int) -> Any:
    """A counter on the terminal while posts run (plain output stays quiet)."""
    stream = sys.stderr
    if site.options.quiet or total < 2 or not stream.isatty():
        return None
    lock = threading.Lock()
    done = [0]

    def tick(rel: str, result: dict[str, Any]) -> None:
        with lock:
            done[0] += 1
            end = "\n" if done[0] == total else ""
            stream.write(f"\rverifying: {done[0]}/{total} posts{end}")
            stream.flush()

    return tick


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
        state = dict(self.__dict__, _by_key=None, _equations=None)
        rows = [
            (e.tex, e.display, tuple((s.gradient, s.labels) for s in e.statements))
            for e in self.equations
        ]
        state["_packed"] = pickle.dumps(rows, protocol=pickle.HIGHEST_PROTOCOL)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

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
        if self._by_key is None:
            self._by_key = {(e.tex, e.display): e for e in self.equations}
        found = self._by_key.get(key)
        return found if found is not None else coverage.equation_for(*key)

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


# --------------------------------------------------------------------------- rendering


def _state(env: dict[str, Any]) -> PostState | None:
    post = env.get("post")
    state = getattr(post, "data", {}).get(STATE_KEY) if post is not None else None
    return state if isinstance(state, PostState) else None


def _make_fence(original: Any) -> Any:
    def fence(self: Any, tokens: list[Any], idx: int, options: Any, env: dict) -> str:
        token = tokens[idx]
        parsed = parse_info(token.info or "")
        if parsed is None:
            return original(tokens, idx, options, env)
        kind, block_options = parsed
        plain = copy(token)
        plain.info = "python"  # highlighted like any Python fence
        code = render.code_block(original([plain], 0, options, env), block_options.hide, kind)
        state = _state(env)
        index = (token.meta or {}).get(META_KEY)
        if state is None or index is None:
            return code  # verification is off for this post: show the code only
        block = state.by_index.get(index)
        results = render.block_results(
            block, state.first_number.get(index, 1), state.labels, state.pending
        )
        return f'<div class="sg-block" data-kind="{kind}">{code}{results}</div>\n'

    return fence


def _equation_badges(state: PostState, token: Any) -> tuple[str, str]:
    """(id of the wrapper, badges) for one math token."""
    equation = state.equation_of(token)
    if equation is None:
        return "", ""
    if not equation.statements and (state.pending or not state.arrays):
        return "", ""  # most formulas: nothing to link, no shapes to compare (no badges)
    links: list[tuple[str, dict[str, Any] | None, int]] = []
    unverified = False
    for statement in equation.statements:
        linked = False
        for label in statement.labels:
            for check in state.checks:
                if str(check.get("eq")) == label and all(
                        number != check["number"] for _, _, number in links):
                    links.append((label, check, check["number"]))
                    linked = True
            if state.pending and label in state.expected_labels:
                links.append((label, None, 0))
                linked = True
        unverified = unverified or (statement.gradient and not linked)
    problems = state.problems_in(equation.tex)
    named = [label for label, _, _ in links]
    wrapper_id = coverage.anchor(named[0]) if named else ""
    steps = "".join(render.derivation_steps(check.get("equation_steps") or [], number)
                    for _, check, number in links if check is not None)
    return wrapper_id, render.equation_badges(links, unverified, problems) + steps


def _make_math(original: Any, block: bool) -> Any:
    def math(self: Any, tokens: list[Any], idx: int, options: Any, env: dict) -> str:
        html = original(tokens, idx, options, env)
        state = _state(env)
        if state is None:
            return html
        wrapper_id, badges = _equation_badges(state, tokens[idx])
        if not badges:
            return html
        id_attr = f' id="{wrapper_id}"' if wrapper_id else ""
        if block:
            return f'<div class="sg-eq"{id_attr}>{html.rstrip()}{badges}</div>\n'
        return f'<span class="sg-eq"{id_attr}>{html}{badges}</span>'

    return math


@hookimpl
def sitegen_extend_markdown(md: Any, site: Any) -> None:
    rules = md.renderer.rules
    fence = rules.get("fence")
    if fence is not None:
        md.add_render_rule("fence", _make_fence(fence))
    for name, block in (("math_block", True), ("math_inline", False)):
        original = rules.get(name)
        if original is not None:
            md.add_render_rule(name, _make_math(original, block))


@hookimpl
def sitegen_extra_pages(site: Any) -> list[Any]:
    if not _verifying(site) and not site.options.serve:
        return []  # sitegen build --no-verify
    return extra_pages(site, STATE_KEY)


NEW_POST_BLOCK = '''The code below checks it: a build runs the block and marks the equation verified
when the stated gradient matches the loss.

```python verify
dims(D=3)
x = rng.standard_normal(D); y = 1.0; w = rng.standard_normal(D)

def loss(w):
    return 0.5 * (x @ w - y) ** 2

dw = (x @ w - y) * x
check_grad(loss, w, dw, name="∂L/∂w", eq="eq:grad")
```
'''


@hookimpl
def sitegen_new_post(root: Any, title: str) -> str:
    """A new post starts with a checked example (its equation is the template's own)."""
    return NEW_POST_BLOCK


NEW_SITE_SETTINGS = """[verify]
timeout = 60
memory_mb = 2048
"""


@hookimpl
def sitegen_new_site(root: Any) -> str:
    """A new site says how long and how large a post's code may run."""
    return NEW_SITE_SETTINGS
