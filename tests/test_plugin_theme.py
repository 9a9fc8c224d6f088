"""Templates and static files shipped by plugins (``sitegen_theme_folder``): looked up after
the site's ``templates/`` and the theme, so either overrides them by name."""

from __future__ import annotations

from pathlib import Path

from sitegen.build import build_site
from sitegen.model import BuildOptions

PLUGIN_THEME = Path(__file__).parent.parent / "plugins" / "gradcheck" / "theme"

POST = """---
title: One check
---

$$ \\frac{\\partial L}{\\partial w} = 2w \\label{eq:g} $$

```python verify
w = rng.standard_normal(3)
check_grad(lambda w: (w ** 2).sum(), w, 2 * w, name="dL/dw", eq="eq:g")
```
"""


def _site(tmp_path: Path, config: str = "") -> Path:
    root = tmp_path / "site"
    (root / "posts").mkdir(parents=True)
    (root / "sitegen.toml").write_text(f'title = "T"\n{config}', encoding="utf-8")
    (root / "posts" / "2024-01-02-one.md").write_text(POST, encoding="utf-8")
    return root


def _build(root: Path) -> Path:
    result = build_site(root, BuildOptions(quiet=True, jobs=1))
    assert result.ok, [str(d) for d in result.site.report.errors]
    return root / "_site"


def test_the_plugins_own_template_and_style_sheet_are_used(tmp_path):
    out = _build(_site(tmp_path))
    shipped = (PLUGIN_THEME / "static" / "gradcheck.css").read_bytes()
    assert (out / "theme" / "gradcheck.css").read_bytes() == shipped
    summary = (out / "verification" / "index.html").read_text(encoding="utf-8")
    assert "<h1>Verification</h1>" in summary and "1 passed, 0 failed" in summary
    post = (out / "2024" / "01" / "02" / "one" / "index.html").read_text(encoding="utf-8")
    assert '<link rel="stylesheet" href="/theme/gradcheck.css">' in post


def test_a_site_overrides_the_plugins_template_and_style_sheet(tmp_path):
    root = _site(tmp_path)
    (root / "templates").mkdir()
    (root / "templates" / "verification.html").write_text(
        "mine: {{ counts.passed }} passed\n", encoding="utf-8"
    )
    (root / "static" / "theme").mkdir(parents=True)
    (root / "static" / "theme" / "gradcheck.css").write_text("/* mine */\n", encoding="utf-8")
    out = _build(root)
    assert (out / "verification" / "index.html").read_text(encoding="utf-8") == "mine: 1 passed\n"
    assert (out / "theme" / "gradcheck.css").read_text(encoding="utf-8") == "/* mine */\n"


def test_a_theme_overrides_the_plugins_template_and_style_sheet(tmp_path):
    root = _site(tmp_path)
    theme = root / "themes" / "default"  # extends the built-in theme of that name
    (theme / "templates").mkdir(parents=True)
    (theme / "static").mkdir()
    (theme / "templates" / "verification.html").write_text(
        "{% extends 'base.html' %}{% block main %}theme's own{% endblock %}", encoding="utf-8"
    )
    (theme / "static" / "gradcheck.css").write_text("/* theme */\n", encoding="utf-8")
    out = _build(root)
    summary = (out / "verification" / "index.html").read_text(encoding="utf-8")
    assert "theme's own" in summary and "<h1>Verification</h1>" not in summary
    assert '<a class="site-title" href="/">T</a>' in summary  # still the theme's frame
    assert (out / "theme" / "gradcheck.css").read_text(encoding="utf-8") == "/* theme */\n"


def test_a_disabled_plugin_brings_no_template_style_sheet_or_link(tmp_path):
    out = _build(_site(tmp_path, "[plugins.gradcheck]\nenabled = false\n"))
    assert not (out / "theme" / "gradcheck.css").exists()
    assert not (out / "verification").exists()
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "gradcheck" not in index
    assert (out / "theme" / "style.css").is_file()  # the theme's own files are all there


def test_a_site_plugin_ships_its_own_theme_folder(tmp_path):
    root = _site(tmp_path, "[plugins.gradcheck]\nenabled = false\n")
    plugin = root / "plugins" / "hello"
    (plugin / "theme" / "templates").mkdir(parents=True)
    (plugin / "theme" / "static").mkdir()
    (plugin / "theme" / "templates" / "hello.html").write_text(
        "{% extends 'base.html' %}{% block main %}<p>hello {{ who }}</p>{% endblock %}",
        encoding="utf-8",
    )
    (plugin / "theme" / "static" / "hello.css").write_text("p { color: red }\n", encoding="utf-8")
    (plugin / "__init__.py").write_text(
        "from pathlib import Path\n"
        "from sitegen.hooks import hookimpl\n"
        "from sitegen.model import Page\n\n"
        "@hookimpl\n"
        "def sitegen_theme_folder(site):\n"
        "    return Path(__file__).parent / 'theme'\n\n"
        "@hookimpl\n"
        "def sitegen_configure(site):\n"
        "    site.data.setdefault('stylesheets', []).append('/theme/hello.css')\n\n"
        "@hookimpl\n"
        "def sitegen_extra_pages(site):\n"
        "    return [Page(url='/hello/', template='hello.html', context={'who': 'world'})]\n",
        encoding="utf-8",
    )
    out = _build(root)
    hello = (out / "hello" / "index.html").read_text(encoding="utf-8")
    assert "<p>hello world</p>" in hello
    assert '<link rel="stylesheet" href="/theme/hello.css">' in hello
    assert (out / "theme" / "hello.css").read_text(encoding="utf-8") == "p { color: red }\n"


def test_the_engine_and_the_theme_name_no_plugin():
    repo = Path(__file__).parent.parent
    for folder in ("sitegen", "themes"):
        for path in sorted((repo / folder).rglob("*")):
            if path.suffix in (".py", ".html", ".css", ".js", ".md", ".toml"):
                assert "gradcheck" not in path.read_text(encoding="utf-8").lower(), path


def test_an_error_in_a_plugins_template_names_its_file_and_line(tmp_path):
    root = _site(tmp_path, "[plugins.gradcheck]\nenabled = false\n")
    plugin = root / "plugins" / "broken"
    (plugin / "theme" / "templates").mkdir(parents=True)
    (plugin / "theme" / "templates" / "broken.html").write_text(
        "line one\n{% if %}\n", encoding="utf-8"
    )
    (plugin / "__init__.py").write_text(
        "from pathlib import Path\n"
        "from sitegen.hooks import hookimpl\n"
        "from sitegen.model import Page\n\n"
        "@hookimpl\n"
        "def sitegen_theme_folder(site):\n"
        "    return Path(__file__).parent / 'theme'\n\n"
        "@hookimpl\n"
        "def sitegen_extra_pages(site):\n"
        "    return [Page(url='/broken/', template='broken.html')]\n",
        encoding="utf-8",
    )
    result = build_site(root, BuildOptions(quiet=True, jobs=1))
    errors = [str(d) for d in result.site.report.errors]
    assert any(
        e.startswith("plugins/broken/theme/templates/broken.html:2: error: template syntax")
        for e in errors
    ), errors
    assert (root / "_site" / "index.html").is_file()  # the rest of the site is built
