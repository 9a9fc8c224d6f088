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


def test_the_verify_table_is_checked_by_its_plugin(tmp_path):
    from sitegen.build import build_site

    (tmp_path / "sitegen.toml").write_text('[verify]\ntimeout = "slow"\n')
    [error] = build_site(tmp_path).site.report.errors
    assert str(error) == "sitegen.toml: error: 'verify.timeout' must be float, not str"
    (tmp_path / "sitegen.toml").write_text("[plugins.gradcheck]\nenabled = false\n"
                                          '[verify]\ntimeout = "slow"\n')
    assert build_site(tmp_path).ok  # without the plugin, nobody reads the table
