"""Site configuration: ``sitegen.toml`` (or a Jekyll ``_config.yml``), defaults, validation."""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from sitegen.errors import ConfigError, Diagnostic

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
    paginate_path: str = "/page/:num/"  # where page :num (from 2) of the list of posts goes
    favicon: str = ""  # a site path ("/assets/icon.png") or URL; the theme's own if empty
    math: MathConfig = field(default_factory=MathConfig)
    # name -> options; a plugin is enabled unless its options say ``enabled = false``
    plugins: dict[str, dict[str, Any]] = field(default_factory=dict)
    # every key of the file, for templates (``site.KEY``)
    extra: dict[str, Any] = field(default_factory=dict)
    source: str = ""  # which file the configuration came from ("" for defaults)
    # unknown keys and the like, found while reading the file; a build reports them
    warnings: list[Diagnostic] = field(default_factory=list)
    # top-level tables sitegen does not know: a plugin's own (its ``TABLES``) or a typo,
    # told apart once the plugins are loaded (``check_plugin_settings``)
    plugin_tables: list[str] = field(default_factory=list)
    text: str = field(default="", repr=False)  # the file as read, to find a key's line

    def plugin_options(self, name: str) -> dict[str, Any]:
        return dict(self.plugins.get(name, {}))


# Settings a site may keep for its own templates without a warning (``site.extra.KEY``).
FREE_TABLES = ("extra",)
_INTERNAL = ("extra", "source", "warnings", "text", "plugin_tables")


def key_line(text: str, table: str, key: str) -> int | None:
    """The line of ``key = …`` inside ``[table]`` ("" for the top level) of TOML ``text``,
    or of the table's header when ``key`` is ""; None when it cannot be told."""
    current = ""
    header = re.compile(r"\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
    for number, line in enumerate(text.splitlines(), 1):
        match = header.match(line)
        if match:
            current = match.group(1).replace('"', "").replace("'", "").replace(" ", "")
            if not key and current == table:
                return number
            continue
        if key and current == table:
            stripped = line.lstrip()
            for form in (key, f'"{key}"', f"'{key}'"):
                if stripped.startswith(form) and stripped[len(form) :].lstrip().startswith("="):
                    return number
    return None


def nearest(name: str, choices: list[str]) -> str | None:
    """The valid name a typo most likely meant ("titel" -> "title", "mathjax-url" ->
    "mathjax_url"), or None."""
    plain = {c.replace("_", "").replace("-", ""): c for c in choices}
    folded = name.replace("_", "").replace("-", "").lower()
    if folded in plain:
        return plain[folded]
    close = difflib.get_close_matches(name.lower(), choices, n=1, cutoff=0.6)
    return close[0] if close else None


def unknown_key_message(what: str, name: str, choices: list[str], prefix: str = "") -> str:
    guess = nearest(name, choices)
    if guess:
        hint = f"; did you mean '{prefix}{guess}'?"
    else:
        hint = f" (known: {', '.join(sorted(choices))})" if choices else ""
    return f"unknown {what} '{prefix}{name}'{hint}"


def type_name(expected: type) -> str:
    return {str: "a string", int: "an integer", float: "a number", bool: "true or false",
            dict: "a table", list: "a list"}.get(expected, expected.__name__)


def check_type(value: Any, expected: type, key: str, source: str, line: int | None) -> Any:
    """``value`` as ``expected`` (an integer is a fine float), or a ConfigError at the key."""
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
        raise ConfigError(
            f"'{key}' must be {type_name(expected)}, not {type(value).__name__} ({value!r})",
            source,
            line,
        )
    return value


def _fill(target: Any, values: dict[str, Any], table: str, config: Config) -> None:
    """Copy known keys into a config dataclass, checking each value's type; an unknown key
    is a warning that names the nearest known one."""
    known = {f.name: f for f in fields(target) if f.name not in _INTERNAL}
    source = config.source or CONFIG_FILE
    prefix = f"{table}." if table else ""
    for key, value in values.items():
        line = key_line(config.text, table, key) if config.text else None
        f = known.get(key)
        if f is None:
            if not table and key in FREE_TABLES:
                continue
            if not table and isinstance(value, dict) and config.text:
                config.plugin_tables.append(key)
                continue
            if config.text:  # a Jekyll _config.yml holds Jekyll's own settings
                if isinstance(value, dict) and not table:
                    line = key_line(config.text, key, "") or line
                message = unknown_key_message("setting", key, list(known), prefix)
                config.warnings.append(Diagnostic(source, line, "warning", message))
            continue
        current = getattr(target, key)
        if hasattr(current, "__dataclass_fields__"):
            if not isinstance(value, dict):
                raise ConfigError(f"'{prefix}{key}' must be a table ([{key}])", source, line)
            _fill(current, value, f"{prefix}{key}", config)
        elif isinstance(current, dict):
            line = line or key_line(config.text, f"{prefix}{key}", "")
            setattr(target, key, dict(check_type(value, dict, prefix + key, source, line)))
        elif current is None:
            if value is not None:
                setattr(target, key, check_type(value, float, prefix + key, source, line))
        else:
            setattr(target, key, check_type(value, type(current), prefix + key, source, line))


def check_plugin_settings(
    config: Config,
    available: list[str],
    declared: dict[str, dict[str, Any]],
    tables: dict[str, dict[str, Any]] | None = None,
) -> list[Diagnostic]:
    """Warnings for ``[plugins.NAME]`` sections no plugin answers to and for keys a plugin
    does not declare; errors for values of the wrong type for a declared key.

    A plugin declares its settings with a module attribute ``SETTINGS``: a dict of each
    key's default value (its type is the value's type). A plugin without one is not
    checked. ``enabled`` is every plugin's. A plugin may also own top-level tables (its
    ``TABLES``: table name -> such a dict); a top-level table nobody owns is a warning."""
    source = config.source or CONFIG_FILE
    found = _check_tables(config, tables or {})
    for name, options in config.plugins.items():
        table = f"plugins.{name}"
        line = key_line(config.text, table, "") or key_line(config.text, "plugins", name)
        if not isinstance(options, dict):
            raise ConfigError(f"'{table}' must be a table ([{table}])", source, line)
        if name not in available:
            found.append(
                Diagnostic(source, line, "warning", unknown_key_message("plugin", name, available))
            )
            continue
        schema = declared.get(name)
        if schema is None:
            continue
        schema = {"enabled": True, **schema}
        for key, value in options.items():
            key_at = key_line(config.text, table, key) or line
            if key not in schema:
                message = unknown_key_message("setting", key, list(schema), f"{table}.")
                found.append(Diagnostic(source, key_at, "warning", message))
            elif schema[key] is not None:
                try:
                    check_type(value, type(schema[key]), f"{table}.{key}", source, key_at)
                except ConfigError as exc:  # the plugin is not run with it: see its hook
                    found.append(exc.diagnostic())
    return found


def _check_tables(config: Config, tables: dict[str, dict[str, Any]]) -> list[Diagnostic]:
    source = config.source or CONFIG_FILE
    found = []
    for name in config.plugin_tables:
        schema = tables.get(name)
        line = key_line(config.text, name, "")
        if schema is None:
            known = [f.name for f in fields(Config) if f.name not in _INTERNAL]
            message = unknown_key_message("setting", name, known + sorted(tables))
            found.append(Diagnostic(source, line, "warning", message))
            continue
        for key, value in config.extra[name].items():
            key_at = key_line(config.text, name, key) or line
            if key not in schema:
                message = unknown_key_message("setting", key, list(schema), f"{name}.")
                found.append(Diagnostic(source, key_at, "warning", message))
            elif schema[key] is not None:
                check_type(value, type(schema[key]), f"{name}.{key}", source, key_at)
            elif value is not None:  # a setting off by default takes a number
                check_type(value, float, f"{name}.{key}", source, key_at)
    return found


def _from_jekyll(path: Path) -> dict[str, Any]:
    import yaml

    text = path.read_text(encoding="utf-8")
    try:
        try:
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError:
            # Jekyll's YAML reader takes tabs between "key:" and its value; PyYAML does not.
            untabbed = re.sub(r"^([ ]*[^\s#:][^:\n]*:)\t[ \t]*", r"\1 ", text, flags=re.M)
            if untabbed == text:
                raise
            data = yaml.safe_load(untabbed) or {}
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
        # jekyll-paginate's pages of the list: /page2/, /page3/ … unless it says otherwise
        path = data.get("paginate_path")
        values["paginate_path"] = path if isinstance(path, str) and ":num" in path else "/page:num/"
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
        config.text = toml_path.read_text(encoding="utf-8")
        config.extra = dict(values)
    elif jekyll_path.is_file():
        values = _from_jekyll(jekyll_path)
        config.source = JEKYLL_CONFIG_FILE
        config.extra = values.pop("extra")
    else:
        values = {}
    _fill(config, values, "", config)
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
    if ":num" not in config.paginate_path:
        raise ConfigError(
            f"paginate_path must hold :num (the page's number), not {config.paginate_path!r}",
            config.source,
        )
    # a folder of the site, as Jekyll writes it: "/page:num" and "page:num/" are "/page:num/"
    config.paginate_path = "/" + config.paginate_path.strip("/") + "/"
    config.baseurl = config.baseurl.rstrip("/")
    return config
