"""The render rules this plugin adds to the site's Markdown parser: a ``python verify`` /
``python exec`` fence shows its code with its results, and a math token the code speaks of
gets badges (the checks naming it, "not verified", stated shapes that disagree)."""

from __future__ import annotations

from copy import copy
from typing import Any

from . import coverage, render
from .blocks import META_KEY, parse_info
from .state import STATE_KEY, PostState


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
    if state.pending or not state.arrays:  # no shapes to compare: what it states matters
        equation = state.stating_equation(token)  # None for most formulas (no badges)
    else:
        equation = state.equation_of(token)
    if equation is None:
        return "", ""
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


def add_rules(md: Any) -> None:
    """Wrap the parser's fence and math rules (the code and TeX render as before)."""
    rules = md.renderer.rules
    fence = rules.get("fence")
    if fence is not None:
        md.add_render_rule("fence", _make_fence(fence))
    for name, block in (("math_block", True), ("math_inline", False)):
        original = rules.get(name)
        if original is not None:
            md.add_render_rule(name, _make_math(original, block))
