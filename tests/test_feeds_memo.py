"""TeX → MathML is memoised per process: the same answers, computed once per formula."""

from __future__ import annotations

import pytest
from sitegen_plugins.feeds import mathml as converters

FORMULAS = [
    (r"\frac{\partial L}{\partial W}", False),
    (r"\frac{\partial L}{\partial W}", True),
    (r"\begin{align} a &= b \tag{1} \\ c &= d \tag{2} \end{align}", True),
    (r"W \in \mathbb{R}^{D \times H}", False),
    (r"\unknowncommand{", False),  # latex2mathml rejects it: None, memoised too
    ("", False),
]


@pytest.mark.parametrize(("tex", "display"), FORMULAS)
def test_memoised_mathml_equals_a_fresh_conversion(tex, display):
    fresh = converters._to_mathml.__wrapped__(tex, display)
    assert converters.to_mathml(tex, display) == fresh
    assert converters.to_mathml(tex, display) == fresh  # from the memo


class CountingConverter:
    """math-core's converter, noting each formula it is given."""

    def __init__(self, real):
        self.real, self.calls = real, []

    def convert_with_local_state(self, latex, **kwargs):
        self.calls.append(latex)
        return self.real.convert_with_local_state(latex, **kwargs)


MATHML_NS = "http://www.w3.org/1998/Math/MathML"


def test_each_formula_is_converted_once(monkeypatch):
    real = converters._math_core()
    assert real is not None, "math-core is a dependency of sitegen: pip install -e ."
    counting = CountingConverter(real)
    monkeypatch.setattr(converters, "_math_core", lambda: counting)
    converters._to_mathml.cache_clear()
    try:
        for _ in range(3):
            inline = converters.to_mathml(r"x_{ij}", False)
            block = converters.to_mathml(r"x_{ij}", True)
        assert len(counting.calls) == 2  # display is part of the key
        assert 'display="inline"' in inline and 'display="block"' in block
    finally:
        converters._to_mathml.cache_clear()  # no entry made with the counting converter stays


def test_what_math_core_rejects_is_converted_by_latex2mathml(monkeypatch):
    import latex2mathml.converter

    calls = []
    real = latex2mathml.converter.convert

    def counting(latex, *args, **kwargs):
        calls.append(latex)
        return real(latex, *args, **kwargs)

    monkeypatch.setattr(latex2mathml.converter, "convert", counting)
    converters._to_mathml.cache_clear()
    try:
        # math-core wants a delimiter right after \big, and a \tag inside an environment
        for tex in (r"\big{(} x \big{)}", r"y = x \tag{3}"):
            mathml = converters.to_mathml(tex, True)
            assert mathml is not None and mathml.startswith("<math") and "<mi>x</mi>" in mathml
        assert len(calls) == 2
        assert "<mi>y</mi>" in converters.to_mathml(r"y = x", True) and len(calls) == 2
    finally:
        converters._to_mathml.cache_clear()


def test_latex2mathml_alone_where_math_core_is_missing(monkeypatch):
    monkeypatch.setattr(converters, "_math_core", lambda: None)
    converters._to_mathml.cache_clear()
    try:
        mathml = converters.to_mathml(r"\frac{\partial L}{\partial W}", False)
        assert mathml.startswith(f'<math xmlns="{MATHML_NS}" display="inline">')
        assert "<mfrac>" in mathml
    finally:
        converters._to_mathml.cache_clear()


def test_math_core_numbers_no_row_itself():
    # the feed's numbers are already written as \tag; an untagged row stays unnumbered
    for env in ("align", "gather", "equation", "multline"):
        rows = r"a = b \tag{7} \\ c = d" if env in ("align", "gather") else r"a = b"
        mathml = converters.to_mathml(rf"\begin{{{env}}} {rows} \end{{{env}}}", True)
        assert mathml is not None and "<mi>a</mi>" in mathml
        assert "(1)" not in mathml and "(2)" not in mathml
    assert "(7)" in converters.to_mathml(r"\begin{align} a &= b \tag{7} \end{align}", True)


def test_memoised_values_are_immutable_strings():
    value = converters.to_mathml(r"\nabla_W L", False)
    assert isinstance(value, str)
