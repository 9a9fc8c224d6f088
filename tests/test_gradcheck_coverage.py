"""Which equations state a gradient, and the "N of M stated gradients verified" count."""

from __future__ import annotations

import pytest
from sitegen_plugins.gradcheck.coverage import Equation, coverage, labels, statements


@pytest.mark.parametrize(
    "tex",
    [
        r"\frac{\partial L}{\partial W} = X^\top \delta",
        r"\dfrac{\partial \mathcal{L}}{\partial W_{1}} = a",
        r"\partial L / \partial W = a",
        r"\nabla_W L = a",
        r"\frac{dL}{dw} = a",
        r"\frac{\mathrm{d} L}{\mathrm{d} w} = a",
        r"\frac{d}{dx} f(x) = a",
        r"dL/dw = a",
    ],
)
def test_gradient_on_the_left_is_a_stated_gradient(tex):
    assert [s.gradient for s in statements(tex)] == [True]


@pytest.mark.parametrize(
    "tex",
    [
        r"L = \frac{1}{N} \sum_n \ell_n",
        r"\delta = \frac{\partial L}{\partial z}",  # the gradient is on the right
        r"\frac{\partial L}{\partial W}",  # no equation
        r"y \leq x",
    ],
)
def test_other_math_is_not(tex):
    assert not any(s.gradient for s in statements(tex))


def test_rows_of_an_align_keep_their_own_labels():
    tex = (
        r"\begin{align} \frac{\partial L}{\partial W_2} &= a \label{eq:a} \\"
        r" \nabla_b L &= c \tag{5} \\ x &= y \end{align}"
    )
    assert [(s.gradient, s.labels) for s in statements(tex)] == [
        (True, ("eq:a",)),
        (True, ("5",)),
    ]
    assert labels(tex) == ["eq:a", "5"]


def test_a_label_on_its_own_line_belongs_to_the_single_gradient():
    tex = "\\begin{equation}\n\\frac{\\partial L}{\\partial W} = a\n\\label{eq:w}\n\\end{equation}"
    assert [(s.gradient, s.labels) for s in statements(tex)] == [(True, ("eq:w",))]


def test_coverage_counts_verified_and_unlinked_gradients():
    texts = [r"\frac{\partial L}{\partial W} = a \label{w}", r"\nabla_b L = c", r"z = Wx \label{z}"]
    equations = [Equation(tex, True, statements(tex)) for tex in texts]
    checks = [
        {"eq": "w", "status": "pass"},
        {"eq": "z", "status": "fail"},
        {"eq": "nowhere", "status": "pass"},
    ]
    result = coverage(equations, checks)
    # ∂L/∂W (verified), ∇_b L (no check), z (named by a failing check)
    assert (result.stated, result.verified, result.unlinked_gradients) == (3, 1, 1)
    assert result.missing_labels == ["nowhere"]


@pytest.mark.parametrize(
    "tex",
    [
        r"\pdv{L}{W} = X^\top \delta",
        r"\pdv[2]{L}{x} = a",
        r"\dv{L}{x} = a",
        r"d\mu = \frac{1}{N} \sum_n dx_n",
        r"\mathrm{d}W = \mathrm{d}Z\, X^\top",
    ],
)
def test_pdv_and_differentials_are_stated_gradients(tex):
    assert [s.gradient for s in statements(tex)] == [True]


def test_a_bmatrix_is_read_whole_not_cut_into_rows():
    tex = (
        r"\nabla_w L = \begin{bmatrix} \partial L / \partial w_1 \\ \partial L / \partial w_2"
        r" \end{bmatrix} \label{eq:g}"
    )
    assert [(s.gradient, s.labels) for s in statements(tex)] == [(True, ("eq:g",))]
    rows = r"\begin{align} a &= \begin{pmatrix} 1 \\ 2 \end{pmatrix} \\ \nabla_b L &= c \end{align}"
    assert [s.gradient for s in statements(rows)] == [True]


def test_labels_on_the_lines_of_a_chain_name_its_one_gradient():
    tex = (r"\begin{align} \frac{d}{dx}\sigma(x) &= a \label{B} \\ &= b \\"
           r" &= c \label{C} \\ y &= d \label{D} \end{align}")
    assert [(s.gradient, s.labels) for s in statements(tex)] == [
        (True, ("B", "C")), (False, ("D",))]
