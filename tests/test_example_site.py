"""The example site in posts/ and pages/: what a fresh clone builds."""

from __future__ import annotations

import json
import re
import shutil

import pytest
from conftest import REPO

from sitegen.cli import main


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    """A copy of the repository's site (config, posts, pages), built once."""
    root = tmp_path_factory.mktemp("example") / "site"
    root.mkdir()
    for name in ("posts", "pages"):
        shutil.copytree(REPO / name, root / name)
    shutil.copy(REPO / "sitegen.toml", root / "sitegen.toml")
    code = main(["-q", "build", "-s", str(root)])
    return root, root / "_site", code


def post_pages(out):
    return sorted(p for p in out.glob("20[0-9][0-9]/*/*/*/index.html"))


def test_builds_with_exit_0_and_every_check_passes(example):
    _, out, code = example
    assert code == 0
    pages = post_pages(out)
    assert len(pages) >= 7
    for page in pages:
        html = page.read_text(encoding="utf-8")
        statuses = re.findall(r'class="sg-check" data-status="(\w+)"', html)
        assert statuses, f"{page} has no check"
        assert set(statuses) == {"pass"}, page
        assert "sg-badge-unverified" not in html, page  # no stated gradient left unchecked
        assert "sg-badge-shape" not in html, page  # stated shapes agree with the code
        # every checked equation is verified as written, not only the code beside it
        eq_statuses = re.findall(r'data-eq-status="(\w+)" class="sg-badge', html)
        assert eq_statuses and set(eq_statuses) == {"verified"}, page


def test_every_stated_gradient_is_linked_to_a_check(example):
    _, out, _ = example
    report = json.loads((out / "verification.json").read_text(encoding="utf-8"))
    assert report["posts"]
    for post in report["posts"]:
        assert post["checks"], post["source"]
        assert all(c["status"] == "pass" for c in post["checks"]), post["source"]
    for page in post_pages(out):
        summary = re.search(r"(\d+) of (\d+) stated gradients verified", page.read_text())
        assert summary and summary.group(1) == summary.group(2), page


def test_index_shows_each_posts_badge(example):
    _, out, _ = example
    index = (out / "index.html").read_text(encoding="utf-8")
    assert index.count("stated gradients verified") >= 7


def test_the_wrong_draft_fails_when_drafts_are_built(example, tmp_path, capsys):
    root, _, _ = example
    code = main(["-q", "build", "-s", str(root), "--drafts", "--out", str(tmp_path / "o")])
    assert code == 1
    (draft,) = [p for p in post_pages(tmp_path / "o") if "missing-mean" in str(p)]
    html = draft.read_text(encoding="utf-8")
    assert 'data-status="fail"' in html
    assert "factor N=" in html  # the hint names the forgotten batch mean
    # the sign typo under correct code: the check passes, the equation contradicts it
    typo = re.search(r'id="sg-eq-eq-sign-typo".*?</span></div>', html, re.S).group(0)
    assert 'data-eq-status="contradicts"' in typo and "equation contradicts the check" in typo
