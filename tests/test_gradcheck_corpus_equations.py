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
    for path in (root / "_posts").glob("2016-*-gradients-*.markdown"):
        declare(path, "{superscript: index}")  # x_i^j is component j of example i
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


def test_a_broken_step_fails_the_strict_build(built):
    result, _ = built
    assert result.site.data.get("verification_failed")
    messages = [str(d) for d in result.site.report.diagnostics]
    assert any("step 6 → 7 breaks" in m and "gradients-0" in m for m in messages)
