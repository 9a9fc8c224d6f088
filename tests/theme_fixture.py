"""The theme fixture site (``tests/sites/theme``), copied and built: what the feeds,
sitemap and tags plugins add to a site is tested on it."""

from __future__ import annotations

import shutil
from pathlib import Path

from sitegen.build import build_site
from sitegen.model import BuildOptions

FIXTURE = Path(__file__).parent / "sites" / "theme"


def build_theme_fixture(tmp_path: Path, extra_config: str = "") -> tuple[Path, Path]:
    """(site root, output folder) of a fresh copy with ``extra_config`` appended to its
    sitegen.toml; the build must report no error."""
    root = tmp_path / "site"
    shutil.copytree(FIXTURE, root)
    if extra_config:
        config = root / "sitegen.toml"
        config.write_text(config.read_text(encoding="utf-8") + extra_config, encoding="utf-8")
    out = tmp_path / "out"
    result = build_site(root, BuildOptions(out=out))
    assert result.ok, [str(d) for d in result.site.report.diagnostics]
    return root, out
