"""Scaled dot-product attention and its backward pass, for the attention chapter (book/12-attention).

Shapes. Without a batch: queries Q (Tq, d), keys K (Tk, d), values V (Tk, dv); with one, any
leading axes in front, the same for the three (Q (N, Tq, d), ...): every function works on the last
two axes and lets `@` broadcast the rest. A mask is a boolean array (Tq, Tk) that broadcasts against
the scores: True where query i may attend to key j.

    S = Q K^T / sqrt(d)      scores, (Tq, Tk)
    P = softmax of every row of S, masked keys at -inf      weights, (Tq, Tk)
    out = P V                (Tq, dv)

A query whose every key is masked gets weight 0 on every key (its row of P, and of out, is zeros)
and zero gradients: no 0 / 0, no nan. tests/test_attention.py checks every gradient here against
numerical gradients. Students write their own version in exercise 12; the exercise does not import
this module.
"""

from __future__ import annotations

import numpy as np

SATURATED = 0.99  # a row whose largest weight exceeds this counts as saturated (one-hot in all but name)


def _t(a):
    """The transpose of the last two axes."""
    return np.swapaxes(a, -1, -2)


def causal_mask(Tq: int, Tk: int | None = None) -> np.ndarray:
    """(Tq, Tk) booleans, True where key j is not later than query i (queries end with the keys)."""
    Tk = Tq if Tk is None else Tk
    return np.arange(Tk)[None, :] <= np.arange(Tq)[:, None] + (Tk - Tq)


def masked_softmax(S, mask=None):
    """Softmax of every row (last axis) of S (..., Tq, Tk); masked entries get weight exactly 0.

    A row with no allowed entry is all zeros. The row maximum is subtracted first, so scores of any
    size are safe.
    """
    S = np.asarray(S, dtype=float)
    if mask is not None:
        S = np.where(mask, S, -np.inf)
    top = S.max(axis=-1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    E = np.exp(S - top)
    total = E.sum(axis=-1, keepdims=True)
    return E / np.where(total > 0.0, total, 1.0)


def scores(Q, K, scale=None):
    """Q K^T times `scale` (default 1/sqrt(d)), shape (..., Tq, Tk)."""
    Q, K = np.asarray(Q, dtype=float), np.asarray(K, dtype=float)
    scale = 1.0 / np.sqrt(Q.shape[-1]) if scale is None else scale
    return Q @ _t(K) * scale


def attention_forward(Q, K, V, mask=None, scale=None):
    """(out, cache): out = softmax(Q K^T * scale, masked) V of shape (..., Tq, dv).

    cache = (Q, K, V, P, scale) with the weights P (..., Tq, Tk).
    """
    Q, K, V = (np.asarray(a, dtype=float) for a in (Q, K, V))
    scale = 1.0 / np.sqrt(Q.shape[-1]) if scale is None else scale
    P = masked_softmax(scores(Q, K, scale), mask)
    return P @ V, (Q, K, V, P, scale)


def attention_backward(dout, cache, parts=False):
    """(dQ, dK, dV) of shapes (..., Tq, d), (..., Tk, d), (..., Tk, dv) for upstream dout (..., Tq, dv).

    Walks the three stages back: out = P V (dP, dV), the softmax of every row (chapter 7's VJP, dS),
    and S = Q K^T * scale (dQ, dK). With parts=True also returns {"dP": ..., "dS": ...}.
    """
    Q, K, V, P, scale = cache
    dout = np.asarray(dout, dtype=float)
    dV = _t(P) @ dout
    dP = dout @ _t(V)
    dS = P * (dP - np.sum(dP * P, axis=-1, keepdims=True))
    dQ = dS @ K * scale
    dK = _t(dS) @ Q * scale
    if parts:
        return dQ, dK, dV, {"dP": dP, "dS": dS}
    return dQ, dK, dV


def softmax_jacobian_norm(p) -> float:
    """Frobenius norm of one softmax row's Jacobian diag(p) - p p^T, for weights p (T,)."""
    p = np.asarray(p, dtype=float)
    return float(np.linalg.norm(np.diag(p) - np.outer(p, p)))


def saturation(d: int, T: int = 16, trials: int = 2000, scaled: bool = True, seed: int = 0) -> dict:
    """What the scale does to one query against T keys, q and k of unit-variance entries, dimension d.

    Returns the variance of the scores over all trials, the mean largest weight of a row, the share of
    rows whose largest weight exceeds 0.99 ("saturated") and the mean
    Frobenius norm of the softmax's Jacobian at the row (what multiplies the gradient on its way to
    the scores, hence to Q and K). Unscaled (scaled=False) the variance grows as d and the softmax
    saturates: the largest weight tends to 1 and the Jacobian to 0.
    """
    rng = np.random.default_rng(seed)
    q = rng.normal(size=(trials, 1, d))
    k = rng.normal(size=(trials, T, d))
    s = (q @ _t(k))[:, 0, :] / (np.sqrt(d) if scaled else 1.0)
    p = masked_softmax(s)
    sq = np.sum(p**2, axis=1)
    jac = np.sqrt(np.maximum(sq - 2 * np.sum(p**3, axis=1) + sq**2, 0.0))  # ||diag(p) - p p^T||_F
    return {"variance": float(s.var()), "max_weight": float(p.max(axis=1).mean()),
            "saturated": float(np.mean(p.max(axis=1) > SATURATED)), "jacobian": float(jac.mean())}
