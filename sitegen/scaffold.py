"""``sitegen init`` and ``sitegen new``: the files a new site and a new post start from."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

EXIT_OK, EXIT_USAGE = 0, 2

NEW_POST = """---
title: "{title}"
date: {date}
tags: []
---

Write the derivation here. This first paragraph is the post's excerpt on the index,
math included: the gradient $\\nabla_W L$ of the loss.

Display math, numbered because it has a label:

$$
\\frac{{\\partial L}}{{\\partial w}} = (\\hat y - y)\\, x \\label{{eq:grad}}
$$

Equation \\eqref{{eq:grad}} is the gradient of the squared error.
"""

SITE_CONFIG = """# sitegen configuration; every key is optional.
title = "{title}"
description = ""
author = ""
url = ""            # e.g. "https://example.org", for feeds and the sitemap
baseurl = ""        # e.g. "/blog" when the site lives below the domain's root
permalink = "/:year/:month/:day/:slug/"
posts_per_page = 10

[math]
# mathjax_url = "/assets/mathjax/tex-chtml-full.js"   # to self-host MathJax
# macros_file = "macros.tex"                          # \\newcommand lines for every post
"""

# GitHub Pages from Actions: the build is strict, so a failed check stops the deploy.
WORKFLOW = """# Build the site on every push to main and publish it with GitHub Pages.
# In the repository's Settings > Pages, choose "GitHub Actions" as the source.
name: Publish

on:
  push:
    branches: [main]
  workflow_dispatch:

permissions:
  contents: read
  pages: write
  id-token: write

concurrency:
  group: pages
  cancel-in-progress: false

jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.12"
          cache: pip
      # requirements.txt names the sitegen the site is built with
      - run: python -m pip install -r requirements.txt
      # strict: a failed check, a broken link or a post that fails to build fails the job,
      # and nothing is published
      - run: sitegen build
      - uses: actions/upload-pages-artifact@v3
        with:
          path: _site

  deploy:
    needs: build
    runs-on: ubuntu-latest
    environment:
      name: github-pages
      url: ${{{{ steps.deployment.outputs.page_url }}}}
    steps:
      - id: deployment
        uses: actions/deploy-pages@v4
"""

WORKFLOW_PATH = ".github/workflows/publish.yml"

REQUIREMENTS = """# What this site is built with: .github/workflows/publish.yml (and hosts such as
# Netlify) run `pip install -r requirements.txt`. `sitegen init` wrote the sitegen that
# made the site; to build with another, write a version (sitegen==0.2.0) or a git URL
# (sitegen @ git+https://github.com/OWNER/sitegen@TAG) instead.
{requirement}
"""


def new_post(source: Path, title: str, now: datetime | None = None) -> int:
    """Write a post template named after ``title``; exit 2 if that file exists."""
    if now is None:  # the site's clock, which decides when the post is published
        from sitegen.config import load_config
        from sitegen.schedule import site_now

        now = site_now(load_config(source.absolute()).timezone)
    from sitegen.read import slugify  # the slug the post's file name will be read back as

    now = now.replace(microsecond=0)
    folder = source / (
        "_posts" if (source / "_posts").is_dir() and not (source / "posts").is_dir() else "posts"
    )
    path = folder / f"{now:%Y-%m-%d}-{slugify(title)}.md"
    if path.exists():
        print(f"{path}: error: already exists; choose another title or edit it", file=sys.stderr)
        return EXIT_USAGE
    folder.mkdir(parents=True, exist_ok=True)
    escaped = title.replace("\\", "\\\\").replace('"', '\\"')
    text = NEW_POST.format(title=escaped, date=now.strftime("%Y-%m-%d %H:%M:%S"))
    for addition in _plugin_additions(source, "sitegen_new_post", title=title):
        text += "\n" + addition.strip("\n") + "\n"
    path.write_text(text, encoding="utf-8")
    print(path)
    return EXIT_OK


def _plugin_additions(source: Path, hook: str, **arguments: str) -> list[str]:
    """What the site's plugins add to a new post or site (``sitegen_new_post``,
    ``sitegen_new_site``), in their order. A configuration that cannot be read leaves the
    built-in plugins on their defaults: the build reports it, the file should still be
    written."""
    from sitegen.config import load_config
    from sitegen.errors import ConfigError
    from sitegen.plugins import load_plugins

    try:
        settings = load_config(source).plugins
    except ConfigError:
        settings = {}
    manager = load_plugins(source, settings)
    found = getattr(manager.hook, hook)(root=source, **arguments)
    return [text for text in reversed(found) if isinstance(text, str) and text.strip()]


def init_site(target: Path, quiet: bool = False) -> int:
    """Create a site in ``target`` (new or empty); exit 2 if it holds anything."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        what = "folder exists and is not empty" if target.is_dir() else "is a file"
        print(f"{target}: error: {what}; give a new or empty folder", file=sys.stderr)
        return EXIT_USAGE
    (target / "posts").mkdir(parents=True, exist_ok=True)
    (target / "assets").mkdir(exist_ok=True)
    title = target.absolute().name.replace("\\", "\\\\").replace('"', '\\"')
    config = SITE_CONFIG.format(title=title)
    for addition in _plugin_additions(target, "sitegen_new_site"):  # their own settings
        config += "\n" + addition.strip("\n") + "\n"
    (target / "sitegen.toml").write_text(config, encoding="utf-8")
    (target / ".gitignore").write_text("_site/\n.sitegen-cache/\n", encoding="utf-8")
    workflow = target / WORKFLOW_PATH
    workflow.parent.mkdir(parents=True, exist_ok=True)
    workflow.write_text(WORKFLOW.format(), encoding="utf-8")
    # importlib.metadata is slow to import: only `init` needs it, not every build
    from sitegen.requirement import installed_requirement

    requirement = installed_requirement()
    requirements = REQUIREMENTS.format(requirement=requirement.line)
    (target / "requirements.txt").write_text(requirements, encoding="utf-8")
    if quiet:
        import contextlib
        import io

        with contextlib.redirect_stdout(io.StringIO()):
            new_post(target, "Hello, world")
    else:
        new_post(target, "Hello, world")
        print(f"created a new site in {target} (with {WORKFLOW_PATH} to publish it)")
        if requirement.note:
            print(f"{target / 'requirements.txt'}: note: {requirement.note}")
        print(f"next: cd {target} && sitegen serve")
    return EXIT_OK


SITE_MARKS = ("sitegen.toml", "_config.yml", "posts", "_posts", "pages")


def not_a_site(root: Path) -> str | None:
    """Why ``root`` is not a site (a message), or None when it is one."""
    if not root.is_dir():
        return f"{root}: error: no such folder"
    if any((root / mark).exists() for mark in SITE_MARKS):
        return None
    return (
        f"{root}: error: no site here (no sitegen.toml, _config.yml, posts/ or _posts/); "
        "run 'sitegen init DIR' to make one, or give its folder with --source"
    )
