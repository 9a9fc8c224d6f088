"""Stands in for gradcheck: a summary badge on posts whose front matter asks for one."""

from sitegen.hooks import hookimpl


@hookimpl
def sitegen_post_rendered(site, post):
    if post.meta.get("fake_badge"):
        post.data["badge_html"] = (
            '<span class="sg-badge sg-summary">&#10003; '
            f'{post.meta["fake_badge"]} stated gradients verified</span>'
        )
