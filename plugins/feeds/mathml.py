"""TeX to MathML for feed entries: math-core first (fast, MathML Core), latex2mathml for
what it rejects; conversions are kept per process, since entries repeat formulas."""

from __future__ import annotations

import functools
import os
import re
from typing import Any

# latex2mathml lays out only align/align* and split as tables, and numbers align rows on its
# own (from 1 in every formula). Our numbers are already written as \tag, so every
# multi-row environment becomes the unnumbered table it can draw.
_AS_TABLE = {
    "align": "align*",
    "flalign": "align*",
    "alignat": "align*",
    "eqnarray": "align*",
    "gather": "align*",
    "aligned": "split",
    "alignedat": "split",
    "gathered": "split",
}
_ENV_NAME = re.compile(r"\\(begin|end)\{([a-z]+)\*?\}(\s*\{\d+\})?")


def _tables_for_latex2mathml(tex: str) -> str:
    def rename(m: re.Match[str]) -> str:
        target = _AS_TABLE.get(m.group(2))
        if target is None:
            return m.group(0)
        # alignat's column count is an argument of \begin only
        return f"\\{m.group(1)}{{{target}}}"

    return _ENV_NAME.sub(rename, tex)


def to_mathml(tex: str, display: bool) -> str | None:
    """MathML for ``tex``, or None when neither converter can read it."""
    return _to_mathml(tex, display)


# math-core writes MathML Core (what browsers draw) some 50 times faster than latex2mathml,
# with tags at the right margin; what it rejects (``\big{(}``, a ``\tag`` outside an
# environment, flalign, eqnarray, ...) goes to latex2mathml. Our numbers are already written
# as \tag, so the environments it would number on its own are given starred.
_SELF_NUMBERING = re.compile(r"\\(begin|end)\{(align|gather|equation|multline)\}")


_MATH_OPEN = '<math xmlns="http://www.w3.org/1998/Math/MathML"'
_INLINE_OPEN = _MATH_OPEN + ' display="inline"'


@functools.cache
def _math_core() -> Any:
    """The math-core converter, or None where it is not installed. Converting with local
    state, it keeps nothing from one formula to the next."""
    try:
        import math_core
    except ImportError:
        return None
    return math_core.LatexToMathML(xml_namespace=True, fancy_error=False)


# A formula takes latex2mathml a millisecond or so; feed entries repeat formulas ($W$,
# \frac{\partial L}{\partial W}), so conversions are kept per process. The result (a str or
# None) is immutable, and convert() starts from a fresh state on every call.
@functools.lru_cache(maxsize=2048)
def _to_mathml(tex: str, display: bool) -> str | None:
    converter = _math_core()
    if converter is not None:
        try:
            mathml = converter.convert_with_local_state(
                _SELF_NUMBERING.sub(r"\\\1{\2*}", tex), displaystyle=display
            )
        except Exception:  # math-core's LatexError: TeX it does not know
            pass
        else:  # says display="block" only; inline is the default, said as latex2mathml does
            return mathml if display else mathml.replace(_MATH_OPEN, _INLINE_OPEN, 1)
    from latex2mathml.converter import convert  # only formulas math-core rejects load it

    try:
        return convert(_tables_for_latex2mathml(tex), display="block" if display else "inline")
    except Exception:  # latex2mathml raises many kinds of errors on TeX it does not know
        return None


@functools.cache
def converter_identity() -> str:
    """Which math-core and latex2mathml convert the formulas: their files' sizes and times.
    Importing latex2mathml to ask its version costs ~30 ms (it asks importlib.metadata),
    which a rebuild whose feed entries are all cached would spend for nothing."""
    import importlib.util

    parts = []
    for package in ("math_core", "latex2mathml"):
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            parts.append(f"{package}: missing")
            continue
        folder = next(iter(spec.submodule_search_locations))
        for name in sorted(os.listdir(folder)):
            if name.endswith((".py", ".so", ".pyd")):
                st = os.stat(os.path.join(folder, name))
                parts.append(f"{package}/{name}:{st.st_size}:{st.st_mtime_ns}")
    return ";".join(parts)


