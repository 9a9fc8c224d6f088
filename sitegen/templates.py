"""Theme lookup and Jinja2 rendering.

Lookup order for a template name: the site's ``templates/``, then the theme (the site's
``themes/NAME/templates`` if it has one, else the built-in theme of that name), then the
folders plugins ship (``sitegen_theme_folder``).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import jinja2

from sitegen.deps import Reads
from sitegen.errors import ConfigError, SiteError
from sitegen.model import Post
from sitegen.precompiled import PrecompiledTemplates

BUILTIN_THEME_PACKAGE = "sitegen_themes"


class SiteEnvironment(jinja2.Environment):
    """Jinja2's environment, noting in ``reads`` (when set) every attribute a template
    asks of a post, so a rebuild knows which pages show what (see ``sitegen.deps``).

    Every ``x.y`` of every template comes through ``getattr``: it does what Jinja2's own
    does, in the same order, without a second call."""

    reads: Reads | None = None

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is Post:
            reads = self.reads
            if reads is not None:
                try:
                    return reads.post_value(obj, attribute)
                except AttributeError:
                    return self.undefined(obj=obj, name=attribute)
        try:
            return getattr(obj, attribute)
        except AttributeError:
            pass
        try:
            return obj[attribute]
        except (TypeError, LookupError, AttributeError):
            return self.undefined(obj=obj, name=attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        if type(obj) is Post and self.reads is not None and isinstance(argument, str):
            try:
                return self.reads.post_value(obj, argument)
            except AttributeError:
                return self.undefined(obj=obj, name=argument)
        return super().getitem(obj, argument)


def builtin_theme_root() -> Path | None:
    spec = importlib.util.find_spec(BUILTIN_THEME_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def theme_dirs(root: Path, theme: str) -> list[Path]:
    """The theme's folders, the site's own first; a site theme may extend a built-in one."""
    dirs = []
    site_theme = root / "themes" / theme
    if site_theme.is_dir():
        dirs.append(site_theme)
    builtin = builtin_theme_root()
    if builtin is not None and (builtin / theme).is_dir():
        dirs.append(builtin / theme)
    if not dirs:
        raise ConfigError(f"theme '{theme}' not found (looked in themes/ and built-ins)")
    return dirs


def template_dirs(root: Path, themes: list[Path]) -> list[Path]:
    dirs = [root / "templates"] + [t / "templates" for t in themes]
    return [d for d in dirs if d.is_dir()]


def include_dirs(root: Path, themes: list[Path]) -> list[Path]:
    dirs = [root / "includes", root / "_includes"] + [t / "includes" for t in themes]
    return [d for d in dirs if d.is_dir()]


class CheckedBytecodeCache(jinja2.BytecodeCache):
    """Compiled templates: those kept between builds in sealed cache files (``folder``),
    else the theme's, compiled ahead of time (``sitegen.precompiled``). A damaged or cut
    cache file is compiled again, never loaded (a flipped bit in marshalled code can
    crash the interpreter)."""

    def __init__(self, folder: Path | None, precompiled: PrecompiledTemplates | None = None):
        self.folder = folder
        self.precompiled = precompiled

    def get_bucket(
        self, environment: jinja2.Environment, name: str, filename: str | None, source: str
    ) -> jinja2.bccache.Bucket:
        bucket = super().get_bucket(environment, name, filename, source)
        if bucket.code is None and self.precompiled is not None:
            code = self.precompiled.code(environment, name, filename, source)
            if code is not None:  # Jinja2 then does not compile it; the cache keeps it,
                bucket.code = code  # as loading it from there is quicker still
                self.set_bucket(bucket)
        return bucket

    def _path(self, bucket: jinja2.bccache.Bucket) -> Path:
        assert self.folder is not None
        return self.folder / f"{bucket.key}.cache"

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if self.folder is None:
            return
        from sitegen.cache import read_cache_file

        body = read_cache_file(self._path(bucket))
        if body is None:
            return
        try:
            bucket.bytecode_from_string(body)  # checks Jinja2's version and the source
        except Exception:
            bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if self.folder is None:
            return
        from sitegen.cache import write_cache_file

        write_cache_file(self._path(bucket), bucket.bytecode_to_string())


def create_environment(search_path: list[Path], compiled: Path | None = None) -> jinja2.Environment:
    """The Jinja2 environment of a build. ``compiled``: a folder where compiled templates
    are kept between builds (Jinja2 checks each against its source); the templates
    folders' ahead-of-time compiled templates are used either way."""
    env = SiteEnvironment(
        bytecode_cache=CheckedBytecodeCache(compiled, PrecompiledTemplates(search_path)),
        loader=jinja2.FileSystemLoader([str(p) for p in search_path]),
        autoescape=jinja2.select_autoescape(("html", "xml"), default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # no stat() of every template file on each render: the live preview makes a new
        # environment when a template changes, and a build never sees one change
        auto_reload=False,
    )
    env.filters["date_format"] = lambda d, fmt="%B %-d, %Y": d.strftime(fmt) if d else ""
    env.filters["isodate"] = lambda d: d.isoformat() if d else ""
    return env


def template_error(exc: Exception, root: Path, name: str) -> SiteError:
    """Turn a Jinja2 failure into an error naming the template file and line."""
    if isinstance(exc, jinja2.TemplateSyntaxError):
        where = exc.filename or exc.name or name
        return SiteError(f"template syntax error: {exc.message}", _short(where, root), exc.lineno)
    if isinstance(exc, jinja2.TemplateNotFound):
        return SiteError(f"template not found: {exc.name}", name)
    line = None
    path = name
    tb = exc.__traceback__
    while tb is not None:  # the innermost frame that belongs to a template
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith((".html", ".xml", ".txt")):
            path, line = filename, tb.tb_lineno
        tb = tb.tb_next
    return SiteError(f"template error: {type(exc).__name__}: {exc}", _short(path, root), line)


def _short(path: str, root: Path) -> str:
    try:
        return Path(path).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        from sitegen.plugins import builtin_plugin_dir

        # a built-in theme's or plugin's template, named as in the source tree
        builtins = (("themes/", builtin_theme_root()), ("plugins/", builtin_plugin_dir()))
        for label, builtin in builtins:
            if builtin is not None:
                try:
                    return label + Path(path).resolve().relative_to(builtin.resolve()).as_posix()
                except ValueError:
                    pass
        return path


def render_template(env: jinja2.Environment, root: Path, name: str, context: dict[str, Any]) -> str:
    try:
        return env.get_template(name).render(context)
    except Exception as exc:
        raise template_error(exc, root, name) from exc
