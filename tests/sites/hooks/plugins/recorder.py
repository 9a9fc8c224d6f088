"""A test plugin that implements every hook and records what it was given."""

import json

from sitegen.hooks import hookimpl
from sitegen.model import Page


def _log(site, entry):
    site.data.setdefault("hook_log", []).append(entry)


@hookimpl
def sitegen_configure(site):
    _log(site, ["configure", site.config.plugin_options("recorder").get("greeting")])


def _shout_rule(state, silent):
    if not state.src.startswith(":shout:", state.pos):
        return False
    if not silent:
        token = state.push("shout", "", 0)
        token.content = "SHOUT"
    state.pos += len(":shout:")
    return True


@hookimpl
def sitegen_extend_markdown(md, site):
    md.inline.ruler.before("text", "shout", _shout_rule)
    md.add_render_rule("shout", lambda self, tokens, idx, options, env: "<b>SHOUT</b>")
    _log(site, ["extend_markdown", type(md).__name__])


@hookimpl
def sitegen_post_loaded(site, post):
    _log(site, ["post_loaded", post.title, post.html])


@hookimpl
def sitegen_posts_parsed(site, posts):
    _log(site, ["posts_parsed", sorted(p.title for p in posts),
                all("tokens" in p.data for p in posts)])


@hookimpl
def sitegen_post_rendered(site, post):
    _log(site, ["post_rendered", post.title, "<b>SHOUT</b>" in post.html])


@hookimpl
def sitegen_extra_pages(site):
    _log(site, ["extra_pages", len(site.posts)])
    return [Page(url="/hook-log.json", content="placeholder")]


@hookimpl
def sitegen_template_context(site, page, context):
    context["recorded_greeting"] = "hello from recorder"


@hookimpl
def sitegen_build_finished(site, output):
    _log(site, ["build_finished", (output / "index.html").is_file()])
    (output / "hook-log.json").write_text(json.dumps(site.data["hook_log"], indent=1))


@hookimpl
def sitegen_files_changed(site, paths):
    _log(site, ["files_changed", sorted(p.name for p in paths)])
