from sitegen.hooks import hookimpl


@hookimpl
def sitegen_post_loaded(site, post):
    if "explode" in post.body:
        raise RuntimeError("kaboom")
