"""The benchmark's corpus generator: deterministic, the right size, valid for every peer."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest
import yaml

BENCH = Path(__file__).resolve().parents[1] / "bench"


def _load_make_corpus() -> ModuleType:
    # bench/ is a folder of scripts, not a package: load the module from its file.
    spec = importlib.util.spec_from_file_location("bench_make_corpus", BENCH / "make_corpus.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up while decorating
    spec.loader.exec_module(module)
    return module


mc = _load_make_corpus()


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def test_same_seed_gives_same_bytes(tmp_path: Path) -> None:
    mc.write_corpus(tmp_path / "a", 12)
    mc.write_corpus(tmp_path / "b", 12)
    assert _tree(tmp_path / "a") == _tree(tmp_path / "b")


def test_other_seed_gives_other_posts() -> None:
    assert mc.make_post(3, seed=0).body != mc.make_post(3, seed=1).body


def test_small_corpus_is_prefix_of_large_one() -> None:
    # A post depends only on (seed, index), so N=100 and N=1000 share their first posts.
    assert mc.make_post(7) == mc.make_post(7)
    assert [mc.make_post(i).slug for i in range(3)] == [
        "softmax-00000", "batchnorm-00001", "two-layer-00002"]


def test_posts_are_about_seven_kilobytes() -> None:
    sizes = [len(mc.render_post("sitegen", mc.make_post(i)).encode()) for i in range(50)]
    mean = sum(sizes) / len(sizes)
    assert 6000 <= mean <= 8000, mean
    assert min(sizes) > 5000


def test_post_holds_every_feature_the_benchmark_promises() -> None:
    body = mc.make_post(0).body
    assert re.search(r"(?<![\\$])\$[^$\s][^$]*\$(?!\$)", body), "inline $...$"
    assert "\\\\(" in body and "\\\\)" in body, "kramdown-style \\\\( \\\\)"
    assert re.search(r"^\$\$\n\\begin\{align\}", body, re.M), "$$ display align block"
    assert re.search(r"^\| :--- \| :---: \| ---: \|$", body, re.M), "GFM table"
    assert "```python\n" in body, "fenced code block"
    assert re.search(r"^## ", body, re.M) and re.search(r"^### ", body, re.M), "headings"
    assert "\\eqref{" in body and "\\label{" in body
    assert "python verify" not in body


def test_verify_flag_adds_one_verify_block() -> None:
    body = mc.make_post(0, verify=True).body
    assert body.count("```python verify\n") == 1
    assert "check_grad(" in body


@pytest.mark.parametrize("peer", mc.ALL_PEERS)
def test_each_peer_layout(tmp_path: Path, peer: str) -> None:
    roots = mc.write_corpus(tmp_path, 5, [peer])
    root = roots[peer]
    skeleton = {
        "sitegen": ["sitegen.toml"],
        "jekyll": ["_config.yml", "_layouts/post.html", "_layouts/default.html", "index.html"],
        "hugo": ["hugo.toml", "layouts/_default/single.html", "layouts/_default/list.html"],
        "pelican": ["pelicanconf.py"],
        "mkdocs": ["mkdocs.yml", "docs/index.md"],
    }[peer]
    for rel in skeleton:
        assert (root / rel).is_file(), rel
    posts = [mc.post_path(peer, root, mc.make_post(i)) for i in range(5)]
    assert all(p.is_file() for p in posts)
    text = posts[0].read_text(encoding="utf-8")
    if peer == "pelican":
        assert text.startswith("Title: ") and "\nDate: 2020-01-06 09:30\n" in text
    else:
        front = yaml.safe_load(text.split("---\n")[1])
        assert front["title"] == "Softmax and cross-entropy, note 0"
        assert front["mathjax"] is True and front["tags"] == ["gradients", "softmax"]
        assert (front.get("layout") == "post") == (peer == "jekyll")


def test_jekyll_and_sitegen_file_names_carry_the_date(tmp_path: Path) -> None:
    roots = mc.write_corpus(tmp_path, 2, ["sitegen", "jekyll"])
    for peer in ("sitegen", "jekyll"):
        names = sorted(p.name for p in mc.post_path(peer, roots[peer], mc.make_post(0))
                       .parent.iterdir())
        assert names == ["2020-01-06-softmax-00000.md", "2020-01-07-batchnorm-00001.md"]


def test_rewriting_a_smaller_corpus_drops_stale_posts(tmp_path: Path) -> None:
    mc.write_corpus(tmp_path, 6, ["sitegen"])
    mc.write_corpus(tmp_path, 3, ["sitegen"])
    assert len(list((tmp_path / "sitegen" / "posts").iterdir())) == 3


def test_unknown_peer_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown peer"):
        mc.write_corpus(tmp_path, 1, ["zola"])
