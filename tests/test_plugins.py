"""Finding plugins: built-ins, the site's own, and installed entry points (cached)."""

from __future__ import annotations

import importlib.metadata
import os
import random

import sitegen.plugins
from sitegen.plugins import installed_plugins, load_plugins, plugin_names, read_entry_points


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
    real = sitegen.plugins.read_entry_points

    def counted(*args):
        asked.append(args)
        return real(*args)

    monkeypatch.setattr(sitegen.plugins, "read_entry_points", counted)
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


def test_entry_points_read_from_metadata_folders_agree_with_importlib_metadata(
    tmp_path, monkeypatch
):
    # Random distributions over three sys.path entries: names that normalise alike
    # ("Fake.Plug", "fake_plug", "FAKE-plug"), egg-info and dist-info folders, other groups,
    # comments and blank lines, and folders without entry points.
    rng = random.Random(18)
    entries = [tmp_path / f"path{i}" for i in range(3)]
    for entry in entries:
        entry.mkdir()
    spellings = ["Fake.Plug", "fake_plug", "FAKE-plug", "other", "Third_One"]
    found_some = 0
    for trial in range(20):
        for entry in entries:
            for item in entry.iterdir():
                for f in item.iterdir():
                    f.unlink()
                item.rmdir()
            for d in range(rng.randint(0, 3)):
                name = rng.choice(spellings)
                suffix = rng.choice(
                    [f"-{trial}.{d}.dist-info", ".egg-info", f"-1.{d}-py3.egg-info"]
                )
                meta = entry / f"{name}{suffix}"
                if meta.exists():
                    continue
                meta.mkdir()
                (meta / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\n")
                if rng.random() < 0.8:
                    lines = ["# a comment", "", "[console_scripts]", f"tool{d} = m:main"]
                    lines += ["[sitegen.plugins]", f"  p{trial}{d} =  mod{d}.x : obj ", ""]
                    lines += [f"q{d}=mod_{d}"] if rng.random() < 0.5 else []
                    (meta / "entry_points.txt").write_text("\n".join(lines) + "\n")
        paths = [str(e) for e in entries]
        monkeypatch.setattr("sys.path", paths)
        folders = [(p, item) for p in paths for item in sorted(os.listdir(p))]
        # importlib.metadata lists a folder in os.listdir order; sort both the same way
        monkeypatch.setattr(os, "listdir", lambda p=".", _real=os.listdir: sorted(_real(p)))
        expected = [
            (ep.name, ep.value)
            for ep in importlib.metadata.entry_points(group="sitegen.plugins")
        ]
        assert read_entry_points(folders, "sitegen.plugins") == expected
        found_some += len(expected) > 1
        monkeypatch.undo()
    assert found_some > 5  # the trials did compare entry points


ORDERED_PLUGINS = {
    "alpha.py": '''
from sitegen.hooks import hookimpl


@hookimpl(tryfirst=True)
def sitegen_template_context(site, page, context):
    context.setdefault("order", []).append("alpha, first")


@hookimpl(wrapper=True)
def sitegen_extra_pages(site):
    pages = yield  # every other implementation's pages, in one list
    site.data["pages_seen"] = sum(len(p) for p in pages if p)
    return pages
''',
    "broken.py": '''
from sitegen.hooks import hookimpl


@hookimpl
def sitegen_template_context(site, page, context):
    if page.post is not None and page.post.slug == "a":
        raise ValueError("broken on purpose")
    context.setdefault("order", []).append("broken")
''',
}


def test_hooks_go_through_pluggy_with_wrappers_ordering_and_isolation(tmp_path):
    from sitegen.build import build_site
    from sitegen.model import BuildOptions

    root = tmp_path / "site"
    (root / "posts").mkdir(parents=True)
    (root / "plugins").mkdir()
    (root / "templates").mkdir()
    for name, text in ORDERED_PLUGINS.items():
        (root / "plugins" / name).write_text(text)
    (root / "templates/post.html").write_text("{{ order|join(' / ') }}\n")
    (root / "posts/2024-01-01-a.md").write_text("---\ntitle: A\n---\na\n")
    (root / "posts/2024-01-02-b.md").write_text("---\ntitle: B\n---\nb\n")
    result = build_site(root, BuildOptions(out=tmp_path / "out"))
    # the wrapper got the other implementations' results, not a generator object
    assert result.site.data["pages_seen"] > 0
    # tryfirst runs before the others; a failing plugin is named and fails its post alone
    assert (tmp_path / "out/2024/01/02/b/index.html").read_text() == "alpha, first / broken\n"
    [error] = result.site.report.errors
    assert error.path == "posts/2024-01-01-a.md"
    assert "plugin 'broken' raised ValueError on posts/2024-01-01-a.md" in error.message
    assert not (tmp_path / "out/2024/01/01/a/index.html").exists()


def test_a_site_plugin_imports_a_helper_module_beside_it(tmp_path):
    """A site's plugins folder is a package: a plugin imports the ``_`` helper beside it."""
    root = tmp_path / "site"
    (root / "posts").mkdir(parents=True)
    (root / "plugins").mkdir()
    (root / "plugins" / "_shared.py").write_text("GREETING = 'from the helper'\n")
    (root / "plugins" / "greeter.py").write_text(
        "from sitegen.hooks import hookimpl\n"
        "from ._shared import GREETING\n\n"
        "@hookimpl\n"
        "def sitegen_configure(site):\n"
        "    site.data['greeting'] = GREETING\n"
    )
    pm = load_plugins(root, {})
    assert "greeter" in plugin_names(pm)
    assert "_shared" not in plugin_names(pm)


def test_the_repository_root_builds_as_a_site_with_its_own_plugins_folder(tmp_path):
    """The repository root is itself a site whose plugins/ folder holds the built-ins."""
    import shutil
    from pathlib import Path

    from sitegen.build import build_site
    from sitegen.model import BuildOptions

    repo = Path(__file__).resolve().parents[1]
    root = tmp_path / "repo"
    for name in ("posts", "pages", "plugins", "themes"):
        if (repo / name).is_dir():
            shutil.copytree(repo / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(repo / "sitegen.toml", root / "sitegen.toml")
    result = build_site(root, BuildOptions())
    errors = [str(d) for d in result.site.report.diagnostics if d.level == "error"]
    assert errors == []
    assert (root / "_site" / "feed.xml").is_file() and (root / "_site" / "sitemap.xml").is_file()
