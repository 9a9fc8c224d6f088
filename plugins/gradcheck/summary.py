"""Every check of the site in one list: for ``/verification/``, ``verification.json`` and
``sitegen check``.

A row is one check, or one block error (a block that raised, timed out, crashed …), so
that nothing that went wrong is missing from the machine-readable report.
"""

from __future__ import annotations

import json
from typing import Any

from sitegen.model import Page


def _shape_text(shape: Any) -> str:
    if isinstance(shape, dict):
        return ", ".join(f"{k}: {_shape_text(v)}" for k, v in sorted(shape.items()))
    if isinstance(shape, list | tuple):
        return "×".join(str(d) for d in shape) or "scalar"
    return ""


def error_reason(block: dict[str, Any]) -> str:
    """One line saying why a block failed: a traceback's last line, else the first."""
    lines = (block.get("error") or "").strip().splitlines()
    if not lines:
        return ""
    # a traceback's or a syntax error's last line: its first names the line, given apart
    return lines[-1] if block.get("error_kind") in ("exception", "syntax") else lines[0]


def post_rows(post: Any, state: Any) -> list[dict[str, Any]]:
    """The rows of one post (``state`` is the plugin's ``PostState``)."""
    numpy = state.result.get("numpy")
    rows: list[dict[str, Any]] = []
    for check in state.checks:
        rows.append(
            {
                "source": post.rel,
                "line": check.get("line"),
                "kind": "check",
                "name": check.get("name"),
                "status": check.get("status"),
                "message": check.get("message"),
                "hint": check.get("hint"),
                "max_rel_err": check.get("max_rel_err"),
                "tolerance": check.get("tolerance"),
                "measure": check.get("measure"),
                "method": check.get("method"),
                "stderr": check.get("stderr"),
                "entries_checked": check.get("n_checked"),
                "entries_total": check.get("n_total"),
                "shapes": {
                    "param": _shape_text(check.get("param_shape")),
                    "grad": _shape_text(check.get("grad_shape")),
                    "trace": check.get("trace"),
                },
                "equation": check.get("eq"),
                "equation_status": check.get("equation_status") or "none",
                "equation_reason": check.get("equation_reason") or "",
                "equation_warnings": check.get("equation_warnings") or [],
                "equation_steps": [
                    {k: step.get(k) for k in ("from", "to", "status", "reason")}
                    for step in check.get("equation_steps") or []
                ],
                "time": check.get("time"),
                "numpy": numpy,
                "number": check.get("number"),
            }
        )
    for block in state.errors:
        rows.append(
            {
                "source": post.rel,
                "line": block.get("error_line") or block.get("line"),
                "kind": "error",
                "name": f"{block.get('kind')} block",
                "status": "error",
                "message": error_reason(block),
                "error_kind": block.get("error_kind"),
                "equation_status": "none",  # a block error states nothing about an equation
                "equation_reason": "",
                "detail": block.get("error"),
                "time": block.get("time"),
                "numpy": numpy,
            }
        )
    rows += gate_rows(post, state, numpy)
    rows.sort(key=lambda r: (r["line"] or 0, r["kind"]))
    return rows


def derivations(post: Any, state: Any) -> list[dict[str, Any]]:
    """The derivations checks named, step by step, with the file line of each step."""
    found = []
    for check in state.checks:
        steps = check.get("equation_steps") or []
        if not steps:
            continue
        start = state.equation_line(post, str(check.get("eq")))
        found.append(
            {
                "equation": check.get("eq"),
                "check": check.get("number"),
                "line": start,
                "steps": [
                    {
                        "from": step["from"],
                        "to": step["to"],
                        "line": None if start is None else start + int(step["offset"]),
                        "status": step["status"],
                        "reason": step.get("reason") or "",
                    }
                    for step in steps
                ],
            }
        )
    return found


def gate_rows(post: Any, state: Any, numpy: str | None) -> list[dict[str, Any]]:
    """What the page marks red besides checks: a stated shape that disagrees with the code,
    an ``eq=`` that names no equation, a block option that is unknown or has a bad value.
    Each is a row, so ``sitegen check`` reports it and a strict build fails on it."""
    rows = []
    for line, kind, status, name, message in state.gate_problems(post):
        rows.append({"source": post.rel, "line": line, "kind": kind, "name": name,
                     "status": status, "message": message, "numpy": numpy,
                     "equation_status": "none", "equation_reason": ""})
    return rows


def site_rows(site: Any, key: str) -> list[tuple[Any, Any, list[dict[str, Any]]]]:
    """(post, state, rows) for every post with executed blocks, sorted by source."""
    found = []
    for post in sorted(site.posts + site.pages, key=lambda p: p.rel):
        state = post.data.get(key)
        if state is None or not getattr(state, "blocks", None):
            continue
        rows = post.data.get("checks")  # made when the results came (kept with the body)
        if not isinstance(rows, list):
            rows = post_rows(post, state)
        found.append((post, state, [] if state.pending else rows))
    return found


KEYS = {"pass": "passed", "fail": "failed", "inconclusive": "inconclusive"}
FAILING = ("fail", "error")  # inconclusive rows do not fail a strict build


def counts(rows: list[dict[str, Any]]) -> dict[str, int]:
    result = {"passed": 0, "failed": 0, "errors": 0, "inconclusive": 0}
    for row in rows:
        result[KEYS.get(row.get("status") or "", "errors")] += 1
    return result


def _failing(post: Any, state: Any, rows: list[dict[str, Any]]) -> bool:
    return any(
        r["status"] in FAILING or r.get("equation_status") == "contradicts" for r in rows
    ) or any(s["status"] == "breaks" for d in derivations(post, state) for s in d["steps"])


def _post_part(post: Any, state: Any, rows: list[dict[str, Any]]) -> tuple[str, dict, bool]:
    """One post's entry of ``verification.json`` (as text, indented for its place in the
    document), its counts, and whether a check of it failed."""
    entry = {
        "source": post.rel,
        "title": post.title,
        "url": post.url,
        "pending": state.pending,
        "stated_gradients": state.cover.stated,
        "verified_gradients": state.cover.verified,
        "checks": rows,
        "derivations": [] if state.pending else derivations(post, state),
    }
    # JSON text holds no raw line break: each one starts a line, two levels in
    text = json.dumps(entry, sort_keys=True, ensure_ascii=False, indent=1).replace("\n", "\n  ")
    return text, counts(rows), _failing(post, state, rows)


def _document(parts: list[str], total: dict[str, int]) -> bytes:
    """The bytes ``json.dumps(document, sort_keys=True, indent=1)`` gives, made of the
    posts' parts (the tests compare the two)."""
    posts = "[\n  " + ",\n  ".join(parts) + "\n ]" if parts else "[]"
    summary = json.dumps(total, sort_keys=True, indent=1).replace("\n", "\n ")
    return f'{{\n "posts": {posts},\n "summary": {summary}\n}}\n'.encode()


# the posts' parts of the last build, in the site's cache
_PARTS_KEY = "gradcheck verification.json parts 1"


def summary_of(site: Any, key: str) -> tuple[bytes, bool]:
    """``verification.json``'s bytes, and whether a check failed. Deterministic bytes:
    sorted keys, posts by source. ``time`` is the check's own run time, stored in the
    cache with the result, so it changes only when the code reruns.

    Each post's part is made again only when its body changed: rows are kept with the
    body, so its key, with the post's place, title and URL, stands for them (making
    every part costs a few hundredths of a second at 1,000 posts)."""
    cache = getattr(site, "cache", None)
    stored = cache.get_value(_PARTS_KEY) if cache is not None else None
    known: dict[str, tuple] = stored if isinstance(stored, dict) else {}
    kept: dict[str, tuple] = {}
    parts: list[str] = []
    total = counts([])
    failed = False
    for post, state, rows in site_rows(site, key):
        name = f"{post.rel}\0{post.html_key}\0{post.title}\0{post.url}"
        part = known.get(name) if post.html_key and not state.pending else None
        if part is None:
            part = _post_part(post, state, rows)
        if post.html_key and not state.pending:
            kept[name] = part
        text, numbers, failing = part
        parts.append(text)
        for k, n in numbers.items():
            total[k] += n
        failed = failed or failing
    if cache is not None and kept.keys() != known.keys():
        cache.put_value(_PARTS_KEY, kept)
    return _document(parts, total), failed


def extra_pages(site: Any, key: str) -> list[Page]:
    data, failed = summary_of(site, key)
    if failed:
        # posts may have been verified in forked render processes, whose site.data
        # changes are lost: the verdict is taken again from the posts themselves
        site.failed.append("verification")
    entries = []
    total: list[dict[str, Any]] = []
    for post, state, rows in site_rows(site, key):
        total += rows
        entries.append(
            {
                "post": post,
                "badge_html": post.data.get("badge_html", ""),
                "rows": rows,
                "pending": state.pending,
            }
        )
    context = {"title": "Verification", "entries": entries, "counts": counts(total)}
    return [
        Page(url="/verification/", template="verification.html", context=context),
        Page(url="/verification.json", content=data),
    ]
