"""References to missing labels and broken links: reported with file and line."""

from __future__ import annotations

import shutil
from pathlib import Path

from sitegen.build import build_site
from sitegen.cli import main
from sitegen.model import BuildOptions

BASIC = Path(__file__).parent / "sites" / "basic"

REFS = """---
title: Refs
date: 2024-02-01
---

Before the label: \\eqref{eq:a}.

$$
a = b \\label{eq:a}
$$

\\begin{align}
c &= d \\label{eq:c}
\\end{align}

Good: $\\ref{eq:c}$. Missing: \\eqref{eq:nope} and
$\\ref{eq:gone}$ on the next line.

<!-- \\eqref{eq:in-a-comment} -->

```
\\eqref{eq:in-code}
```
"""

LINKS = """---
title: Links
date: 2024-02-02
---

Fine: [first](/2024/01/02/first-post/), [relative](../../../../2024/01/03/second-post/),
[notes](/assets/notes.txt), [feed](/feed.xml), [about](/about/), [anchor](#x),
[outside](https://example.com/nope), [mail](mailto:a@b.c),
[a post]({% post_url 2024-01-02-first-post %}).

Broken: [gone](/2024/01/09/gone/) and
![chart](/assets/chart.png) and [typo]({% post_url 2024-01-02-frist-post %}).
"""


def _site(tmp_path: Path, extra_config: str = "") -> Path:
    root = tmp_path / "site"
    shutil.copytree(BASIC, root)
    (root / "posts/2024-02-01-refs.md").write_text(REFS)
    (root / "posts/2024-02-02-links.md").write_text(LINKS)
    if extra_config:
        with (root / "sitegen.toml").open("a") as fh:
            fh.write("\n" + extra_config)
    return root


def _messages(result, path: str) -> list[str]:
    return [str(d) for d in result.site.report.diagnostics if d.path == path]


def test_a_reference_to_a_missing_label_is_a_warning_at_its_line(tmp_path):
    options = BuildOptions(out=tmp_path / "out", extra={"verify": False})
    result = build_site(_site(tmp_path), options)
    refs = [m for m in _messages(result, "posts/2024-02-01-refs.md") if "label" in m]
    assert refs == [
        "posts/2024-02-01-refs.md:16: warning: \\eqref{eq:nope}: no equation on this page has "
        "\\label{eq:nope} (MathJax would show '(???)')",
        "posts/2024-02-01-refs.md:17: warning: \\ref{eq:gone}: no equation on this page has "
        "\\label{eq:gone} (MathJax would show '(???)')",
    ]


def test_broken_links_are_errors_in_a_strict_build(tmp_path, capsys):
    root = _site(tmp_path)
    assert main(["build", "-q", "--no-verify", "--source", str(root)]) == 1
    err = capsys.readouterr().err
    where = "posts/2024-02-02-links.md"
    assert f"{where}:11: error: broken link: /2024/01/09/gone/: no such page or file" in err
    assert f"{where}:12: error: broken image: /assets/chart.png: no such image" in err
    assert f"{where}:12: error: broken link: {{% post_url 2024-01-02-frist-post %}}" in err
    assert err.count("broken") == 3  # none of the good ones
    # the next build, with nothing changed, is not "up to date": it fails the same way
    assert main(["build", "-q", "--no-verify", "--source", str(root)]) == 1
    assert capsys.readouterr().err.count("broken") == 3
    # fixed: the image is added, the links are corrected
    (root / "assets/chart.png").write_bytes(b"png")
    post = root / "posts/2024-02-02-links.md"
    post.write_text(
        post.read_text().replace("/2024/01/09/gone/", "/tags/").replace("frist", "first")
    )
    assert main(["build", "-q", "--no-verify", "--source", str(root)]) == 0
    assert "broken" not in capsys.readouterr().err


def test_broken_links_are_warnings_without_strict_or_when_opted_out(tmp_path):
    root = _site(tmp_path)
    options = BuildOptions(out=tmp_path / "a", extra={"verify": False}, strict=False)
    loose = build_site(root, options)
    broken = [d for d in loose.site.report.diagnostics if "broken" in d.message]
    assert len(broken) == 2 and {d.level for d in broken} == {"warning"}
    assert not loose.site.report.errors  # the post_url to nothing stays the parser's warning
    shutil.rmtree(root)
    root = _site(tmp_path, "[plugins.links]\nstrict = false\n")
    opted = build_site(root, BuildOptions(out=tmp_path / "b", extra={"verify": False}))
    assert not [d for d in opted.site.report.errors if "broken" in d.message]
    assert len([d for d in opted.site.report.warnings if "broken" in d.message]) == 2


def test_links_below_a_baseurl(tmp_path):
    root = _site(tmp_path, "")
    config = root / "sitegen.toml"
    config.write_text(config.read_text().replace("url = ", 'baseurl = "/blog"\nurl = ', 1))
    (root / "posts/2024-02-02-links.md").write_text(
        "---\ntitle: L\n---\n\n[in](/blog/2024/01/02/first-post/) [out](/blog/nothing/)\n"
    )
    result = build_site(root, BuildOptions(out=tmp_path / "out", extra={"verify": False}))
    broken = [str(d) for d in result.site.report.errors if "broken" in d.message]
    assert broken == [
        "posts/2024-02-02-links.md:5: error: broken link: /blog/nothing/ (/nothing/): "
        "no such page or file in the site"
    ]


def test_serve_reports_broken_links_as_warnings_and_sees_a_fix(tmp_path, capsys):
    from sitegen.server import start_preview

    root = _site(tmp_path)
    preview = start_preview(root, BuildOptions(), port=0, watch=False, quiet=False)
    try:
        err = capsys.readouterr().err
        assert "posts/2024-02-02-links.md:11: warning: broken link: /2024/01/09/gone/" in err
        assert "error: broken" not in err
        post = root / "posts/2024-02-02-links.md"
        post.write_text(post.read_text().replace("/2024/01/09/gone/", "/2024/01/03/gone/"))
        outcome = preview.live.apply({post})
        broken = [str(d) for d in outcome.warnings if "broken" in d.message]
        assert any("broken link: /2024/01/03/gone/" in d for d in broken), broken
        assert not any("/2024/01/09/gone/" in d for d in broken)
    finally:
        preview.stop()


def test_links_in_raw_html_are_checked_too(tmp_path):
    root = _site(tmp_path)
    (root / "posts/2024-02-02-links.md").write_text(
        "---\ntitle: L\n---\n\n"
        '<div class="imgcap">\n<img src="/assets/notes.txt">\n<img src="/assets/gone.png">\n'
        "</div>\n\n"
        'Inline <a href="/about/">fine</a> and <a href="/nowhere/">not</a>.\n'
    )
    result = build_site(root, BuildOptions(out=tmp_path / "out", extra={"verify": False}))
    broken = [str(d) for d in result.site.report.errors if "broken" in d.message]
    assert broken == [
        "posts/2024-02-02-links.md:7: error: broken image: /assets/gone.png: "
        "no such image in the site",
        "posts/2024-02-02-links.md:10: error: broken link: /nowhere/: "
        "no such page or file in the site",
    ]
