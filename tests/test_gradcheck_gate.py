"""What the page shows is what the gate enforces: everything a post marks red is reported
by ``sitegen check`` (and ``--json``) and fails a strict build; ``inconclusive`` is shown
grey and fails neither."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from sitegen.cli import main

FRONT = "---\ntitle: {title}\n---\n\n"

INCONCLUSIVE = FRONT.format(title="Confident logits") + """
```python verify
z = rng.standard_normal((3, 4)); y = np.array([0, 2, 1]); z[np.arange(3), y] += 45
def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True)); return e / e.sum(axis=1, keepdims=True)
loss = lambda z: float(-np.mean(np.log(softmax(z)[np.arange(3), y])))
g = softmax(z); g[np.arange(3), y] -= 1
check_grad(loss, z, g / 3, name="∂L/∂z")
```
"""

SHAPE = FRONT.format(title="Stated shape") + r"""
Here $W \in \mathbb{R}^{1 \times 3}$.

```python verify
W = rng.standard_normal((3, 1))
check_grad(lambda W: 0.5 * float(np.sum(W ** 2)), W, W.copy(), name="∂L/∂W")
```
"""

EQ = FRONT.format(title="Missing label") + """
```python verify
w = rng.standard_normal(3)
check_grad(lambda w: float(w @ w), w, 2 * w, name="∂L/∂w", eq="eq:nowhere")
```
"""

OPTIONS = FRONT.format(title="Block options") + """
```python verify fold timeout=abc
w = rng.standard_normal(3)
check_grad(lambda w: float(w @ w), w, 2 * w, name="∂L/∂w")
```
"""

MEASURES = FRONT.format(title="Measures") + """
```python verify
theta = np.zeros(3)
est = np.array([0.02, -0.01, 0.03]); se = np.full(3, 0.01)
check_grad(lambda t: float(np.sum(t ** 2)), theta, est, stderr=se, name="policy gradient")
check_grad(lambda t: float(np.sum(t ** 2)), theta, np.array([0.0, 0.5, 0.0]), name="zero")
```
"""


def make_site(tmp_path: Path, posts: dict[str, str]) -> Path:
    root = tmp_path / "site"
    (root / "posts").mkdir(parents=True)
    (root / "sitegen.toml").write_text('title = "gate"\n[verify]\ntimeout = 30\n')
    for name, text in posts.items():
        (root / "posts" / name).write_text(text, encoding="utf-8")
    return root


def check_json(root: Path, capsys) -> tuple[int, dict]:
    code = main(["check", "-s", str(root), "--json"])
    return code, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(
    ("text", "kind", "status", "words"),
    [
        (SHAPE, "shape", "fail", "W is stated as 1×3"),
        (EQ, "eq", "error", "eq='eq:nowhere'"),
        (OPTIONS, "option", "error", "unknown option 'fold'"),
        (OPTIONS, "option", "error", "bad value for option timeout on a verify block: 'abc'"),
    ],
)
def test_what_the_page_marks_red_is_reported_and_fails_strict(tmp_path, capsys, text, kind,
                                                              status, words):
    root = make_site(tmp_path, {"2024-02-01-post.md": text})
    code, data = check_json(root, capsys)
    assert code == 1
    rows = [r for r in data["checks"] if r["kind"] == kind]
    assert any(r["status"] == status and words in r["message"] for r in rows), rows
    assert all(r["line"] for r in rows)  # each names its line
    assert main(["-q", "build", "-s", str(root), "--out", str(tmp_path / "out")]) == 1
    out2 = str(tmp_path / "out2")
    assert main(["-q", "build", "-s", str(root), "--out", out2, "--no-strict"]) == 0


def test_inconclusive_is_grey_everywhere_and_does_not_fail_strict(tmp_path, capsys):
    root = make_site(tmp_path, {"2024-02-02-confident.md": INCONCLUSIVE})
    code, data = check_json(root, capsys)
    assert code == 0
    assert [r["status"] for r in data["checks"]] == ["inconclusive"]
    assert data["summary"]["inconclusive"] == 1 and data["summary"]["failed"] == 0
    assert main(["check", "-s", str(root)]) == 0
    text = capsys.readouterr().out
    assert "∂L/∂z INCONCLUSIVE" in text and "cannot verify here" in text
    out = tmp_path / "out"
    assert main(["-q", "build", "-s", str(root), "--out", str(out)]) == 0
    html = (out / "2024/02/02/confident/index.html").read_text(encoding="utf-8")
    assert re.findall(r'class="sg-check" data-status="(\w+)"', html) == ["inconclusive"]
    assert 'class="sg-badge sg-badge-inconclusive"' in html
    report = json.loads((out / "verification.json").read_text(encoding="utf-8"))
    assert report["summary"]["inconclusive"] == 1
    assert report["posts"][0]["checks"][0]["status"] == "inconclusive"


def test_monte_carlo_rows_read_in_standard_errors_and_zero_references_as_absolute(
        tmp_path, capsys):
    root = make_site(tmp_path, {"2024-02-03-measures.md": MEASURES})
    assert main(["check", "-s", str(root)]) == 1
    text = capsys.readouterr().out
    mc = next(line for line in text.splitlines() if "policy gradient" in line)
    assert "standard errors off" in mc and "rel. error" not in mc
    zero = next(line for line in text.splitlines() if "zero FAILED" in line)
    assert "abs. error 5.0e-01" in zero and "rel. error" not in zero
