"""Incremental builds against clean ones: random sequences of edits on a fixture site;
after each edit the output of the build that kept its caches must be byte-equal to a
build of the same sources from nothing.

``SITEGEN_DIFF_SEQUENCES`` (default 3) and ``SITEGEN_DIFF_EDITS`` (default 8) set how
many sequences of how many edits run; the seed of each is printed when one fails.
"""

from __future__ import annotations

import os
import random
import re
import shutil
from pathlib import Path

import pytest

from sitegen.build import build_site
from sitegen.model import BuildOptions

SEQUENCES = int(os.environ.get("SITEGEN_DIFF_SEQUENCES", "3"))
EDITS = int(os.environ.get("SITEGEN_DIFF_EDITS", "8"))

# Declared volatile: a verification result says whether it came from the result cache,
# and how long its checks ran (the clean build runs the code again).
VOLATILE = [
    (re.compile(rb'"cached": (true|false)'), b'"cached": _'),
    (re.compile(rb'"time": [0-9.e-]+'), b'"time": _'),
]

WORDS = "gradient loss weight matrix vector chain rule softmax derivative".split()

CONFIG = """title = "Diff {n}"
posts_per_page = {per}
"""

ARCHIVE = """{% extends "base.html" %}
{% block main %}
<ul>
{% for p in site.posts %}
<li>{{ p.title }}: {{ p.words }} words, toc {{ p.toc|length }}, math {{ p.has_math }},
shout {{ p.data.get("shout") }}, {{ p.data.get("badge_html", "")|safe }} {{ MARK }}</li>
{% endfor %}
</ul>
{% endblock %}
"""

PLUGIN = '''from sitegen.hooks import hookimpl


@hookimpl
def sitegen_post_rendered(site, post):
    post.data["shout"] = "{prefix}" + post.title.upper()
'''

VERIFY = """
```python verify
x = rng.standard_normal(3)
def f(x):
    return {k} * (x ** 2).sum()
check_grad(f, x, {g} * x, name="grad")
```
"""


def _numpy() -> bool:
    try:
        import numpy  # noqa: F401
    except ImportError:
        return False
    return True


class FixtureSite:
    """A site on disk and the edits that can be made to it."""

    def __init__(self, root: Path, rng: random.Random, verify: bool) -> None:
        self.root, self.rng, self.verify = root, rng, verify
        self.clock = 1_700_000_000  # every write moves the files' time on by a second
        self.config = {"n": 0, "per": 3}
        (root / "posts").mkdir(parents=True)
        (root / "templates").mkdir()
        (root / "plugins").mkdir()
        self._write("sitegen.toml", CONFIG.format(**self.config))
        self._write("templates/archive.html", ARCHIVE.replace("{{ MARK }}", "v0"))
        self._write("plugins/shout.py", PLUGIN.format(prefix="!"))
        self.posts: dict[str, dict] = {}
        for _ in range(6):
            self.add_post()

    def _write(self, rel: str, text: str) -> None:
        path = self.root / rel
        path.write_text(text, encoding="utf-8")
        self.clock += 1
        os.utime(path, (self.clock, self.clock))

    def _sentence(self) -> str:
        return " ".join(self.rng.choice(WORDS) for _ in range(self.rng.randint(3, 9))) + "."

    def _save(self, name: str) -> None:
        p = self.posts[name]
        head = [f'title: "{p["title"]}"', f"tags: [{', '.join(p['tags'])}]"]
        if p.get("excerpt"):
            head.append(f'excerpt: "{p["excerpt"]}"')
        if p.get("draft"):
            head.append("draft: true")
        body = "\n\n".join(p["body"])
        text = "---\n" + "\n".join(head) + "\n---\n" + body + "\n"
        self._write(f"posts/{p['date']}-{name}.md", text)

    def _path(self, name: str) -> Path:
        p = self.posts[name]
        return self.root / "posts" / f"{p['date']}-{name}.md"

    def _date(self) -> str:
        return f"2024-{self.rng.randint(1, 12):02d}-{self.rng.randint(1, 28):02d}"

    def _any(self) -> str:
        return self.rng.choice(sorted(self.posts))

    # ---------------------------------------------------------------- edits

    def add_post(self) -> str:
        name = f"post-{len(self.posts)}-{self.rng.randint(0, 999)}"
        while name in self.posts:
            name += "x"
        body = [self._sentence() for _ in range(self.rng.randint(1, 3))]
        if self.rng.random() < 0.5:
            body.append("## A heading\n\n" + self._sentence())
        if self.rng.random() < 0.4:
            body.append("$$ \\nabla f = 2x $$")
        if self.verify and self.rng.random() < 0.3:
            body.append(VERIFY.format(k=1, g=2))
        self.posts[name] = {
            "title": self._sentence()[:-1].title(),
            "date": self._date(),
            "tags": self.rng.sample(["a", "b", "c", "d"], self.rng.randint(0, 2)),
            "body": body,
        }
        self._save(name)
        return f"add {name}"

    def prose(self) -> str:
        name = self._any()
        body = self.posts[name]["body"]
        if self.rng.random() < 0.3:
            body.append(f"## Heading {self.rng.randint(0, 99)}")
        else:
            body[0] = self._sentence() + " " + self._sentence()
        self._save(name)
        return f"prose {name}"

    def title(self) -> str:
        name = self._any()
        self.posts[name]["title"] = self._sentence()[:-1].title()
        self._save(name)
        return f"title {name}"

    def tags(self) -> str:
        name = self._any()
        self.posts[name]["tags"] = self.rng.sample(["a", "b", "c", "e"], self.rng.randint(0, 3))
        self._save(name)
        return f"tags {name}"

    def excerpt(self) -> str:
        name = self._any()
        self.posts[name]["excerpt"] = self._sentence()
        self._save(name)
        return f"excerpt {name}"

    def date(self) -> str:
        name = self._any()
        self._path(name).unlink()
        self.posts[name]["date"] = self._date()
        self._save(name)
        return f"date {name}"

    def rename(self) -> str:
        name = self._any()
        self._path(name).unlink()
        new = name + "-r"
        self.posts[new] = self.posts.pop(name)
        self._save(new)
        return f"rename {name}"

    def delete(self) -> str:
        if len(self.posts) < 3:
            return self.add_post()
        name = self._any()
        self._path(name).unlink()
        del self.posts[name]
        return f"delete {name}"

    def draft(self) -> str:
        name = self._any()
        self.posts[name]["draft"] = not self.posts[name].get("draft")
        self._save(name)
        return f"draft {name}"

    def template(self) -> str:
        mark = f"v{self.rng.randint(1, 999)}"
        self._write("templates/archive.html", ARCHIVE.replace("{{ MARK }}", mark))
        return "template"

    def config_edit(self) -> str:
        self.config["n"] = self.rng.randint(1, 99)
        self.config["per"] = self.rng.randint(2, 5)
        self._write("sitegen.toml", CONFIG.format(**self.config))
        return "config"

    def plugin(self) -> str:
        self._write("plugins/shout.py", PLUGIN.format(prefix=self.rng.choice("!?#")))
        return "plugin"

    def verify_code(self) -> str:
        if not self.verify:
            return self.prose()
        name = self._any()
        body = [b for b in self.posts[name]["body"] if "```python" not in b]
        k = self.rng.randint(1, 3)
        g = 2 * k if self.rng.random() < 0.7 else 2 * k + 1  # sometimes a wrong gradient
        self.posts[name]["body"] = body + [VERIFY.format(k=k, g=g)]
        self._save(name)
        return f"verify {name}"

    def damage_cache(self) -> str:
        """Not an edit of the site: a third of the cache's entries cut short or with a
        flipped byte (a crash, a full disk); the next build must not show it."""
        store = self.root / ".sitegen-cache" / "store"
        damaged = 0
        for path in sorted(store.iterdir()) if store.is_dir() else []:
            if self.rng.random() < 0.33:
                data = path.read_bytes()
                if data and self.rng.random() < 0.5:
                    at = self.rng.randrange(len(data))
                    path.write_bytes(data[:at] + bytes([data[at] ^ 0x10]) + data[at + 1 :])
                else:
                    path.write_bytes(data[: len(data) // 2])
                damaged += 1
        return f"damage {damaged} cache entries"

    EDITS = (
        "prose", "prose", "title", "tags", "excerpt", "date", "rename", "delete",
        "add_post", "draft", "template", "config_edit", "plugin", "verify_code",
        "damage_cache",
    )


def _outputs(folder: Path) -> dict[str, bytes]:
    files = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            for pattern, replacement in VOLATILE:
                data = pattern.sub(replacement, data)
            files[path.relative_to(folder).as_posix()] = data
    return files


def _build(root: Path, atomic: bool = False) -> None:
    build_site(root, BuildOptions(quiet=True, jobs=1, atomic=atomic))


def _clean_build(site: Path, into: Path) -> dict[str, bytes]:
    if into.exists():
        shutil.rmtree(into)
    shutil.copytree(site, into, ignore=shutil.ignore_patterns("_site", ".sitegen-cache"))
    _build(into)
    return _outputs(into / "_site")


@pytest.mark.parametrize("sequence", range(SEQUENCES))
def test_incremental_build_equals_clean_build(tmp_path, sequence):
    seed = 1000 + sequence
    rng = random.Random(seed)
    site = FixtureSite(tmp_path / "site", rng, verify=_numpy() and sequence == 0)
    _build(site.root)
    done = []
    for _ in range(EDITS):
        done.append(getattr(site, rng.choice(FixtureSite.EDITS))())
        atomic = rng.random() < 0.25  # the whole output swapped in: the same bytes
        if atomic:
            done.append("(atomic)")
        _build(site.root, atomic=atomic)
        incremental = _outputs(site.root / "_site")
        clean = _clean_build(site.root, tmp_path / "clean")
        assert sorted(incremental) == sorted(clean), (seed, done)
        for rel in clean:
            assert incremental[rel] == clean[rel], (seed, done, rel)
