"""Finding plugins: built-ins, the site's own, and installed entry points (cached)."""

from __future__ import annotations

import importlib.metadata
import os

from sitegen.plugins import installed_plugins, load_plugins, plugin_names


def _install(folder, version="1.0", plugin="fakeplug"):
    """A distribution as pip leaves it on sys.path: a module and its metadata folder."""
    (folder / f"{plugin}_mod.py").write_text(
        "from sitegen.hooks import hookimpl\n\n"
        "@hookimpl\n"
        "def sitegen_configure(site):\n"
        "    site.data['fake'] = True\n"
    )
    meta = folder / f"{plugin}-{version}.dist-info"
    meta.mkdir()
    (meta / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {plugin}\nVersion: {version}\n")
    (meta / "entry_points.txt").write_text(f"[sitegen.plugins]\n{plugin} = {plugin}_mod\n")
    return meta


def test_an_installed_entry_point_plugin_is_loaded(tmp_path, monkeypatch):
    packages = tmp_path / "site-packages"
    packages.mkdir()
    _install(packages)
    monkeypatch.syspath_prepend(str(packages))
    root = tmp_path / "site"
    (root / "posts").mkdir(parents=True)
    pm = load_plugins(root, {})
    assert "fakeplug" in plugin_names(pm)
    assert ("fakeplug", "fakeplug_mod") in installed_plugins(
        root / ".sitegen-cache" / "entry-points.json"
    )


def test_entry_points_are_asked_for_again_only_when_packages_change(tmp_path, monkeypatch):
    packages = tmp_path / "site-packages"
    packages.mkdir()
    meta = _install(packages)
    monkeypatch.syspath_prepend(str(packages))
    cache = tmp_path / "cache" / "entry-points.json"
    assert ("fakeplug", "fakeplug_mod") in installed_plugins(cache)
    asked = []
    real = importlib.metadata.entry_points

    def counted(**kwargs):
        asked.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(importlib.metadata, "entry_points", counted)
    assert ("fakeplug", "fakeplug_mod") in installed_plugins(cache)
    assert asked == []  # answered from the cache
    # an upgrade: the metadata folder goes and a new one comes
    for item in meta.iterdir():
        item.unlink()
    meta.rmdir()
    _install(packages, version="2.0", plugin="otherplug")
    found = installed_plugins(cache)
    assert asked and ("otherplug", "otherplug_mod") in found
    assert ("fakeplug", "fakeplug_mod") not in found
    # a reinstall of the same version remakes the folder: a new modification time
    asked.clear()
    again = packages / "otherplug-2.0.dist-info"
    stat = again.stat()
    os.utime(again, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    installed_plugins(cache)
    assert asked
