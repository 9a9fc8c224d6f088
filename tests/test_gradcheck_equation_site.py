"""End to end: the equation as written, on a built page, in verification.json and in
``sitegen check --json``; a strict build fails on a contradicting equation or a broken step."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from sitegen.cli import main

SETUP = '''```python verify
dims(N=6, D=3)
X = rng.standard_normal((N, D)); Y = rng.random((N, 1)); W = rng.standard_normal((D, 1))
sigmoid = lambda z: 1 / (1 + np.exp(-z))
def loss(W):
    return 0.5 * np.sum((sigmoid(X @ W) - Y) ** 2) / N
Y_hat = sigmoid(X @ W)
dW = X.T @ ((Y_hat - Y) * Y_hat * (1 - Y_hat)) / N
check_grad(loss, W, dW, name="∂L/∂W", eq="eq:dW")
```
'''

POSTS = {
    "2024-01-01-right.md": r'''---
title: Right
---
$$
\frac{\partial L}{\partial W} =
\frac{1}{N} X^\top \big((\hat Y - Y) \odot \hat Y \odot (1-\hat Y)\big)
\label{eq:dW}
$$

''' + SETUP,
    "2024-01-02-typo.md": r'''---
title: Typo
---
$$
\frac{\partial L}{\partial W} =
\frac{1}{N} X^\top \big((Y - \hat Y) \odot \hat Y \odot (1-\hat Y)\big)
\label{eq:dW}
$$

''' + SETUP,
    "2024-01-03-unread.md": r'''---
title: Unread
---
$$
\frac{\partial L}{\partial W} = \Phi^\top \delta \label{eq:dW}
$$

''' + SETUP,
    "2024-01-04-steps.md": r'''---
title: Steps
---
\begin{align}
\frac{\partial L}{\partial W}
&= \frac{1}{N} X^\top \big((\hat Y - Y) \odot \hat Y \odot (1-\hat Y)\big) \\
&= \frac{1}{N} X^\top \big((\hat Y - Y) \odot \hat Y \odot \hat Y\big) \\
&= \frac{1}{N} X^\top \big((\hat Y - Y) \odot \hat Y \odot (1-\hat Y)\big) \label{eq:dW}
\end{align}

''' + SETUP,
}


def make_site(root: Path, names: list[str]) -> Path:
    (root / "posts").mkdir(parents=True)
    (root / "sitegen.toml").write_text('title = "eq"\n[verify]\ntimeout = 30\n')
    for name in names:
        (root / "posts" / name).write_text(POSTS[name], encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = make_site(tmp_path_factory.mktemp("eqsite") / "site", list(POSTS))
    code = main(["-q", "build", "-s", str(root)])
    return root, root / "_site", code


def html(out: Path, day: str, slug: str) -> str:
    return (out / f"2024/01/{day}/{slug}/index.html").read_text(encoding="utf-8")


def eq_statuses(page: str) -> list[str]:
    return re.findall(r'data-eq-status="(\w+)" class="sg-badge', page)


def test_badges_carry_the_equation_status(built):
    _, out, code = built
    assert code == 1  # the typo and the broken step fail the (strict) build
    assert eq_statuses(html(out, "01", "right")) == ["verified"]
    assert "equation verified" in html(out, "01", "right")
    typo = html(out, "02", "typo")
    assert eq_statuses(typo) == ["contradicts"]
    assert "equation contradicts the check" in typo and '<table class="sg-worst">' in typo
    unread = html(out, "03", "unread")
    assert eq_statuses(unread) == ["unread"]
    assert "code verified; equation not machine-read" in unread and "Phi" in unread


def test_a_derivation_is_checked_step_by_step(built):
    page = html(built[1], "04", "steps")
    assert re.findall(r'class="sg-step" data-step-status="(\w+)"', page) == ["breaks", "breaks"]
    assert "2 of 2 steps checked, step 1 → 2 breaks, step 2 → 3 breaks" in page
    assert eq_statuses(page) == ["verified"]  # the labelled last line is right


def test_verification_json_has_equation_fields_and_derivations(built):
    report = json.loads((built[1] / "verification.json").read_text(encoding="utf-8"))
    by_source = {p["source"].split("/")[-1]: p for p in report["posts"]}
    assert by_source["2024-01-01-right.md"]["checks"][0]["equation_status"] == "verified"
    typo = by_source["2024-01-02-typo.md"]["checks"][0]
    assert typo["equation_status"] == "contradicts" and typo["status"] == "pass"
    assert "Phi" in by_source["2024-01-03-unread.md"]["checks"][0]["equation_reason"]
    (derivation,) = by_source["2024-01-04-steps.md"]["derivations"]
    assert derivation["equation"] == "eq:dW" and derivation["line"] == 4
    assert [(s["line"], s["status"]) for s in derivation["steps"]] == [(7, "breaks"),
                                                                       (8, "breaks")]
    assert by_source["2024-01-01-right.md"]["derivations"] == []


def test_sitegen_check_json_rows_have_equation_status(built, capsys):
    root = built[0]
    main(["check", "--json", "-s", str(root)])
    rows = json.loads(capsys.readouterr().out)["checks"]
    assert sorted(r["equation_status"] for r in rows) == [
        "contradicts", "unread", "verified", "verified"]
    assert all("equation_reason" in r for r in rows)


def test_sitegen_check_fails_on_a_contradicting_equation(tmp_path, capsys):
    right = make_site(tmp_path / "right", ["2024-01-01-right.md"])
    assert main(["check", "-s", str(right)]) == 0
    typo = make_site(tmp_path / "typo", ["2024-01-02-typo.md"])
    assert main(["check", "-s", str(typo)]) == 1
    assert "equation contradicts the check" in capsys.readouterr().out
    steps = make_site(tmp_path / "steps", ["2024-01-04-steps.md"])
    assert main(["check", "-s", str(steps)]) == 1
    assert "step 1 → 2 breaks" in capsys.readouterr().out


@pytest.mark.parametrize("name,fails", [("2024-01-01-right.md", False),
                                        ("2024-01-02-typo.md", True),
                                        ("2024-01-03-unread.md", False),
                                        ("2024-01-04-steps.md", True)])
def test_strict_builds_fail_on_contradicts_and_broken_steps(tmp_path, name, fails, capsys):
    root = make_site(tmp_path / "s", [name])
    assert main(["build", "-s", str(root)]) == (1 if fails else 0)
    err = capsys.readouterr().err
    assert ("contradicts" in err or "breaks" in err) == fails
    assert main(["-q", "build", "--no-strict", "-s", str(root)]) == 0


def test_every_row_has_an_equation_status_even_a_block_error(tmp_path):
    root = make_site(tmp_path / "s", ["2024-01-01-right.md"])
    (root / "posts" / "2024-01-05-broken.md").write_text(
        "---\ntitle: Broken\n---\n```python verify\nraise ValueError('no')\n```\n",
        encoding="utf-8")
    main(["-q", "build", "--no-strict", "-s", str(root)])
    report = json.loads((root / "_site" / "verification.json").read_text(encoding="utf-8"))
    rows = [row for post in report["posts"] for row in post["checks"]]
    assert {row["kind"] for row in rows} == {"check", "error"}
    assert all(row["equation_status"] in ("verified", "contradicts", "unread", "none")
               and isinstance(row["equation_reason"], str) for row in rows)


def test_an_unknown_notation_is_warned_about(tmp_path, capsys):
    root = make_site(tmp_path / "s", ["2024-01-01-right.md"])
    post = root / "posts" / "2024-01-01-right.md"
    post.write_text(post.read_text().replace("title: Right", "title: Right\nnotation: "
                                             "{superscript: exponent}"), encoding="utf-8")
    assert main(["build", "-s", str(root)]) == 0
    err = capsys.readouterr().err
    assert "2024-01-01-right.md" in err and "notation: unknown superscript: exponent" in err
