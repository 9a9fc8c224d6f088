"""``sitegen serve``'s builds against clean ones: random sequences of edits on the fixture
site of tests/test_differential.py, each handed to the live build as the watcher would
hand it (the paths that changed on disk); after each one the output folder must be
byte-equal to a build of the same sources from nothing, with serve's settings (serve
makes a feed and a sitemap even for a site without a ``url``, which ``build`` does not).

The edited post's page is written ahead of the rest of the rebuild
(``sitegen.early_page``); its post template here reads other posts and the neighbours,
so a page written early with anything stale would show here.

``SITEGEN_DIFF_SEQUENCES`` and ``SITEGEN_DIFF_EDITS`` set how many sequences of how many
edits run, as for the build's differential test.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest
from test_differential import EDITS, SEQUENCES, FixtureSite, _numpy, _outputs

from sitegen.live import LiveBuild
from sitegen.model import BuildOptions

POST_TEMPLATE = """{% extends "base.html" %}
{% block main %}
<article>{{ content|safe }}</article>
<p>{{ post.title }}, {{ post.words }} words, toc {{ post.toc|length }},
{{ post.data.get("shout") }}, tags {{ post.tags|join(",") }}</p>
<p>before: {{ post.previous.title if post.previous }};
after: {{ post.next.title if post.next }}</p>
<ul>{% for p in site.posts %}<li>{{ p.title }} {{ p.words }}</li>{% endfor %}</ul>
{% endblock %}
"""

# edits that change one post and nothing else: the ones written early
ONE_POST = ("prose", "title", "tags", "excerpt", "draft", "verify_code")


def _files(root: Path) -> dict[str, bytes]:
    """The site's sources (not its output or caches), by path."""
    found = {}
    for path in root.rglob("*"):
        rel = path.relative_to(root)
        if rel.parts[0] in ("_site", ".sitegen-cache") or "__pycache__" in rel.parts:
            continue
        if path.is_file():
            found[rel.as_posix()] = path.read_bytes()
    return found


def _clean_serve(site: Path, into: Path) -> dict[str, bytes]:
    """What serve's first build of a copy of the sources writes (no caches at all)."""
    if into.exists():
        shutil.rmtree(into)
    shutil.copytree(site, into, ignore=shutil.ignore_patterns("_site", ".sitegen-cache"))
    LiveBuild(into, BuildOptions(quiet=True, jobs=1), into / "_site").start()
    return _outputs(into / "_site")


def _changed(root: Path, before: dict[str, bytes], after: dict[str, bytes]) -> set[Path]:
    """What a watcher reports after an edit: every path made, changed or removed."""
    names = {n for n in before.keys() | after.keys() if before.get(n) != after.get(n)}
    return {root / n for n in names}


@pytest.mark.parametrize("sequence", range(SEQUENCES))
def test_serve_output_equals_clean_build(tmp_path, sequence):
    seed = 3000 + sequence
    rng = random.Random(seed)
    site = FixtureSite(tmp_path / "site", rng, verify=_numpy() and sequence == 0)
    (site.root / "templates" / "post.html").write_text(POST_TEMPLATE, encoding="utf-8")
    live = LiveBuild(site.root, BuildOptions(quiet=True, jobs=1), site.root / "_site")
    live.start()
    done: list[str] = []
    early: list[str] = []
    for _ in range(EDITS):
        before = _files(site.root)
        # one-post edits more often than in the build's test: they take the early path
        kind = rng.choice(FixtureSite.EDITS + ONE_POST)
        done.append(getattr(site, kind)())
        live.apply(_changed(site.root, before, _files(site.root)), on_early=early.append)
        served = _outputs(site.root / "_site")
        clean = _clean_serve(site.root, tmp_path / "clean")
        assert sorted(served) == sorted(clean), (seed, done)
        for rel in clean:
            assert served[rel] == clean[rel], (seed, done, rel)
    # the sequences are long enough that some edit was one post's (or the test says why)
    if any(d.split()[0] in ONE_POST and not d.startswith("draft") for d in done):
        assert early, (seed, done)
