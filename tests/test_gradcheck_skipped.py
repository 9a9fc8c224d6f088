"""Blocks not run because an earlier block of the post failed are said in the terminal by
``build``, ``check`` and ``serve``, one ``path:line: note:`` line per block, at its fence."""

from __future__ import annotations

import json
import re
from pathlib import Path

from sitegen.cli import main
from sitegen.model import BuildOptions
from sitegen.server import start_preview

POST = """---
title: Three blocks
---

Text.

```python verify
x = np.ones(2)
y = x @ np.ones(3)
```

More text.

```python exec
print("second")
```

```python verify
z = 1
```
"""
REL = "posts/2024-01-01-three.md"
SKIPPED = [
    f"{REL}:14: note: exec block not run: the verify block at line 7 failed",
    f"{REL}:18: note: verify block not run: the verify block at line 7 failed",
]


def make_site(root: Path, text: str = POST) -> Path:
    (root / "posts").mkdir(parents=True)
    (root / "sitegen.toml").write_text('title = "Skipped"\nurl = "https://example.org"\n')
    (root / "posts" / "2024-01-01-three.md").write_text(text, encoding="utf-8")
    return root


def notes(text: str) -> list[str]:
    return [x for x in text.splitlines() if re.match(r"^\S+:\d+: note: ", x)]


def test_build_and_check_say_which_blocks_were_not_run(tmp_path, capsys):
    root = make_site(tmp_path / "site")
    assert main(["build", "-s", str(root), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert notes(err) == SKIPPED
    assert f"{REL}:9: error: verify block error: ValueError" in err
    page = (tmp_path / "out" / "2024/01/01/three/index.html").read_text()
    assert page.count("Not run: an earlier block failed.") == 2

    assert main(["check", "-s", str(root)]) == 1
    assert notes(capsys.readouterr().err) == SKIPPED
    assert main(["check", "-s", str(root), "--json"]) == 1
    document = json.loads(capsys.readouterr().out)
    assert [d for d in document["diagnostics"] if ": note: " in d] == SKIPPED


def test_a_passing_post_has_no_skipped_blocks(tmp_path, capsys):
    root = make_site(tmp_path / "site", POST.replace("np.ones(3)", "np.ones(2)"))
    assert main(["build", "-s", str(root), "--out", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert notes(err) == [] and "not run" not in err


def test_serve_says_skipped_blocks_and_forgets_them_once_fixed(tmp_path, capsys):
    root = make_site(tmp_path / "site")
    post = root / "posts" / "2024-01-01-three.md"
    preview = start_preview(root, BuildOptions(), port=0, watch=False)
    try:
        assert notes(capsys.readouterr().err) == SKIPPED
        post.write_text(POST.replace("np.ones(3)", "np.ones(2)"), encoding="utf-8")
        preview.on_batch({post})
        err = capsys.readouterr().err
        assert "rebuilt" in err and not [x for x in err.splitlines() if x.startswith(REL)]
        page = (preview.live.out / "2024/01/01/three/index.html").read_text()
        assert "Not run: an earlier block failed." not in page and "second" in page
    finally:
        preview.stop()
