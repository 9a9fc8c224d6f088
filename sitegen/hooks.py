"""The hooks of the pipeline, in the order a build calls them.

A plugin is a module (or package) that defines functions named like the specs below,
decorated with ``@hookimpl`` (``from sitegen.hooks import hookimpl``). A plugin implements
only the hooks it needs. Built-in features (tags, feeds, sitemap, verification) are
plugins of exactly this kind; see ``plugins/`` and the README's "Writing a plugin".

    discover → read → front matter → Markdown → verify → templates → write
       │         post_loaded      extend_markdown  posts_parsed  template_context
    configure                                        extra_pages     build_finished

``site`` is the ``sitegen.model.Site`` being built; ``post`` a ``sitegen.model.Post``.
"""

from __future__ import annotations

from typing import Any

import pluggy

PROJECT = "sitegen"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def sitegen_add_options(command: str, parser: Any) -> None:
    """Add options to a built-in command (``build`` or ``serve``) with
    ``parser.add_argument``; a build sees their values in ``site.options.extra[DEST]``.
    Called only when the built-in options alone do not parse the command line."""


@hookspec
def sitegen_add_commands(subparsers: Any, common: Any) -> None:
    """Add commands to the program: ``subparsers.add_parser(NAME, parents=[common])``
    (``common`` holds ``-v``/``-q``), then ``set_defaults(run=FUNCTION)``, a function of
    the parsed arguments returning the exit code. ``sitegen.cli.add_build_options`` and
    ``options_from_args`` give a command the options of ``sitegen build``."""


@hookspec
def sitegen_theme_folder(site: Any) -> Any:
    """A folder this plugin ships that is laid out like a theme: ``templates/`` (pages it
    renders, e.g. its own summary page) and ``static/`` (copied below ``/theme/``, e.g.
    its style sheet). Looked up after the site's ``templates/`` and the theme, so a site
    or theme overrides one of its files by holding a file of the same name. Return a Path,
    or None for none. Called once, when the site is loaded."""


@hookspec
def sitegen_configure(site: Any) -> None:
    """Called once per build, before anything is read. A plugin reads its own settings
    (``[plugins.NAME]`` in sitegen.toml) with ``site.config.plugin_options("NAME")`` and
    raises ``sitegen.errors.ConfigError`` to reject them."""


@hookspec
def sitegen_extend_markdown(md: Any, site: Any) -> None:
    """Add rules to the markdown-it-py parser (``md.use(my_plugin)``), e.g. a fence
    renderer. Called once per parser; the parser is shared by every post."""


@hookspec
def sitegen_post_loaded(site: Any, post: Any) -> None:
    """A post's front matter has been read (title, date, tags, URL are set; no HTML yet).
    A plugin may change fields or mark the post failed by raising ``PostError``."""


@hookspec
def sitegen_posts_parsed(site: Any, posts: list[Any]) -> None:
    """A batch of posts has been parsed into tokens (``post.data["tokens"]``) but not
    rendered. This is where work across posts runs in parallel (verification): results
    stored in ``post.data`` are visible to Markdown renderers and templates. A build
    parses its posts in batches of up to a couple of hundred (a parallel build: each
    process its share, in batches), so a batch is not the whole site: use
    ``site.posts`` for that."""


@hookspec
def sitegen_body_key(site: Any, post: Any) -> str | None:
    """What this plugin's work on ``post`` (its ``post.data`` entries and what it adds to
    the body) depends on besides the post's file and the site's settings, as a string:
    e.g. the options its code runs with, or the versions of the libraries it runs. The
    body cache keys each post by the answers of every plugin, so a post whose file and
    answers are as they were keeps its rendered body and data from the last build. A
    plugin whose result for a post must not be kept sets ``post.data["cacheable"] =
    False``. Data for a post must be set while its body is made (``post_loaded`` to
    ``post_rendered``): later hooks may not change what a template sees of a post."""


@hookspec
def sitegen_post_rendered(site: Any, post: Any) -> None:
    """``post.html`` (the body) is ready; the page template has not run yet."""


@hookspec
def sitegen_extra_pages(site: Any) -> list[Any]:
    """Return more ``sitegen.model.Page``s to write (feeds, sitemap, tag pages, …)."""


@hookspec
def sitegen_template_context(site: Any, page: Any, context: dict[str, Any]) -> None:
    """Add or change template variables just before ``page`` is rendered. Called for
    every page of every build: what it adds is compared with the last build's to decide
    whether the page is outdated (functions count by name: what they return must depend
    only on the settings and their arguments). It may run in a forked copy of the build
    process (a build of many pages renders half of them there): what it changes outside
    ``context`` is not seen by the rest of the build."""


@hookspec
def sitegen_build_finished(site: Any, output: Any) -> None:
    """The output folder is complete (``output`` is its Path). Print summaries, write
    reports; the site's ``report`` may still receive diagnostics."""


@hookspec
def sitegen_files_changed(site: Any, paths: list[Any]) -> None:
    """``sitegen serve`` saw these files change, before it rebuilds."""


@hookspec
def sitegen_new_post(root: Any, title: str) -> str | None:
    """``sitegen new``: Markdown to end the new post with (``root`` is the site's Path),
    e.g. an example of what the plugin adds to posts."""


@hookspec
def sitegen_new_site(root: Any) -> str | None:
    """``sitegen init``: TOML to end the new site's ``sitegen.toml`` with (``root`` is the
    new site's Path), e.g. this plugin's settings at their defaults, or None for nothing."""
