"""End to end on tests/sites/gradcheck: what a reader sees after ``sitegen build``."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sitegen.build import build_site
from sitegen.cli import main
from sitegen.model import BuildOptions

SITE = Path(__file__).parent / "sites" / "gradcheck"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("gc") / "site"
    shutil.copytree(SITE, root)
    out = root / "_site"
    result = build_site(root, BuildOptions(out=out, jobs=2))
    return root, out, result


def page(out: Path, day: str, slug: str) -> str:
    return (out / f"2024/01/{day}/{slug}/index.html").read_text(encoding="utf-8")


def statuses(html: str) -> list[str]:
    return re.findall(r'class="sg-check" data-status="(\w+)"', html)


def test_each_status_is_rendered_with_the_html_contract(built):
    _, out, _ = built
    assert statuses(page(out, "01", "verified")) == ["pass", "pass"]
    assert statuses(page(out, "02", "wrong")) == ["fail"]
    assert statuses(page(out, "03", "broken")) == ["error"]


def test_a_failed_check_shows_worst_entries_hint_and_heat_map(built):
    html = page(built[1], "02", "wrong")
    assert '<table class="sg-worst">' in html
    assert "factor N=8" in html  # the hint names the forgotten batch size
    assert "<svg" in html and 'class="sg-heat-bad"' in html
    assert "sg-badge-fail" in html and "1 of 1 check failed" in html


def test_equation_badges_link_to_checks_and_back(built):
    html = page(built[1], "01", "verified")
    # the equation labelled eq:dW carries a badge linking to check 1 …
    eq = re.search(r'<div class="sg-eq" id="(sg-eq-eq-dW)">.*?</div>\s*<span class="sg-eq-badges">'
                   r'(.*?)</span></div>', html, re.S)
    assert eq is not None
    assert 'href="#sg-check-1"' in eq.group(2) and "sg-badge-pass" in eq.group(2)
    # … and check 1 links back to that equation; \tag{7} works the same way
    assert re.search(r'id="sg-check-1">.*?href="#sg-eq-eq-dW"', html, re.S)
    assert 'id="sg-eq-7"' in html and re.search(r'id="sg-check-2">.*?href="#sg-eq-7"', html, re.S)


def test_unlinked_gradients_are_marked_and_counted(built):
    html = page(built[1], "01", "verified")
    assert html.count("sg-badge-unverified") == 1  # ∂L/∂X has no check
    assert "2 of 3 stated gradients verified" in html
    index = (built[1] / "index.html").read_text(encoding="utf-8")
    assert "2 of 3 stated gradients verified" in index  # the summary badge on the index


def test_a_stated_shape_that_disagrees_with_the_code_gets_a_red_badge(built):
    html = page(built[1], "01", "verified")
    shape_badges = re.findall(r'class="sg-badge sg-badge-shape" title="([^"]*)"', html)
    assert len(shape_badges) == 1  # [W]_{1×D}; W ∈ ℝ^{D×1} and X ∈ ℝ^{N×D} agree
    assert "1×D = 1×3" in shape_badges[0] and "3×1" in shape_badges[0]
    warnings = [str(d) for d in built[2].site.report.warnings]
    where = "posts/2024-01-01-verified.md:6: warning: stated shape"
    assert any(w.startswith(where) for w in warnings)


def test_dimension_table_uses_named_sizes_and_traces_the_gradient(built):
    html = page(built[1], "01", "verified")
    assert "<td><code>X</code></td><td>N×D</td><td>4×3</td>" in html
    assert "dW = X.T @ delta : (D×N)(N×1) → D×1, matching W" in html
    notebook = page(built[1], "05", "notebook")
    # no dims(): unique integer variables name the sizes; blocks share one namespace
    assert "<td><code>V</code></td><td>K×H</td>" in notebook
    assert "<td><code>U</code></td><td>H×H</td>" in notebook


def test_exec_output_hidden_code_and_skipped_blocks(built):
    html = page(built[1], "01", "verified")
    assert '<details class="sg-code sg-code-exec">' in html
    assert '<pre class="sg-output">delta is (4, 1)' in html
    broken = page(built[1], "03", "broken")
    assert 'File &quot;posts/2024-01-03-broken.md&quot;, line 9' in broken  # the .md line
    assert "never printed" in broken  # shown as code …
    assert "Not run: an earlier block failed." in broken  # … but not run


def test_code_inside_an_html_comment_is_not_run(built):
    html = page(built[1], "05", "notebook")
    assert statuses(html) == []  # the commented-out block would have raised
    assert html.count('class="sg-block"') == 2


def test_verify_false_shows_code_without_running_it(built):
    html = page(built[1], "04", "skipped")
    assert "this must never run" in html
    assert "sg-check" not in html and "sg-results" not in html


def test_seed_from_front_matter_makes_rng_reproducible(built):
    html = page(built[1], "05", "notebook")
    # computed in a child process: the test process, like the builder, stays numpy-free
    code = (
        "import numpy as np; rng = np.random.default_rng(3); rng.standard_normal((5, 2)); "
        "print(f'{rng.random():.12f}')"
    )
    expected = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert expected.stdout.strip() and expected.stdout.strip() in html


def test_verification_page_and_json(built):
    _, out, result = built
    data = json.loads((out / "verification.json").read_text(encoding="utf-8"))
    # the red stated-shape badge of the verified post is a failure of the page too
    assert data["summary"] == {"passed": 2, "failed": 2, "errors": 1, "inconclusive": 0}
    rows = {(r["source"], r["line"]): r for p in data["posts"] for r in p["checks"]}
    shape = rows[("posts/2024-01-01-verified.md", 6)]
    assert shape["kind"] == "shape" and shape["status"] == "fail" and "1×3" in shape["message"]
    dw = rows[("posts/2024-01-01-verified.md", 32)]
    assert dw["name"] == "∂L/∂W" and dw["status"] == "pass" and dw["equation"] == "eq:dW"
    assert dw["shapes"]["param"] == "3×1" and dw["max_rel_err"] < dw["tolerance"]
    assert dw["numpy"] and isinstance(dw["time"], float)
    assert rows[("posts/2024-01-02-wrong.md", 14)]["status"] == "fail"
    listing = (out / "verification/index.html").read_text(encoding="utf-8")
    assert statuses(listing).count("pass") == 2 and "A forgotten 1/N" in listing
    assert "verification" in result.site.failed


def test_rebuild_gives_the_same_bytes_from_the_cache(built, tmp_path):
    root, out, _ = built
    again = build_site(root, BuildOptions(out=tmp_path / "again", jobs=2))
    assert again.site.data["gradcheck_executed"] == []  # everything came from the cache
    for name in ("verification.json", "2024/01/01/verified/index.html"):
        assert (tmp_path / "again" / name).read_bytes() == (out / name).read_bytes()


def test_build_exit_code_is_1_on_failures_unless_no_strict(built, tmp_path):
    root = built[0]
    assert main(["-q", "build", "-s", str(root), "--out", str(tmp_path / "a")]) == 1
    assert main(["-q", "build", "-s", str(root), "--out", str(tmp_path / "b"), "--no-strict"]) == 0


def test_check_command_reports_like_pytest(built, capsys):
    root = built[0]
    assert main(["check", "-s", str(root)]) == 1
    text = capsys.readouterr().out
    assert "posts/2024-01-01-verified.md:32: ∂L/∂W PASSED" in text
    assert "posts/2024-01-02-wrong.md:14: ∂L/∂W FAILED" in text
    assert "posts/2024-01-03-broken.md:9: verify block ERROR" in text
    # the verified post's red stated-shape badge is reported (and fails) too
    assert "posts/2024-01-01-verified.md:6: stated shape FAILED" in text
    assert re.search(r"=+ 2 passed, 2 failed, 1 error in \d+\.\d s =+", text)


def test_check_command_on_one_post_and_as_json(built, capsys):
    root = built[0]
    post = root / "posts" / "2024-01-01-verified.md"
    # both checks pass, but the page shows a red stated-shape badge: the gate fails on it
    assert main(["check", "-s", str(root), "--json", str(post)]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["summary"]["passed"] == 2 and data["summary"]["failed"] == 1
    assert [r["kind"] for r in data["checks"] if r["status"] == "fail"] == ["shape"]
    assert {r["source"] for r in data["checks"]} == {"posts/2024-01-01-verified.md"}


def test_the_builder_process_never_imports_numpy(built, tmp_path):
    code = (
        "import sys\nfrom pathlib import Path\nfrom sitegen.build import build_site\n"
        "from sitegen.model import BuildOptions\n"
        f"root = Path({str(built[0])!r})\n"
        f"build_site(root, BuildOptions(out=Path({str(tmp_path / 'o')!r}), rerun=True,"
        " only=[root / 'posts' / '2024-01-01-verified.md']))\n"
        "import sitegen_plugins.gradcheck.runner  # the plugin was loaded and ran code\n"
        "print('numpy' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_check_command_rejects_a_path_that_does_not_exist(built, capsys):
    assert main(["check", "-s", str(built[0]), str(built[0] / "posts" / "nope.md")]) == 2
    assert "nope.md: error: no such file" in capsys.readouterr().err


def test_prose_edit_that_moves_blocks_runs_no_code_and_moves_the_lines(tmp_path):
    root = tmp_path / "site"
    shutil.copytree(SITE, root)
    first = build_site(root, BuildOptions(out=tmp_path / "one", jobs=2))
    assert "posts/2024-01-02-wrong.md" in first.site.data["gradcheck_executed"]
    post = root / "posts/2024-01-02-wrong.md"
    text = post.read_text(encoding="utf-8")
    head, sep, body = text.partition("---\n\n")  # after the front matter
    post.write_text(head + sep + "A new paragraph.\n\nAnd another one.\n\n" + body,
                    encoding="utf-8")
    second = build_site(root, BuildOptions(out=tmp_path / "two", jobs=2))
    assert second.site.data["gradcheck_executed"] == []  # only prose changed: no code ran
    rows = json.loads((tmp_path / "two/verification.json").read_text(encoding="utf-8"))
    lines = {c["line"] for p in rows["posts"] if p["source"].endswith("wrong.md")
             for c in p["checks"]}
    assert lines == {18}  # the failing check moved down by the four added lines


def test_a_prose_edit_leaves_the_summary_pages_alone(tmp_path):
    root = tmp_path / "site"
    shutil.copytree(SITE, root)
    out = root / "_site"
    build_site(root, BuildOptions(out=out, jobs=2))
    before = (out / "verification.json").read_bytes()
    post = root / "posts" / "2024-01-01-verified.md"
    post.write_text(post.read_text(encoding="utf-8") + "\nOne more sentence.\n", encoding="utf-8")
    edited = build_site(root, BuildOptions(out=out, jobs=2))
    assert edited.site.data["gradcheck_executed"] == []
    # the rows did not change: neither summary page is made again, and their bytes are
    # those of a clean build
    assert edited.rendered == ["2024/01/01/verified/index.html"]
    assert "verification.json" not in edited.changed
    assert (out / "verification.json").read_bytes() == before
    clean = build_site(root, BuildOptions(out=tmp_path / "clean", jobs=2))
    for name in ("verification.json", "verification/index.html"):
        assert (tmp_path / "clean" / name).read_bytes() == (out / name).read_bytes()
    assert clean.rendered  # a clean build renders every page


@pytest.mark.parametrize(
    "old, new, shown",
    [
        ("title: A forgotten 1/N", "title: A forgotten one over N", "A forgotten one over N"),
        ("dW = X.T @ (X @ W - y)", "dW = X.T @ (X @ W - y) / N", '"passed": 3'),
    ],
    ids=["title", "result"],
)
def test_a_changed_title_or_result_changes_the_summary_pages(tmp_path, old, new, shown):
    root = tmp_path / "site"
    shutil.copytree(SITE, root)
    out = root / "_site"
    build_site(root, BuildOptions(out=out, jobs=2))
    post = root / "posts" / "2024-01-02-wrong.md"
    post.write_text(post.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    edited = build_site(root, BuildOptions(out=out, jobs=2))
    assert "verification/index.html" in edited.rendered
    both = (out / "verification/index.html").read_text("utf-8") + (
        out / "verification.json"
    ).read_text("utf-8")
    assert shown in both
    clean = tmp_path / "clean"
    build_site(root, BuildOptions(out=clean, jobs=2))
    for name in ("verification.json", "verification/index.html"):
        assert (clean / name).read_bytes() == (out / name).read_bytes()


def test_a_prose_edit_starts_no_process(tmp_path):
    """The post's code notes each run in a file: a prose edit leaves the file as it was,
    and the build reports no process started (no warm parent, no post process)."""
    root = tmp_path / "site"
    (root / "posts").mkdir(parents=True)
    post = root / "posts" / "2024-01-05-noted.md"
    post.write_text(
        "---\ntitle: Noted\n---\n\nSome prose.\n\n```python verify\n"
        "with open('runs.txt', 'a') as f:\n    f.write('ran\\n')\n"
        "dims(D=3)\nx = rng.standard_normal(D)\n\ndef loss(w):\n    return 0.5 * (x @ w) ** 2\n\n"
        "w = rng.standard_normal(D)\ncheck_grad(loss, w, (x @ w) * x, name='dw')\n```\n",
        encoding="utf-8",
    )
    out = root / "_site"
    first = build_site(root, BuildOptions(out=out, jobs=1))
    assert first.site.data["gradcheck_started"] >= 1
    assert (root / "runs.txt").read_text() == "ran\n"
    post.write_text(post.read_text(encoding="utf-8").replace("Some prose.", "Other prose."),
                    encoding="utf-8")
    edited = build_site(root, BuildOptions(out=out, jobs=1))
    assert "Other prose." in (out / "2024/01/05/noted/index.html").read_text(encoding="utf-8")
    assert edited.site.data["gradcheck_executed"] == []
    assert edited.site.data["gradcheck_started"] == 0
    assert (root / "runs.txt").read_text() == "ran\n"  # the code did not run again
