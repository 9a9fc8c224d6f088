"""What each output read, and the one rule that says whether it is outdated.

A page is rendered from a template and a context. While it renders, the template engine
records what it reads (``Reads``): the entries of the ``site`` variable and, for every
post it touches, the attributes it asks of that post (``post.words``, ``post.toc``,
``post.data.badge_html`` …). The page's ``PageRecord`` keeps a fingerprint of each of
those values together with a fingerprint of everything else it was given: the template
set and settings (``salt``), its URL, template name and context.

The next build renders a page again when ``outdated`` says so: its context or salt
changed, or any value it read has a different fingerprint now. A post whose inputs are
all as they were (``post_state``: its file, its rendered body's cache key, its
neighbours) cannot have changed any attribute, so its attributes are not looked at.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import pickle
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import time as time_of_day
from typing import Any

from sitegen.model import Post

# ------------------------------------------------------------------------ fingerprints


def fingerprint(value: Any) -> str:
    """A digest that differs whenever ``value`` differs as a template could see it.

    Posts count by their path (what a template reads of them is recorded on its own);
    functions by name (they depend only on the settings). A value shared in several
    places is encoded once and referred back to, so a YAML alias bomb stays small.
    Values of unknown kinds that cannot be described are never equal to anything."""
    digest = _Digest()
    try:
        pickler = _Pickler(digest)
        # without pickle's memo, equal values give equal bytes whichever objects hold
        # them (a post's rows rebuilt from its results equal the cached ones); a value
        # shared so often that it grows past the limit is encoded with the memo instead
        pickler.fast = True
        pickler.dump(value)  # the common case, at the speed of C
        return "p" + digest.hexdigest()
    except Exception:  # too large, cyclic, or of a kind pickle cannot take
        pass
    buffer = io.BytesIO()
    try:
        _Pickler(buffer).dump(value)
        return "m" + hashlib.sha256(buffer.getbuffer()).hexdigest()[:32]
    except Exception:  # an object pickle cannot take: described one part at a time
        pass
    parts: list[str] = []
    try:
        _encode(value, parts, {})
    except RecursionError:
        return _never_equal()
    return "e" + hashlib.sha256("".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:32]


class _Digest:
    """A file for the pickler that hashes what it is given, up to a limit."""

    LIMIT = 1 << 26  # 64 MiB: far beyond any site's context, short of an alias bomb

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self._size = 0

    def write(self, data: bytes) -> int:
        self._size += len(data)
        if self._size > self.LIMIT:
            raise OverflowError("value too large to encode without sharing")
        self._hash.update(data)
        return len(data)

    def hexdigest(self) -> str:
        return self._hash.hexdigest()[:32]


class _Pickler(pickle.Pickler):
    """Pickle's encoding of plain data, with posts as their paths and functions as
    their names. Its memo writes a shared value once (equal bytes still mean equal
    values; equal values written differently only cost a render)."""

    def __init__(self, buffer: Any) -> None:
        super().__init__(buffer, protocol=5)

    def persistent_id(self, obj: Any) -> Any:
        kind = type(obj)
        if kind is Post:
            return ("post", obj.rel)
        if kind in _PLAIN:
            return None
        if callable(obj) and not isinstance(obj, type) and hasattr(obj, "__qualname__"):
            return ("function", obj.__qualname__)
        return None


_PLAIN = frozenset({str, int, float, bool, type(None), dict, list, tuple, bytes})


_UNIQUE = [0]


def _never_equal() -> str:
    _UNIQUE[0] += 1
    return f"never-equal-{id(_UNIQUE)}-{_UNIQUE[0]}"


def _encode(value: Any, out: list[str], seen: dict[int, int]) -> None:
    kind = type(value)
    if kind is str or isinstance(value, str):
        out.append(f"s{len(value)}:")
        out.append(value)
        return
    if value is None or kind in (bool, int, float):
        out.append(f"{kind.__name__[0]}{value!r};")
        return
    if kind is Post:
        out.append(f"P{len(value.rel)}:{value.rel}")
        return
    if isinstance(value, (datetime, date, time_of_day)):
        out.append(f"d{kind.__name__}{value.isoformat()}{getattr(value, 'tzinfo', None)!r};")
        return
    if isinstance(value, type):
        out.append(f"T{value.__module__}.{value.__qualname__};")
        return
    if isinstance(value, (bytes, bytearray)):
        out.append(f"b{len(value)}:{bytes(value).hex()}")
        return
    if isinstance(value, (dict, list, tuple, set, frozenset)) or dataclasses.is_dataclass(value):
        known = seen.get(id(value))
        if known is not None:
            out.append(f"r{known};")  # the same object again: a reference, not a copy
            return
        seen[id(value)] = len(seen)
        if isinstance(value, dict):
            out.append(f"{{{len(value)}")
            for key, item in value.items():  # in order: templates iterate dicts in order
                _encode(key, out, seen)
                _encode(item, out, seen)
            out.append("}")
        elif isinstance(value, (set, frozenset)):
            items = sorted(value, key=repr)  # set order depends on the process's hash seed
            out.append(f"<{len(items)}")
            for item in items:
                _encode(item, out, seen)
            out.append(">")
        elif isinstance(value, (list, tuple)):
            out.append(f"[{len(value)}" if isinstance(value, list) else f"({len(value)}")
            for item in value:
                _encode(item, out, seen)
            out.append("]")
        else:
            out.append(f"D{type(value).__qualname__}")
            for f in dataclasses.fields(value):
                _encode(getattr(value, f.name), out, seen)
            out.append(";")
        return
    if callable(value) and hasattr(value, "__qualname__"):
        out.append(f"f{value.__qualname__};")
        return
    state = getattr(value, "__getstate__", None)
    described = state() if state is not None else None
    if isinstance(described, dict):
        out.append(f"O{type(value).__qualname__}")
        _encode(described, out, seen)
        return
    out.append(_never_equal())


# ------------------------------------------------------------------------ reads


@dataclass
class Reads:
    """What one page's template read: ``site`` entries and each post's attributes."""

    site: set[str] = field(default_factory=set)
    posts: dict[str, set[str]] = field(default_factory=dict)  # post path → attributes

    def post(self, post: Post, attribute: str) -> None:
        attrs = self.posts.get(post.rel)
        if attrs is None:
            attrs = self.posts[post.rel] = set()
        attrs.add(attribute)

    def post_value(self, post: Post, attribute: str) -> Any:
        """``post.ATTRIBUTE`` for a template, noted (AttributeError when it has none);
        its ``data`` as a view noting each entry read, as ``data.KEY``."""
        if attribute == "data":  # plugins' entries count one by one
            # a new view at each use: keeping one per page measured slower
            return RecordingDict(post.data, lambda name: self.post(post, name), "data.")
        attrs = self.posts.get(post.rel)
        if attrs is None:
            attrs = self.posts[post.rel] = set()
        attrs.add(attribute)
        return getattr(post, attribute)

    def clear(self) -> None:
        self.site.clear()
        self.posts.clear()


class RecordingDict(dict):
    """A dict that notes which of its keys are read: the ``site`` variable (keys noted
    as they are, ``data`` as a view of its own noting ``data.KEY``) and a post's ``data``
    (noted as the post's attribute ``data.KEY``)."""

    def __init__(self, values: dict[str, Any], note: Callable[[str], None], prefix: str = ""):
        super().__init__(values)
        self._sg_note = note
        self._sg_prefix = prefix

    def _note(self, key: object) -> None:
        self._sg_note(f"{self._sg_prefix}{key}")

    def __getitem__(self, key: str) -> Any:
        self._note(key)
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self._note(key)
        return super().get(key, default)

    def __contains__(self, key: object) -> bool:
        self._note(key)
        return super().__contains__(key)

    def _note_all(self) -> None:
        for key in super().keys():
            self._note(key)

    def __iter__(self):  # type: ignore[no-untyped-def]
        self._note_all()
        return super().__iter__()

    def keys(self):  # type: ignore[no-untyped-def]
        self._note_all()
        return super().keys()

    def items(self):  # type: ignore[no-untyped-def]
        self._note_all()
        return super().items()

    def values(self):  # type: ignore[no-untyped-def]
        self._note_all()
        return super().values()

    def __len__(self) -> int:
        self._note_all()
        return super().__len__()


def site_view(site: dict[str, Any], reads: Reads) -> RecordingDict:
    """The ``site`` template variable for one page, noting its reads in ``reads``."""
    def note(name: str) -> None:
        if name != "data":  # its entries count one by one (build state is not in it)
            reads.site.add(name)

    view = RecordingDict(site, note)
    data = site.get("data")
    if isinstance(data, dict):
        dict.__setitem__(view, "data", RecordingDict(data, reads.site.add, "data."))
    return view


def site_entry(site: dict[str, Any], name: str) -> Any:
    """The value of a noted ``site`` entry (``data.KEY`` for plugins' data)."""
    if name.startswith("data.") and "data" in site:
        return dict.get(site["data"], name[5:])
    return dict.get(site, name)


def post_attribute(post: Post, name: str) -> Any:
    """The value of a noted post attribute (``data.KEY`` for a plugin's entry)."""
    if name.startswith("data."):
        return post.data.get(name[5:])
    try:
        return getattr(post, name)
    except Exception:  # a property that fails: its failing is what the page showed
        return _never_equal()


def post_state(post: Post) -> str:
    """A digest of a post's inputs: equal, and none of its attributes can differ.

    "" when not known (its body did not come from or go into the body cache)."""
    if not post.html_key or not post.source_digest:
        return ""
    neighbours = (
        post.previous.rel if post.previous else "",
        post.next.rel if post.next else "",
    )
    return hashlib.sha256(
        "\0".join((post.rel, post.source_digest, post.html_key, *neighbours)).encode(
            "utf-8", "surrogatepass"
        )
    ).hexdigest()


# ------------------------------------------------------------------------ records


@dataclass
class PageRecord:
    """What a page was made from: the fingerprint of its context (salt, URL, template,
    variables), of each ``site`` entry and post attribute its template read, and of the
    bytes written."""

    context: str
    site: tuple[tuple[str, str], ...] = ()
    # (post path, its state, ((attribute, fingerprint), …))
    posts: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = ()
    size: int = -1  # of the file written, with its modification time: a file changed
    mtime: int = 0  # since (by hand, or by a build that stopped half-way) is outdated
    digest: str = ""  # sha256 of the bytes written


PAGE_RECORD_FIELDS = tuple(f.name for f in dataclasses.fields(PageRecord))


class Lookups:
    """The current build's values, fingerprinted once each however many pages ask."""

    def __init__(self, site: dict[str, Any], posts: Iterable[Post]) -> None:
        self.site = site
        self.posts = {post.rel: post for post in posts}
        self._site_fp: dict[str, str] = {}
        self._state: dict[str, str] = {}
        self._attr_fp: dict[tuple[str, str], str] = {}
        self._attrs: dict[tuple[str, tuple[str, ...]], tuple[tuple[str, str], ...]] = {}

    def site_fp(self, name: str) -> str:
        known = self._site_fp.get(name)
        if known is None:
            known = self._site_fp[name] = fingerprint(site_entry(self.site, name))
        return known

    def state(self, post: Post) -> str:
        known = self._state.get(post.rel)
        if known is None:
            known = self._state[post.rel] = post_state(post)
        return known

    def attr_fp(self, post: Post, name: str) -> str:
        key = (post.rel, name)
        known = self._attr_fp.get(key)
        if known is None:
            known = self._attr_fp[key] = fingerprint(post_attribute(post, name))
        return known

    def record(self, context: str, reads: Reads) -> PageRecord:
        posts = []
        for rel in sorted(reads.posts):
            post = self.posts.get(rel)
            if post is None:  # a post not of this site (a draft left out): always outdated
                posts.append((rel, "", (("", _never_equal()),)))
                continue
            names = tuple(sorted(reads.posts[rel]))
            attrs = self._attrs.get((rel, names))
            if attrs is None:  # many pages read the same of a post (a list, a neighbour)
                attrs = tuple((a, self.attr_fp(post, a)) for a in names)
                self._attrs[(rel, names)] = attrs
            posts.append((rel, self.state(post), attrs))
        site = tuple((name, self.site_fp(name)) for name in sorted(reads.site))
        return PageRecord(context=context, site=site, posts=tuple(posts))


def outdated(record: PageRecord | None, context: str, now: Lookups) -> bool:
    """The rule: a page is outdated unless its context and every value it read are as
    they were when it was written."""
    if record is None or record.context != context:
        return True
    for name, fp in record.site:
        if now.site_fp(name) != fp:
            return True
    for rel, state, attrs in record.posts:
        post = now.posts.get(rel)
        if post is None:
            return True
        if state and now.state(post) == state:
            continue  # nothing about this post changed
        for name, fp in attrs:
            if now.attr_fp(post, name) != fp:
                return True
    return False
