"""``sitegen serve`` says what ``sitegen build`` says, as it happens: every error,
warning and note in ``path:line: level: message`` form (configuration warnings, failed
checks, verify blocks with syntax errors, timeouts, bad options), and a timed-out block
reads "timed out" in the terminal and on its page."""

from __future__ import annotations

import re
from pathlib import Path

from sitegen.model import BuildOptions
from sitegen.server import start_preview

WRONG = """---
title: A forgotten 1/N
---

$$
\\frac{\\partial L}{\\partial W} = \\frac{1}{N} X^\\top (X W - y) \\label{eq:mean}
$$

```python verify
dims(N=8, D=3)
X = rng.standard_normal((N, D)); y = rng.standard_normal((N, 1)); W = rng.standard_normal((D, 1))
loss = lambda W: 0.5 * np.mean((X @ W - y) ** 2)
dW = X.T @ (X @ W - y)
check_grad(loss, W, dW, name="dW", eq="eq:mean")
```
"""

SYNTAX = "---\ntitle: Syntax\n---\n\nText.\n\n```python verify\nx = (1,\n```\n"
SLOW = "---\ntitle: Slow\n---\n\n```python verify timeout=1\nwhile True:\n    pass\n```\n"
PLAIN = "---\ntitle: Plain\n---\n\nNothing to check.\n"


def make_site(root: Path) -> Path:
    (root / "posts").mkdir(parents=True)
    (root / "sitegen.toml").write_text(
        'title = "Reports"\ntitel = "typo"\nurl = "https://example.org"\n'
    )
    (root / "posts" / "2024-01-02-wrong.md").write_text(WRONG)
    (root / "posts" / "2024-01-03-syntax.md").write_text(SYNTAX)
    (root / "posts" / "2024-01-04-slow.md").write_text(SLOW)
    (root / "posts" / "2024-01-05-plain.md").write_text(PLAIN)
    return root


def lines(text: str) -> list[str]:
    """The diagnostics in the text: ``path:line: level: message`` lines."""
    form = re.compile(r"^[\w./-]+(:\d+)?: (error|warning|note): ")
    return [x for x in text.splitlines() if form.match(x)]


def test_serve_reports_what_build_reports_as_it_happens(tmp_path, capsys):
    root = make_site(tmp_path / "site")
    preview = start_preview(root, BuildOptions(), port=0, watch=False)
    try:
        first = capsys.readouterr().err
        said = lines(first)
        assert any(x.startswith("sitegen.toml:2: warning: ") and "title" in x for x in said)
        assert any(
            x.startswith("posts/2024-01-02-wrong.md:14: error: check dW failed") for x in said
        )
        assert any(
            x.startswith("posts/2024-01-03-syntax.md:8: error: ") and "SyntaxError" in x
            for x in said
        )
        assert any(
            x.startswith("posts/2024-01-04-slow.md:6: error: ") and "timed out" in x for x in said
        )
        assert "(3 errors, 1 warning)" in first
        page = (preview.live.out / "2024/01/04/slow/index.html").read_text()
        assert "timed out" in page and "verifying" not in page

        # a new warning (a bad option), said at the save that made it
        plain = root / "posts" / "2024-01-05-plain.md"
        plain.write_text(PLAIN + "\n```python verify seed=x\na = 1\n```\n")
        preview.on_batch({plain})
        second = capsys.readouterr().err
        assert lines(second) == [
            "posts/2024-01-05-plain.md:7: warning: bad value for option seed on a verify "
            "block: 'x' is not an integer"
        ]
        assert "(3 errors, 2 warnings)" in second

        # the check fixed: its error is gone from the counts; nothing old is repeated
        wrong = root / "posts" / "2024-01-02-wrong.md"
        wrong.write_text(WRONG.replace("dW = X.T", "dW = X.T / N"))
        preview.on_batch({wrong})
        third = capsys.readouterr().err
        assert lines(third) == []
        assert "(2 errors, 2 warnings)" in third

        # saving a failing file says its failures again, however old they are
        slow = root / "posts" / "2024-01-04-slow.md"
        slow.write_text(SLOW.replace("Slow", "Still slow"))
        preview.on_batch({slow})
        fourth = lines(capsys.readouterr().err)
        assert len(fourth) == 1 and fourth[0].startswith("posts/2024-01-04-slow.md:6: error: ")
        assert "timed out" in fourth[0]
        page = (preview.live.out / "2024/01/04/slow/index.html").read_text()
        assert "Still slow" in page and "timed out" in page
    finally:
        preview.stop()
