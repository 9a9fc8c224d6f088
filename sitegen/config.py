"""Site configuration: ``sitegen.toml`` (or a Jekyll ``_config.yml``), defaults, validation."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from sitegen.errors import ConfigError

CONFIG_FILE = "sitegen.toml"

DEFAULT_MATHJAX_URL = "https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml-full.js"

# Jekyll's named permalink styles, as sitegen patterns (``:output_ext`` is ``.html``).
PERMALINK_STYLES = {
    "pretty": "/:categories/:year/:month/:day/:title/",
    "date": "/:categories/:year/:month/:day/:title:output_ext",
    "ordinal": "/:categories/:year/:y_day/:title:output_ext",
    "weekdate": "/:categories/:year/W:week/:short_day/:title:output_ext",
    "none": "/:categories/:title:output_ext",
}
JEKYLL_CONFIG_FILE = "_config.yml"


@dataclass
class MathConfig:
    mathjax_url: str = DEFAULT_MATHJAX_URL
    macros_file: str = ""  # a file of \newcommand lines applied to every post
    delimiters: dict[str, bool] = field(default_factory=dict)  # switch single forms off
    dollars: str = ""  # single-dollar math: "off" | "pandoc" | "mathjax"; "" = the site's own


@dataclass
class Config:
    title: str = "sitegen site"
    description: str = ""
    author: str = ""
    url: str = ""
    baseurl: str = ""
    permalink: str = "/:year/:month/:day/:slug/"
    theme: str = "default"
    timezone: str = "UTC"
    language: str = "en"
    posts_per_page: int = 10
    math: MathConfig = field(default_factory=MathConfig)
    # name -> options; a plugin is enabled unless its options say ``enabled = false``
    plugins: dict[str, dict[str, Any]] = field(default_factory=dict)
    # every key of the file, for templates (``site.KEY``)
    extra: dict[str, Any] = field(default_factory=dict)
    source: str = ""  # which file the configuration came from ("" for defaults)

    def plugin_options(self, name: str) -> dict[str, Any]:
        return dict(self.plugins.get(name, {}))


def _check_type(value: Any, expected: type, key: str, source: str) -> Any:
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
        raise ConfigError(
            f"'{key}' must be {expected.__name__}, not {type(value).__name__}", source
        )
    return value


def _fill(target: Any, values: dict[str, Any], prefix: str, source: str) -> None:
    """Copy known keys into a config dataclass, checking each value's type."""
    known = {f.name: f for f in fields(target)}
    for key, value in values.items():
        f = known.get(key)
        if f is None or key in ("extra", "source"):
            continue
        current = getattr(target, key)
        if hasattr(current, "__dataclass_fields__"):
            if not isinstance(value, dict):
                raise ConfigError(f"'{prefix}{key}' must be a table", source)
            _fill(current, value, f"{prefix}{key}.", source)
        elif isinstance(current, dict):
            setattr(target, key, dict(_check_type(value, dict, prefix + key, source)))
        elif current is None:
            if value is not None:
                setattr(target, key, _check_type(value, float, prefix + key, source))
        else:
            setattr(target, key, _check_type(value, type(current), prefix + key, source))


def _from_jekyll(path: Path) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ConfigError(
            f"invalid YAML: {exc}", path.name, mark.line + 1 if mark else None
        ) from None
    if not isinstance(data, dict):
        raise ConfigError("expected a mapping of settings", path.name)
    values: dict[str, Any] = {"extra": data}
    for key in ("title", "description", "url", "baseurl", "author", "timezone"):
        if isinstance(data.get(key), str):
            values[key] = data[key]
    # Jekyll's own default style is "date" (``.html`` URLs); Jekyll adds the leading "/"
    permalink = data.get("permalink")
    permalink = permalink.strip() if isinstance(permalink, str) and permalink.strip() else "date"
    permalink = PERMALINK_STYLES.get(permalink, permalink)
    values["permalink"] = permalink if permalink.startswith("/") else "/" + permalink
    if isinstance(data.get("paginate"), int):
        values["posts_per_page"] = data["paginate"]
    return values


def load_config(root: Path) -> Config:
    """Read the site's configuration; a folder with no config file gets the defaults."""
    config = Config()
    toml_path = root / CONFIG_FILE
    jekyll_path = root / JEKYLL_CONFIG_FILE
    if toml_path.is_file():
        try:
            values = tomllib.loads(toml_path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            # tomllib puts "(at line N, column M)" in its message
            line = None
            text = str(exc)
            if "line " in text:
                try:
                    line = int(text.split("line ")[1].split(",")[0].rstrip(")"))
                except ValueError:
                    line = None
            raise ConfigError(f"invalid TOML: {text}", CONFIG_FILE, line) from None
        config.source = CONFIG_FILE
        config.extra = dict(values)
    elif jekyll_path.is_file():
        values = _from_jekyll(jekyll_path)
        config.source = JEKYLL_CONFIG_FILE
        config.extra = values.pop("extra")
    else:
        values = {}
    _fill(config, values, "", config.source or CONFIG_FILE)
    permalink = PERMALINK_STYLES.get(config.permalink, config.permalink)
    if not permalink.startswith("/"):
        raise ConfigError(f"permalink must start with '/': {permalink!r}", config.source)
    config.permalink = permalink
    if config.math.dollars not in ("", "off", "pandoc", "mathjax"):
        raise ConfigError(
            f"math.dollars must be \"off\", \"pandoc\" or \"mathjax\", not {config.math.dollars!r}",
            config.source,
        )
    if config.posts_per_page < 1:
        raise ConfigError("posts_per_page must be at least 1", config.source)
    config.baseurl = config.baseurl.rstrip("/")
    return config
