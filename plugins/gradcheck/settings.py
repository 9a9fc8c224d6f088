"""The ``[verify]`` table of sitegen.toml: this plugin's settings, checked here (the
engine does not know them)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from sitegen.errors import ConfigError

SETTINGS_KEY = "gradcheck_settings"  # in site.data, once read


@dataclass
class VerifyConfig:
    timeout: float = 60.0
    memory_mb: int = 2048
    rtol: float | None = None
    atol: float | None = None
    seed: int = 0
    strict: bool = True


# the tables of sitegen.toml this plugin owns, for the engine's check of keys and types
# (a default of None takes a number)
TABLES = {"verify": {f.name: f.default for f in fields(VerifyConfig)}}


def read_settings(values: Any, source: str) -> VerifyConfig:
    """``[verify]`` as written, every value checked for its type."""
    config = VerifyConfig()
    if values is None:
        return config
    if not isinstance(values, dict):
        raise ConfigError("'verify' must be a table", source)
    kinds = {f.name: f.type for f in fields(VerifyConfig)}
    for key, value in values.items():
        if key not in kinds:
            continue
        wanted = float if "float" in kinds[key] else int if "int" in kinds[key] else bool
        if value is None and "None" in kinds[key]:
            continue
        if wanted is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, wanted) or (wanted is not bool and isinstance(value, bool)):
            raise ConfigError(
                f"'verify.{key}' must be {wanted.__name__}, not {type(value).__name__}", source
            )
        setattr(config, key, value)
    return config


def settings(site: Any) -> VerifyConfig:
    """The site's ``[verify]`` settings (read once per build, in ``sitegen_configure``)."""
    found = site.data.get(SETTINGS_KEY)
    if not isinstance(found, VerifyConfig):
        found = site.data[SETTINGS_KEY] = read_settings(
            site.config.extra.get("verify"), site.config.source or "sitegen.toml"
        )
    return found
