"""bpcourse.conv, the code of chapter 10, against numerical gradients and against each other."""

from __future__ import annotations

import numpy as np
import pytest

from bpcourse import conv
from bpcourse.gradcheck import numerical_gradient, rel_error

CASES = [  # (N, C, H, W, F, HH, WW, stride, pad)
    (2, 3, 5, 5, 2, 3, 3, 1, 0),
    (1, 2, 6, 5, 3, 3, 2, 2, 1),
    (2, 1, 4, 4, 2, 1, 1, 1, 0),  # a 1x1 kernel
    (2, 2, 4, 3, 3, 4, 3, 1, 0),  # a kernel as large as the input
    (1, 2, 7, 6, 2, 3, 3, 2, 2),  # stride that does not divide: the last row is unused
    (3, 2, 5, 5, 2, 2, 2, 3, 1),
]


def _case(N, C, H, W, F, HH, WW, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(N, C, H, W)), rng.normal(size=(F, C, HH, WW)), rng.normal(size=F)


def test_correlate1d_backward_is_a_full_correlation_with_the_flipped_kernel():
    rng = np.random.default_rng(1)
    x, w = rng.normal(size=7), rng.normal(size=3)
    dy = rng.normal(size=5)
    dx, dw = conv.correlate1d_backward(dy, x, w)
    assert rel_error(dx, numerical_gradient(lambda v: dy @ conv.correlate1d(v, w), x)) < 1e-8
    assert rel_error(dw, numerical_gradient(lambda v: dy @ conv.correlate1d(x, v), w)) < 1e-8
    # without the flip it is wrong (w is not symmetric)
    assert rel_error(conv.full_correlate1d(dy, w), dx) > 1e-2
    # and it is the transpose of the Toeplitz matrix of the forward pass
    T = conv.correlate1d_jacobian(7, w)
    assert np.allclose(T @ x, conv.correlate1d(x, w)) and np.allclose(T.T @ dy, dx)


@pytest.mark.parametrize("case", CASES)
def test_naive_and_im2col_agree_and_match_numerical_gradients(case):
    N, C, H, W, F, HH, WW, stride, pad = case
    x, w, b = _case(N, C, H, W, F, HH, WW)
    out = conv.conv2d_naive(x, w, b, stride, pad)
    assert out.shape == (N, F, conv.out_size(H, HH, stride, pad), conv.out_size(W, WW, stride, pad))
    assert np.allclose(conv.conv2d_im2col(x, w, b, stride, pad), out)
    dout = np.random.default_rng(2).normal(size=out.shape)
    naive = conv.conv2d_naive_backward(dout, x, w, stride, pad)
    fast = conv.conv2d_im2col_backward(dout, x, w, stride, pad)
    numeric = (
        numerical_gradient(lambda v: np.sum(dout * conv.conv2d_naive(v, w, b, stride, pad)), x),
        numerical_gradient(lambda v: np.sum(dout * conv.conv2d_naive(x, v, b, stride, pad)), w),
        numerical_gradient(lambda v: np.sum(dout * conv.conv2d_naive(x, w, v, stride, pad)), b),
    )
    for got_naive, got_fast, want in zip(naive, fast, numeric, strict=True):
        assert rel_error(got_naive, want) < 1e-7
        assert rel_error(got_fast, want) < 1e-7


def test_col2im_is_the_adjoint_of_im2col_and_must_add():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 2, 5, 5))
    cols = conv.im2col(x, 3, 3, 1, 1)
    d = rng.normal(size=cols.shape)
    assert np.isclose(np.sum(d * cols), np.sum(conv.col2im(d, x.shape, 3, 3, 1, 1) * x))
    want = numerical_gradient(lambda v: np.sum(d * conv.im2col(v, 3, 3, 1, 1)), x)
    assert rel_error(conv.col2im(d, x.shape, 3, 3, 1, 1), want) < 1e-8
    assert rel_error(conv.col2im(d, x.shape, 3, 3, 1, 1, accumulate=False), want) > 0.1
    # with stride = kernel the windows do not overlap and assigning is harmless
    cols2 = conv.im2col(x[:, :, :4, :4], 2, 2, 2, 0)
    d2 = rng.normal(size=cols2.shape)
    assert np.allclose(conv.col2im(d2, (2, 2, 4, 4), 2, 2, 2), conv.col2im(d2, (2, 2, 4, 4), 2, 2, 2, accumulate=False))


@pytest.mark.parametrize(("ph", "pw", "stride"), [(2, 2, 2), (3, 2, 1), (2, 3, 2), (3, 3, 2)])
def test_pooling_backward_matches_numerical_gradients_without_ties(ph, pw, stride):
    rng = np.random.default_rng(4)
    x = rng.normal(size=(2, 3, 7, 6))
    dout = rng.normal(size=conv.maxpool(x, ph, pw, stride).shape)
    want = numerical_gradient(lambda v: np.sum(dout * conv.maxpool(v, ph, pw, stride)), x, h=1e-6)
    assert rel_error(conv.maxpool_backward(dout, x, ph, pw, stride), want) < 1e-7
    want = numerical_gradient(lambda v: np.sum(dout * conv.avgpool(v, ph, pw, stride)), x)
    assert rel_error(conv.avgpool_backward(dout, x.shape, ph, pw, stride), want) < 1e-8


def test_maxpool_ties_split_evenly_and_keep_the_total():
    x = np.array([[[[1.0, 3.0], [3.0, 0.0]]]])
    dout = np.array([[[[6.0]]]])
    dx = conv.maxpool_backward(dout, x, 2, 2, 2)
    assert np.array_equal(dx, [[[[0.0, 3.0], [3.0, 0.0]]]])
    # moving both tied entries together moves the max one for one: the total is the directional derivative
    direction = np.array([[[[0.0, 1.0], [1.0, 0.0]]]])
    h = 1e-6
    numeric = (conv.maxpool(x + h * direction, 2, 2, 2) - conv.maxpool(x - h * direction, 2, 2, 2)) / (2 * h)
    assert np.isclose(np.sum(dx * direction), float(dout[0, 0, 0, 0] * numeric[0, 0, 0, 0]))
    assert np.array_equal(conv.maxpool_backward(dout, x, 2, 2, 2, ties="all"), [[[[0.0, 6.0], [6.0, 0.0]]]])
    assert np.sum(conv.maxpool_backward(dout, x, 2, 2, 2, ties="first")) == 6.0


def test_receptive_field_of_stacked_layers():
    assert conv.receptive_field([3], [1]) == 3
    assert conv.receptive_field([3, 3], [1, 1]) == 5
    assert conv.receptive_field([3, 2, 3], [1, 2, 1]) == 8
    # checked by gradient: the input entries one output depends on
    rng = np.random.default_rng(5)
    x = rng.normal(size=(1, 1, 12, 12))
    w1, w2 = rng.normal(size=(1, 1, 3, 3)), rng.normal(size=(1, 1, 3, 3))
    b = np.zeros(1)

    def f(v):
        h = conv.maxpool(conv.conv2d_naive(v, w1, b), 2, 2, 2)
        return conv.conv2d_naive(h, w2, b)[0, 0, 1, 1]

    g = numerical_gradient(f, x)
    rows, cols = np.nonzero(g[0, 0])
    assert rows.max() - rows.min() + 1 <= conv.receptive_field([3, 2, 3], [1, 2, 1])


def test_out_size_refuses_a_kernel_larger_than_the_padded_input():
    with pytest.raises(ValueError, match="does not fit"):
        conv.out_size(3, 5, 1, 0)


# --- chapter 10's displayed formulas, as printed, against central differences --------------------
# (tests/test_book_formulas.py collects FORMULA_CHECKS: each returns a relative error)


def check_conv1d_backward(rng):
    """dL/dx_j = sum_i dy_i w_{j-i}, dL/dw_k = sum_i dy_i x_{i+k} (valid indices only)."""
    L, K = 7, 3
    x, w = rng.normal(size=L), rng.normal(size=K)
    dy = rng.normal(size=L - K + 1)
    dx = np.array([sum(dy[i] * w[j - i] for i in range(L - K + 1) if 0 <= j - i < K) for j in range(L)])
    dw = np.array([sum(dy[i] * x[i + k] for i in range(L - K + 1)) for k in range(K)])
    return max(rel_error(dx, numerical_gradient(lambda v: dy @ conv.correlate1d(v, w), x)),
               rel_error(dw, numerical_gradient(lambda v: dy @ conv.correlate1d(x, v), w)))  # fmt: skip


def check_conv2d_backward(rng):
    """The three sums of the 2-D formula, written index by index, with stride 2 and padding 1."""
    N, C, H, W, F, HH, WW, s, p = 2, 2, 5, 4, 3, 3, 2, 2, 1
    x, w, b = rng.normal(size=(N, C, H, W)), rng.normal(size=(F, C, HH, WW)), rng.normal(size=F)
    out = conv.conv2d_naive(x, w, b, s, p)
    dout = rng.normal(size=out.shape)
    Ho, Wo = out.shape[2:]
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    dxp = np.zeros(xp.shape)
    for n, c, r, t in np.ndindex(xp.shape):
        dxp[n, c, r, t] = sum(dout[n, f, i, j] * w[f, c, r - i * s, t - j * s]
                              for f in range(F) for i in range(Ho) for j in range(Wo)
                              if 0 <= r - i * s < HH and 0 <= t - j * s < WW)  # fmt: skip
    dx = dxp[:, :, p : p + H, p : p + W]
    dw = np.zeros(w.shape)
    for f, c, a, e in np.ndindex(w.shape):
        dw[f, c, a, e] = sum(dout[n, f, i, j] * xp[n, c, i * s + a, j * s + e]
                             for n in range(N) for i in range(Ho) for j in range(Wo))  # fmt: skip
    db = np.array([dout[:, f].sum() for f in range(F)])
    loss = lambda X, Wt, B: np.sum(dout * conv.conv2d_naive(X, Wt, B, s, p))  # noqa: E731
    return max(rel_error(dx, numerical_gradient(lambda v: loss(v, w, b), x)),
               rel_error(dw, numerical_gradient(lambda v: loss(x, v, b), w)),
               rel_error(db, numerical_gradient(lambda v: loss(x, w, v), b)))  # fmt: skip


def check_im2col_products(rng):
    """Out = W_row cols + b; dW_row = dOut cols^T; dcols = W_row^T dOut, then col2im."""
    N, C, H, W, F, HH, WW, s, p = 2, 3, 5, 5, 2, 3, 3, 1, 1
    x, w, b = rng.normal(size=(N, C, H, W)), rng.normal(size=(F, C, HH, WW)), rng.normal(size=F)
    cols = conv.im2col(x, HH, WW, s, p)
    W_row = w.reshape(F, -1)
    out = conv.conv2d_naive(x, w, b, s, p)
    Out = W_row @ cols + b[:, None]
    dout = rng.normal(size=out.shape)
    dOut = dout.transpose(1, 0, 2, 3).reshape(F, -1)
    dW_row = dOut @ cols.T
    dcols = W_row.T @ dOut
    loss = lambda X, Wt: np.sum(dout * conv.conv2d_naive(X, Wt, b, s, p))  # noqa: E731
    dx = conv.col2im(dcols, x.shape, HH, WW, s, p)
    return max(rel_error(Out, out.transpose(1, 0, 2, 3).reshape(F, -1)),
               rel_error(dW_row.reshape(w.shape), numerical_gradient(lambda v: loss(x, v), w)),
               rel_error(dx, numerical_gradient(lambda v: loss(v, w), x)))  # fmt: skip


FORMULA_CHECKS = {"conv1d-backward": check_conv1d_backward, "conv2d-backward": check_conv2d_backward,
                  "im2col-products": check_im2col_products}  # fmt: skip


@pytest.mark.parametrize("name", sorted(FORMULA_CHECKS))
def test_chapter_formula_matches_central_differences(name):
    for seed in range(3):
        assert FORMULA_CHECKS[name](np.random.default_rng(seed)) < 1e-6
