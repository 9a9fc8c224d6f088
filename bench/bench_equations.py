"""Time added per check by reading and evaluating the equation it names (target: < 20 ms).

Two measurements:

* the example site: every check of ``posts/`` is run in a worker with ``--rerun``, and the
  ``equation_time`` each check records (reading, binding, evaluating, deciding, derivation
  steps, and the second run of the check when the TeX disagrees with the code) is summed
  from the result cache of that build;
* synthetic cases of growing size, timed in this process with ``read_check``: the sign
  typo of a logistic layer (the check runs twice), the right formula (it does not), an
  entry-wise statement over D indices, and an eight-line derivation.

With ``--corpus DIR`` it also counts, over a Jekyll blog's ``$$`` math with its index
notation declared, how many expressions of stated gradients the parser reads (no arrays:
reading only).

Run from the repository root:  python bench/bench_equations.py [--repeat N] [--corpus DIR]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from plugins.gradcheck import checker  # noqa: E402
from plugins.gradcheck.tex import parse, read_check, statement  # noqa: E402
from plugins.gradcheck.tex.refusals import Unread  # noqa: E402
from sitegen.cache import CacheStore  # noqa: E402
from sitegen.cli import main  # noqa: E402


def example_site() -> list[float]:
    """equation_time of every check of the example site, in seconds."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "site"
        root.mkdir()
        for name in ("posts", "pages"):
            shutil.copytree(ROOT / name, root / name)
        shutil.copy(ROOT / "sitegen.toml", root / "sitegen.toml")
        main(["-q", "build", "--rerun", "--drafts", "--no-strict", "-s", str(root)])
        times = []
        # each post's result is a JSON entry of the site's cache store
        for payload in CacheStore(root).stored():
            try:
                result = json.loads(payload)
            except ValueError:
                continue
            if not isinstance(result, dict):
                continue
            for block in result.get("blocks", []):
                for check in block.get("checks", []):
                    if "equation_time" in check and check.get("eq"):
                        times.append(float(check["equation_time"]))
        return times


def corpus_reading(folder: Path) -> tuple[int, int, int, Counter]:
    """Stated gradients in a Jekyll corpus's ``$$`` math (its index notation declared):
    statements, expressions in their chains, expressions parsed, refusals by reason."""
    statements = expressions = parsed = 0
    refused: Counter = Counter()
    for path in sorted(folder.rglob("*.markdown")) + sorted(folder.rglob("*.md")):
        source = path.read_text(encoding="utf-8", errors="replace")
        for match in re.finditer(r"\$\$(.*?)\$\$", source, re.S):
            rows = statement.rows(match.group(1))
            i = 0
            while i < len(rows):
                row = rows[i]
                wrt = None
                if len(row.parts) > 1 and row.parts[0]:
                    try:
                        wrt = statement.gradient_wrt(row.parts[0], True)
                    except Unread:
                        wrt = None
                if wrt is None:
                    i += 1
                    continue
                statements += 1
                chain, i = list(row.parts[1:]), i + 1
                while i < len(rows) and not rows[i].parts[0] and len(rows[i].parts) > 1:
                    chain += rows[i].parts[1:]
                    i += 1
                for text in chain:
                    expressions += 1
                    try:
                        parse.parse(text, True)
                        parsed += 1
                    except Unread as exc:
                        refused[exc.code] += 1
    return statements, expressions, parsed, refused


def logistic(n: int, d: int, typo: bool) -> tuple:
    rng = np.random.default_rng(0)
    X, Y, W = rng.standard_normal((n, d)), rng.random((n, 1)), rng.standard_normal((d, 1))

    def sigmoid(z):
        return 1 / (1 + np.exp(-z))

    def loss(W):
        return 0.5 * np.sum((sigmoid(X @ W) - Y) ** 2) / n

    Y_hat = sigmoid(X @ W)
    dW = X.T @ ((Y_hat - Y) * Y_hat * (1 - Y_hat)) / n
    diff = r"(Y - \hat Y)" if typo else r"(\hat Y - Y)"
    tex = (r"\frac{\partial L}{\partial W} = \frac{1}{N} X^\top \big(" + diff +
           r" \odot \hat Y \odot (1-\hat Y)\big) \label{e}")
    ns = {"X": X, "Y": Y, "W": W, "Y_hat": Y_hat, "N": n, "sigmoid": sigmoid}
    return tex, loss, W, dW, ns


def entrywise(d: int) -> tuple:
    rng = np.random.default_rng(1)
    w, x = rng.standard_normal(d), rng.standard_normal(d)

    def f(w):
        return float(np.sum(w * x) ** 2)

    tex = r"\frac{\partial L}{\partial w_j} = 2 \Big(\sum_{i=1}^{D} w_i x_i\Big) x_j \label{e}"
    return tex, f, w, 2 * np.sum(w * x) * x, {"w": w, "x": x, "D": d}


def derivation(n: int) -> tuple:
    z = np.linspace(-2, 2, n)

    def sigmoid(v):
        return 1 / (1 + np.exp(-v))

    lines = [r"\frac{e^{-z}}{(1+e^{-z})^2}",
             r"\frac{1}{1+e^{-z}} \odot \frac{e^{-z}}{1+e^{-z}}",
             r"\frac{1}{1+e^{-z}} \odot \frac{1 + e^{-z} - 1}{1+e^{-z}}",
             r"\frac{1}{1+e^{-z}} \odot \Big(1 - \frac{1}{1+e^{-z}}\Big)"] * 2
    tex = (r"\begin{align} \frac{d}{dz}\sigma(z) &= " + r" \\ &= ".join(lines) +
           r" \\ &= \sigma(z) \odot (1-\sigma(z)) \label{e} \end{align}")

    def f(v):
        return float(np.sum(sigmoid(v)))

    grad = sigmoid(z) * (1 - sigmoid(z))
    return tex, f, z, grad, {"z": z, "sigmoid": sigmoid}


def time_case(case: tuple, repeat: int) -> tuple[float, str]:
    tex, f, x, grad, ns = case
    options = {"eq": "e"}
    record = checker.check_grad(f, x, grad, **options).to_dict()
    job = {"equations": {"e": tex}}
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        row = read_check(job, record, checker.check_grad, (f, x, grad), options, ns, None)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples), row["equation_status"]


def main_bench() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--corpus", type=Path, help="a Jekyll blog: count what its TeX reads")
    args = parser.parse_args()
    if args.corpus:
        statements, expressions, parsed, refused = corpus_reading(args.corpus)
        print(f"corpus: {statements} stated gradients, {expressions} expressions in their "
              f"chains, {parsed} parsed; not parsed: {dict(refused.most_common())}")
    times = example_site()
    if times:
        print(f"example site: {len(times)} checks naming an equation; equation time per check: "
              f"median {statistics.median(times) * 1e3:.1f} ms, max {max(times) * 1e3:.1f} ms, "
              f"total {sum(times) * 1e3:.0f} ms")
    cases = [
        ("logistic N=8 D=3, right", logistic(8, 3, False)),
        ("logistic N=8 D=3, sign typo (check runs twice)", logistic(8, 3, True)),
        ("logistic N=256 D=64, right", logistic(256, 64, False)),
        ("logistic N=256 D=64, sign typo (check runs twice)", logistic(256, 64, True)),
        ("entry-wise, D=10 indices", entrywise(10)),
        ("entry-wise, D=100 indices", entrywise(100)),
        ("derivation, 9 lines", derivation(50)),
    ]
    for name, case in cases:
        seconds, status = time_case(case, args.repeat)
        print(f"{name:52s} {seconds * 1e3:7.2f} ms  ({status})")


if __name__ == "__main__":
    main_bench()
