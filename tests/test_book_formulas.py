"""The intro's promise, kept testable: every gradient formula the book displays is right.

Every display equation in book/ that states a derivative (it contains \\partial, \\nabla, a
d/dx fraction or a `dW`-style gradient name) must be preceded by a MyST comment line

    % formula: <name>

naming a check in CHECKS below, or `% formula: definition` for a definition (nothing to
check). Each check transcribes the displayed formula (not the course's implementation of it)
and compares it with central differences at random points. A new gradient formula without a
check, or a check whose formula is wrong, fails here.

Why here and not in a hidden cell of each chapter: the checks run in a second, without building
the book, next to the numerical-gradient helpers they share, and the comment makes the link
from a formula to its check visible to whoever edits the formula.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from bpcourse.gradcheck import numerical_derivative, numerical_gradient, rel_error
from tests.conftest import REPO_ROOT
from tests.test_conv import FORMULA_CHECKS as CONV_FORMULA_CHECKS

GRADIENT = re.compile(r"\\partial|\\nabla|\\frac\{d|(?<![A-Za-z\\])d[A-Z]\b|d\\mathit")
TOLERANCE = 1e-6  # elementwise relative error: round-off on small entries reaches 2e-7


def display_formulas():
    """(file, line, name or None, TeX) for every display equation of the book's pages."""
    found = []
    for path in sorted((REPO_ROOT / "book").rglob("*.md")):
        lines = path.read_text().splitlines()
        i = 0
        while i < len(lines):
            if lines[i].strip() == "$$":
                end = next(j for j in range(i + 1, len(lines)) if lines[j].strip().startswith("$$"))
                previous = next((lines[j] for j in range(i - 1, -1, -1) if lines[j].strip()), "")
                match = re.match(r"%\s*formula:\s*(\S+)", previous.strip())
                tex = "\n".join(lines[i + 1 : end])
                found.append((path.relative_to(REPO_ROOT).as_posix(), i + 1, match and match[1], tex))
                i = end
            i += 1
    return found


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def softplus(z):
    return np.log1p(np.exp(z))


# --- one check per displayed formula: the formula as printed, against central differences ---


def check_chain_one_path(rng):
    x = rng.normal()
    z = lambda t: np.sin(t**2)  # noqa: E731  z = f(y), y = g(x) = x^2
    return rel_error(np.cos(x**2) * 2 * x, numerical_derivative(z, x))  # dz/dy * dy/dx


def check_chain_paths(rng):
    x = rng.normal()
    ys = [lambda t: t + 1, lambda t: 3 * t]  # z = y1 * y2
    y1, y2 = ys[0](x), ys[1](x)
    dz_dx = y2 * 1 + y1 * 3  # sum over paths of (dz/dy_j)(dy_j/dx)
    return rel_error(dz_dx, numerical_derivative(lambda t: ys[0](t) * ys[1](t), x))


def check_jacobian_chain(rng):
    x = rng.normal(size=3)
    A = rng.normal(size=(2, 3))
    g = lambda v: np.tanh(A @ v)  # noqa: E731  R^3 -> R^2
    f = lambda y: np.array([y[0] * y[1], np.exp(y[0]), y[1] ** 2])  # noqa: E731  R^2 -> R^3
    y = g(x)
    J_g = (1 - y**2)[:, None] * A
    J_f = np.array([[y[1], y[0]], [np.exp(y[0]), 0.0], [0.0, 2 * y[1]]])
    numeric = np.array([numerical_gradient(lambda v, k=k: f(g(v))[k], x) for k in range(3)])
    return rel_error(J_f @ J_g, numeric)


def check_sigmoid_derivative(rng):
    z = rng.normal(scale=2)
    numeric = numerical_derivative(sigmoid, z)
    forms = [np.exp(-z) / (1 + np.exp(-z)) ** 2,
             1 / (1 + np.exp(-z)) * ((1 + np.exp(-z)) - 1) / (1 + np.exp(-z)),
             sigmoid(z) * (1 - sigmoid(z))]  # fmt: skip
    return max(rel_error(form, numeric) for form in forms)


def check_neuron_partials(rng):
    w, x = rng.normal(size=3), rng.normal(size=2)

    def f(w, x):
        return sigmoid(w[0] * x[0] + w[1] * x[1] + w[2])

    s = f(w, x)
    dw = np.array([x[0] * s * (1 - s), x[1] * s * (1 - s), s * (1 - s)])
    dx = np.array([w[0] * s * (1 - s), w[1] * s * (1 - s)])
    return max(rel_error(dw, numerical_gradient(lambda v: f(v, x), w)),
               rel_error(dx, numerical_gradient(lambda v: f(w, v), x)))  # fmt: skip


def check_staged_backward(rng):
    x, y = rng.normal(size=2)

    def f(x, y):
        return (x + sigmoid(y)) / (sigmoid(x) + (x + y) ** 2)

    sigy, sigx = sigmoid(y), sigmoid(x)
    num, xpy = x + sigy, x + y
    xpysqr = xpy**2
    den = sigx + xpysqr
    invden = 1 / den
    df = 1.0
    dnum, dinvden = invden * df, num * df  # (8)
    dden = -1 / den**2 * dinvden  # (7)
    dsigx, dxpysqr = dden, dden  # (6)
    dxpy = 2 * xpy * dxpysqr  # (5)
    dx, dy = dxpy, dxpy  # (4)
    dx += sigx * (1 - sigx) * dsigx  # (3)
    dx += dnum  # (2)
    dsigy = dnum
    dy += sigy * (1 - sigy) * dsigy  # (1)
    return max(rel_error(dx, numerical_derivative(lambda t: f(t, y), x)),
               rel_error(dy, numerical_derivative(lambda t: f(x, t), y)))  # fmt: skip


def check_broadcast_bias(rng):
    X, b, dout = rng.normal(size=(4, 3)), rng.normal(size=3), rng.normal(size=(4, 3))
    db = dout.sum(axis=0)
    return rel_error(db, numerical_gradient(lambda v: np.sum(dout * (X + v)), b))


def check_matmul(rng):
    W, X, dD = rng.normal(size=(5, 10)), rng.normal(size=(10, 3)), rng.normal(size=(5, 3))
    return max(rel_error(dD @ X.T, numerical_gradient(lambda v: np.sum(dD * (v @ X)), W)),
               rel_error(W.T @ dD, numerical_gradient(lambda v: np.sum(dD * (W @ v)), X)))  # fmt: skip


def check_squared_norm(rng):
    W, x = rng.normal(size=(3, 4)), rng.normal(size=4)
    q = W @ x
    return max(rel_error(2 * np.outer(q, x), numerical_gradient(lambda v: np.sum((v @ x) ** 2), W)),
               rel_error(2 * W.T @ q, numerical_gradient(lambda v: np.sum((W @ v) ** 2), x)))  # fmt: skip


def check_softmax_cross_entropy(rng):
    z, y = rng.normal(size=5), 2
    S = np.exp(z) / np.exp(z).sum()
    return rel_error(S - np.eye(5)[y], numerical_gradient(lambda v: -np.log(np.exp(v[y]) / np.exp(v).sum()), z))


def check_two_layer_backward(rng):
    N, D, H, C = 6, 3, 5, 4
    X, y = rng.normal(size=(N, D)), rng.integers(0, C, size=N)
    W1, W2 = rng.normal(size=(D, H)), rng.normal(size=(H, C))

    def loss(W1, W2):
        Z1 = np.maximum(X @ W1, 0)
        logits = Z1 @ W2
        S = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        return np.mean(-np.log(S[np.arange(N), y]))

    Z1 = np.maximum(X @ W1, 0)
    logits = Z1 @ W2
    S = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    G2 = S - np.eye(C)[y]
    dW2 = Z1.T @ G2 / N
    G1 = (Z1 > 0) * (G2 @ W2.T)
    dW1 = X.T @ G1 / N
    return max(rel_error(dW1, numerical_gradient(lambda v: loss(v, W2), W1)),
               rel_error(dW2, numerical_gradient(lambda v: loss(W1, v), W2)))  # fmt: skip


def _b3_problem(rng):
    x, observed = np.array([0.0, 0.5, 1.0]), rng.normal(size=3)
    p = dict(zip(["w1", "b1", "w2", "b2", "w3", "w4", "b3"], rng.normal(size=7), strict=True))

    def predicted(p):
        return p["w3"] * softplus(p["w1"] * x + p["b1"]) + p["w4"] * softplus(p["w2"] * x + p["b2"]) + p["b3"]

    def ssr(p):
        return np.sum((observed - predicted(p)) ** 2)

    def numeric(name):
        return numerical_derivative(lambda t: ssr({**p, name: t}), p[name])

    return x, observed, p, predicted, numeric


def check_dssr_db3(rng):
    _, observed, p, predicted, numeric = _b3_problem(rng)
    return rel_error(np.sum(-2 * (observed - predicted(p)) * 1), numeric("b3"))


def check_ssr_partials(rng):
    x, observed, p, predicted, numeric = _b3_problem(rng)
    r = -2 * (observed - predicted(p))
    z1, z2 = p["w1"] * x + p["b1"], p["w2"] * x + p["b2"]
    a1, a2 = softplus(z1), softplus(z2)
    formulas = {
        "w3": np.sum(r * a1),
        "w4": np.sum(r * a2),
        "b1": np.sum(r * p["w3"] * sigmoid(z1)),
        "w1": np.sum(r * p["w3"] * sigmoid(z1) * x),
        "b2": np.sum(r * p["w4"] * sigmoid(z2)),  # "likewise for b2 and w2 with w4 and z2"
        "w2": np.sum(r * p["w4"] * sigmoid(z2) * x),
    }
    return max(rel_error(value, numeric(name)) for name, value in formulas.items())


def _deep_problem(rng, activation):
    act, dact = {
        "tanh": (np.tanh, lambda z: 1 - np.tanh(z) ** 2),
        "sigmoid": (sigmoid, lambda z: sigmoid(z) * (1 - sigmoid(z))),
    }[activation]
    X, y = rng.normal(size=(4, 3)), rng.normal(size=(4, 1))
    W1, W2, W3 = rng.normal(size=(3, 5)), rng.normal(size=(5, 5)), rng.normal(size=(5, 1))

    def loss_from_h1(h1, W2=W2):  # L as a function of h_1 and W_2: h_2 = act(h_1 W_2), out = h_2 W_3
        return 0.5 * np.sum((act(h1 @ W2) @ W3 - y) ** 2) / len(y)

    h1 = act(X @ W1)
    z2 = h1 @ W2
    h2 = act(z2)
    dL_dh2 = (h2 @ W3 - y) / len(y) @ W3.T
    return h1, z2, dact, dL_dh2, W2, loss_from_h1


def check_backward_through_layer(rng):
    h1, z2, dact, dL_dh2, W2, loss_from_h1 = _deep_problem(rng, "tanh")
    dL_dh1 = (dL_dh2 * dact(z2)) @ W2.T  # dL/dh_{l-1} = (dL/dh_l (.) phi'(z_l)) W_l^T
    return rel_error(dL_dh1, numerical_gradient(loss_from_h1, h1))


def check_weight_gradient(rng):
    h1, z2, dact, dL_dh2, W2, loss_from_h1 = _deep_problem(rng, "sigmoid")
    dL_dz2 = dL_dh2 * dact(z2)
    dL_dW2 = h1.T @ dL_dz2  # dL/dW_l = h_{l-1}^T dL/dz_l
    return rel_error(dL_dW2, numerical_gradient(lambda v: loss_from_h1(h1, v), W2))


# --- chapter 7: new layers (the formulas as printed; bpcourse.normalization is tested on its own) ---


def _softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def check_vjp(rng):
    A, x, dy = rng.normal(size=(3, 4)), rng.normal(size=4), rng.normal(size=3)
    J = (1 - np.tanh(A @ x) ** 2)[:, None] * A  # y = tanh(Ax)
    return rel_error(J.T @ dy, numerical_gradient(lambda v: dy @ np.tanh(A @ v), x))


def check_elementwise_vjp(rng):
    x, dy = rng.normal(size=5), rng.normal(size=5)
    J = np.diag(1 - np.tanh(x) ** 2)  # phi = tanh
    return max(rel_error(J.T @ dy, numerical_gradient(lambda v: dy @ np.tanh(v), x)),
               rel_error((1 - np.tanh(x) ** 2) * dy, J.T @ dy))  # fmt: skip


def check_softmax_jacobian(rng):
    z = rng.normal(size=5)
    s = _softmax(z)
    J = np.array([[s[i] * ((i == j) - s[j]) for j in range(5)] for i in range(5)])
    numeric = np.array([numerical_gradient(lambda v, i=i: _softmax(v)[i], z) for i in range(5)])
    return max(rel_error(J, numeric), rel_error(np.diag(s) - np.outer(s, s), numeric))


def check_softmax_vjp(rng):
    z, ds = rng.normal(size=6), rng.normal(size=6)
    s = _softmax(z)
    return rel_error(s * (ds - (s @ ds) * np.ones(6)), numerical_gradient(lambda v: ds @ _softmax(v), z))


def check_softmax_vjp_cross_entropy(rng):
    z, y = rng.normal(size=4), 1
    s, e_y = _softmax(z), np.eye(4)[1]
    ds = -e_y / s[y]  # d(-log s_y)/ds
    via_vjp = s * ds - s * (s @ ds)
    numeric = numerical_gradient(lambda v: -np.log(_softmax(v)[y]), z)
    return max(rel_error(-e_y - s * (-1), numeric), rel_error(s - e_y, numeric), rel_error(via_vjp, numeric))


def _norm_problem(rng, axis):
    N, D, eps = 5, 4, 1e-5
    x = rng.normal(loc=1.0, scale=2.0, size=(N, D))
    gamma, beta, dy = rng.normal(size=D), rng.normal(size=D), rng.normal(size=(N, D))

    def forward(x):
        mu = x.mean(axis=axis, keepdims=True)
        var = ((x - mu) ** 2).mean(axis=axis, keepdims=True)
        return gamma * (x - mu) / np.sqrt(var + eps) + beta

    def numeric():
        return numerical_gradient(lambda v: np.sum(dy * forward(v)), x)

    return x, gamma, beta, dy, eps, numeric


def check_batchnorm_staged_backward(rng):
    x, gamma, beta, dy, eps, numeric = _norm_problem(rng, 0)
    N = x.shape[0]
    mu = x.mean(axis=0)
    c = x - mu
    q = c**2
    var = q.mean(axis=0)
    sigma = np.sqrt(var + eps)
    r = 1 / sigma
    xhat = c * r
    dbeta = dy.sum(axis=0)
    dgamma = (dy * xhat).sum(axis=0)
    dxhat = gamma * dy
    dr = (dxhat * c).sum(axis=0)
    dc = r * dxhat
    dsigma = -dr / sigma**2
    dvar = dsigma / (2 * sigma)
    dq = dvar / N * np.ones_like(q)
    dc = dc + 2 * c * dq
    dmu = -dc.sum(axis=0)
    dx = dc + dmu / N
    fwd = lambda g, b: np.sum(dy * (g * xhat + b))  # noqa: E731  gamma, beta enter after xhat
    return max(rel_error(dx, numeric()),
               rel_error(dgamma, numerical_gradient(lambda v: fwd(v, beta), gamma)),
               rel_error(dbeta, numerical_gradient(lambda v: fwd(gamma, v), beta)))  # fmt: skip


def check_batchnorm_compact_backward(rng):
    x, gamma, _, dy, eps, numeric = _norm_problem(rng, 0)
    N, D = x.shape
    mu, var = x.mean(axis=0), x.var(axis=0)
    r = 1 / np.sqrt(var + eps)
    xhat = (x - mu) * r
    dxhat = gamma * dy
    dx = np.empty_like(x)
    for i in range(N):
        for j in range(D):
            dx[i, j] = r[j] / N * (N * dxhat[i, j] - sum(dxhat[k, j] for k in range(N))
                                   - xhat[i, j] * sum(dxhat[k, j] * xhat[k, j] for k in range(N)))  # fmt: skip
    return rel_error(dx, numeric())


def check_layernorm_compact_backward(rng):
    x, gamma, _, dy, eps, numeric = _norm_problem(rng, 1)
    N, D = x.shape
    mu, var = x.mean(axis=1), x.var(axis=1)
    r = 1 / np.sqrt(var + eps)
    xhat = (x - mu[:, None]) * r[:, None]
    dxhat = gamma * dy
    dx = np.empty_like(x)
    for i in range(N):
        for j in range(D):
            dx[i, j] = r[i] / D * (D * dxhat[i, j] - sum(dxhat[i, k] for k in range(D))
                                   - xhat[i, j] * sum(dxhat[i, k] * xhat[i, k] for k in range(D)))  # fmt: skip
    return rel_error(dx, numeric())


def check_batchnorm_jacobian_block(rng):
    N, eps = 6, 1e-5
    x, gamma = rng.normal(loc=1.0, scale=2.0, size=N), rng.normal()
    mu, var = x.mean(), x.var()
    sigma_hat = np.sqrt(var + eps)
    r, xhat = 1 / sigma_hat, (x - mu) / np.sqrt(var + eps)
    y = lambda v: gamma * (v - v.mean()) / np.sqrt(v.var() + eps)  # noqa: E731  one feature, beta left out
    dsigma = numerical_gradient(lambda v: np.sqrt(v.var() + eps), x)
    entries = np.array([[gamma * r * ((k == i) - 1 / N - xhat[k] * xhat[i] / N) for i in range(N)] for k in range(N)])
    J = gamma * r / N * (N * np.eye(N) - np.ones((N, N)) - np.outer(xhat, xhat))
    numeric = np.array([numerical_gradient(lambda v, k=k: y(v)[k], x) for k in range(N)])
    return max(rel_error(xhat / N, dsigma), rel_error(entries, numeric), rel_error(J, numeric))


# --- chapter 11: backpropagation through time ---------------------------------------------------


def _rnn_states(x, h0, Wx, Wh, b):
    """h_1..h_T of h_t = tanh(x_t Wx + h_{t-1} Wh + b), x of shape (N, T, D): a list of (N, H) arrays."""
    states, h = [], h0
    for t in range(x.shape[1]):
        h = np.tanh(x[:, t] @ Wx + h @ Wh + b)
        states.append(h)
    return states


def check_bptt_fork(rng):
    """Scalar RNN: dL/dwh = sum_t dL/da_t h_{t-1}, dL/da_t = dL/dh_t (1 - h_t^2),
    dL/dh_{t-1} = dl/dh_{t-1} + dL/da_t wh."""
    T = 4
    xs, dl = rng.normal(size=T), rng.normal(size=T + 1)  # dl[t] = the loss's direct dL/dh_t, t = 0..T
    wx, wh, b, h0 = rng.normal(), 0.8 * rng.normal(), 0.3 * rng.normal(), rng.normal()

    def loss(wh_=wh, h0_=h0):
        h, total = h0_, dl[0] * h0_
        for t in range(T):
            h = np.tanh(wx * xs[t] + wh_ * h + b)
            total += dl[t + 1] * h
        return total

    h = [h0]
    for t in range(T):
        h.append(np.tanh(wx * xs[t] + wh * h[-1] + b))
    dL_dh = dl[T]
    dwh = 0.0
    for t in range(T, 0, -1):
        dL_da = dL_dh * (1 - h[t] ** 2)
        dwh += dL_da * h[t - 1]
        dL_dh = dl[t - 1] + dL_da * wh
    return max(rel_error(dwh, numerical_derivative(lambda w: loss(wh_=w), wh)),
               rel_error(dL_dh, numerical_derivative(lambda v: loss(h0_=v), h0)))


def check_bptt_vectorized(rng):
    N, T, D, H = 3, 5, 4, 3
    x, h0 = rng.normal(size=(N, T, D)), rng.normal(size=(N, H))
    Wx, Wh, b = 0.6 * rng.normal(size=(D, H)), 0.6 * rng.normal(size=(H, H)), rng.normal(size=H)
    dh = rng.normal(size=(N, T, H))
    args = [x, h0, Wx, Wh, b]
    h = _rnn_states(*args)
    before = [h0, *h[:-1]]
    da = [None] * T
    nxt = np.zeros((N, H))  # dL/da_{t+1}, zero after the last step
    for t in reversed(range(T)):
        da[t] = (dh[:, t] + nxt @ Wh.T) * (1 - h[t] * h[t])
        nxt = da[t]
    analytic = [np.stack([d @ Wx.T for d in da], axis=1), da[0] @ Wh.T,
                sum(x[:, t].T @ da[t] for t in range(T)), sum(before[t].T @ da[t] for t in range(T)),
                sum(da[t].sum(axis=0) for t in range(T))]

    def loss(i):
        def f(v):
            values = list(args)
            values[i] = v
            return sum(np.sum(dh[:, t] * s) for t, s in enumerate(_rnn_states(*values)))
        return f

    return max(rel_error(a, numerical_gradient(loss(i), args[i])) for i, a in enumerate(analytic))


def check_bptt_jacobian_product(rng):
    T, H = 4, 3
    xs, h0 = rng.normal(size=(T, 2)), rng.normal(size=H)
    Wx, Wh, b = 0.7 * rng.normal(size=(2, H)), 0.7 * rng.normal(size=(H, H)), rng.normal(size=H)
    hT = lambda v: _rnn_states(xs[None], v[None], Wx, Wh, b)[-1][0]  # noqa: E731  h_T as a function of h_0
    h = [s[0] for s in _rnn_states(xs[None], h0[None], Wx, Wh, b)]
    J = np.eye(H)
    for t in range(T):  # prod_{t=T}^{1}: the factor of step t multiplies from the left
        J = np.diag(1 - h[t] ** 2) @ Wh.T @ J
    numeric = np.array([numerical_gradient(lambda v, i=i: hT(v)[i], h0) for i in range(H)])
    return rel_error(J, numeric)
# --- chapter 12: attention (S = Q K^T / sqrt(d), P = softmax of every row, out = P V) ---


def _row_softmax(S):
    e = np.exp(S - S.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _attention_problem(rng):
    Tq, Tk, d, dv = 3, 4, 2, 3
    Q, K, V = rng.normal(size=(Tq, d)), rng.normal(size=(Tk, d)), rng.normal(size=(Tk, dv))
    dout = rng.normal(size=(Tq, dv))

    def out(Q, K, V):
        return _row_softmax(Q @ K.T / np.sqrt(d)) @ V

    P = _row_softmax(Q @ K.T / np.sqrt(d))
    return Q, K, V, dout, P, d, out


def check_attention_dv_dp(rng):
    Q, K, V, dout, P, d, out = _attention_problem(rng)
    dV, dP = P.T @ dout, dout @ V.T
    return max(rel_error(dV, numerical_gradient(lambda v: np.sum(dout * (P @ v)), V)),
               rel_error(dP, numerical_gradient(lambda p: np.sum(dout * (p @ V)), P)))


def check_attention_dscores(rng):
    Q, K, V, dout, P, d, out = _attention_problem(rng)
    S, dP = Q @ K.T / np.sqrt(d), dout @ V.T
    ones = np.ones((P.shape[1], 1))
    dS = P * (dP - (P * dP) @ ones @ ones.T)
    return rel_error(dS, numerical_gradient(lambda s: np.sum(dP * _row_softmax(s)), S))


def check_attention_dq_dk(rng):
    Q, K, V, dout, P, d, out = _attention_problem(rng)
    dP = dout @ V.T
    dS = P * (dP - np.sum(P * dP, axis=1, keepdims=True))
    dQ, dK = dS @ K / np.sqrt(d), dS.T @ Q / np.sqrt(d)
    return max(rel_error(dQ, numerical_gradient(lambda q: np.sum(dout * out(q, K, V)), Q)),
               rel_error(dK, numerical_gradient(lambda k: np.sum(dout * out(Q, k, V)), K)))


CHECKS = {name.removeprefix("check_").replace("_", "-"): check for name, check in dict(globals()).items()
          if name.startswith("check_")}  # fmt: skip
CHECKS.update(CONV_FORMULA_CHECKS)  # chapter 10's checks live beside its code, in tests/test_conv.py


def test_every_gradient_formula_names_its_check():
    unchecked = [f"{file}:{line}" for file, line, name, tex in display_formulas() if GRADIENT.search(tex) and not name]
    assert unchecked == [], f"gradient formulas without a '% formula: <check>' line: {unchecked}"
    unknown = [f"{file}:{line} {name}" for file, line, name, _ in display_formulas()
               if name and name != "definition" and name not in CHECKS]  # fmt: skip
    assert unknown == [], f"formula lines that name no check: {unknown}"


def test_every_check_is_used_by_a_formula():
    used = {name for *_, name, _ in display_formulas()}
    assert set(CHECKS) <= used, f"checks no formula names: {set(CHECKS) - used}"


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_displayed_formula_matches_central_differences(name):
    for seed in range(5):
        error = CHECKS[name](np.random.default_rng(seed))
        assert error < TOLERANCE, f"{name} (seed {seed}): relative error {error:.1e}"


def test_a_wrong_formula_is_caught():
    """The checks can fail: the seed's -2 * SSR slope of chapter 5 is far off."""
    _, observed, p, predicted, numeric = _b3_problem(np.random.default_rng(0))
    assert rel_error(-2 * np.sum((observed - predicted(p)) ** 2), numeric("b3")) > 1e-2
