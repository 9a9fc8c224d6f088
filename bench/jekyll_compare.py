"""Compare a Jekyll build with a sitegen build of the same blog, page by page.

    python bench/jekyll_compare.py JEKYLL_OUT SITEGEN_OUT [-v]

For every HTML page of the Jekyll output, the page at the same URL in sitegen's output is
compared by the math MathJax would find in it (the list made by ``extract_math.py``, found
in ``../shared/tools`` next to this repository unless ``--extract`` names it). On the
Jekyll side, single dollars count as math only where the page's MathJax configuration lists
``['$','$']`` in ``inlineMath``, and ``\\$`` / ``\\\\`` are escapes only where MathJax 3
runs or MathJax 2 has ``processEscapes: true`` — what the reader's MathJax would do. sitegen's
pages are read by MathJax 3's defaults, which is what they load.

A Jekyll page with no page at its URL is looked up in sitegen's unmatched pages by the last
part of its URL (``gbr-vs-tbr.html`` ~ ``gbr-vs-tbr/``) and then by its math: found, it is
a URL difference; not found and it has math, the post is missing. Jekyll pages without math
and without a counterpart (pagination, tag and category lists) are only counted.

A Jekyll item made only of definitions (``$$\\newcommand…$$`` in a layout's hidden block)
shows nothing; where sitegen's page has no such item but configures every macro it defines
(MathJax's ``macros``), it is left out and counted apart. One sitegen does not configure
counts as missing.

Printed: pages compared, math items equal / total (items aligned in order; the TeX after
whitespace normalisation, as MathJax gets it; contents lists left out on both sides), items
equal but for kramdown's typographic characters, definitions-only items left out, items
whose display/inline mode differs,
pages with math missing, URLs differing, pages whose number of ``<table>`` differs;
``-v`` lists each differing item.
"""

from __future__ import annotations

import argparse
import difflib
import importlib.util
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_EXTRACT = Path(__file__).resolve().parents[2] / "shared" / "tools" / "extract_math.py"
DOLLAR_INLINE = re.compile(r"inlineMath\s*:\s*\[\s*\[\s*['\"]\$['\"]")
MATHJAX2 = re.compile(r"MathJax\.js|MathJax\.Hub")
# A <table> of the post, not one that lays out line-numbered code (rouge, Pygments).
CONTENT_TABLE = re.compile(r"<table(?![^>]*(?:rouge-table|highlighttable|lineno))[\s>]")
# kramdown's {:toc} list (its opening tag, whatever attributes it has).
KRAMDOWN_TOC = re.compile(r'<ul\s[^>]*id="markdown-toc"[^>]*>')
ESCAPES_ON = re.compile(r"processEscapes\s*:\s*true")
# What kramdown's typographic replacements made of ' " ... -- --- << >> in text math;
# sitegen keeps them as written on purpose (and warns), so they are counted apart.
TYPOGRAPHY = str.maketrans(
    {
        "\u2019": "'",
        "\u2018": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2026": "...",
        "\u2013": "--",
        "\u2014": "---",
        "\u00ab": "<<",
        "\u00bb": ">>",
    }
)


# A TeX definition: \newcommand{\name}[n]{…}, \newcommand\name{…}, \def\name{…},
# \DeclareMathOperator{\name}{…}; a math item of nothing else shows nothing (a layout's
# hidden "$$\newcommand…$$" block), and sitegen hands those macros to MathJax's config.
DEFINITION_HEAD = re.compile(
    r"\\(?:(?:re|provide)?newcommand|DeclareMathOperator\*?|def)\s*\{?\s*\\([A-Za-z]+)\s*\}?"
    r"\s*(?:\[\d\]\s*)?(?:#\d\s*)*"
)


def _skip_group(tex: str, at: int) -> int:
    """The index after the brace group opening at ``tex[at]`` (-1 if there is none)."""
    if at >= len(tex) or tex[at] != "{":
        return -1
    depth = 0
    for i in range(at, len(tex)):
        ch = tex[i]
        if ch == "\\":
            continue
        if ch == "{" and (i == 0 or tex[i - 1] != "\\"):
            depth += 1
        elif ch == "}" and tex[i - 1] != "\\":
            depth -= 1
            if depth == 0:
                return i + 1
    return -1


def defined_names(tex: str) -> list[str] | None:
    """The macro names ``tex`` defines when it is nothing but definitions, else None."""
    names, at = [], 0
    while True:
        while at < len(tex) and tex[at].isspace():
            at += 1
        if at == len(tex):
            return names or None
        head = DEFINITION_HEAD.match(tex, at)
        if head is None:
            return None
        end = _skip_group(tex, head.end())
        if end < 0:
            return None
        names.append(head.group(1))
        at = end


@dataclass
class PageResult:
    url: str
    total: int
    equal: int
    mode_differs: int
    typography: int = 0  # equal but for kramdown's typographic characters
    definitions: int = 0  # Jekyll's definitions-only items whose macros sitegen configures
    diffs: list[str] = field(default_factory=list)


@dataclass
class Comparison:
    pages: list[PageResult] = field(default_factory=list)
    missing: list[tuple[str, int]] = field(default_factory=list)  # (url, math items)
    moved: list[tuple[str, str]] = field(default_factory=list)  # (jekyll url, sitegen url)
    other_unmatched: list[str] = field(default_factory=list)
    tables: list[tuple[str, int, int]] = field(default_factory=list)  # (url, jekyll, ours)


def load_extractor(path: Path) -> Callable[..., list[dict]]:
    spec = importlib.util.spec_from_file_location("extract_math", path)
    if spec is None or spec.loader is None:
        sys.exit(f"{path}: cannot load extract_math")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.extract_math


def html_pages(root: Path) -> dict[str, Path]:
    """URL path -> file, with ``/x/index.html`` as ``/x/``."""
    pages = {}
    for path in sorted(root.rglob("*.html")):
        rel = path.relative_to(root).as_posix()
        url = "/" + rel
        if url.endswith("/index.html"):
            url = url[: -len("index.html")]
        pages[url] = path
    return pages


def last_segment(url: str) -> str:
    name = url.rstrip("/").rsplit("/", 1)[-1]
    return name[:-5] if name.endswith(".html") else name


def jekyll_math(extract: Callable[..., list[dict]], html: str) -> list[dict]:
    # A contents list repeats the headings' math; sitegen's (tex2jax_ignore, shown as a
    # copy of the typeset headings) is not counted, so neither is kramdown's {:toc}.
    html = KRAMDOWN_TOC.sub('<ul class="tex2jax_ignore">', html)
    mathjax2 = bool(MATHJAX2.search(html))
    escapes = bool(ESCAPES_ON.search(html)) if mathjax2 else True
    return extract(html, dollars=bool(DOLLAR_INLINE.search(html)), escapes=escapes)


def without_typography(tex: str) -> str:
    return tex.translate(TYPOGRAPHY)


def compare_items(url: str, ours: list[dict], theirs: list[dict]) -> PageResult:
    mine = [item["tex"] for item in ours]
    jekyll = [item["tex"] for item in theirs]
    matcher = difflib.SequenceMatcher(
        None,
        [without_typography(t) for t in jekyll],
        [without_typography(t) for t in mine],
        autojunk=False,
    )
    result = PageResult(url, len(jekyll), 0, 0)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for i, j in zip(range(i1, i2), range(j1, j2), strict=True):
                if jekyll[i] == mine[j]:
                    result.equal += 1
                else:
                    result.typography += 1
                    result.diffs.append(f"  jekyll  {jekyll[i][:160]!r}")
                    result.diffs.append(f"  sitegen {mine[j][:160]!r} (typography)")
                    result.diffs.append("  --")
                if theirs[i]["display"] != ours[j]["display"]:
                    result.mode_differs += 1
                    shown = "display" if theirs[i]["display"] else "inline"
                    result.diffs.append(f"  mode: {shown} in Jekyll  {jekyll[i][:120]!r}")
            continue
        for i in range(i1, i2):
            result.diffs.append(f"  jekyll  {jekyll[i][:160]!r}")
        for j in range(j1, j2):
            result.diffs.append(f"  sitegen {mine[j][:160]!r}")
        result.diffs.append("  --")
    return result


def _count_tables(result: Comparison, url: str, theirs: Path, ours: Path) -> None:
    """Record a page whose number of <table> elements differs (a table shown as text)."""
    count = [
        len(CONTENT_TABLE.findall(p.read_text(encoding="utf-8", errors="replace")))
        for p in (theirs, ours)
    ]
    if count[0] != count[1]:
        result.tables.append((url, count[0], count[1]))


def _without_definitions(
    theirs: list[dict], ours: list[dict], our_html: str
) -> tuple[list[dict], list[dict], int]:
    """Jekyll's definitions-only items that sitegen's page has not (a layout's hidden
    block) left out where that page configures every macro they define; one it does not
    configure is left in, so it counts as missing. Returns both lists and how many were
    left out."""
    kept, handled = [], 0
    own = {item["tex"] for item in ours}
    for item in theirs:
        names = defined_names(item["tex"]) if item["tex"] not in own else None
        if names and all(f'"{name}":' in our_html for name in names):
            handled += 1
        else:
            kept.append(item)
    return kept, ours, handled


def compare(jekyll_out: Path, sitegen_out: Path, extract_path: Path) -> Comparison:
    extract = load_extractor(extract_path)
    theirs = html_pages(jekyll_out)
    ours = html_pages(sitegen_out)
    their_math = {
        url: jekyll_math(extract, path.read_text(encoding="utf-8", errors="replace"))
        for url, path in theirs.items()
    }
    our_math: dict[str, list[dict]] = {}

    our_html: dict[str, str] = {}

    def math_of(url: str) -> list[dict]:
        if url not in our_math:
            html = our_html[url] = ours[url].read_text(encoding="utf-8", errors="replace")
            our_math[url] = extract(html)
        return our_math[url]

    def page_result(url: str, found: str, items: list[dict]) -> PageResult:
        mine = math_of(found)
        theirs_kept, mine_kept, handled = _without_definitions(items, mine, our_html[found])
        page = compare_items(url, mine_kept, theirs_kept)
        page.definitions = handled
        return page

    result = Comparison()
    unmatched_ours = set(ours) - set(theirs)
    by_segment: dict[str, list[str]] = {}
    for url in sorted(unmatched_ours):
        by_segment.setdefault(last_segment(url), []).append(url)
    for url, items in their_math.items():
        if url in ours:
            result.pages.append(page_result(url, url, items))
            _count_tables(result, url, theirs[url], ours[url])
            continue
        candidates = [u for u in by_segment.get(last_segment(url), []) if u in unmatched_ours]
        if not candidates and items:
            texts = {i["tex"] for i in items}
            scored = sorted(
                ((len(texts & {i["tex"] for i in math_of(u)}), u) for u in unmatched_ours),
                reverse=True,
            )
            if scored and scored[0][0] * 2 >= len(texts):
                candidates = [scored[0][1]]
        if candidates:
            found = candidates[0]
            unmatched_ours.discard(found)
            result.moved.append((url, found))
            result.pages.append(page_result(url, found, items))
            _count_tables(result, url, theirs[url], ours[found])
        elif items:
            result.missing.append((url, len(items)))
        else:
            result.other_unmatched.append(url)
    return result


def report(result: Comparison, verbose: bool) -> str:
    total = sum(p.total for p in result.pages) + sum(n for _, n in result.missing)
    equal = sum(p.equal for p in result.pages)
    lines = [
        f"pages compared: {len(result.pages)}"
        f" ({sum(1 for p in result.pages if p.total)} with math)",
        f"math items equal: {equal} / {total}"
        + (f" ({100 * equal / total:.2f}%)" if total else ""),
        f"items equal but for kramdown's typographic characters (kept, warned): "
        f"{sum(p.typography for p in result.pages)}",
        f"definitions-only items (a layout's hidden macro block) left out, their macros "
        f"in sitegen's MathJax config: {sum(p.definitions for p in result.pages)}",
        f"equal items whose display/inline mode differs: "
        f"{sum(p.mode_differs for p in result.pages)}",
        f"pages with math missing in sitegen: {len(result.missing)}",
        f"URLs differing: {len(result.moved)}",
        f"pages whose number of tables differs: {len(result.tables)}",
        f"Jekyll pages without math and without a sitegen page: {len(result.other_unmatched)}",
    ]
    for url, n in result.missing:
        lines.append(f"  missing {url} ({n} math items)")
    for url, theirs_n, ours_n in result.tables:
        lines.append(f"  tables {url}: jekyll {theirs_n}, sitegen {ours_n}")
    for theirs, ours in result.moved:
        lines.append(f"  url {theirs} -> {ours}")
    for page in result.pages:
        if page.equal + page.typography < page.total or page.diffs:
            lines.append(f"{page.url}: {page.equal} / {page.total}")
            if verbose:
                lines.extend(page.diffs)
    if verbose:
        lines.extend(f"  not built {url}" for url in result.other_unmatched)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("jekyll_out", type=Path)
    parser.add_argument("sitegen_out", type=Path)
    parser.add_argument(
        "--extract",
        type=Path,
        default=DEFAULT_EXTRACT,
        help="extract_math.py (default: ../shared/tools/extract_math.py)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="list differing items")
    args = parser.parse_args(argv)
    if not args.extract.is_file():
        parser.error(f"{args.extract}: no such file (use --extract)")
    result = compare(args.jekyll_out, args.sitegen_out, args.extract)
    print(report(result, args.verbose))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
