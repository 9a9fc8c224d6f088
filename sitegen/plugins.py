"""Finding and loading plugins, and calling hooks so that one failing plugin is reported
by name (with the post it was working on) instead of stopping the build."""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import pkgutil
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType
from typing import Any

import pluggy

from sitegen import hooks
from sitegen.cache import cache_dir, read_cache_file, write_cache_file
from sitegen.errors import ConfigError, SiteError

ENTRY_POINT_GROUP = "sitegen.plugins"
ENTRY_POINTS_FILE = "entry-points.json"
BUILTIN_PACKAGE = "sitegen_plugins"


def builtin_plugin_dir() -> Path | None:
    spec = importlib.util.find_spec(BUILTIN_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _plugin_names(folder: Path | None) -> dict[str, Path]:
    """name -> path for every plugin module (``NAME.py``) or package (``NAME/``)."""
    found: dict[str, Path] = {}
    if folder is None or not folder.is_dir():
        return found
    for path in sorted(folder.iterdir()):
        if path.name.startswith(("_", ".")):
            continue
        if path.suffix == ".py":
            found[path.stem] = path
        elif path.is_dir() and (path / "__init__.py").is_file():
            found[path.name] = path
    return found


def _import_site_plugin(name: str, path: Path, root: Path) -> ModuleType:
    """Import a plugin from the site's own ``plugins/`` folder under a private name."""
    module_name = f"sitegen_site_plugins_{abs(hash(str(root))):x}.{name}"
    location = path / "__init__.py" if path.is_dir() else path
    spec = importlib.util.spec_from_file_location(
        module_name,
        location,
        submodule_search_locations=[str(path)] if path.is_dir() else None,
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    parent = module_name.rpartition(".")[0]
    if parent not in sys.modules:
        sys.modules[parent] = ModuleType(parent)
        # a package of this site's plugins folder, so that plugins can import the
        # helper modules beside them (``from ._shared import x``; ``_`` names are no plugins)
        sys.modules[parent].__path__ = [str(location.parent if path.is_file() else path.parent)]
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        sys.modules.pop(module_name, None)
        raise ConfigError(f"plugin '{name}' failed to load: {exc}", str(location)) from exc
    return module


def installed_plugins(cache_file: Path | None = None) -> list[tuple[str, str]]:
    """(name, "module:object") of every ``sitegen.plugins`` entry point installed.

    The metadata folders are read directly (importing importlib.metadata alone costs
    ~25 ms, a tenth of a one-post build). The answer is kept in ``cache_file``, keyed by
    the distributions' metadata folders on ``sys.path`` and their modification times:
    installing, upgrading or removing a package adds, renames or remakes one."""
    key = []
    for entry in sys.path:
        try:
            with os.scandir(entry or ".") as listing:
                for item in listing:
                    if item.name.endswith((".dist-info", ".egg-info")):
                        key.append([entry, item.name, item.stat().st_mtime_ns])
        except OSError:
            continue  # a zip file or a missing folder: no metadata folders to list
    if cache_file is not None:
        try:
            stored = json.loads(read_cache_file(cache_file) or b"{}")
            if stored["key"] == key:
                return [(name, value) for name, value in stored["plugins"]]
        except (OSError, ValueError, KeyError, TypeError):
            pass
    found = read_entry_points([(entry, name) for entry, name, _ in key], ENTRY_POINT_GROUP)
    if cache_file is not None:  # a read-only site asks again next time
        write_cache_file(cache_file, json.dumps({"key": key, "plugins": found}).encode())
    return found


def _distribution_name(folder: str) -> str:
    # as importlib.metadata names a distribution by its folder: "Foo.Bar-1.0.dist-info"
    name = folder.rsplit(".", 1)[0].partition("-")[0]
    return re.sub(r"[-_.]+", "_", name).lower()


def read_entry_points(folders: Iterable[tuple[str, str]], group: str) -> list[tuple[str, str]]:
    """(name, value) of the entry points in ``group`` of the metadata folders given as
    (``sys.path`` entry, folder name), in that order; as importlib.metadata does, only the
    first distribution of each name counts (the one Python would import)."""
    seen: set[str] = set()
    found = []
    for entry, folder in folders:
        dist = _distribution_name(folder)
        if dist in seen:
            continue
        seen.add(dist)
        try:
            text = Path(entry or ".", folder, "entry_points.txt").read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        section = None
        for line in text.splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("[") and line.endswith("]"):
                section = line[1:-1].strip()
            elif section == group and "=" in line:
                name, value = line.split("=", 1)
                found.append((name.strip(), value.strip()))
    return found


def plugin_enabled(name: str, settings: dict[str, dict[str, Any]]) -> bool:
    options = settings.get(name, {})
    return not (isinstance(options, dict) and options.get("enabled") is False)


def load_plugins(root: Path, settings: dict[str, dict[str, Any]]) -> pluggy.PluginManager:
    """Built-ins, then entry points, then the site's ``plugins/``; a later one with the same
    name replaces the earlier (so a site can override a built-in plugin)."""
    pm = pluggy.PluginManager(hooks.PROJECT)
    pm.add_hookspecs(hooks)
    chosen: dict[str, Any] = {}
    for name in _plugin_names(builtin_plugin_dir()):
        chosen[name] = ("builtin", name)
    for ep_name, value in installed_plugins(cache_dir(root) / ENTRY_POINTS_FILE):
        chosen[ep_name] = ("entry_point", value)
    for name, path in _plugin_names(root / "plugins").items():
        chosen[name] = ("site", path)
    for name, (origin, ref) in chosen.items():
        if not plugin_enabled(name, settings):
            continue
        try:
            if origin == "builtin":
                module = importlib.import_module(f"{BUILTIN_PACKAGE}.{ref}")
            elif origin == "entry_point":
                module = pkgutil.resolve_name(ref)
            else:
                module = _import_site_plugin(name, ref, root)
        except ConfigError:
            raise
        except Exception as exc:
            raise ConfigError(f"plugin '{name}' failed to load: {exc}", str(ref)) from exc
        pm.register(module, name=name)
    for caller in vars(pm.hook).values():
        if isinstance(caller, pluggy.HookCaller):
            for impl in caller.get_hookimpls():
                _isolate(pm, impl)
    return pm


def plugin_settings_warnings(root: Path, config: Any, pm: pluggy.PluginManager) -> list[Any]:
    """Check ``[plugins.NAME]`` sections against the plugins there are and the settings
    each declares (its module's ``SETTINGS``: key -> default value)."""
    from sitegen.config import check_plugin_settings

    available = set(_plugin_names(builtin_plugin_dir()))
    available |= {name for name, _ in pm.list_name_plugin()}
    available |= set(_plugin_names(root / "plugins"))
    available |= {name for name, _ in installed_plugins(cache_dir(root) / ENTRY_POINTS_FILE)}
    declared = {
        name: dict(module.SETTINGS)
        for name, module in pm.list_name_plugin()
        if isinstance(getattr(module, "SETTINGS", None), dict)
    }
    tables = {
        table: dict(keys)
        for _, module in pm.list_name_plugin()
        if isinstance(getattr(module, "TABLES", None), dict)
        for table, keys in module.TABLES.items()
    }
    return check_plugin_settings(config, sorted(available), declared, tables)


def call_hook(site: Any, name: str, /, **kwargs: Any) -> list[Any]:
    """Call hook ``name`` through pluggy (its order, ``tryfirst``/``trylast``, wrappers
    and ``firstresult`` all apply); the results that are not None, as a list.

    Each implementation runs isolated (``_isolate``): one that raises is reported as an
    error naming the plugin (and the post the call concerns, which then fails), and the
    other plugins still run."""
    kwargs.setdefault("site", site)
    pm = site.plugins
    if pm is None:
        return []
    caller = getattr(pm.hook, name)
    post = kwargs.get("post") or getattr(kwargs.get("page"), "post", None)
    spec = caller.spec
    if spec is not None:  # only what the hook declares (a page's post is told apart)
        kwargs = {k: v for k, v in kwargs.items() if k in spec.argnames}
    calls = pm.__dict__.setdefault(_CALLS, [])
    calls.append((site, name, post))
    try:
        result = caller(**kwargs)
    finally:
        calls.pop()
    if spec is not None and spec.opts.get("firstresult"):
        return [] if result is None else [result]
    return [r for r in result if r is not None]


_CALLS = "_sitegen_calls"  # on the PluginManager: (site, hook, post) of the calls running


def _isolate(pm: pluggy.PluginManager, impl: Any) -> None:
    """Make one implementation report its failures instead of raising them."""
    if impl.hookwrapper or getattr(impl, "wrapper", False):
        return  # a wrapper's generator is driven by pluggy; its errors propagate
    function = impl.function

    def isolated(*args: Any) -> Any:
        try:
            return function(*args)
        except Exception as exc:  # a plugin bug must not take the site down
            calls = pm.__dict__.get(_CALLS) or [(None, "", None)]
            site, hook, post = calls[-1]
            if site is None:
                raise
            if isinstance(exc, SiteError):
                if post is not None and not exc.path:
                    exc.path = post.rel
                site.report.add(exc.diagnostic())
            else:
                where = post.rel if post is not None else site.config.source or "site"
                about = f" on {post.rel}" if post is not None else ""
                site.report.error(
                    where,
                    None,
                    f"plugin '{impl.plugin_name}' raised {type(exc).__name__}{about} "
                    f"in {hook}: {exc}",
                )
            if post is not None:
                post.failed = True
            return None

    impl.function = isolated


def plugin_theme_folders(site: Any) -> list[Path]:
    """The theme-like folders plugins ship (``sitegen_theme_folder``), in hook order."""
    found = [Path(folder) for folder in call_hook(site, "sitegen_theme_folder", site=site)]
    return [folder for folder in found if folder.is_dir()]


def plugin_names(pm: pluggy.PluginManager) -> Iterable[str]:
    return [name for name, _ in pm.list_name_plugin()]
