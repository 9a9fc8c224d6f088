"""A realistic set of derivations, as ML bloggers write them, that guards "a badge that never
lies": each derivation states its correct gradient and the wrong ones authors really write
(a missing transpose, a dropped 1/N, a sign, a missed product-rule term, double counting at
ties, a wrong axis, keepdims shapes, low precision, kinks, huge and tiny values, Monte Carlo
estimates, 10⁵-entry parameters) plus calls that are wrong as calls.

A correct gradient must pass (or, where the case says the point is below what the
reference can resolve, be inconclusive); a wrong one must fail, never pass; a malformed
call must be an error.  Where a case names words its hint must (or must not) contain, the
hint is held to them: a correct gradient never gets a failing verdict with a hint that
sends the author hunting for a bug, and a wrong one gets a hint only when it is the cause.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from plugins.gradcheck.checker import CheckResult, check_grad, check_vjp


@dataclass
class Variant:
    family: str
    label: str
    expect: str  # "pass", "fail", "error", or "pass|inconclusive"
    run: Callable[[], CheckResult]
    hint_has: str | None = None  # words the hint (or message) must contain
    hint_not: tuple[str, ...] = ()  # words neither may contain


CASES: list[Variant] = []


def case(family: str, label: str, expect: str, run: Callable[[], CheckResult], **kw: Any) -> None:
    CASES.append(Variant(family, label, expect, run, **kw))


def grad_cases(family: str, stem: str, f: Callable, x: Any, good: Any,
               wrong: dict[str, Any], **kw: Any) -> None:
    case(family, f"{stem}: correct", "pass", lambda: check_grad(f, x, good, **kw))
    for label, g in wrong.items():
        case(family, f"{stem}: {label}", "fail", lambda g=g: check_grad(f, x, g, **kw))


def vjp_cases(family: str, stem: str, f: Callable, x: Any, up: Any, good: Any,
              wrong: dict[str, Any]) -> None:
    case(family, f"{stem}: correct", "pass", lambda: check_vjp(f, x, up, good))
    for label, g in wrong.items():
        case(family, f"{stem}: {label}", "fail", lambda g=g: check_vjp(f, x, up, g))


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


R = np.random.default_rng(2026)

# --------------------------------------------------------------------------- linear models

X = R.standard_normal((8, 3))
Y = R.standard_normal((8, 1))
W = R.standard_normal((3, 1))
grad_cases("linear", "least squares mean", lambda W: np.mean((X @ W - Y) ** 2), W,
           2 / 8 * X.T @ (X @ W - Y),
           {"dropped 1/N": 2 * X.T @ (X @ W - Y), "dropped 2": X.T @ (X @ W - Y) / 8,
            "sign": -2 / 8 * X.T @ (X @ W - Y)})

Xs = R.standard_normal((4, 4))
Ws = R.standard_normal((4, 4))
Ts = R.standard_normal((4, 4))
grad_cases("linear", "square weight, missing transpose",
           lambda W: 0.5 * np.sum((Xs @ W - Ts) ** 2), Ws, Xs.T @ (Xs @ Ws - Ts),
           {"missing transpose": (Xs.T @ (Xs @ Ws - Ts)).T, "X instead of Xᵀ":
            Xs @ (Xs @ Ws - Ts)})

yb = (R.random(8) > 0.5).astype(float)
wl = R.standard_normal(3) * 0.5


def logistic(w):
    z = X @ w
    return float(np.mean(np.logaddexp(0, z) - yb * z))


grad_cases("linear", "logistic regression", logistic, wl,
           X.T @ (sigmoid(X @ wl) - yb) / 8,
           {"y - p instead of p - y": X.T @ (yb - sigmoid(X @ wl)) / 8,
            "dropped 1/N": X.T @ (sigmoid(X @ wl) - yb),
            "σ' factor multiplied in": X.T @ ((sigmoid(X @ wl) - yb) * sigmoid(X @ wl)
                                              * (1 - sigmoid(X @ wl))) / 8})

bias = R.standard_normal(3)
Xb = R.standard_normal((5, 3))
Tb = R.standard_normal((5, 3))
grad_cases("linear", "bias of a batch", lambda b: 0.5 * np.sum((Xb + b - Tb) ** 2), bias,
           (Xb + bias - Tb).sum(0), {"not summed, first row": (Xb + bias - Tb)[0],
                                     "mean instead of sum": (Xb + bias - Tb).mean(0)})
case("shapes", "bias gradient kept as (1, H)", "fail",
     lambda: check_grad(lambda b: 0.5 * np.sum((Xb + b - Tb) ** 2), bias,
                        (Xb + bias - Tb).sum(0, keepdims=True)),
     hint_has="keepdims", hint_not=("not summed",))
case("shapes", "bias gradient not summed over the batch (N, H)", "fail",
     lambda: check_grad(lambda b: 0.5 * np.sum((Xb + b - Tb) ** 2), bias, Xb + bias - Tb),
     hint_has="sum")

# --------------------------------------------------------------------------- MLPs

Xm = R.standard_normal((6, 4))
Tm = R.standard_normal((6, 2))
P = {"W1": R.standard_normal((4, 5)) * 0.5, "b1": R.standard_normal(5) * 0.1,
     "W2": R.standard_normal((5, 2)) * 0.5, "b2": R.standard_normal(2) * 0.1}


def mlp(W1, b1, W2, b2):
    h = np.tanh(Xm @ W1 + b1)
    return 0.5 * np.sum((h @ W2 + b2 - Tm) ** 2) / len(Xm)


def mlp_grads(W1, b1, W2, b2, *, drop_tanh=False):
    h = np.tanh(Xm @ W1 + b1)
    d = (h @ W2 + b2 - Tm) / len(Xm)
    dh = d @ W2.T
    dz = dh if drop_tanh else dh * (1 - h ** 2)
    return {"W1": Xm.T @ dz, "b1": dz.sum(0), "W2": h.T @ d, "b2": d.sum(0)}


G = mlp_grads(**P)
grad_cases("dict", "tanh MLP (dict of 4)", mlp, P, G,
           {"tanh' dropped": mlp_grads(**P, drop_tanh=True),
            "W2 wrong by 1e-3 in one entry": {**G, "W2": G["W2"] * np.where(
                np.arange(10).reshape(5, 2) == 3, 1.001, 1.0)},
            "b1 sign": {**G, "b1": -G["b1"]}})
case("dict", "tanh MLP: a key missing", "fail",
     lambda: check_grad(mlp, P, {k: v for k, v in G.items() if k != "b2"}))

W1r = R.standard_normal((4, 5))
b1r = R.standard_normal(5) * 0.3


def relu_mlp(W1):
    return float(np.sum(np.maximum(Xm @ W1 + b1r, 0) ** 2)) / 2


zr = Xm @ W1r + b1r
grad_cases("mlp", "ReLU layer squared", relu_mlp, W1r, Xm.T @ np.maximum(zr, 0),
           {"ReLU mask dropped": Xm.T @ zr, "mask on wrong side": Xm.T @ (zr * (zr < 0))})

# --------------------------------------------------------------------------- softmax & friends

Z = R.standard_normal((5, 4)) * 2
lab = np.array([0, 3, 1, 1, 2])
onehot = np.eye(4)[lab]


def xent(Z):
    lse = np.log(np.sum(np.exp(Z - Z.max(1, keepdims=True)), 1)) + Z.max(1)
    return float(np.mean(lse - Z[np.arange(5), lab]))


grad_cases("softmax", "cross-entropy logits", xent, Z, (softmax(Z) - onehot) / 5,
           {"forgot the one-hot": softmax(Z) / 5, "dropped 1/N": softmax(Z) - onehot,
            "softmax over the wrong axis": (softmax(Z, axis=0) - onehot) / 5})

eps_ls = 0.1
target_ls = onehot * (1 - eps_ls) + eps_ls / 4
grad_cases("softmax", "label smoothing",
           lambda Z: float(-np.mean(np.sum(target_ls * np.log(softmax(Z)), 1))), Z,
           (softmax(Z) - target_ls) / 5,
           {"smoothing ignored in the gradient": (softmax(Z) - onehot) / 5,
            "eps/K split over K-1": (softmax(Z) - (onehot * (1 - eps_ls) + eps_ls / 3)) / 5})

Zbig = Z * 300  # logits in the hundreds: a stable loss, confident softmax
grad_cases("softmax", "cross-entropy, logits ~1e3", xent, Zbig, (softmax(Zbig) - onehot) / 5,
           {"sign": (onehot - softmax(Zbig)) / 5})

zs = R.standard_normal(6)
ups = R.standard_normal(6)
s6 = softmax(zs)
vjp_cases("softmax", "softmax as a VJP", softmax, zs, ups, s6 * (ups - ups @ s6),
          {"diagonal only": s6 * (1 - s6) * ups, "outer term sign": s6 * (ups + ups @ s6)})

vjp_cases("softmax", "log-softmax as a VJP",
          lambda z: z - np.log(np.sum(np.exp(z - z.max()))) - z.max(), zs, ups,
          ups - s6 * ups.sum(), {"forgot the sum": ups - s6})

Zc = np.array([[40.0, 0.0, 0.0], [0.0, 45.0, 0.0]])
labc = np.array([0, 1])
pc = softmax(Zc)


def confident(Z):
    m = Z.max(1, keepdims=True)
    lse = np.log(np.sum(np.exp(Z - m), 1)) + m[:, 0]
    return float(np.mean(lse - Z[np.arange(2), labc]))


case("resolution", "CE of very confident logits (~1e-18 gradient)", "pass|inconclusive",
     lambda: check_grad(confident, Zc, (pc - np.eye(3)[labc]) / 2),
     hint_not=("global", "does not use"))
case("resolution", "CE very confident, sign wrong: never verified", "fail|inconclusive",
     lambda: check_grad(confident, Zc, -(pc - np.eye(3)[labc]) / 2))

# --------------------------------------------------------------------------- norms as VJPs

Xn = R.standard_normal((6, 4)) * 2 + 1
Un = R.standard_normal((6, 4))
gam = R.standard_normal(4)


def batchnorm(x):
    mu = x.mean(0)
    var = x.var(0)
    return gam * (x - mu) / np.sqrt(var + 1e-5)


def bn_dx(x, u, *, drop_mean=False, drop_var=False):
    n = len(x)
    mu, var = x.mean(0), x.var(0)
    xh = (x - mu) / np.sqrt(var + 1e-5)
    du = u * gam
    out = du
    if not drop_mean:
        out = out - du.mean(0)
    if not drop_var:
        out = out - xh * (du * xh).mean(0)
    return out / np.sqrt(var + 1e-5) + 0 * n


vjp_cases("norms", "batch norm dx", batchnorm, Xn, Un, bn_dx(Xn, Un),
          {"mean term dropped": bn_dx(Xn, Un, drop_mean=True),
           "variance term dropped": bn_dx(Xn, Un, drop_var=True)})


def layernorm(x):
    mu = x.mean(1, keepdims=True)
    var = x.var(1, keepdims=True)
    return (x - mu) / np.sqrt(var + 1e-5)


def ln_dx(x, u, axis=1):
    mu = x.mean(1, keepdims=True)
    var = x.var(1, keepdims=True)
    xh = (x - mu) / np.sqrt(var + 1e-5)
    return (u - u.mean(axis, keepdims=True) - xh * (u * xh).mean(axis, keepdims=True)) / \
        np.sqrt(var + 1e-5)


vjp_cases("norms", "layer norm dx", layernorm, Xn, Un, ln_dx(Xn, Un),
          {"means over the batch axis": ln_dx(Xn, Un, axis=0)})

xh_bn = (Xn - Xn.mean(0)) / np.sqrt(Xn.var(0) + 1e-5)
grad_cases("norms", "batch norm dγ",
           lambda g: float(np.sum(Un * g * xh_bn)), gam, (Un * xh_bn).sum(0),
           {"summed over features": np.full(4, (Un * xh_bn).sum() / 4),
            "mean over batch": (Un * xh_bn).mean(0)})

# --------------------------------------------------------------------------- attention

Tq, dk = 4, 3
Q = R.standard_normal((Tq, dk))
K = R.standard_normal((Tq, dk))
V = R.standard_normal((Tq, dk))
Ua = R.standard_normal((Tq, dk))


def attn_parts(Q, K, V):
    S = Q @ K.T / np.sqrt(dk)
    A = softmax(S)
    return S, A, A @ V


def attn_grads(Q, K, V, *, no_scale=False, no_transpose=False):
    _, A, _ = attn_parts(Q, K, V)
    dA = Ua @ V.T
    dS = A * (dA - np.sum(dA * A, 1, keepdims=True))
    c = 1.0 if no_scale else 1 / np.sqrt(dk)
    dQ = dS @ K * c
    dK = (dS @ Q if no_transpose else dS.T @ Q) / np.sqrt(dk)
    dV = A.T @ Ua
    return {"Q": dQ, "K": dK, "V": dV}


def attn_loss(Q, K, V):
    return float(np.sum(Ua * attn_parts(Q, K, V)[2]))


AG = attn_grads(Q, K, V)
grad_cases("attention", "scaled dot-product ∂L/∂Q,K,V", attn_loss, {"Q": Q, "K": K, "V": V},
           AG, {"dQ without 1/√d": {**AG, "Q": attn_grads(Q, K, V, no_scale=True)["Q"]},
                "dK missing transpose of dS": {**AG, "K": attn_grads(Q, K, V,
                                                                    no_transpose=True)["K"]},
                "dV = A Uᵀ-ish (A not transposed)": {**AG, "V": attn_parts(Q, K, V)[1] @ Ua}})

# --------------------------------------------------------------------------- convolutions

img = R.standard_normal((6, 6))
ker = R.standard_normal((3, 3))
Uc = R.standard_normal((4, 4))


def conv2d(x, k):
    out = np.zeros((x.shape[0] - k.shape[0] + 1, x.shape[1] - k.shape[1] + 1))
    for i, j in itertools.product(range(out.shape[0]), range(out.shape[1])):
        out[i, j] = np.sum(x[i:i + 3, j:j + 3] * k)
    return out


dker = np.zeros((3, 3))
dimg = np.zeros((6, 6))
for i, j in itertools.product(range(4), range(4)):
    dker += Uc[i, j] * img[i:i + 3, j:j + 3]
    dimg[i:i + 3, j:j + 3] += Uc[i, j] * ker
vjp_cases("conv", "2-D convolution dK", lambda k: conv2d(img, k), ker, Uc, dker,
          {"flipped kernel gradient": dker[::-1, ::-1], "transposed": dker.T})
vjp_cases("conv", "2-D convolution dX", lambda x: conv2d(x, ker), img, Uc, dimg,
          {"flipped kernel in the full correlation": sum(
              (np.pad(Uc[i, j] * ker[::-1, ::-1], ((i, 3 - i), (j, 3 - j)))
               for i, j in itertools.product(range(4), range(4))), np.zeros((6, 6))),
           "borders dropped": np.pad(dimg[1:-1, 1:-1], 1)})

# --------------------------------------------------------------------------- pooling, ties

pool_x = np.array([[1.0, 3.0, 2.0, 2.0], [3.0, 0.5, 2.0, 1.0],
                   [0.0, -1.0, 4.0, 1.0], [-2.0, -1.0, 0.5, 4.0]])
Up = np.array([[1.0, -2.0], [0.5, 3.0]])


def maxpool(x):
    return x.reshape(2, 2, 2, 2).max(axis=(1, 3))


def pool_grad(x, u, mode):
    g = np.zeros_like(x)
    for bi, bj in itertools.product(range(2), range(2)):
        win = x[2 * bi:2 * bi + 2, 2 * bj:2 * bj + 2]
        mask = (win == win.max()).astype(float)
        if mode == "first":
            first = np.zeros(4)
            first[np.argmax(win)] = 1
            mask = first.reshape(2, 2)
        elif mode == "split":
            mask = mask / mask.sum()
        elif mode == "drop":
            mask = mask if mask.sum() == 1 else 0 * mask
        g[2 * bi:2 * bi + 2, 2 * bj:2 * bj + 2] = mask * u[bi, bj]
    return g


case("ties", "max pool, first index wins", "pass",
     lambda: check_vjp(maxpool, pool_x, Up, pool_grad(pool_x, Up, "first")))
case("ties", "max pool, split equally", "pass",
     lambda: check_vjp(maxpool, pool_x, Up, pool_grad(pool_x, Up, "split")))
case("ties", "max pool, x == max mask counts ties twice", "fail",
     lambda: check_vjp(maxpool, pool_x, Up, pool_grad(pool_x, Up, "all")))
case("ties", "max pool, tied windows dropped", "fail",
     lambda: check_vjp(maxpool, pool_x, Up, pool_grad(pool_x, Up, "drop")))
case("precision", "max pool float32, first index", "pass",
     lambda: check_vjp(maxpool, pool_x.astype(np.float32), Up.astype(np.float32),
                       pool_grad(pool_x, Up, "first").astype(np.float32)))
case("precision", "max pool float32, ties counted twice", "fail",
     lambda: check_vjp(maxpool, pool_x.astype(np.float32), Up.astype(np.float32),
                       pool_grad(pool_x, Up, "all").astype(np.float32)))

avg_x = R.standard_normal((4, 4))
vjp_cases("pool", "average pool 2×2", lambda x: x.reshape(2, 2, 2, 2).mean(axis=(1, 3)), avg_x,
          Up, np.kron(Up, np.ones((2, 2))) / 4,
          {"dropped 1/4": np.kron(Up, np.ones((2, 2)))})

# multiclass hinge at W = 0: every score 0, all runners-up tied
Xh = R.standard_normal((3, 4))
yh = np.array([0, 2, 1])


def multiclass_hinge(W):
    S = Xh @ W
    correct = S[np.arange(3), yh][:, None]
    M = np.maximum(0, S - correct + 1)
    M[np.arange(3), yh] = 0
    return float(M.sum())


def hinge_grad(W, *, crammer=False, double=False):
    S = Xh @ W
    correct = S[np.arange(3), yh][:, None]
    M = (S - correct + 1 > 0).astype(float)
    M[np.arange(3), yh] = 0
    if crammer:  # only the first runner-up (not this loss's gradient)
        M = np.zeros_like(M)
        for i in range(3):
            others = [j for j in range(3) if j != yh[i]]
            M[i, others[0]] = 1
    M[np.arange(3), yh] = -M.sum(1) * (2 if double else 1)
    return Xh.T @ M


W0 = np.zeros((4, 3))
grad_cases("ties", "multiclass hinge at W = 0", multiclass_hinge, W0, hinge_grad(W0),
           {"correct-class term doubled": hinge_grad(W0, double=True),
            "only the first runner-up": hinge_grad(W0, crammer=True)})


def max_logit(z):
    return float(np.max(z) - z[0])


zt = np.array([1.0, 2.0, 2.0, 0.5])
grad_cases("ties", "max minus a logit, tied max", max_logit, zt,
           np.array([-1.0, 1.0, 0.0, 0.0]),
           {"both tied maxima get 1": np.array([-1.0, 1.0, 1.0, 0.0])})
case("ties", "max minus a logit, split between ties", "pass",
     lambda: check_grad(max_logit, zt, np.array([-1.0, 0.5, 0.5, 0.0])))

# --------------------------------------------------------------------------- kinks

xk = np.array([-1.0, 0.0, 0.0, 2.0, 0.5])
grad_cases("kinks", "ReLU sum at exact zeros",
           lambda x: float(np.sum(np.maximum(x, 0) * [1, 2, 3, 4, 5])), xk,
           np.array([0, 0, 0, 4, 5.0]),
           {"slope 5 where it is 4": np.array([0, 0, 0, 5, 5.0]),
            "negative side let through": np.array([1, 0, 0, 4, 5.0])})
case("kinks", "ReLU at zero, subgradient 1 chosen", "pass",
     lambda: check_grad(lambda x: float(np.sum(np.maximum(x, 0) * [1, 2, 3, 4, 5])), xk,
                        np.array([0, 2, 3, 4, 5.0])))
grad_cases("kinks", "L1 norm with zero entries", lambda w: float(np.abs(w).sum()),
           np.array([0.0, -1.5, 0.0, 2.0]), np.sign(np.array([0.0, -1.5, 0.0, 2.0])),
           {"sign flipped": -np.sign(np.array([0.0, -1.5, 0.0, 2.0])),
            "2 at zero (outside [-1, 1])": np.array([2.0, -1.0, 0.0, 1.0])})

Xv = R.standard_normal((5, 3))
yv = np.array([1.0, -1.0, 1.0, 1.0, -1.0])
wv = np.linalg.lstsq(Xv[:3], yv[:3], rcond=None)[0]  # margins of the first three exactly 1
marg = yv * (Xv @ wv)


def hinge(w):
    return float(np.sum(np.maximum(0, 1 - yv * (Xv @ w))))


hg = -(Xv * yv[:, None])[marg < 1 - 1e-9].sum(0)
grad_cases("kinks", "SVM hinge with margins at exactly 1", hinge, wv, hg,
           {"sign": -hg, "margin rows counted": hg - (Xv * yv[:, None])[np.abs(marg - 1) < 1e-9]
            .sum(0) * 2})

xhub = np.array([1.0, -1.0, 0.3, 2.5])
grad_cases("kinks", "Huber at the threshold", lambda r: float(np.sum(np.where(
    np.abs(r) <= 1, 0.5 * r ** 2, np.abs(r) - 0.5))), xhub, np.clip(xhub, -1, 1),
    {"quadratic branch everywhere": xhub.copy()})
# the author passes the parameter itself as its gradient: an error that names the argument
case("kinks", "Huber: the parameter passed as its gradient", "error",
     lambda: check_grad(lambda r: float(np.sum(np.where(np.abs(r) <= 1, 0.5 * r ** 2,
                                                        np.abs(r) - 0.5))), xhub, xhub),
     hint_has="same object")

# --------------------------------------------------------------------------- regularisers

wr = R.standard_normal((5, 3))
lam = 0.01
grad_cases("reg", "L2 weight decay", lambda w: lam * np.sum(w ** 2), wr, 2 * lam * wr,
           {"factor 2 dropped": lam * wr})
grad_cases("reg", "elastic net", lambda w: float(lam * np.sum(np.abs(w)) + 0.5 * np.sum(w ** 2)),
           wr, lam * np.sign(wr) + wr, {"L1 term dropped": wr.copy()})
grad_cases("reg", "group lasso (row norms)", lambda w: float(np.sum(np.linalg.norm(w, axis=1))),
           wr, wr / np.linalg.norm(wr, axis=1, keepdims=True),
           {"column norms": wr / np.linalg.norm(wr, axis=0, keepdims=True)})

# --------------------------------------------------------------------------- embeddings

E = R.standard_normal((7, 3))
ids = np.array([2, 5, 2, 2, 0])
Ue = R.standard_normal((5, 3))
dE = np.zeros_like(E)
np.add.at(dE, ids, Ue)
dE_lost = np.zeros_like(E)
dE_lost[ids] += Ue  # fancy assignment: repeated rows keep only the last
grad_cases("embed", "embedding lookup with repeated ids", lambda E: float(np.sum(Ue * E[ids])),
           E, dE, {"E[ids] += U loses repeats": dE_lost})

counts = np.zeros(1000)
counts[[3, 17, 400]] = [2.0, 1.0, 5.0]
wbow = R.standard_normal(1000) * 0.1
case("embed", "bag-of-words logistic (sparse gradient), correct", "pass",
     lambda: check_grad(lambda w: float(np.logaddexp(0, -(counts @ w))), wbow,
                        -counts * sigmoid(-(counts @ wbow))))
case("embed", "bag-of-words, missing the sigmoid", "fail",
     lambda: check_grad(lambda w: float(np.logaddexp(0, -(counts @ w))), wbow, -counts),
     hint_not=("does not change",))

# --------------------------------------------------------------------------- recurrent cells

H, D = 3, 2
xt = R.standard_normal(D)
hp = R.standard_normal(H)
cp = R.standard_normal(H)
Ur = R.standard_normal(H)
Wl = R.standard_normal((4 * H, H + D)) * 0.5


def lstm(W):
    z = W @ np.concatenate([hp, xt])
    i, f, o, g = sigmoid(z[:H]), sigmoid(z[H:2 * H]), sigmoid(z[2 * H:3 * H]), np.tanh(z[3 * H:])
    c = f * cp + i * g
    return float(Ur @ (o * np.tanh(c)))


def lstm_grad(W, *, miss_tanh=False, miss_f=False):
    v = np.concatenate([hp, xt])
    z = W @ v
    i, f, o, g = sigmoid(z[:H]), sigmoid(z[H:2 * H]), sigmoid(z[2 * H:3 * H]), np.tanh(z[3 * H:])
    c = f * cp + i * g
    dh = Ur
    do = dh * np.tanh(c)
    dc = dh * o * (1 if miss_tanh else 1 - np.tanh(c) ** 2)
    di, df, dg = dc * g, dc * cp * (0 if miss_f else 1), dc * i
    dz = np.concatenate([di * i * (1 - i), df * f * (1 - f), do * o * (1 - o), dg * (1 - g ** 2)])
    return np.outer(dz, v)


grad_cases("rnn", "LSTM one step dW", lstm, Wl, lstm_grad(Wl),
           {"tanh'(c) missed": lstm_grad(Wl, miss_tanh=True),
            "forget-gate term missed": lstm_grad(Wl, miss_f=True)})

Wz, Wh = R.standard_normal((H, H)), R.standard_normal((H, H))


def gru_h(h):  # a reduced GRU: h' = (1-z) h + z tanh(Wh h), z = σ(Wz h)
    z = sigmoid(Wz @ h)
    return (1 - z) * h + z * np.tanh(Wh @ h)


def gru_dh(h, u, *, miss_direct=False):
    z = sigmoid(Wz @ h)
    n = np.tanh(Wh @ h)
    dz = u * (n - h)
    dn = u * z
    out = Wz.T @ (dz * z * (1 - z)) + Wh.T @ (dn * (1 - n ** 2))
    return out if miss_direct else out + u * (1 - z)


vjp_cases("rnn", "GRU one step dh_prev", gru_h, hp, Ur, gru_dh(hp, Ur),
          {"direct (1 − z) path missed": gru_dh(hp, Ur, miss_direct=True)})

# --------------------------------------------------------------------------- precision

X32 = X.astype(np.float32)
Y32 = Y.astype(np.float32)
W32 = W.astype(np.float32)
g32 = (2 / 8 * X32.T @ (X32 @ W32 - Y32)).astype(np.float32)
grad_cases("precision", "float32 least squares", lambda W: np.mean((X32 @ W - Y32) ** 2), W32,
           g32, {"float32, dropped 1/N": g32 * 8, "float32, 1% off": g32 * np.float32(1.01)})
W16 = W.astype(np.float16)
g16 = (2 / 8 * X.T @ (X @ W16.astype(np.float64) - Y)).astype(np.float16)
grad_cases("precision", "float16 gradient", lambda W: float(np.mean((X @ W - Y) ** 2)), W16, g16,
           {"float16, 2.4% too large": (g16.astype(np.float64) * 1.024).astype(np.float16),
            "float16, 20% too large": (g16.astype(np.float64) * 1.2).astype(np.float16)})


def f_in_float32(w):  # the author's model computes in float32 whatever it is given
    w = np.asarray(w, dtype=np.float32)
    return np.float32(np.sum(np.tanh(X32 @ w) ** 2))


wt = (R.standard_normal((3, 1)) * 0.5).astype(np.float32)
th = np.tanh(X32 @ wt)
gt = (X32.T @ (2 * th * (1 - th ** 2))).astype(np.float32)
grad_cases("precision", "f computes in float32", f_in_float32, wt, gt,
           {"tanh' dropped (float32 f)": (X32.T @ (2 * th)).astype(np.float32)})

zsat = np.array([30.0, -30.0, 25.0, 0.1])
grad_cases("precision", "saturated sigmoid", lambda z: float(np.sum(sigmoid(z))), zsat,
           sigmoid(zsat) * (1 - sigmoid(zsat)),
           {"σ instead of σ'": sigmoid(zsat)})

whuge = np.array([1e6, -2e6, 3e5])
grad_cases("precision", "quartic at values ~1e6", lambda w: float(np.sum(w ** 4) * 1e-20),
           whuge, 4e-20 * whuge ** 3, {"cubed, factor 3 not 4": 3e-20 * whuge ** 3})

wtiny = np.array([1e-8, -3e-9, 0.0, 2e-7])
grad_cases("precision", "near-zero entries", lambda w: float(np.sum(np.cos(w) + w ** 2)), wtiny,
           -np.sin(wtiny) + 2 * wtiny, {"sign of the quadratic": -np.sin(wtiny) - 2 * wtiny})

# --------------------------------------------------------------------------- 10⁵ entries

Nbig = 100_000
A_big = np.random.default_rng(5).standard_normal(Nbig)
w_big = np.random.default_rng(6).standard_normal(Nbig)


def big_loss(w):
    return float(0.5 * np.sum(A_big * w ** 2) + np.sum(np.sin(w)))


g_big = A_big * w_big + np.cos(w_big)
bad_big = g_big.copy()
med = int(np.argsort(np.abs(g_big))[Nbig // 2 + 10])
bad_big[med] *= 1.001
sign_big = g_big.copy()
sign_big[12345] = -sign_big[12345]
grad_cases("large", "10⁵ entries", big_loss, w_big, g_big,
           {"1e-3 error in one median entry": bad_big, "one sign flipped": sign_big})

# --------------------------------------------------------------------------- Monte Carlo

from gradcheck_cases import reinforce  # noqa: E402

J, theta, est, se, cov, true = reinforce(np.random.default_rng(11))
case("montecarlo", "REINFORCE with stderr", "pass", lambda: check_grad(J, theta, est, stderr=se))
case("montecarlo", "REINFORCE with stderr and cov", "pass",
     lambda: check_grad(J, theta, est, stderr=se, cov=cov))
case("montecarlo", "REINFORCE biased by 8 SE", "fail",
     lambda: check_grad(J, theta, est + 8 * se, stderr=se, cov=cov))
case("montecarlo", "REINFORCE biased 8 SE in one entry, stderr only", "fail",
     lambda: check_grad(J, theta, est + 8 * se * (np.arange(6) == 2), stderr=se))
case("montecarlo", "REINFORCE, sign of the score", "fail",
     lambda: check_grad(J, theta, -est, stderr=se))
case("montecarlo", "REINFORCE, a scalar stderr", "pass",
     lambda: check_grad(J, theta, est, stderr=float(se.max())))

# --------------------------------------------------------------------------- malformed calls

Wm = R.standard_normal((3, 1))
gm = 2 / 8 * X.T @ (X @ Wm - Y)


def ls(W):
    return float(np.mean((X @ W - Y) ** 2))


case("malformed", "check_grad(w, loss, g): swapped f and x", "error",
     lambda: check_grad(Wm, ls, gm), hint_has="signature", hint_not=("scalar",))
case("malformed", "x and grad swapped (both arrays)", "fail",
     lambda: check_grad(ls, gm, Wm))
case("malformed", "grad is the parameter object", "error", lambda: check_grad(ls, Wm, Wm))
case("malformed", "non-scalar f", "error", lambda: check_grad(lambda W: X @ W, Wm, gm))
case("malformed", "f returns NaN", "error",
     lambda: check_grad(lambda W: float("nan"), Wm, gm))
case("malformed", "gradient with a NaN", "fail",
     lambda: check_grad(ls, Wm, np.where(np.arange(3)[:, None] == 1, np.nan, gm)),
     hint_not=("sampled", "0 of"))
case("malformed", "f uses fresh randomness (dropout inside f)", "error",
     lambda: check_grad(lambda W: float(np.mean((X @ W * (np.random.random((8, 1)) > 0.5)
                                                 - Y) ** 2)), Wm, gm))


def mutating(W):
    W *= 1.0000001
    return float(np.mean((X @ W - Y) ** 2))


case("malformed", "f changes its argument in place", "error",
     lambda: check_grad(mutating, Wm, gm))
case("malformed", "f raises away from x only", "error",
     lambda: check_grad(lambda W: float(np.mean((X @ W - Y) ** 2)) if np.all(W == Wm)
                        else 1 / 0, Wm, gm), hint_has="perturbed")
case("malformed", "integer gradient buffer", "fail",
     lambda: check_grad(ls, Wm, np.round(gm * 0 + gm).astype(np.int64) if np.all(
         np.abs(gm) > 0.5) else (gm * 0 + gm).astype(np.int64)), hint_has="int")
case("malformed", "dict gradient for an array parameter", "error",
     lambda: check_grad(ls, Wm, {"W": gm}), hint_not=("is a scalar",))
case("malformed", "a string as the gradient", "error", lambda: check_grad(ls, Wm, "dW"))
case("malformed", "f returns None", "error", lambda: check_grad(lambda W: None, Wm, gm))
case("malformed", "vjp: upstream of the wrong shape", "error",
     lambda: check_vjp(softmax, zs, ups[:3], s6 * (ups - ups @ s6)))
case("malformed", "list gradient (correct values)", "pass",
     lambda: check_grad(ls, Wm, gm.tolist()))

# --------------------------------------------------------------------------- more families

# a scalar parameter (a temperature) passed as a Python float
zt2 = np.array([1.0, -0.5, 2.0])


def tempered(t):
    return float(np.log(np.sum(np.exp(zt2 / t))))


pt = softmax(zt2 / 1.5)
grad_cases("scalar", "softmax temperature", tempered, 1.5, float(-(pt @ zt2) / 1.5 ** 2),
           {"sign": float((pt @ zt2) / 1.5 ** 2), "1/t not squared": float(-(pt @ zt2) / 1.5)})

# gradient with respect to the batch input, through a mean: 1/N per row
Xi = R.standard_normal((4, 3))
Wi = R.standard_normal((3, 2))
Ti = R.standard_normal((4, 2))
gi = (Xi @ Wi - Ti) @ Wi.T / 4
grad_cases("linear", "input gradient of a mean loss",
           lambda X: 0.5 * float(np.mean(np.sum((X @ Wi - Ti) ** 2, 1))), Xi, gi,
           {"dropped 1/N": gi * 4})
case("hints", "input gradient, dropped 1/N: hint names N", "fail",
     lambda: check_grad(lambda X: 0.5 * float(np.mean(np.sum((X @ Wi - Ti) ** 2, 1))), Xi,
                        gi * 4, sizes={"N": 4, "D": 3}), hint_has="N")
case("hints", "sign error: hint says sign", "fail",
     lambda: check_grad(lambda X: 0.5 * float(np.mean(np.sum((X @ Wi - Ti) ** 2, 1))), Xi,
                        -gi), hint_has="sign")

# cosine similarity and L2 normalisation
ua, ub = R.standard_normal(5), R.standard_normal(5)


def cosine(a):
    return float(a @ ub / (np.linalg.norm(a) * np.linalg.norm(ub)))


na, nb = np.linalg.norm(ua), np.linalg.norm(ub)
gcos = ub / (na * nb) - (ua @ ub) * ua / (na ** 3 * nb)
grad_cases("norms", "cosine similarity", cosine, ua, gcos,
           {"quotient rule's second term missed": ub / (na * nb)})
vjp_cases("norms", "L2 normalisation as a VJP", lambda a: a / np.linalg.norm(a), ua, ub,
          (ub - ua * (ua @ ub) / na ** 2) / na, {"projection dropped": ub / na})

# a float64 model whose f returns float32: rtol widens, a 1e-3 error still fails
def f_returns_f32(w):
    return np.float32(np.sum((X @ w - Y) ** 2) / 8)


gf = 2 / 8 * X.T @ (X @ W - Y)
grad_cases("precision", "f returns float32", f_returns_f32, W, gf,
           {"1e-3 off in every entry": gf * 1.001, "dropped 2": gf / 2})


def f_in_float16(w):
    w16 = np.asarray(w, dtype=np.float16)
    return np.float16(np.sum(w16.astype(np.float16) ** 2))


w16 = np.array([0.5, -1.25, 2.0], dtype=np.float16)
# f's own float16 rounding makes the reference too coarse to claim a pass: inconclusive
case("precision", "f computes in float16: correct", "inconclusive",
     lambda: check_grad(f_in_float16, w16, (2 * w16.astype(np.float64)).astype(np.float16)))
case("precision", "f computes in float16: 20% too large, never verified", "fail|inconclusive",
     lambda: check_grad(f_in_float16, w16, (2.4 * w16.astype(np.float64)).astype(np.float16)))
case("precision", "f computes in float16: factor 2 dropped", "fail",
     lambda: check_grad(f_in_float16, w16, w16.copy()))

# mixed-precision dict: float32 weights, float64 bias
Wd = R.standard_normal((3, 2)).astype(np.float32)
bd = R.standard_normal(2)


def mixed(W, b):
    return float(np.sum(np.tanh(X @ W.astype(np.float64) + b) ** 2))


th2 = np.tanh(X @ Wd.astype(np.float64) + bd)
dz2 = 2 * th2 * (1 - th2 ** 2)
grad_cases("dict", "float32 weight and float64 bias", mixed, {"W": Wd, "b": bd},
           {"W": (X.T @ dz2).astype(np.float32), "b": dz2.sum(0)},
           {"b not summed (mean)": {"W": (X.T @ dz2).astype(np.float32), "b": dz2.mean(0)},
            "W 1% off in float32": {"W": (X.T @ dz2 * 1.01).astype(np.float32),
                                    "b": dz2.sum(0)}})

# a strided convolution (stride 2), 1-D
sig = R.standard_normal(9)
k3 = R.standard_normal(3)
u4 = R.standard_normal(4)


def conv1d_s2(k):
    return np.array([sig[2 * t:2 * t + 3] @ k for t in range(4)])


dk3 = sum(u4[t] * sig[2 * t:2 * t + 3] for t in range(4))
dk3_stride1 = sum(u4[t] * sig[t:t + 3] for t in range(4))
vjp_cases("conv", "1-D convolution with stride 2", conv1d_s2, k3, u4, dk3,
          {"stride ignored in the backward pass": dk3_stride1})

# 10⁵ embedding table, sparse gradient, one repeated id lost
Vbig = 100_000
Ebig = np.random.default_rng(8).standard_normal((Vbig // 4, 4))
ids_big = np.random.default_rng(9).integers(0, Vbig // 4, size=64)
ids_big[5] = ids_big[7]
Ubig = np.random.default_rng(10).standard_normal((64, 4))
dEbig = np.zeros_like(Ebig)
np.add.at(dEbig, ids_big, Ubig)
lost = np.zeros_like(Ebig)
lost[ids_big] += Ubig
grad_cases("large", "10⁵-entry embedding table, repeated id",
           lambda E: float(np.sum(Ubig * E[ids_big])), Ebig, dEbig,
           {"E[ids] += U loses a repeat": lost})

# 10⁵ parameters in float32, one entry 1% off
w32big = np.random.default_rng(12).standard_normal(Nbig).astype(np.float32)
g32big = (A_big * w32big + np.cos(w32big)).astype(np.float32)
bad32 = g32big.copy()
bad32[int(np.argsort(np.abs(g32big))[Nbig // 2 + 3])] *= np.float32(1.01)
grad_cases("large", "10⁵ float32 entries", big_loss, w32big, g32big,
           {"one median entry 1% off": bad32})

# a Monte Carlo estimate whose stderr is 0 on deterministic entries


def Jz(th):
    return float(-np.sum((th - 1) ** 2))


thz = np.array([0.2, -0.4, 1.5])
est_z = -2 * (thz - 1) + np.array([0.03, 0.0, -0.02])
case("montecarlo", "stderr 0 on an exact entry", "pass",
     lambda: check_grad(Jz, thz, est_z, stderr=np.array([0.02, 0.0, 0.02])))
case("montecarlo", "stderr 0 on an exact entry that is wrong", "fail",
     lambda: check_grad(Jz, thz, est_z + np.array([0, 0.01, 0]),
                        stderr=np.array([0.02, 0.0, 0.02])))

# f with a harmless side effect (logging), and one that reads a global, not its argument
log: list[float] = []


def logged(W):
    value = float(np.mean((X @ W - Y) ** 2))
    log.append(value)
    return value


case("malformed", "f logs its values (harmless side effect)", "pass",
     lambda: check_grad(logged, Wm, gm))
case("malformed", "f reads a global instead of its argument", "fail",
     lambda: check_grad(lambda W: float(np.mean((X @ Wm - Y) ** 2)), Wm.copy(), gm),
     hint_has="argument")
case("malformed", "x passed as a list of floats", "pass",
     lambda: check_grad(lambda w: float(np.sum(np.asarray(w) ** 2)), [1.0, 2.0], [2.0, 4.0]))
case("malformed", "integer parameter array", "pass",
     lambda: check_grad(lambda w: float(np.sum(w ** 2)), np.array([1, 2, 3]),
                        np.array([2.0, 4.0, 6.0])))
case("malformed", "f returns a 1-element array", "pass",
     lambda: check_grad(lambda W: np.mean((X @ W - Y) ** 2, keepdims=True), Wm, gm))
case("malformed", "check_vjp given a scalar f", "pass|error",
     lambda: check_vjp(lambda W: float(np.sum(W)), Wm, 1.0, np.ones((3, 1))))
case("malformed", "grad of the wrong length", "fail",
     lambda: check_grad(ls, Wm, gm[:2]))

# a dict whose big parameter (10⁵ entries) has one bad entry, next to a small one
Wbig = np.random.default_rng(13).standard_normal((1000, 100)) * 0.1
xin = np.random.default_rng(14).standard_normal(100)
bsm = np.array([0.1, -0.2])


def wide(W, b):
    return float(np.sum(np.tanh(W @ xin) ** 2) + b @ b)


tw = np.tanh(Wbig @ xin)
gW = np.outer(2 * tw * (1 - tw ** 2), xin)
gW_bad = gW.copy()
flat_order = np.argsort(np.abs(gW).reshape(-1))
gW_bad.reshape(-1)[flat_order[gW.size // 2 + 7]] *= 1.001
grad_cases("large", "dict with a 10⁵-entry weight", wide, {"W": Wbig, "b": bsm},
           {"W": gW, "b": 2 * bsm}, {"one median entry of W 1e-3 off": {"W": gW_bad,
                                                                         "b": 2 * bsm}})

# binary cross-entropy from logits, written stably, at saturated logits
zb = np.array([12.0, -15.0, 0.3, 40.0])
yb4 = np.array([1.0, 0.0, 1.0, 0.0])
grad_cases("precision", "BCE from logits, saturated",
           lambda z: float(np.sum(np.logaddexp(0, z) - yb4 * z)), zb, sigmoid(zb) - yb4,
           {"y - σ": yb4 - sigmoid(zb), "σ' multiplied in": (sigmoid(zb) - yb4) * sigmoid(zb)
            * (1 - sigmoid(zb))})

# layer-norm parameters as a dict, dβ kept as (1, D)
Xln = R.standard_normal((5, 4))
Uln = R.standard_normal((5, 4))
xh_ln = (Xln - Xln.mean(1, keepdims=True)) / np.sqrt(Xln.var(1, keepdims=True) + 1e-5)
pg = {"gamma": R.standard_normal(4), "beta": R.standard_normal(4)}


def ln_affine(gamma, beta):
    return float(np.sum(Uln * (gamma * xh_ln + beta)))


grad_cases("norms", "layer-norm γ, β (dict)", ln_affine, pg,
           {"gamma": (Uln * xh_ln).sum(0), "beta": Uln.sum(0)},
           {"β not summed over rows (mean)": {"gamma": (Uln * xh_ln).sum(0),
                                              "beta": Uln.mean(0)}})
case("shapes", "layer-norm dβ kept as (1, D) in a dict", "fail",
     lambda: check_grad(ln_affine, pg, {"gamma": (Uln * xh_ln).sum(0),
                                        "beta": Uln.sum(0, keepdims=True)}),
     hint_has="keepdims", hint_not=("not summed", "is a scalar"))

# a Monte Carlo estimate biased jointly: 3 SE per entry along the correlated direction
J2, th2, est2, se2, cov2, true2 = reinforce(np.random.default_rng(21))
wv2, vv2 = np.linalg.eigh(cov2)
thin = vv2[:, 0] * np.sqrt(wv2[0]) * 6.0  # 6 SE along the least uncertain direction
case("montecarlo", "REINFORCE biased along its least uncertain direction, with cov", "fail",
     lambda: check_grad(J2, th2, true2 + thin, stderr=se2, cov=cov2))
case("montecarlo", "REINFORCE (another sample), with cov", "pass",
     lambda: check_grad(J2, th2, est2, stderr=se2, cov=cov2))

# a scalar parameter as a 0-d array, with float(t) inside f
case("scalar", "0-d temperature, float() inside f: correct", "pass",
     lambda: check_grad(lambda t: float(np.log(np.sum(np.exp(zt2 / t)))), np.array(1.5),
                        np.array(-(pt @ zt2) / 1.5 ** 2)))
case("scalar", "0-d temperature: sign", "fail",
     lambda: check_grad(lambda t: float(np.log(np.sum(np.exp(zt2 / t)))), np.array(1.5),
                        np.array((pt @ zt2) / 1.5 ** 2)))
case("malformed", "rtol given as a string", "error",
     lambda: check_grad(ls, Wm, gm, rtol="1e-3"), hint_has="rtol")
case("malformed", "stderr that does not fit x", "error",
     lambda: check_grad(J, theta, est, stderr=se[:4]), hint_has="stderr")
case("ties", "max with ties counted twice, integer gradient: no truncation hint", "fail",
     lambda: check_grad(lambda x: float(np.max(x)), np.array([2.0, 2.0, 2.0, 1.0]),
                        np.array([1, 1, 0, 0])), hint_not=("integer buffer",))


# --------------------------------------------------------------------------- the test


def _outcome(v: Variant) -> tuple[bool, str]:
    res = v.run()
    ok = res.status in v.expect.split("|")
    text = f"{res.message} {res.hint or ''}"
    if v.hint_has and v.hint_has.lower() not in text.lower():
        ok = False
    if any(w.lower() in text.lower() for w in v.hint_not):
        ok = False
    return ok, f"{res.status}: {res.message} | hint: {res.hint}"


@pytest.mark.parametrize("v", CASES, ids=[f"{c.family}-{c.label}" for c in CASES])
def test_realistic_case(v: Variant) -> None:
    ok, said = _outcome(v)
    assert ok, f"expected {v.expect}; got {said}"


def test_the_set_is_large_enough() -> None:
    """At least 60 derivations, each with its correct gradient and wrong variants."""
    stems = {c.label.split(":")[0] for c in CASES if c.family != "malformed"}
    assert len(stems) >= 40
    assert sum(c.expect == "fail" for c in CASES) >= 60
