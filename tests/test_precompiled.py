"""Templates compiled ahead of time: used when they are the theme's current templates,
giving the pages compiling from source gives, and never used when damaged or stale."""

from __future__ import annotations

import json
import shutil

import jinja2
import pytest

import sitegen.precompiled as precompiled
from sitegen.build import build_site
from sitegen.model import BuildOptions
from sitegen.precompiled import FILE_NAME, builtin_template_folders, precompile, write_precompiled
from sitegen.templates import builtin_theme_root, create_environment
from sitegen.write import MARKER


def _output(folder):
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in folder.rglob("*")
        if p.is_file() and p.name != MARKER
    }


@pytest.fixture
def compiled_from_source(monkeypatch):
    """The names of the templates Jinja2 compiles from their source."""
    names: list[str] = []
    compile_source = jinja2.Environment.compile

    def compile_and_note(self, source, name=None, filename=None, raw=False, defer_init=False):
        names.append(name)
        return compile_source(self, source, name, filename, raw, defer_init)

    monkeypatch.setattr(jinja2.Environment, "compile", compile_and_note)
    return names


def test_the_builtin_themes_precompiled_templates_are_current():
    folders = builtin_template_folders()
    assert folders
    for folder in folders:
        shipped = json.loads((folder / FILE_NAME).read_text(encoding="utf-8"))
        assert shipped == precompile(folder, create_environment([folder])), (
            f"{folder}/{FILE_NAME} is out of date: run python -m sitegen.precompiled"
        )


def test_a_clean_build_compiles_no_template_of_the_theme(
    site_copy, tmp_path, monkeypatch, compiled_from_source
):
    root = site_copy("basic")
    assert build_site(root, BuildOptions(out=tmp_path / "ahead", rerun=True)).ok
    theme = {p.name for folder in builtin_template_folders() for p in folder.iterdir()}
    assert "verification.html" in theme  # a built-in plugin's template is precompiled too
    assert compiled_from_source  # the site's includes are its own
    assert not theme & set(compiled_from_source)
    monkeypatch.setattr(precompiled.PrecompiledTemplates, "code", lambda *a: None)
    assert build_site(root, BuildOptions(out=tmp_path / "source", rerun=True)).ok
    assert theme & set(compiled_from_source)
    assert _output(tmp_path / "ahead") == _output(tmp_path / "source")


def _site_with_own_theme(site_copy):
    """The basic site with its own copy of the built-in theme, its post page changed
    and its templates precompiled."""
    root = site_copy("basic")
    shutil.copytree(builtin_theme_root() / "default", root / "themes" / "default")
    post = root / "themes/default/templates/post.html"
    post.write_text(post.read_text(encoding="utf-8").replace("</article>", "OWN</article>"))
    write_precompiled(root / "themes/default/templates")
    return root


def test_a_damaged_precompiled_file_is_compiled_from_source(
    site_copy, tmp_path, compiled_from_source
):
    root = _site_with_own_theme(site_copy)
    compiled_from_source.clear()
    expected = build_site(root, BuildOptions(out=tmp_path / "expected", rerun=True))
    assert expected.ok and "post.html" not in compiled_from_source  # precompiled
    assert "OWN</article>" in (tmp_path / "expected/2024/01/02/first-post/index.html").read_text()
    shipped = root / "themes/default/templates" / FILE_NAME
    entries = json.loads(shipped.read_text(encoding="utf-8"))
    for entry in entries.values():  # code changed, its digest not: a damaged file
        entry["code"] = entry["code"].replace("OWN", "DAMAGED")
    shipped.write_text(json.dumps(entries), encoding="utf-8")
    damaged = build_site(root, BuildOptions(out=tmp_path / "damaged", rerun=True))
    assert damaged.ok
    assert _output(tmp_path / "damaged") == _output(tmp_path / "expected")
    assert "post.html" in compiled_from_source
    shipped.write_text(shipped.read_text(encoding="utf-8")[:5000], encoding="utf-8")  # cut
    cut = build_site(root, BuildOptions(out=tmp_path / "cut", rerun=True))
    assert cut.ok and _output(tmp_path / "cut") == _output(tmp_path / "expected")


def test_a_template_edited_after_precompiling_shows_the_edit(
    site_copy, tmp_path, compiled_from_source
):
    root = _site_with_own_theme(site_copy)
    post = root / "themes/default/templates/post.html"
    post.write_text(post.read_text(encoding="utf-8").replace("OWN</article>", "EDITED</article>"))
    compiled_from_source.clear()
    result = build_site(root, BuildOptions(out=tmp_path / "out", rerun=True))
    assert result.ok and "post.html" in compiled_from_source
    html = (tmp_path / "out/2024/01/02/first-post/index.html").read_text()
    assert "EDITED</article>" in html and "OWN</article>" not in html


def test_an_error_in_a_precompiled_template_names_its_file_and_line(site_copy, tmp_path):
    root = site_copy("basic")
    (root / "templates").mkdir()
    (root / "templates" / "page.html").write_text(
        "<p>{{ page.title }}</p>\n\n<p>{{ page.title.missing_method() }}</p>\n"
    )
    plain = build_site(root, BuildOptions(out=tmp_path / "a", rerun=True))
    write_precompiled(root / "templates")
    ahead = build_site(root, BuildOptions(out=tmp_path / "b", rerun=True))
    errors = [str(d) for d in ahead.site.report.errors]
    assert errors == [str(d) for d in plain.site.report.errors]
    assert any(e.startswith("templates/page.html:3: error:") for e in errors), errors
