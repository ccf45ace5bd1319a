"""bpcourse.attention (chapter 12) against numerical gradients, masks and the scale's effect."""

from __future__ import annotations

import numpy as np
import pytest

from bpcourse import attention as at
from bpcourse.gradcheck import numerical_gradient, rel_error


def _problem(rng, shape=(2,), Tq=3, Tk=4, d=3, dv=2, size=1.0):
    Q = size * rng.normal(size=(*shape, Tq, d))
    K = size * rng.normal(size=(*shape, Tk, d))
    V = rng.normal(size=(*shape, Tk, dv))
    dout = rng.normal(size=(*shape, Tq, dv))
    return Q, K, V, dout


def _numeric(Q, K, V, dout, mask=None, scale=None):
    def loss(which):
        def f(x):
            args = {"Q": Q, "K": K, "V": V, which: x}
            return float(np.sum(dout * at.attention_forward(args["Q"], args["K"], args["V"], mask, scale)[0]))
        return f
    return tuple(numerical_gradient(loss(w), a, h=1e-6) for w, a in (("Q", Q), ("K", K), ("V", V)))


CASES = [  # (batch shape, Tq, Tk, d, dv)
    ((), 2, 3, 2, 2), ((2,), 3, 5, 4, 2), ((3,), 4, 2, 1, 3), ((2, 2), 3, 3, 2, 1), ((), 1, 1, 1, 1),
]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("masked", [False, True])
def test_gradients_match_central_differences(case, masked):
    shape, Tq, Tk, d, dv = case
    rng = np.random.default_rng(12)
    Q, K, V, dout = _problem(rng, shape, Tq, Tk, d, dv)
    mask = at.causal_mask(Tq, Tk) if masked else None
    _, cache = at.attention_forward(Q, K, V, mask)
    for got, want in zip(at.attention_backward(dout, cache), _numeric(Q, K, V, dout, mask), strict=True):
        assert got.shape == want.shape
        assert rel_error(got, want) < 1e-5  # central differences, h = 1e-6: round-off on small entries


def test_forward_is_the_stated_formula_without_a_batch():
    rng = np.random.default_rng(1)
    Q, K, V, _ = _problem(rng, (), 2, 3, 2, 2)
    S = Q @ K.T / np.sqrt(2)
    P = np.exp(S) / np.exp(S).sum(axis=1, keepdims=True)
    assert np.allclose(at.attention_forward(Q, K, V)[0], P @ V, rtol=1e-12)


def test_masked_keys_get_zero_weight_and_zero_gradient():
    rng = np.random.default_rng(2)
    Q, K, V, dout = _problem(rng, (2,), 4, 4, 3, 2)
    mask = at.causal_mask(4)
    _, cache = at.attention_forward(Q, K, V, mask)
    P = cache[3]
    assert np.all(P[:, ~mask] == 0.0) and np.allclose(P.sum(axis=-1), 1.0)
    *_, parts = at.attention_backward(dout, cache, parts=True)
    assert np.all(parts["dS"][:, ~mask] == 0.0)
    # the last key is seen by the last query only: its gradients come from that query alone
    dQ, dK, dV = at.attention_backward(dout, cache)
    assert np.allclose(dV[:, -1], P[:, -1, -1, None] * dout[:, -1])


def test_a_fully_masked_row_gives_zeros_and_no_nan():
    rng = np.random.default_rng(3)
    Q, K, V, dout = _problem(rng, (1,), 3, 3, 2, 2)
    mask = np.array([[False, False, False], [True, True, False], [True, True, True]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out, cache = at.attention_forward(Q, K, V, mask)
        dQ, dK, dV = at.attention_backward(dout, cache)
    assert np.all(out[:, 0] == 0.0) and np.all(dQ[:, 0] == 0.0)
    for got, want in zip((dQ, dK, dV), _numeric(Q, K, V, dout, mask), strict=True):
        assert rel_error(got, want) < 1e-5  # central differences, h = 1e-6: round-off on small entries


def test_large_scores_are_stable():
    rng = np.random.default_rng(4)
    Q, K, V, dout = _problem(rng, (2,), 3, 4, 2, 2, size=25.0)
    assert np.abs(at.scores(Q, K)).max() > 300
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out, cache = at.attention_forward(Q, K, V, at.causal_mask(3, 4))
        grads = at.attention_backward(dout, cache)
    assert all(np.all(np.isfinite(g)) for g in (out, *grads))


def test_a_large_negative_score_is_not_a_mask_for_an_empty_row():
    """Why the chapter uses -inf with a guard: -1e9 in place of -inf gives an empty row equal weights."""
    S = np.array([[0.3, -1.2, 2.0]])
    empty = np.zeros((1, 3), dtype=bool)
    assert np.all(at.masked_softmax(S, empty) == 0.0)
    assert np.allclose(at.masked_softmax(np.where(empty, S, -1e9)), 1.0 / 3.0)


def test_score_variance_grows_as_d_and_the_softmax_saturates_without_the_scale():
    for d in (4, 64, 1024):
        raw, scaled = at.saturation(d, scaled=False), at.saturation(d)
        assert abs(raw["variance"] / d - 1.0) < 0.1 and abs(scaled["variance"] - 1.0) < 0.1
    raw = [at.saturation(d, scaled=False) for d in (4, 64, 1024)]
    assert raw[0]["max_weight"] < raw[1]["max_weight"] < raw[2]["max_weight"]
    assert raw[0]["jacobian"] > raw[1]["jacobian"] > raw[2]["jacobian"]
    assert raw[2]["jacobian"] < 0.25 * at.saturation(1024)["jacobian"]


def test_softmax_jacobian_norm_matches_the_matrix():
    p = at.masked_softmax(np.array([1.0, -0.5, 2.0, 0.0]))
    J = np.diag(p) - np.outer(p, p)
    assert np.isclose(at.softmax_jacobian_norm(p), np.linalg.norm(J))
    num = np.array([numerical_gradient(lambda z, i=i: at.masked_softmax(z)[i], np.log(p)) for i in range(4)])
    assert rel_error(J, num) < 1e-6


def test_a_wrong_backward_is_caught():
    """The check can fail: the diagonal of the softmax's Jacobian alone is far off."""
    rng = np.random.default_rng(5)
    Q, K, V, dout = _problem(rng, (), 2, 3, 2, 2)
    _, (Q_, K_, V_, P, scale) = at.attention_forward(Q, K, V)
    wrong_dQ = (P * (dout @ V.T)) @ K * scale
    assert rel_error(wrong_dQ, _numeric(Q, K, V, dout)[0]) > 1e-2
