"""SPEC §9: every kind of bad input has a fixture site in tests/sites_invalid/; the error
names the file and line, and the good post next to it is still built."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sitegen.build import build_site
from sitegen.model import BuildOptions

INVALID = Path(__file__).parent / "sites_invalid"

# site folder, level, where the message points ("path:line"), words the message must hold
CASES = [
    ("front_matter_malformed", "error", "posts/2024-01-02-broken.md:4", "malformed front matter"),
    ("front_matter_unclosed", "error", "posts/2024-01-02-open.md:1", "never closed"),
    ("bad_date", "error", "posts/2024-01-02-bad-date.md:3", "bad date"),
    ("unknown_layout", "warning", "posts/2024-01-02-odd-layout.md:2", "unknown layout 'gallery'"),
    ("unclosed_math", "warning", "posts/2024-01-02-unclosed.md:7", "$$"),
    ("unbalanced_braces", "warning", "posts/2024-01-02-braces.md:7", "brace"),
    ("invalid_utf8", "error", "posts/2024-01-02-latin1.md:5", "invalid UTF-8"),
    ("binary_file", "error", "posts/2024-01-02-image.md", "binary file"),
    ("empty_file", "error", "posts/2024-01-02-empty.md:1", "empty file"),
    ("template_syntax_error", "error", "templates/post.html:3", "template syntax error"),
    ("missing_include", "error", "posts/2024-01-02-missing.md:7", "nowhere.html"),
    ("plugin_exception", "error", "posts/2024-01-02-explosive.md", "plugin 'exploder'"),
    ("duplicate_permalink", "error", "posts/2024-01-03-two.md", "2024-01-02-one.md"),
    ("unknown_liquid_tag", "warning", "posts/2024-01-02-liquid.md:7", "assign"),
]


def build_copy(name: str, tmp_path: Path):
    root = tmp_path / name
    shutil.copytree(INVALID / name, root)
    result = build_site(root, BuildOptions(out=tmp_path / "out"))
    return result, tmp_path / "out"


@pytest.mark.parametrize(("name", "level", "where", "words"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_reported_and_the_rest_builds(tmp_path, name, level, where, words):
    result, out = build_copy(name, tmp_path)
    messages = [str(d) for d in result.site.report.diagnostics]
    matching = [m for m in messages if m.startswith(where) and f": {level}: " in m]
    assert matching, f"no {level} at {where} in {messages}"
    assert any(words in m for m in matching), messages
    if name != "template_syntax_error":  # a broken post template breaks every post page
        good = out / "2024/01/01/good/index.html"
        assert good.is_file(), sorted(p.name for p in out.rglob("*"))
        assert "This post is fine" in good.read_text()
    assert (out / "index.html").is_file()


def test_unclosed_math_keeps_the_text_after_it(tmp_path):
    _, out = build_copy("unclosed_math", tmp_path)
    html = (out / "2024/01/02/unclosed/index.html").read_text()
    assert "A paragraph after the unclosed display math." in html
    assert "Last words survive." in html
    assert "$$" in html  # shown as written


def test_missing_include_leaves_the_tag_visible_and_the_rest_of_the_post(tmp_path):
    result, out = build_copy("missing_include", tmp_path)
    html = (out / "2024/01/02/missing/index.html").read_text()
    assert "Before." in html and "After." in html


def test_plugin_exception_names_plugin_and_post(tmp_path):
    result, out = build_copy("plugin_exception", tmp_path)
    (message,) = [str(d) for d in result.site.report.errors]
    assert "exploder" in message and "kaboom" in message and "explosive.md" in message
    assert not (out / "2024/01/02/explosive/index.html").exists()


def test_duplicate_permalink_names_both_files(tmp_path):
    result, out = build_copy("duplicate_permalink", tmp_path)
    (message,) = [str(d) for d in result.site.report.errors]
    assert "2024-01-02-one.md" in message and "2024-01-03-two.md" in message
    assert (out / "same/index.html").is_file()


def test_failed_build_exits_1_and_names_the_file(tmp_path, capsys):
    from sitegen.cli import main

    root = tmp_path / "site"
    shutil.copytree(INVALID / "bad_date", root)
    code = main(["build", "--source", str(root), "--out", str(tmp_path / "out")])
    assert code == 1
    err = capsys.readouterr().err
    assert "posts/2024-01-02-bad-date.md:3: error: bad date" in err
