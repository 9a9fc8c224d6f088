from __future__ import annotations

import pytest

from sitegen.config import load_config
from sitegen.errors import ConfigError


def test_defaults_when_no_file(tmp_path):
    config = load_config(tmp_path)
    assert config.permalink == "/:year/:month/:day/:slug/"
    assert config.posts_per_page == 10


def test_toml_values_and_nested_tables(tmp_path):
    (tmp_path / "sitegen.toml").write_text(
        'title = "T"\nbaseurl = "/blog/"\nposts_per_page = 3\n'
        '[verify]\ntimeout = 5\nrtol = 1e-6\n[plugins.feeds]\nlimit = 5\n'
    )
    config = load_config(tmp_path)
    assert config.title == "T" and config.baseurl == "/blog"
    assert config.extra["verify"] == {"timeout": 5, "rtol": 1e-6}  # the plugin's own table
    assert config.plugin_options("feeds") == {"limit": 5}


def test_wrong_type_is_an_error_naming_the_key(tmp_path):
    (tmp_path / "sitegen.toml").write_text('posts_per_page = "many"\n')
    with pytest.raises(ConfigError, match="posts_per_page"):
        load_config(tmp_path)


def test_invalid_toml_names_file_and_line(tmp_path):
    (tmp_path / "sitegen.toml").write_text('title = "ok"\n\nurl = \n')
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert info.value.path == "sitegen.toml" and info.value.line == 3


def test_jekyll_config_is_used_when_no_toml(tmp_path):
    (tmp_path / "_config.yml").write_text(
        'title: Jekyll blog\nurl: "https://x.io/"\nbaseurl: ""\npermalink: pretty\n'
        "kramdown:\n  input: GFM\n"
    )
    config = load_config(tmp_path)
    assert config.title == "Jekyll blog"
    assert config.permalink == "/:categories/:year/:month/:day/:title/"
    assert config.extra["kramdown"] == {"input": "GFM"}


def site_warnings(root) -> list[str]:
    from sitegen.build import load_site
    from sitegen.model import BuildOptions

    (root / "posts").mkdir(exist_ok=True)
    site = load_site(root, BuildOptions())
    return [str(d) for d in site.report.warnings if "no 'url'" not in d.message]


def test_unknown_keys_warn_with_the_nearest_valid_name_and_line(tmp_path):
    (tmp_path / "sitegen.toml").write_text(
        'titel = "My blog"\n\n[math]\nmathjax-url = "/m.js"\n[verify]\ntimout = 3\n'
        '[verfy]\nseed = 1\n'
    )
    config = load_config(tmp_path)
    assert config.title == "sitegen site"  # the typo is not taken for the title
    # [verify] is the verification plugin's table: its keys are checked against what the
    # plugin declares once plugins are loaded, and a table nobody owns is a warning
    assert site_warnings(tmp_path) == [
        "sitegen.toml:1: warning: unknown setting 'titel'; did you mean 'title'?",
        "sitegen.toml:4: warning: unknown setting 'math.mathjax-url'; did you mean "
        "'math.mathjax_url'?",
        "sitegen.toml:6: warning: unknown setting 'verify.timout'; did you mean "
        "'verify.timeout'?",
        "sitegen.toml:7: warning: unknown setting 'verfy'; did you mean 'verify'?",
    ]


def test_extra_table_is_free_for_templates(tmp_path):
    (tmp_path / "sitegen.toml").write_text('title = "T"\n[extra]\ntwitter = "me"\n')
    assert load_config(tmp_path).warnings == []


def test_wrong_type_is_an_error_with_file_and_line(tmp_path):
    from sitegen.build import load_site
    from sitegen.model import BuildOptions

    (tmp_path / "posts").mkdir()
    (tmp_path / "sitegen.toml").write_text('title = "T"\n\n[verify]\ntimeout = "soon"\n')
    with pytest.raises(ConfigError) as info:
        load_site(tmp_path, BuildOptions())
    assert str(info.value) == (
        "sitegen.toml:4: error: 'verify.timeout' must be a number, not str ('soon')"
    )
    (tmp_path / "sitegen.toml").write_text('title = "T"\nmath = 3\n')
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert info.value.line == 2


def test_plugin_sections_are_checked_against_plugins_and_their_declared_settings(tmp_path):
    from sitegen.build import load_site
    from sitegen.model import BuildOptions

    (tmp_path / "posts").mkdir()
    (tmp_path / "sitegen.toml").write_text(
        '[plugins.gradchek]\nenabled = true\n\n[plugins.feeds]\nlimt = 5\n'
        '[plugins.sitemap]\nenabled = false\n'
    )
    site = load_site(tmp_path, BuildOptions())
    assert [str(d) for d in site.report.warnings if "no 'url'" not in d.message] == [
        "sitegen.toml:1: warning: unknown plugin 'gradchek'; did you mean 'gradcheck'?",
        "sitegen.toml:5: warning: unknown setting 'plugins.feeds.limt'; did you mean "
        "'plugins.feeds.limit'?",
    ]
    (tmp_path / "sitegen.toml").write_text('[plugins.feeds]\nlimit = "all"\n')
    errors = [str(d) for d in load_site(tmp_path, BuildOptions()).report.errors]
    wanted = "sitegen.toml:2: error: 'plugins.feeds.limit' must be an integer, not str ('all')"
    assert wanted in errors


def test_a_site_plugin_declares_its_own_settings(tmp_path):
    from sitegen.build import load_site
    from sitegen.model import BuildOptions

    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "stamp.py").write_text('SETTINGS = {"text": "", "size": 3}\n')
    (tmp_path / "sitegen.toml").write_text(
        'url = "https://x.org"\n[plugins.stamp]\ntext = "hi"\nsise = 4\n'
    )
    site = load_site(tmp_path, BuildOptions())
    assert [str(d) for d in site.report.warnings] == [
        "sitegen.toml:4: warning: unknown setting 'plugins.stamp.sise'; did you mean "
        "'plugins.stamp.size'?"
    ]


def test_a_paginate_path_without_its_number_is_an_error(tmp_path):
    (tmp_path / "sitegen.toml").write_text('paginate_path = "/older/"\n')
    with pytest.raises(ConfigError, match="paginate_path must hold :num"):
        load_config(tmp_path)
    (tmp_path / "sitegen.toml").write_text('paginate_path = "older/:num"\n')
    assert load_config(tmp_path).paginate_path == "/older/:num/"
