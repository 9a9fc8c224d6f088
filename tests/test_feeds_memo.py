"""TeX → MathML is memoised per process: the same answers, computed once per formula."""

from __future__ import annotations

import pytest
from sitegen_plugins import feeds

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
    fresh = feeds._to_mathml.__wrapped__(tex, display)
    assert feeds.to_mathml(tex, display) == fresh
    assert feeds.to_mathml(tex, display) == fresh  # from the memo


def test_each_formula_is_converted_once(monkeypatch):
    import latex2mathml.converter

    calls = []
    real = latex2mathml.converter.convert

    def counting(latex, *args, **kwargs):
        calls.append(latex)
        return real(latex, *args, **kwargs)

    monkeypatch.setattr(latex2mathml.converter, "convert", counting)
    feeds._to_mathml.cache_clear()
    try:
        for _ in range(3):
            inline = feeds.to_mathml(r"x_{ij}", False)
            block = feeds.to_mathml(r"x_{ij}", True)
        assert len(calls) == 2  # display is part of the key
        assert 'display="inline"' in inline and 'display="block"' in block
    finally:
        feeds._to_mathml.cache_clear()  # no entry made with the counting converter stays


def test_memoised_values_are_immutable_strings():
    value = feeds.to_mathml(r"\nabla_W L", False)
    assert isinstance(value, str)
