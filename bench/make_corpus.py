"""Generate a synthetic math-blog corpus in the layout each benchmarked generator expects.

Usage::

    python bench/make_corpus.py --n 1000 --out /tmp/corpus [--peers sitegen,hugo] [--verify]

Every post is derived from ``(seed, index)`` alone, so the corpus is reproducible byte for
byte and the first 100 posts of a 1,000-post corpus equal a 100-post corpus. Each peer gets
the same post bodies; only the front matter syntax and the site skeleton differ.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

ALL_PEERS = ("sitegen", "jekyll", "hugo", "pelican", "mkdocs")
BASE_DATE = dt.datetime(2020, 1, 6, 9, 30, 0)

TOPICS = (
    ("softmax", "Softmax and cross-entropy"),
    ("batchnorm", "Batch normalisation"),
    ("two-layer", "A two-layer network"),
    ("logistic", "Logistic regression"),
    ("policy", "Policy gradients"),
    ("layernorm", "Layer normalisation"),
    ("attention", "Scaled dot-product attention"),
    ("conv", "One-dimensional convolution"),
    ("rnn", "Backprop through time"),
    ("hinge", "The hinge loss"),
)

WORDS = (
    "gradient loss weight layer input output matrix vector scalar batch derivative chain "
    "rule shape column row entry product sum mean variance error signal update step rate "
    "network hidden activation sigmoid linear bias parameter estimate sample expectation "
    "term factor notation transpose identity trace we the a of to and is that this every "
    "each which when then so because note here now first next finally simply carefully "
    "compute write follow obtain check expand collect apply reuse keep drop stack"
).split()

MATRICES = ("W", "X", "A", "B", "H", "Z", "V", "U")
SIZES = ("N", "D", "H", "K", "M", "C")
GREEK = ("alpha", "beta", "gamma", "delta", "eta", "lambda", "mu", "sigma", "theta")
INDICES = ("i", "j", "k", "l", "n", "t")


@dataclass(frozen=True)
class Post:
    """One synthetic post, independent of the layout it is written in."""

    index: int
    slug: str
    title: str
    date: dt.datetime
    tags: tuple[str, str]
    body: str

    @property
    def day(self) -> str:
        return self.date.strftime("%Y-%m-%d")


def _sentence(rng: random.Random, inline: Callable[[], str]) -> str:
    # Prose interleaved with inline math, roughly one formula per sentence.
    words = [rng.choice(WORDS) for _ in range(rng.randint(7, 14))]
    words.insert(rng.randint(1, len(words)), inline())
    text = " ".join(words)
    return text[0].upper() + text[1:] + "."


def _inline_math(rng: random.Random) -> str:
    # Indices and exponents vary over wide ranges so that formulas repeat across posts
    # about as rarely as in a real blog (a memo of formulas must not profit from a small
    # pool of them).
    m, n = rng.choice(MATRICES), rng.choice(MATRICES)
    a, b = rng.sample(SIZES, 2)
    g = rng.choice(GREEK)
    i, j = rng.sample(INDICES, 2)
    forms = (
        f"${m}_{{{i}{j}}}^{{({rng.randint(1, 60)})}}$",
        f"$\\{g}_{{{rng.randint(1, 99)}}}$",
        f"\\\\({m}_{rng.randint(1, 9)} \\in \\mathbb{{R}}^{{{a} \\times {b}}}\\\\)",
        f"\\\\(\\frac{{\\partial L_{rng.randint(1, 30)}}}{{\\partial {m}}}\\\\)",
        f"$$[{n}]_{{\\scriptscriptstyle {a}\\times {b}}}$$",
        f"$\\hat{{y}}_{i} = \\sigma(z_{i} + {rng.randint(1, 40)})$",
        f"\\\\(x^{rng.randint(1, 20)} ~~x^{rng.randint(21, 60)}\\\\)",
        f"$\\sum_{{{i}=1}}^{{{a}}} {m}_{{{j}{i}}} {n}_{{{i}{rng.randint(1, 9)}}}$",
    )
    return rng.choice(forms)


def _display_align(rng: random.Random, label: str) -> str:
    m, n = rng.sample(MATRICES, 2)
    g = rng.choice(GREEK)
    return (
        "$$\n\\begin{align}\n"
        f"\\frac{{\\partial L}}{{\\partial {m}}} &= {n}^\\top \\{g} "
        f"\\label{{{label}-a}} \\tag{{{label}.1}} \\\\\n"
        f"\\{g} &= (\\hat{{y}} - y) * \\sigma'(z) \\label{{{label}-b}} \\tag{{{label}.2}} \\\\\n"
        f"\\nabla_{{{m}}} L &= \\sum_{{i=1}}^{{N}} x_i \\{g}_i^\\top\n"
        "\\end{align}\n$$"
    )


def _display_simple(rng: random.Random) -> str:
    m = rng.choice(MATRICES)
    a, b = rng.sample(SIZES, 2)
    return (
        "$$\n"
        f"L = \\frac{{1}}{{2 {a}}} \\sum_{{i=1}}^{{{a}}} \\| y_i - {m} x_i \\|^2 "
        f"\\quad {m} \\in \\mathbb{{R}}^{{{a} \\times {b}}}\n"
        "$$"
    )


def _bare_env(rng: random.Random) -> str:
    m = rng.choice(MATRICES)
    return (
        "\\begin{equation}\n"
        f"\\nabla_{{{m}}} \\mathcal{{L}} = \\mathbb{{E}}_{{x \\sim p}} "
        f"\\left[ \\nabla_{{{m}}} \\log p(x \\mid {m}) f(x) \\right]\n"
        "\\end{equation}"
    )


def _table(rng: random.Random) -> str:
    rows = ["| symbol | shape | meaning |", "| :--- | :---: | ---: |"]
    for m in rng.sample(MATRICES, 4):
        a, b = rng.sample(SIZES, 2)
        rows.append(f"| ${m}$ | ${a} \\times {b}$ | the {rng.choice(WORDS)} {rng.choice(WORDS)} |")
    return "\n".join(rows)


def _code(rng: random.Random) -> str:
    n, d = rng.randint(2, 9), rng.randint(2, 9)
    return (
        "```python\n"
        "import numpy as np\n\n"
        f"X = np.random.randn({n}, {d})\n"
        f"W = np.random.randn({d}, 1)\n"
        "z = X @ W\n"
        "y_hat = 1 / (1 + np.exp(-z))\n"
        "dW = X.T @ (y_hat * (1 - y_hat))\n"
        "print(dW.shape)\n"
        "```"
    )


def _verify_block() -> str:
    # Trivial on purpose: what a benchmark of it measures is the machinery around it.
    return (
        "```python verify\n"
        "W = rng.standard_normal((3, 1))\n"
        "check_grad(lambda W: 0.5 * np.sum(W ** 2), W, W, name=\"dL/dW\")\n"
        "```"
    )


def _paragraph(rng: random.Random, sentences: int) -> str:
    return " ".join(_sentence(rng, lambda: _inline_math(rng)) for _ in range(sentences))


def make_post(index: int, seed: int = 0, verify: bool = False) -> Post:
    """Build post number ``index``; the result depends only on ``(seed, index, verify)``."""
    rng = random.Random(seed * 1_000_003 + index)
    key, topic = TOPICS[index % len(TOPICS)]
    label = f"eq{index}"
    parts = [
        f"## {topic}: setting",
        _paragraph(rng, 7),
        _display_align(rng, label),
        _paragraph(rng, 6),
        _table(rng),
        "### Derivation",
        _paragraph(rng, 6),
        "Thus, in general:\n" + _display_simple(rng),
        _paragraph(rng, 5) + f" Combining \\eqref{{{label}-a}} with \\eqref{{{label}-b}} gives it.",
        _bare_env(rng),
        _paragraph(rng, 5),
        "### In code",
        _paragraph(rng, 6),
        _code(rng),
    ]
    if verify:
        parts.append(_verify_block())
    parts += [
        "### Checking the shapes",
        _paragraph(rng, 6),
        _display_simple(rng),
        _paragraph(rng, 5),
        "### Summary",
        _paragraph(rng, 7),
        _display_align(rng, label + "s"),
        _paragraph(rng, 5),
    ]
    return Post(
        index=index,
        slug=f"{key}-{index:05d}",
        title=f"{topic}, note {index}",
        date=BASE_DATE + dt.timedelta(days=index),
        tags=("gradients", key),
        body="\n\n".join(parts) + "\n",
    )


def _yaml_front_matter(post: Post, layout: bool) -> str:
    lines = ["---"]
    if layout:
        lines.append("layout: post")
    lines += [
        f'title: "{post.title}"',
        f"date: {post.date:%Y-%m-%d %H:%M:%S}",
        f"tags: [{', '.join(post.tags)}]",
        "mathjax: true",
        "---",
        "",
    ]
    return "\n".join(lines)


def _pelican_header(post: Post) -> str:
    # Pelican's Markdown reader wants Python-Markdown "meta" headers, not YAML.
    return (
        f"Title: {post.title}\nDate: {post.date:%Y-%m-%d %H:%M}\n"
        f"Tags: {', '.join(post.tags)}\nSlug: {post.slug}\n\n"
    )


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


JEKYLL_DEFAULT = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{{ page.title }} | {{ site.title }}</title>
{% if page.mathjax %}
<script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml.js"></script>
{% endif %}
</head><body><main>{{ content }}</main></body></html>
"""

JEKYLL_POST = """---
layout: default
---
<article><h1>{{ page.title }}</h1><p>{{ page.date | date: "%Y-%m-%d" }}</p>{{ content }}</article>
"""

JEKYLL_INDEX = """---
layout: default
title: Home
---
<ul>{% for post in site.posts %}
<li><a href="{{ post.url }}">{{ post.title }}</a></li>{% endfor %}</ul>
"""

HUGO_SINGLE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{{ .Title }} | {{ .Site.Title }}</title>
<script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml.js"></script>
</head><body><article><h1>{{ .Title }}</h1><p>{{ .Date.Format "2006-01-02" }}</p>
{{ .Content }}</article></body></html>
"""

HUGO_LIST = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{{ .Title }} | {{ .Site.Title }}</title></head>
<body><h1>{{ .Title }}</h1><ul>{{ range .Pages }}
<li><a href="{{ .RelPermalink }}">{{ .Title }}</a></li>{{ end }}</ul>
</body></html>
"""


def _write_skeleton(peer: str, root: Path) -> None:
    if peer == "sitegen":
        _write(root / "sitegen.toml", 'title = "Bench corpus"\n')
    elif peer == "jekyll":
        _write(
            root / "_config.yml",
            "title: Bench corpus\nmarkdown: kramdown\nkramdown:\n  input: GFM\n"
            "  auto_ids: true\n  syntax_highlighter: rouge\npermalink: pretty\n",
        )
        _write(root / "_layouts" / "default.html", JEKYLL_DEFAULT)
        _write(root / "_layouts" / "post.html", JEKYLL_POST)
        _write(root / "index.html", JEKYLL_INDEX)
    elif peer == "hugo":
        _write(
            root / "hugo.toml",
            'baseURL = "https://example.org/"\ntitle = "Bench corpus"\n'
            "[markup.goldmark.renderer]\n  unsafe = true\n",
        )
        _write(root / "layouts" / "_default" / "single.html", HUGO_SINGLE)
        _write(root / "layouts" / "_default" / "list.html", HUGO_LIST)
    elif peer == "pelican":
        _write(
            root / "pelicanconf.py",
            'SITENAME = "Bench corpus"\nSITEURL = ""\nPATH = "content"\nTIMEZONE = "UTC"\n'
            'DEFAULT_LANG = "en"\nRELATIVE_URLS = True\n'
            "MARKDOWN = {\n"
            "    'extension_configs': {\n"
            "        'markdown.extensions.codehilite': {'css_class': 'highlight'},\n"
            "        'markdown.extensions.extra': {},\n"
            "        'markdown.extensions.meta': {},\n"
            "        'pymdownx.arithmatex': {'generic': True},\n"
            "    },\n"
            "    'output_format': 'html5',\n"
            "}\n",
        )
    elif peer == "mkdocs":
        _write(
            root / "mkdocs.yml",
            "site_name: Bench corpus\nmarkdown_extensions:\n  - tables\n  - fenced_code\n"
            "  - codehilite\n  - toc:\n      permalink: true\n  - pymdownx.arithmatex:\n"
            "      generic: true\n",
        )
        _write(root / "docs" / "index.md", "# Bench corpus\n\nSynthetic math posts.\n")
    else:
        raise ValueError(f"unknown peer {peer!r}; known: {', '.join(ALL_PEERS)}")


def post_path(peer: str, root: Path, post: Post) -> Path:
    """Where ``post`` lives in ``peer``'s layout under ``root``."""
    name = f"{post.day}-{post.slug}.md"
    return {
        "sitegen": root / "posts" / name,
        "jekyll": root / "_posts" / name,
        "hugo": root / "content" / "posts" / f"{post.slug}.md",
        "pelican": root / "content" / f"{post.slug}.md",
        "mkdocs": root / "docs" / "posts" / f"{post.slug}.md",
    }[peer]


def render_post(peer: str, post: Post) -> str:
    """The file text of ``post`` for ``peer`` (front matter syntax differs, body does not)."""
    if peer == "pelican":
        return _pelican_header(post) + post.body
    # Jekyll resolves "layout: post" to our _layouts/post.html; the others ignore the key
    # or would look for a template of that name, so it is left out for them.
    return _yaml_front_matter(post, layout=peer == "jekyll") + post.body


def write_corpus(
    out: Path,
    n: int,
    peers: Iterable[str] = ALL_PEERS,
    seed: int = 0,
    verify: bool = False,
) -> dict[str, Path]:
    """Write an ``n``-post corpus for each peer under ``out/<peer>``; returns the site roots.

    Existing peer folders are replaced, so a stale post from a larger corpus never lingers.
    """
    posts = [make_post(i, seed=seed, verify=verify) for i in range(n)]
    roots: dict[str, Path] = {}
    for peer in peers:
        root = out / peer
        if root.exists():
            shutil.rmtree(root)
        _write_skeleton(peer, root)
        for post in posts:
            _write(post_path(peer, root, post), render_post(peer, post))
        roots[peer] = root
    return roots


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100, help="number of posts")
    parser.add_argument("--out", type=Path, required=True, help="folder to write into")
    parser.add_argument("--peers", default=",".join(ALL_PEERS), help="comma-separated layouts")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verify", action="store_true", help="add a trivial verify block")
    args = parser.parse_args(argv)
    peers = [p for p in args.peers.split(",") if p]
    roots = write_corpus(args.out, args.n, peers, seed=args.seed, verify=args.verify)
    for peer, root in roots.items():
        print(f"{peer}: {root}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
