"""Which math delimiters a parser recognises, and the site's dialect of them (the
options of :func:`sitegen.markdown.math.math_plugin`)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MathOptions", "parse_math_options"]


@dataclass(frozen=True)
class MathOptions:
    """Which delimiters are recognised (all on by default, as SPEC §4.1 says)."""

    double_dollar: bool = True  # $$ .. $$
    dollar: bool = True  # $ .. $ (pandoc rules)
    escaped_brackets: bool = True  # \\( .. \\) and \\[ .. \\] (kramdown style)
    brackets: bool = True  # \( .. \) and \[ .. \]
    environments: bool = True  # \begin{env} .. \end{env}
    refs: bool = True  # \eqref{..} / \ref{..} in running text
    # Keep \[ \] around \begin{..}\end{..} in display markup; MathJax 3 typesets both ways
    # (checked in headless Chromium), and one markup for all display math is simpler to style.
    wrap_environments: bool = True
    # The site's dialect (sitegen.markdown.jekyll): single-dollar rule "off" | "pandoc" |
    # "mathjax"; kramdown: a Jekyll post (escapes resolved in $..$, "\[" a bracket, ...).
    dollars: str = "pandoc"
    kramdown: bool = False
    process_escapes: bool = True


def parse_math_options(options: dict) -> MathOptions:
    """``MathOptions`` from the plugin's keyword options, naming any unknown one."""
    known = set(MathOptions.__dataclass_fields__)
    unknown = sorted(set(options) - known)
    if unknown:  # options come from sitegen.toml: name the mistake instead of a TypeError
        raise ValueError(
            f"unknown math option(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    return MathOptions(**{k: v if k == "dollars" else bool(v) for k, v in options.items()})
