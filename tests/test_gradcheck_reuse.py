"""A post whose code timed out is not run again on every save of another post.

A timeout is never cached for good (it may have been the machine's load), but within one
process's builds (one ``sitegen serve`` session) the post's error is reused until its
code or options change; a fresh process and ``--rerun`` run it again."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sitegen.build import build_site
from sitegen.model import BuildOptions
from sitegen.server import start_preview

SLOW = """---
title: Slow
---

Some prose.

```python verify timeout={timeout}
with open({marker!r}, "a") as f:
    f.write("ran\\n")
while True:
    pass
```
"""

PLAIN = "---\ntitle: Plain\n---\n\nNothing to check.\n"
SLOW_REL = "posts/2024-01-01-slow.md"


def make_site(root: Path, marker: Path) -> Path:
    (root / "posts").mkdir(parents=True)
    (root / "posts" / "2024-01-01-slow.md").write_text(
        SLOW.format(timeout=0.5, marker=str(marker)), encoding="utf-8"
    )
    (root / "posts" / "2024-01-02-plain.md").write_text(PLAIN, encoding="utf-8")
    return root


def runs(marker: Path) -> int:
    return marker.read_text().count("ran") if marker.exists() else 0


def test_serve_does_not_wait_for_the_same_timeout_on_every_save(tmp_path, capsys):
    marker = tmp_path / "runs.txt"  # outside the site: the block appends a line per run
    root = make_site(tmp_path / "site", marker)
    slow = root / "posts" / "2024-01-01-slow.md"
    plain = root / "posts" / "2024-01-02-plain.md"
    preview = start_preview(root, BuildOptions(), port=0, watch=False)
    try:
        assert runs(marker) == 1
        capsys.readouterr()

        plain.write_text(PLAIN.replace("Nothing", "Still nothing"), encoding="utf-8")
        preview.on_batch({plain})
        assert runs(marker) == 1  # an unrelated save: the slow post's code does not start
        assert SLOW_REL not in capsys.readouterr().err  # nor is its old error said again

        # saving the slow post itself without touching its code: its error is reused,
        # still said in the terminal and on the page, saying why it did not run
        slow.write_text(slow.read_text().replace("Some prose.", "Other prose."))
        preview.on_batch({slow})
        assert runs(marker) == 1
        said = [x for x in capsys.readouterr().err.splitlines() if x.startswith(SLOW_REL)]
        assert len(said) == 1 and ": error: " in said[0] and "timed out" in said[0]
        page = (preview.live.out / "2024/01/01/slow/index.html").read_text()
        assert "Other prose." in page and "timed out" in page
        assert "Kept for this session: the code runs again when it or its options" in page

        # an edit of its code runs it again, and so does a change of its options
        slow.write_text(slow.read_text().replace("while True:", "while 1:"))
        preview.on_batch({slow})
        assert runs(marker) == 2
        slow.write_text(slow.read_text().replace("timeout=0.5", "timeout=0.6"))
        preview.on_batch({slow})
        assert runs(marker) == 3
        page = (preview.live.out / "2024/01/01/slow/index.html").read_text()
        assert "timed out: the time limit is 0.6 s" in page
    finally:
        preview.stop()


def test_a_new_process_or_rerun_runs_a_timed_out_post_again(tmp_path):
    marker = tmp_path / "runs.txt"
    root = make_site(tmp_path / "site", marker)
    out = tmp_path / "out"

    def executed(**options) -> list[str]:
        return build_site(root, BuildOptions(out=out, **options)).site.data["gradcheck_executed"]

    assert executed() == [SLOW_REL]
    (root / "posts" / "2024-01-02-plain.md").write_text(PLAIN + "\nMore.\n", encoding="utf-8")
    assert executed() == []  # the same process: the timeout is reused
    assert runs(marker) == 1
    assert executed(rerun=True) == [SLOW_REL]
    assert runs(marker) == 2

    # another process (a later ``sitegen build``) runs it again: it may have been load
    build = subprocess.run(
        [sys.executable, "-m", "sitegen", "build", "--out", str(out)],
        cwd=root, capture_output=True, text=True, timeout=120,
    )
    assert build.returncode == 1
    assert f"{SLOW_REL}:10: error: " in build.stderr and "timed out" in build.stderr
    assert runs(marker) == 3
