"""Deciding what a check says about the equation it names: verified, contradicts, unread,
weak-test warnings, bindings (names, symbols=, notation:) and derivation steps."""

from __future__ import annotations

import numpy as np
import pytest
from sitegen_plugins.gradcheck import checker
from sitegen_plugins.gradcheck.tex import read_check

rng = np.random.default_rng(3)
N, D = 6, 3
X = rng.standard_normal((N, D))
Y = rng.random((N, 1))
W = rng.standard_normal((D, 1))


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def loss(W):
    return 0.5 * np.sum((sigmoid(X @ W) - Y) ** 2) / N


Y_hat = sigmoid(X @ W)
dW = X.T @ ((Y_hat - Y) * Y_hat * (1 - Y_hat)) / N
NS = {"X": X, "Y": Y, "W": W, "Y_hat": Y_hat, "N": N, "dW": dW, "sigmoid": sigmoid}


def read(tex, grad=dW, namespace=None, symbols=None, notation=None, f=loss, x=W, label="eq:dW"):
    options = {"name": "dW", "eq": label}
    record = checker.check_grad(f, x, grad, **options).to_dict()
    job = {"equations": {label: tex}, "notation": notation or {}}
    return read_check(job, record, checker.check_grad, (f, x, grad), options,
                      NS if namespace is None else namespace, symbols)


RIGHT = r"\frac{\partial L}{\partial W} = \frac{1}{N} X^\top \big((\hat Y - Y) \odot \hat Y \odot (1-\hat Y)\big) \label{eq:dW}"  # noqa: E501


def test_the_equation_as_written_is_verified():
    row = read(RIGHT)
    assert row["equation_status"] == "verified", row["equation_reason"]
    assert row["equation_warnings"] == []


def test_a_sign_typo_in_the_tex_contradicts_the_check_and_shows_worst_entries():
    row = read(RIGHT.replace(r"(\hat Y - Y)", r"(Y - \hat Y)"))
    assert row["equation_status"] == "contradicts"
    assert row["equation_worst"] and row["equation_worst"][0]["stated"] == pytest.approx(
        -row["equation_worst"][0]["numerical"], rel=1e-4)


def test_a_missing_transpose_contradicts_and_names_the_sub_expression():
    row = read(RIGHT.replace(r"X^\top", "X"))
    assert row["equation_status"] == "contradicts"
    assert "shapes do not fit" in row["equation_reason"] and "6×3" in row["equation_reason"]


def test_right_tex_wrong_code_verifies_the_equation_while_the_check_fails():
    row = read(RIGHT, grad=dW * N)  # the code forgot the mean; the TeX has it
    assert row["equation_status"] == "verified"
    assert "true gradient" in row["equation_reason"]


def test_tex_equal_to_wrong_code_contradicts():
    row = read(RIGHT.replace(r"\frac{1}{N}", ""), grad=dW * N)
    assert row["equation_status"] == "contradicts"
    assert "fails the check" in row["equation_reason"]


@pytest.mark.parametrize("tex,reason", [
    (r"\frac{\partial L}{\partial W} = \Phi X \label{eq:dW}", "Phi"),
    (r"\frac{\partial L}{\partial W} = \nabla_W L \label{eq:dW}", "nabla"),
    (r"\frac{\partial L}{\partial W} = dW \label{eq:dW}", "d"),  # d·W: d is unbound
    (r"\hat Y = \sigma(X W) \label{eq:dW}", "no stated gradient"),
    (r"\frac{\partial L}{\partial W} = \begin{bmatrix} a \\ b \end{bmatrix} \label{eq:dW}",
     "entry by entry"),
])
def test_what_cannot_be_read_is_unread_with_the_reason(tex, reason):
    row = read(tex)
    assert row["equation_status"] == "unread"
    assert reason in row["equation_reason"]


def test_a_bare_name_for_the_codes_own_gradient_is_unread():
    row = read(r"\frac{\partial L}{\partial W} = G \label{eq:dW}", namespace=dict(NS, G=dW))
    assert row["equation_status"] == "unread" and "only the name" in row["equation_reason"]


def test_a_check_without_eq_is_none():
    record = checker.check_grad(loss, W, dW).to_dict()
    row = read_check({}, record, checker.check_grad, (loss, W, dW), {}, NS, None)
    assert row["equation_status"] == "none" and row["equation_reason"] == ""


def test_symbols_bind_names_the_code_spells_differently():
    ns = {"X": X, "Y": Y, "W": W, "N": N, "probs": Y_hat}
    tex = r"\frac{\partial L}{\partial W} = \frac{1}{N} X^\top \big((\hat{Y} - Y) \odot \sigma'(X W)\big) \label{eq:dW}"  # noqa: E501
    assert read(tex, namespace=ns)["equation_status"] == "unread"
    row = read(tex, namespace=ns, symbols={r"\hat{Y}": Y_hat, r"\sigma": sigmoid})
    assert row["equation_status"] == "verified", row["equation_reason"]


def test_two_values_for_one_tex_name_are_refused():
    row = read(RIGHT, namespace=dict(NS, Yhat=Y_hat + 1))
    assert row["equation_status"] == "unread" and "Y_hat or Yhat" in row["equation_reason"]


def test_entrywise_statements_run_over_their_free_index():
    w = rng.standard_normal(D)
    x = rng.standard_normal(D)

    def f(w):
        return float(np.sum(w * x) ** 2)

    grad = 2 * np.sum(w * x) * x
    tex = r"\frac{\partial L}{\partial w_j} = 2 \Big(\sum_{i=1}^{D} w_i x_i\Big) x_j \label{e}"
    ns = {"w": w, "x": x, "D": D}
    assert read(tex, grad, ns, f=f, x=w, label="e")["equation_status"] == "verified"
    wrong = tex.replace("x_j", "w_j")
    assert read(wrong, grad, ns, f=f, x=w, label="e")["equation_status"] == "contradicts"


def test_superscript_indices_when_the_post_declares_them():
    x = rng.standard_normal((4, 2))
    w = rng.standard_normal(2)

    def f(w):
        return float(np.sum(x @ w))

    grad = x.sum(axis=0)
    tex = r"\frac{\partial L}{\partial w_1} = \sum_{i=1}^{4} x_i^1 \label{e}"
    ns = {"x": x, "w": w}
    row = read(tex, grad, ns, f=f, x=w, label="e", notation={"superscript": "index"})
    assert row["equation_status"] == "verified", row["equation_reason"]
    # without it, x_i^1 is a power of the row x_i: that reading does not verify
    assert read(tex, grad, ns, f=f, x=w, label="e")["equation_status"] != "verified"


def test_weak_tests_are_warned_about():
    A = rng.standard_normal((3, 3))
    A = A + A.T  # symmetric: A and A^T cannot be told apart
    w = rng.standard_normal((3, 1))

    def f(w):
        return float(0.5 * np.sum(w * (A @ w)))

    row = read(r"\nabla_w L = A^\top w \label{q}", A @ w, {"A": A, "w": w}, f=f, x=w, label="q")
    assert row["equation_status"] == "verified"
    assert any("symmetric" in warning for warning in row["equation_warnings"])


def test_derivation_steps_hold_or_break():
    z = rng.standard_normal(5)
    tex = r"""\begin{align}
\frac{d}{dz}\sigma(z) &= \frac{e^{-z}}{(1+e^{-z})^2} \\
&= \frac{1}{1+e^{-z}} \odot \frac{e^{-z}}{1+e^{-z}} \\
&= \frac{1}{1+e^{-z}} \odot \Big(1 - \frac{e^{-z}}{1+e^{-z}}\Big) \\
&= \sigma(z) \odot (1-\sigma(z)) \label{s}
\end{align}"""

    def f(z):
        return float(np.sum(sigmoid(z)))

    grad = sigmoid(z) * (1 - sigmoid(z))
    row = read(tex, grad, {"z": z, "sigmoid": sigmoid}, f=f, x=z, label="s")
    assert row["equation_status"] == "verified"
    assert [s["status"] for s in row["equation_steps"]] == ["holds", "breaks", "breaks"]
    assert [s["offset"] for s in row["equation_steps"]] == [2, 3, 4]


def test_pdv_and_nabla_left_hand_sides_are_read():
    body = r"\frac{1}{N} X^\top \big((\hat Y - Y) \odot \hat Y \odot (1-\hat Y)\big) \label{eq:dW}"
    for lhs in (r"\pdv{L}{W}", r"\nabla_W L", r"\partial L / \partial W", r"\frac{dL}{dW}"):
        assert read(f"{lhs} = {body}")["equation_status"] == "verified", lhs


def test_a_row_of_a_matrix_is_read_as_a_column_or_a_row_whichever_fits():
    def f(W):
        return 0.5 * float(np.sum((sigmoid(X @ W) - Y) ** 2))

    grad = X.T @ ((Y_hat - Y) * Y_hat * (1 - Y_hat))
    as_row = r"\frac{\partial L}{\partial w_j} = \sum_{i=1}^{6} (\hat y_i - y_i) \sigma(X_i W) (1 - \sigma(X_i W)) X_{i,j} \label{e}"  # noqa: E501
    ns = {"X": X, "y": Y, "y_hat": Y_hat, "W": W, "w": W, "sigmoid": sigmoid}
    row = read(as_row, grad, ns, f=f, x=W, label="e")
    assert row["equation_status"] == "verified", row["equation_reason"]
    as_column = as_row.replace(r"X_i W", r"X_i^\top W")
    assert read(as_column, grad, ns, f=f, x=W, label="e")["equation_status"] == "verified"
