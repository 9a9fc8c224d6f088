"""The 2016 corpus, with its notation declared and a check on its sigmoid derivation: the
derivation is read step by step and its wrong step (σ·σ written for σ(1−σ)) breaks."""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import CORPUS

from sitegen.build import build_site
from sitegen.model import BuildOptions

BLOG = CORPUS / "anujgupta82"
SIGMOID_POST = "_posts/2016-08-24-gradients-0.markdown"
CHECKS = '''

```python verify
x = np.linspace(-2.0, 2.0, 7)
sigma = lambda x: 1 / (1 + np.exp(-x))
a = 1.7
slope = sigma(x) * (1 - sigma(x))
check_grad(lambda x: np.sum(sigma(x)), x, slope, name="dσ/dx", eq="refA")
check_grad(lambda x: np.sum(sigma(x)), x, slope, name="dσ/dx, derived", eq="refC")
check_grad(lambda x: np.sum(sigma(a * x)), x, a * sigma(a * x) * (1 - sigma(a * x)),
           name="dσ(ax)/dx", eq="refD")
```
'''


# part 1: one example, scalars; its derivation of ∂ŷ/∂W and ∂L/∂W in chains of lines
CHECKS_1 = '''

```python verify
X = np.array(0.8); x = X; y = 0.3; W = np.array(-0.5)
sigma = lambda z: 1 / (1 + np.exp(-z))
y_hat = sigma(W * X)
L = lambda W: 0.5 * (y - sigma(W * X)) ** 2
dL_dy_hat = -(y - y_hat)
dy_hat_dW = y_hat * (1 - y_hat) * X
check_grad(L, W, dL_dy_hat * dy_hat_dW, name="∂L/∂W", eq="ref1")
check_grad(lambda y_hat: 0.5 * (y - y_hat) ** 2, y_hat, dL_dy_hat, name="∂L/∂ŷ", eq="ref2")
check_grad(lambda W: sigma(W * X), W, dy_hat_dW, name="∂ŷ/∂W", eq="ref3")
check_grad(L, W, (y_hat - y) * y_hat * (1 - y_hat) * x, name="∂L/∂W", eq="ref4")
```
'''
# part 3: a batch of four examples; ∂L/∂w_1 as a sum over examples, x_i^1 a component
CHECKS_3 = '''

```python verify
x = np.array([[0.5, -1.2, 0.3], [1.1, 0.4, -0.7], [-0.6, 0.9, 1.5], [0.2, -0.3, 0.8]])
X = x; y = np.array([[1.0], [0.0], [1.0], [0.0]]); W = np.array([[0.4], [-0.6], [0.25]])
w = W
sigma = lambda z: 1 / (1 + np.exp(-z))
y_hat = sigma(X @ W)
L = lambda W: 0.5 * np.sum((y - sigma(X @ W)) ** 2)
check_grad(L, W, X.T @ ((y_hat - y) * y_hat * (1 - y_hat)), name="∂L/∂W", eq="ref15")
```
'''


def declare(path, notation: str, checks: str = "") -> None:
    head, sep, body = path.read_text(encoding="utf-8").partition("\n---\n")
    path.write_text(f"{head}\nnotation: {notation}{sep}{body}{checks}", encoding="utf-8")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    if not BLOG.is_dir():
        pytest.skip("../shared/corpus is not here")
    root = tmp_path_factory.mktemp("corpus_eq") / "blog"
    shutil.copytree(BLOG, root)
    for path in root.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    extra = {"2016-08-26-gradients-1.markdown": CHECKS_1,
             "2016-08-30-gradients-3.markdown": CHECKS_3}
    for path in (root / "_posts").glob("2016-*-gradients-*.markdown"):
        # x_i^j is component j of example i
        declare(path, "{superscript: index}", extra.get(path.name, ""))
    # the sigmoid post multiplies numbers with "." and juxtaposition: entry-wise on arrays
    declare(root / SIGMOID_POST, "{product: entrywise}", CHECKS)
    result = build_site(root, BuildOptions(out=root / "_site", strict=True))
    return result, root / "_site"


def test_the_wrong_sigmoid_step_breaks(built):
    result, out = built
    report = json.loads((out / "verification.json").read_text(encoding="utf-8"))
    (post,) = [p for p in report["posts"] if p["source"].endswith("gradients-0.markdown")]
    statuses = {c["equation"]: c["equation_status"] for c in post["checks"]}
    assert statuses == {"refA": "verified", "refC": "verified", "refD": "verified"}
    (derivation,) = post["derivations"]
    steps = [(s["from"], s["to"], s["status"]) for s in derivation["steps"]]
    # d/dx on the right (lines 1-2) is not read; the algebra holds until the line that
    # writes 1 - e^{-x}/(1+e^{-x}) (which is σ) where 1 - σ was meant
    assert steps == [(1, 2, "unread"), (2, 3, "unread"), (3, 4, "holds"), (4, 5, "holds"),
                     (5, 6, "holds"), (6, 7, "breaks"), (7, 8, "breaks")]
    source = (out.parent / SIGMOID_POST).read_text(encoding="utf-8").splitlines()
    broken_line = derivation["steps"][5]["line"]
    assert r"\big( 1 - \frac{e^{-x}}{(1+e^{-x})} \big)" in source[broken_line - 1]
    page = (out / "2016/08/24/gradients-0/index.html").read_text(encoding="utf-8")
    assert "5 of 7 steps checked, step 6 → 7 breaks, step 7 → 8 breaks" in page
    assert 'data-step-status="breaks"' in page


def test_the_other_posts_read_as_written(built):
    _, out = built
    report = json.loads((out / "verification.json").read_text(encoding="utf-8"))
    found = {c["equation"]: c["equation_status"] for p in report["posts"]
             for c in p["checks"] if "gradients-1" in p["source"] or "gradients-3" in p["source"]}
    assert found == {"ref1": "verified", "ref2": "verified", "ref3": "verified",
                     "ref4": "verified", "ref15": "verified"}
    steps = [s["status"] for p in report["posts"] if "gradients-1" in p["source"]
             for d in p["derivations"] for s in d["steps"]]
    assert steps == ["holds"] * 4  # ∂ŷ/∂W in three lines, ∂L/∂W in three lines


def test_a_broken_step_fails_the_strict_build(built):
    result, _ = built
    assert "verification" in result.site.failed
    messages = [str(d) for d in result.site.report.diagnostics]
    assert any("step 6 → 7 breaks" in m and "gradients-0" in m for m in messages)
