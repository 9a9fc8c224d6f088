"""gradcheck's summary (``verification.json``, the strict verdict): made of one part per
checked post, each made again only when its post changed, and the same bytes as the
whole document pretty-printed at once."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pytest
from sitegen_plugins.gradcheck import summary

from sitegen.build import build_site
from sitegen.model import BuildOptions

SITE = Path(__file__).parent / "sites" / "gradcheck"


def _pretty(document: object) -> bytes:
    return (json.dumps(document, sort_keys=True, ensure_ascii=False, indent=1) + "\n").encode()


def _value(rng: random.Random, depth: int) -> object:
    kinds = ["str", "int", "float", "bool", "none"] + (["list", "dict"] if depth < 3 else [])
    kind = rng.choice(kinds)
    if kind == "str":
        return "".join(rng.choice('ab "\\\n\t∂L/∂W×é\u2028') for _ in range(rng.randint(0, 8)))
    if kind == "int":
        return rng.randint(-5, 10**6)
    if kind == "float":
        return rng.uniform(-1e3, 1e3) * 10 ** rng.randint(-12, 12)
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "none":
        return None
    if kind == "list":
        return [_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {f"k{rng.randint(0, 9)}": _value(rng, depth + 1) for _ in range(rng.randint(0, 3))}


@pytest.mark.parametrize("seed", range(40))
def test_the_document_made_of_parts_is_the_document_pretty_printed(seed):
    rng = random.Random(seed)
    entries = [
        {f"field{rng.randint(0, 5)}": _value(rng, 1) for _ in range(rng.randint(0, 6))}
        for _ in range(rng.randint(0, 4))
    ]
    total = {"passed": rng.randint(0, 9), "failed": 0, "errors": 1, "inconclusive": 2}
    parts = [
        json.dumps(e, sort_keys=True, ensure_ascii=False, indent=1).replace("\n", "\n  ")
        for e in entries
    ]
    assert summary._document(parts, total) == _pretty({"posts": entries, "summary": total})


@pytest.fixture
def site(tmp_path):
    root = tmp_path / "site"
    shutil.copytree(SITE, root)
    return root


@pytest.fixture
def made(monkeypatch):
    """Which posts' bodies (``made["bodies"]``) and summary parts (``made["parts"]``)
    the next builds make."""
    from sitegen import bodies

    made: dict[str, list[str]] = {"bodies": [], "parts": []}
    real_part, real_body = summary._post_part, bodies.render_post_body

    def part(post, state, rows):
        made["parts"].append(post.rel)
        return real_part(post, state, rows)

    def body(site, md, post):
        made["bodies"].append(post.rel)
        return real_body(site, md, post)

    monkeypatch.setattr(summary, "_post_part", part)
    monkeypatch.setattr(bodies, "render_post_body", body)
    return made


def test_a_post_s_part_is_made_again_only_with_its_body(site, tmp_path, made):
    out = site / "_site"
    first = build_site(site, BuildOptions(out=out, jobs=1))
    assert len(made["parts"]) >= 3 and "verification" in first.site.failed
    document = (out / "verification.json").read_bytes()
    assert document == _pretty(json.loads(document))
    # posts with errors are never kept in the body cache: they alone are made again
    for key in made:
        made[key].clear()
    again = build_site(site, BuildOptions(out=out, jobs=1))
    checked = {p["source"] for p in json.loads(document)["posts"]}
    kept = checked - set(made["bodies"])
    assert kept and set(made["parts"]) == checked - kept
    assert "verification" in again.site.failed  # the verdict stays
    assert (out / "verification.json").read_bytes() == document
    # a prose edit of a kept post: its part is made again, and no code runs
    edited = sorted(kept)[0]
    post = site / edited
    post.write_text(post.read_text() + "\nA paragraph added at the end.\n")
    for key in made:
        made[key].clear()
    result = build_site(site, BuildOptions(out=out, jobs=1))
    assert set(made["parts"]) == checked - kept | {edited}
    assert result.site.data["gradcheck_executed"] == []
    # the same document as a build from nothing (whose code ran again: other times)
    fresh = tmp_path / "fresh"
    shutil.copytree(site, fresh, ignore=shutil.ignore_patterns("_site", ".sitegen-cache"))
    clean = build_site(fresh, BuildOptions(jobs=1))
    assert "verification" in clean.site.failed
    assert _without_times((out / "verification.json").read_text(encoding="utf-8")) == (
        _without_times((fresh / "_site/verification.json").read_text(encoding="utf-8"))
    )


def _without_times(text: str) -> object:
    document = json.loads(text)
    for post in document["posts"]:
        for row in post["checks"]:
            row.pop("time", None)
    return document
