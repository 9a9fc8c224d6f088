"""Subpaths and absolute URLs: a self-hosted MathJax below baseurl, warnings when `url`
is missing, and Atom ids that stay the same when the site moves."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

from sitegen.build import build_site
from sitegen.model import BuildOptions

BASIC = Path(__file__).parent / "sites" / "basic"
ATOM = "{http://www.w3.org/2005/Atom}"

MATH_POST = "---\ntitle: Math\ndate: 2024-03-01\n---\n\nSee $x^2$.\n"


def _site(tmp_path: Path, config: str) -> Path:
    root = tmp_path / "site"
    if root.exists():
        shutil.rmtree(root)
    shutil.copytree(BASIC, root)
    (root / "sitegen.toml").write_text(config)
    (root / "posts/2024-03-01-math.md").write_text(MATH_POST)
    return root


def _build(root: Path, tmp_path: Path, name: str):
    return build_site(root, BuildOptions(out=tmp_path / name, extra={"verify": False}))


def test_self_hosted_mathjax_gets_the_baseurl(tmp_path):
    root = _site(
        tmp_path,
        'title = "T"\nurl = "https://x.org"\nbaseurl = "/blog"\n'
        '[math]\nmathjax_url = "/assets/mathjax/tex-chtml.js"\n',
    )
    _build(root, tmp_path, "out")
    html = (tmp_path / "out/2024/03/01/math/index.html").read_text()
    assert '<script defer src="/blog/assets/mathjax/tex-chtml.js">' in html
    root = _site(tmp_path, 'title = "T"\nurl = "https://x.org"\nbaseurl = "/blog"\n'
                 '[math]\nmathjax_url = "//cdn.example/mj.js"\n')
    _build(root, tmp_path, "out2")
    html = (tmp_path / "out2/2024/03/01/math/index.html").read_text()
    assert '<script defer src="//cdn.example/mj.js">' in html  # another host: as written


def test_a_missing_url_is_a_warning_for_the_feed_and_the_sitemap(tmp_path):
    root = _site(tmp_path, 'title = "T"\n')
    warnings = [str(d) for d in _build(root, tmp_path, "out").site.report.warnings]
    assert any(w.startswith("sitegen.toml: warning: no 'url' set: the feed") for w in warnings)
    assert any(w.startswith("sitegen.toml: warning: no 'url' set: sitemap.xml") for w in warnings)
    root = _site(tmp_path, 'title = "T"\nurl = "https://x.org"\n')
    warnings = [str(d) for d in _build(root, tmp_path, "out2").site.report.warnings]
    assert not any("no 'url'" in w for w in warnings)


def _ids(path: Path) -> list[str]:
    feed = ET.parse(path).getroot()
    entries = [e.find(f"{ATOM}id").text for e in feed.iter(f"{ATOM}entry")]
    return [feed.find(f"{ATOM}id").text] + entries


def test_atom_ids_do_not_change_when_the_site_moves(tmp_path):
    ids = []
    for n, where in enumerate(['url = ""', 'url = "https://a.org"\nbaseurl = "/blog"',
                               'url = "https://b.net"']):
        root = _site(tmp_path, f'title = "T"\n{where}\n')
        _build(root, tmp_path, f"out{n}")
        ids.append(_ids(tmp_path / f"out{n}/feed.xml"))
    assert ids[0] == ids[1] == ids[2]
    assert len(set(ids[0])) == len(ids[0]) >= 3  # one per entry, and the feed's own
    assert all(re.fullmatch(r"urn:uuid:[0-9a-f-]{36}", i) for i in ids[0])
    # the feed's identity from [plugins.feeds] id keeps ids across a change of title too
    root = _site(tmp_path, 'title = "T"\n[plugins.feeds]\nid = "urn:uuid:1"\n')
    _build(root, tmp_path, "a")
    root = _site(tmp_path, 'title = "Renamed"\n[plugins.feeds]\nid = "urn:uuid:1"\n')
    _build(root, tmp_path, "b")
    assert _ids(tmp_path / "a/feed.xml") == _ids(tmp_path / "b/feed.xml") != ids[0]


def test_init_gives_the_feed_a_permanent_identity(tmp_path, capsys):
    import tomllib

    from sitegen.cli import main

    assert main(["init", "-q", str(tmp_path / "a")]) == 0
    assert main(["init", "-q", str(tmp_path / "b")]) == 0
    a = tomllib.loads((tmp_path / "a/sitegen.toml").read_text())["plugins"]["feeds"]["id"]
    b = tomllib.loads((tmp_path / "b/sitegen.toml").read_text())["plugins"]["feeds"]["id"]
    assert a.startswith("urn:uuid:") and a != b
