"""SPEC §9, verify row: code that loops, exits, crashes, exhausts memory or floods output
gets an error badge naming the reason, and the other post of the same site still builds."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from sitegen.build import build_site
from sitegen.model import BuildOptions

INVALID = Path(__file__).parent / "sites_invalid"
BAD = "posts/2024-01-02-bad.md"

# fixture site, words the error must contain, post lines it may name (the loop stops at
# its header or its body; os._exit leaves no trace of where, so the block's first line)
CASES = [
    ("verify_infinite_loop", "timed out", (9, 10)),
    ("verify_sys_exit", "sys.exit(3)", (10,)),
    ("verify_os_exit", "exited with status 7", (8,)),
    ("verify_segfault", "segmentation fault", (10,)),
    ("verify_memory_bomb", "out of memory", (9,)),
    ("verify_huge_output", "printed more than", (10,)),
]


@pytest.mark.parametrize(("name", "words", "line"), CASES, ids=[c[0] for c in CASES])
def test_misbehaving_code_gets_an_error_badge_and_the_site_builds(tmp_path, name, words, line):
    root = tmp_path / name
    shutil.copytree(INVALID / name, root)
    out = tmp_path / "out"
    result = build_site(root, BuildOptions(out=out, jobs=2))

    bad = (out / "2024/01/02/bad/index.html").read_text()
    assert 'class="sg-check" data-status="error"' in bad
    assert words in bad
    assert "sg-badge-error" in bad  # the post's summary badge says so too

    good = (out / "2024/01/01/good/index.html").read_text()
    assert "This post is fine" in good
    assert 'data-status="pass"' in good and 'data-status="error"' not in good

    assert "verification" in result.site.failed
    report = json.loads((out / "verification.json").read_text())
    rows = {p["source"]: p["checks"] for p in report["posts"]}
    (error,) = rows[BAD]
    assert error["status"] == "error" and words in (error["message"] + error["detail"])
    assert error["line"] in line
    warnings = [str(d) for d in result.site.report.diagnostics if d.path == BAD]
    assert any(words in w for w in warnings), warnings
