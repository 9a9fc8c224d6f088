"""Incremental builds against clean ones on a Jekyll site whose pages are made by Liquid
loops (an HTML archive with an include, a Markdown list of posts by year, a page reading
``_data/``): after each random edit of the posts, includes, data or pages, the output of
the build that kept its caches must be byte-equal to a build from nothing.

``SITEGEN_DIFF_SEQUENCES`` and ``SITEGEN_DIFF_EDITS`` set how many sequences of how many
edits run, as in tests/test_differential.py; the seed is printed when one fails.
"""

from __future__ import annotations

import os
import random
import shutil
from pathlib import Path

import pytest
from test_differential import EDITS, SEQUENCES, WORDS, _build, _outputs

ARCHIVE = """---
layout: page
title: Archive
---
<h1>{{ site.posts | size }} posts {{ MARK }}</h1>
{% for post in site.posts %}{% include card.html target=post %}
{% endfor %}
"""

CARD = """<div class="card {{ MARK }}"><a href="{{ include.target.url | relative_url }}">\
{{ include.target.title }}</a> {{ include.target.date | date: "%B %-d, %Y" }}
[{{ include.target.tags | join: ", " }}] {{ include.target.excerpt }}</div>"""

BLOG = """---
layout: page
title: Blog
---
Notes by year.

{% for post in site.posts %}{% capture year %}{{ post.date | date: '%Y' }}{% endcapture %}\
{% capture nyear %}{{ post.next.date | date: '%Y' }}{% endcapture %}\
{% if year != nyear %}<h2>{{ year }}</h2>{% endif %}
<p><a href="{{ post.url }}">{{ post.title }}</a> {{ post.content | number_of_words }} words</p>
{% endfor %}
"""

TAGS = """---
layout: page
title: Tags
---
{% assign names = site.tags | sort %}{% for tag in names %}<h2>{{ tag[0] }}</h2>
{% for post in tag[1] %}<p>{{ post.title }}</p>{% endfor %}{% endfor %}
{% for friend in site.data.friends %}<a href="{{ friend.url }}">{{ friend.name }}</a>{% endfor %}
"""


class JekyllLoopSite:
    """A Jekyll site on disk with Liquid loop pages, and the edits that can be made."""

    def __init__(self, root: Path, rng: random.Random) -> None:
        self.root, self.rng = root, rng
        self.clock = 1_700_000_000  # every write moves the files' time on by a second
        for folder in ("_posts", "_includes", "_data", "menu"):
            (root / folder).mkdir(parents=True, exist_ok=True)
        self._write("_config.yml", "title: Loops\nurl: https://x.example\n")
        self._write("archive.html", ARCHIVE.replace("{{ MARK }}", "v0"))
        self._write("_includes/card.html", CARD.replace("{{ MARK }}", "v0"))
        self._write("menu/blog.md", BLOG)
        self._write("tags.html", TAGS)
        self.friends = ["Carl"]
        self._save_friends()
        self.posts: dict[str, dict] = {}
        for _ in range(5):
            self.add_post()

    def _write(self, rel: str, text: str) -> None:
        path = self.root / rel
        path.write_text(text, encoding="utf-8")
        self.clock += 1
        os.utime(path, (self.clock, self.clock))

    def _sentence(self) -> str:
        return " ".join(self.rng.choice(WORDS) for _ in range(self.rng.randint(3, 9))) + "."

    def _date(self) -> str:
        year, month, day = (self.rng.randint(*r) for r in ((20, 23), (1, 12), (1, 28)))
        return f"20{year}-{month:02d}-{day:02d}"

    def _path(self, name: str) -> Path:
        return self.root / "_posts" / f"{self.posts[name]['date']}-{name}.md"

    def _save(self, name: str) -> None:
        p = self.posts[name]
        head = [f'title: "{p["title"]}"', f"tags: [{', '.join(p['tags'])}]"]
        if p.get("excerpt"):
            head.append(f'excerpt: "{p["excerpt"]}"')
        if p.get("hidden"):
            head.append("published: false")
        text = "---\n" + "\n".join(head) + "\n---\n" + "\n\n".join(p["body"]) + "\n"
        self._write(f"_posts/{p['date']}-{name}.md", text)

    def _save_friends(self) -> None:
        rows = "".join(f"- name: {n}\n  url: https://{n.lower()}.example\n" for n in self.friends)
        self._write("_data/friends.yml", rows)

    def _any(self) -> str:
        return self.rng.choice(sorted(self.posts))

    # ---------------------------------------------------------------- edits

    def add_post(self) -> str:
        name = f"post-{len(self.posts)}-{self.rng.randint(0, 999)}"
        body = [self._sentence() for _ in range(self.rng.randint(1, 3))]
        if self.rng.random() < 0.5:
            body.insert(0, "The gradient is $$\\nabla f = 2x$$ here.")
        self.posts[name] = {
            "title": self._sentence()[:-1].title(),
            "date": self._date(),
            "tags": self.rng.sample(["a", "b", "c"], self.rng.randint(0, 2)),
            "body": body,
        }
        self._save(name)
        return f"add {name}"

    def prose(self) -> str:
        name = self._any()
        self.posts[name]["body"][0] = self._sentence() + " " + self._sentence()
        self._save(name)
        return f"prose {name}"

    def title(self) -> str:
        name = self._any()
        self.posts[name]["title"] = self._sentence()[:-1].title()
        self._save(name)
        return f"title {name}"

    def tags(self) -> str:
        name = self._any()
        self.posts[name]["tags"] = self.rng.sample(["a", "b", "c", "d"], self.rng.randint(0, 3))
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

    def delete(self) -> str:
        if len(self.posts) < 3:
            return self.add_post()
        name = self._any()
        self._path(name).unlink()
        del self.posts[name]
        return f"delete {name}"

    def hide(self) -> str:
        name = self._any()
        self.posts[name]["hidden"] = not self.posts[name].get("hidden")
        self._save(name)
        return f"hide {name}"

    def include(self) -> str:
        mark = f"v{self.rng.randint(1, 999)}"
        self._write("_includes/card.html", CARD.replace("{{ MARK }}", mark))
        return "include"

    def page(self) -> str:
        self._write("archive.html", ARCHIVE.replace("{{ MARK }}", f"v{self.rng.randint(1, 999)}"))
        return "page"

    def data(self) -> str:
        self.friends = self.rng.sample(["Carl", "Emmy", "Sofia", "Ada"], self.rng.randint(0, 3))
        self._save_friends()
        return "data"

    EDITS = (
        "prose", "title", "tags", "excerpt", "date", "delete", "add_post", "hide",
        "include", "page", "data",
    )


def _clean_build(site: Path, into: Path) -> dict[str, bytes]:
    if into.exists():
        shutil.rmtree(into)
    shutil.copytree(site, into, ignore=shutil.ignore_patterns("_site", ".sitegen-cache"))
    _build(into)
    return _outputs(into / "_site")


@pytest.mark.parametrize("sequence", range(SEQUENCES))
def test_incremental_build_of_liquid_pages_equals_clean_build(tmp_path, sequence):
    seed = 2000 + sequence
    rng = random.Random(seed)
    site = JekyllLoopSite(tmp_path / "site", rng)
    _build(site.root)
    assert "{%" not in (site.root / "_site" / "archive.html").read_text(encoding="utf-8")
    done = []
    for _ in range(EDITS):
        done.append(getattr(site, rng.choice(JekyllLoopSite.EDITS))())
        _build(site.root)
        incremental = _outputs(site.root / "_site")
        clean = _clean_build(site.root, tmp_path / "clean")
        assert sorted(incremental) == sorted(clean), (seed, done)
        for rel in clean:
            assert incremental[rel] == clean[rel], (seed, done, rel)
