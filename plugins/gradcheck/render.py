"""HTML for what the reader sees: check rows, badges, block results (the figures under
a check, in ``figures``).

Contract used by tests and the theme: every check renders an element with class
``sg-check`` and ``data-status="pass|fail|error|inconclusive"`` (``pending`` while
``sitegen serve`` is still verifying; ``inconclusive``: the reference cannot resolve the
gradient at that point, a grey badge). Everything is built from result dicts; nothing
here runs code.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from .coverage import Coverage, anchor
from .figures import dims_table, heat_map, number_text, worst_table

BADGE_TEXT = {
    "pass": "✓ verified",
    "fail": "✗ failed",
    "error": "⚠ error",
    "inconclusive": "? inconclusive",
    "pending": "… verifying",
    "unverified": "not verified",
    "shape": "✗ shape",
    "unread": "✓ code verified; equation not machine-read",
}


def badge(status: str, text: str | None = None, href: str = "", title: str = "",
          eq_status: str = "") -> str:
    tag = "a" if href else "span"
    attrs = f' data-eq-status="{escape(eq_status)}"' if eq_status else ""
    attrs += f' class="sg-badge sg-badge-{escape(status)}"'
    if href:
        attrs += f' href="{escape(href)}"'
    if title:
        attrs += f' title="{escape(title)}"'
    return f"<{tag}{attrs}>{escape(text or BADGE_TEXT.get(status, status))}</{tag}>"


def entries_text(checked: int, total: int) -> str:
    noun = "entry" if total == 1 else "entries"
    if checked == 0:
        return f"no entries compared (of {total})"
    if checked == total:
        return f"all {total} {noun}" if total > 1 else f"{total} {noun}"
    return f"{checked} of {total} {noun} (sampled)"


def check_id(number: int) -> str:
    return f"sg-check-{number}"


def _error_measure(check: dict[str, Any]) -> str:
    measure = check.get("measure") or ("se" if check.get("stderr") is not None else "rel")
    if measure == "abs":
        return (
            f"abs. error {number_text(check.get('max_rel_err'))} where the reference is 0 "
            f"(allowed {number_text(check.get('tolerance'))})"
        )
    if measure == "se":
        return (
            f"off by {number_text(check.get('max_rel_err'))} standard errors "
            f"(allowed {number_text(check.get('tolerance'))}; "
            f"SE {number_text(check.get('stderr'))})"
        )
    return (
        f"max rel. error {number_text(check.get('max_rel_err'))} "
        f"(tolerance {number_text(check.get('tolerance'))})"
    )


def check_row(check: dict[str, Any], number: int, eq_known: bool) -> str:
    """One check: badge, name, error against tolerance, entries checked, link to its equation;
    on failure also the message, hint, worst entries and heat map."""
    status = check.get("status", "error")
    name = check.get("name") or "gradient"
    parts = [
        f'<div class="sg-check" data-status="{escape(status)}" id="{check_id(number)}">',
        '<div class="sg-check-head">',
        badge(status),
        f' <span class="sg-check-name">{escape(name)}</span>',
    ]
    if status not in ("error", "inconclusive"):  # inconclusive: no error to speak of
        parts.append(f' <span class="sg-check-err">{escape(_error_measure(check))}</span>')
    if status != "error":
        entries = entries_text(check.get("n_checked", 0), check.get("n_total", 0))
        parts.append(f' <span class="sg-check-count">{escape(entries)}</span>')
    if check.get("eq") and eq_known:
        parts.append(
            f' <a class="sg-check-eq" href="#{escape(anchor(str(check["eq"])))}">↑ equation</a>'
        )
    parts.append("</div>")
    if status != "pass" and check.get("message"):
        parts.append(f'<p class="sg-check-message">{escape(check["message"])}</p>')
    parts.append(equation_line(check))
    if status == "fail":
        if check.get("hint"):
            parts.append(f'<p class="sg-hint">Hint: {escape(check["hint"])}</p>')
        parts.append(worst_table(check.get("worst") or [], check.get("measure") or "rel"))
        parts.append(heat_map(check.get("error_map"), check.get("tolerance")))
    parts.append("</div>")
    return "".join(parts)


def block_error(block: dict[str, Any]) -> str:
    reason = block.get("error") or ""
    first, _, rest = reason.partition("\n")
    if block.get("error_kind") in ("exception", "syntax"):
        # the last line of a traceback is the reason; the frames are detail
        lines = reason.strip().splitlines()
        first, rest = (lines[-1] if lines else reason), reason
    detail = f'<pre class="sg-traceback">{escape(rest)}</pre>' if rest.strip() else ""
    line = block.get("error_line")
    # the reason may name the line already ("stopped at line 6"): say it once
    where = f" (line {line})" if line and f"line {line}" not in first else ""
    kind = escape(block.get("error_kind") or "")
    return (
        f'<div class="sg-check" data-status="error" data-error="{kind}">'
        f'<div class="sg-check-head">{badge("error")} '
        f'<span class="sg-check-name">{escape(first)}{escape(where)}</span></div>{detail}</div>'
    )


def block_results(
    block: dict[str, Any] | None, first_number: int, eq_known: set[str], pending: bool
) -> str:
    """Everything under one executed block."""
    if pending:
        return (
            '<div class="sg-results"><div class="sg-check" data-status="pending">'
            f'<div class="sg-check-head">{badge("pending")}</div></div></div>'
        )
    if block is None:
        return (
            '<div class="sg-results"><p class="sg-skipped">Not run: an earlier block '
            "failed.</p></div>"
        )
    html = ['<div class="sg-results">']
    for offset, check in enumerate(block.get("checks", [])):
        known = str(check.get("eq")) in eq_known
        html.append(check_row(check, first_number + offset, known))
    if block.get("error"):
        html.append(block_error(block))
    if block.get("output"):
        html.append(f'<pre class="sg-output">{escape(block["output"])}</pre>')
    traces = [c["trace"] for c in block.get("checks", []) if c.get("trace")]
    html.append(dims_table(block.get("arrays", []), traces))
    html.append("</div>")
    return "".join(html)


def code_block(highlighted: str, hide: bool, kind: str) -> str:
    if hide:
        return (
            f'<details class="sg-code sg-code-{kind}"><summary>Show the code</summary>'
            f"{highlighted}</details>"
        )
    return f'<div class="sg-code sg-code-{kind}">{highlighted}</div>'


EQUATION_TEXT = {
    "verified": "✓ equation verified",
    "contradicts": "✗ equation contradicts the check",
    "unread": "✓ code verified; equation not machine-read",
}


EQUATION_LINE = {
    "verified": "Equation verified as written",
    "contradicts": "The equation as written contradicts the check",
    "unread": "Equation not machine-read",
}


def equation_badge(check: dict[str, Any], number: int) -> str:
    """The badge of one check on its equation; ``data-eq-status`` says what the TeX itself
    was found to be (verified / contradicts / unread), whatever the code's check says."""
    status = check.get("status", "error")
    eq_status = check.get("equation_status") or "unread"
    reason = check.get("equation_reason") or ""
    title = f"{check.get('name') or 'check'}: {check.get('message') or status}"
    if status == "pass":
        text = EQUATION_TEXT.get(eq_status, BADGE_TEXT["pass"])
        shown = "fail" if eq_status == "contradicts" else "pass" if eq_status == "verified" \
            else "unread"
    else:
        text = BADGE_TEXT.get(status, status)
        if eq_status == "verified":
            text += "; equation verified"
        shown = status
    if reason:
        title += f" — equation: {reason}"
    html = badge(shown, text, href=f"#{check_id(number)}", title=title, eq_status=eq_status)
    if eq_status in ("unread", "contradicts") and reason:
        html += f' <span class="sg-eq-reason">{escape(reason)}</span>'
    return html


def equation_line(check: dict[str, Any]) -> str:
    """The check row's line on the equation it names, as written."""
    eq_status = check.get("equation_status")
    if not eq_status or eq_status == "none":
        return ""
    words = EQUATION_LINE.get(eq_status, eq_status)
    reason = check.get("equation_reason") or ""
    text = words + (f": {reason}" if reason and eq_status != "verified" else "")
    html = f'<p class="sg-eq-line" data-eq-status="{escape(eq_status)}">{escape(text)}</p>'
    for warning in check.get("equation_warnings") or []:
        html += f'<p class="sg-eq-warning">⚠ weak test: {escape(warning)}</p>'
    if eq_status == "contradicts" and check.get("equation_worst"):
        html += worst_table(check["equation_worst"])
    return html


def derivation_steps(steps: Sequence[dict[str, Any]], number: int) -> str:
    """Under a derivation: "4 of 5 steps checked, step 3 → 4 breaks", one item per step."""
    if not steps:
        return ""
    checked = [s for s in steps if s.get("status") != "unread"]
    broken = [s for s in steps if s.get("status") == "breaks"]
    head = f"{len(checked)} of {len(steps)} steps checked"
    if broken:
        head += ", " + ", ".join(f"step {s['from']} → {s['to']} breaks" for s in broken)
    elif checked:
        head += ", all hold"
    items = []
    for step in steps:
        status = step.get("status", "unread")
        reason = f": {step['reason']}" if step.get("reason") else ""
        items.append(
            f'<li class="sg-step" data-step-status="{escape(status)}">'
            f"step {step['from']} → {step['to']} {escape(status)}{escape(reason)}</li>"
        )
    state = "breaks" if broken else "holds" if len(checked) == len(steps) else "partial"
    return (
        f'<details class="sg-steps" data-steps-status="{state}"'
        f'{" open" if broken else ""}><summary>{escape(head)}</summary>'
        f'<ol>{"".join(items)}</ol></details>'
    )


def equation_badges(
    links: Sequence[tuple[str, dict[str, Any] | None, int]],
    unverified: bool,
    shape_problems: Sequence[str],
) -> str:
    """Badges next to an equation: one per check naming it (``links`` holds label, check,
    number; a None check is still pending), "not verified", and stated-shape mismatches."""
    parts = []
    for _label, check, number in links:
        if check is None:
            parts.append(badge("pending"))
            continue
        parts.append(equation_badge(check, number))
    if unverified:
        parts.append(badge("unverified", title="no check names this equation with eq="))
    for problem in shape_problems:
        parts.append(badge("shape", "✗ shape", title=problem))
    if not parts:
        return ""
    return '<span class="sg-eq-badges">' + " ".join(parts) + "</span>"


def summary_badge(
    checks: Sequence[dict[str, Any]], errors: int, cover: Coverage, pending: bool
) -> str:
    """The post's badge under its title and on the index."""
    if pending:
        return badge("pending", "… verifying")
    failed = sum(1 for c in checks if c.get("status") == "fail")
    errored = errors + sum(1 for c in checks if c.get("status") == "error")
    if errored:
        noun = "error" if errored == 1 else "errors"
        return badge("error", f"⚠ {errored} {noun} in the verification code")
    if failed:
        noun = "check" if len(checks) == 1 else "checks"  # "1 of 1 check", "1 of 2 checks"
        return badge("fail", f"✗ {failed} of {len(checks)} {noun} failed")
    unsure = sum(1 for c in checks if c.get("status") == "inconclusive")
    if unsure:
        noun = "check" if len(checks) == 1 else "checks"
        return badge("inconclusive", f"? {unsure} of {len(checks)} {noun} inconclusive")
    if cover.stated:
        complete = cover.verified == cover.stated
        mark = "✓ " if complete else ""
        return badge(
            "pass" if complete else "partial",
            f"{mark}{cover.verified} of {cover.stated} stated "
            f"{'gradient' if cover.stated == 1 else 'gradients'} verified",
        )
    if checks:
        noun = "check" if len(checks) == 1 else "checks"
        return badge("pass", f"✓ {len(checks)} {noun} passed")
    return ""
