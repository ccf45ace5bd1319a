"""Convolution and pooling, forward and backward, for chapter 10 (the book's own code, not the exercise's).

Convolution here is what deep learning calls one: a cross-correlation, the kernel slides over the input
without being flipped. Layouts are NCHW: x (N, C, H, W), w (F, C, HH, WW), b (F,); an output of shape
(N, F, H_out, W_out) with H_out = 1 + (H + 2 pad - HH) // stride (rows or columns that no window reaches
are left out, and their gradient is 0).
"""

from __future__ import annotations

import numpy as np

# --- 1-D, the chapter's hand-sized example -----------------------------------------------------------


def correlate1d(x, w):
    """Valid cross-correlation y[i] = sum_k w[k] x[i + k].

    Inputs: x of shape (L,), w of shape (K,), K <= L. Returns y of shape (L - K + 1,).
    """
    x, w = np.asarray(x, dtype=float), np.asarray(w, dtype=float)
    return np.array([w @ x[i : i + len(w)] for i in range(len(x) - len(w) + 1)])


def full_correlate1d(d, w):
    """Full cross-correlation: d padded with K - 1 zeros on both sides, then correlated with w.

    Inputs: d of shape (M,), w of shape (K,). Returns shape (M + K - 1,).
    """
    d, w = np.asarray(d, dtype=float), np.asarray(w, dtype=float)
    pad = np.concatenate([np.zeros(len(w) - 1), d, np.zeros(len(w) - 1)])
    return correlate1d(pad, w)


def correlate1d_backward(dy, x, w):
    """Gradients of L with dL/dy = dy for y = correlate1d(x, w).

    Inputs: dy of shape (L - K + 1,), x of shape (L,), w of shape (K,).
    Returns (dx, dw) of shapes (L,) and (K,): dx the full correlation of dy with the flipped kernel,
    dw the valid correlation of x with dy.
    """
    w = np.asarray(w, dtype=float)
    return full_correlate1d(dy, w[::-1]), correlate1d(x, dy)


def correlate1d_jacobian(L, w):
    """The (L - K + 1, L) matrix T with correlate1d(x, w) = T @ x: w written along each row, shifted."""
    w = np.asarray(w, dtype=float)
    T = np.zeros((L - len(w) + 1, L))
    for i in range(L - len(w) + 1):
        T[i, i : i + len(w)] = w
    return T


# --- 2-D, naive loops ---------------------------------------------------------------------------------


def out_size(size: int, kernel: int, stride: int, pad: int) -> int:
    """Output length along one axis: 1 + (size + 2 pad - kernel) // stride."""
    if size + 2 * pad < kernel:
        raise ValueError(f"a kernel of {kernel} does not fit an input of {size} padded by {pad}")
    return 1 + (size + 2 * pad - kernel) // stride


def _pad(x, pad):
    return np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))


def conv2d_naive(x, w, b, stride=1, pad=0):
    """Convolution by loops over examples, filters and output positions.

    Inputs: x (N, C, H, W), w (F, C, HH, WW), b (F,), stride >= 1, pad >= 0.
    Returns out (N, F, H_out, W_out): out[n, f, i, j] = sum(window * w[f]) + b[f], the window being
    xp[n, :, i*stride : i*stride + HH, j*stride : j*stride + WW] of the zero-padded xp.
    """
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    Ho, Wo = out_size(H, HH, stride, pad), out_size(W, WW, stride, pad)
    xp = _pad(x, pad)
    out = np.zeros((N, F, Ho, Wo))
    for n in range(N):
        for f in range(F):
            for i in range(Ho):
                for j in range(Wo):
                    window = xp[n, :, i * stride : i * stride + HH, j * stride : j * stride + WW]
                    out[n, f, i, j] = np.sum(window * w[f]) + b[f]
    return out


def conv2d_naive_backward(dout, x, w, stride=1, pad=0):
    """Backward of conv2d_naive by loops: every output position scatters its gradient back.

    Inputs: dout (N, F, H_out, W_out), x and w as given to conv2d_naive.
    Returns (dx, dw, db) of shapes (N, C, H, W), (F, C, HH, WW), (F,).
    """
    N, F, Ho, Wo = dout.shape
    HH, WW = w.shape[2:]
    xp = _pad(x, pad)
    dxp, dw = np.zeros_like(xp), np.zeros_like(w, dtype=float)
    for n in range(N):
        for f in range(F):
            for i in range(Ho):
                for j in range(Wo):
                    rows, cols = slice(i * stride, i * stride + HH), slice(j * stride, j * stride + WW)
                    dxp[n, :, rows, cols] += w[f] * dout[n, f, i, j]  # add: windows overlap
                    dw[f] += xp[n, :, rows, cols] * dout[n, f, i, j]
    H, W = x.shape[2:]
    return dxp[:, :, pad : pad + H, pad : pad + W], dw, dout.sum(axis=(0, 2, 3))


# --- 2-D, im2col ---------------------------------------------------------------------------------------


def im2col(x, HH, WW, stride=1, pad=0):
    """Every window of the padded input as one column.

    Inputs: x (N, C, H, W), the window's size HH x WW, stride, pad.
    Returns cols of shape (C * HH * WW, N * H_out * W_out): row c*HH*WW + di*WW + dj, column
    n*H_out*W_out + i*W_out + j holds xp[n, c, i*stride + di, j*stride + dj].
    """
    N, C, H, W = x.shape
    Ho, Wo = out_size(H, HH, stride, pad), out_size(W, WW, stride, pad)
    xp = _pad(x, pad)
    cols = np.empty((C, HH, WW, N, Ho, Wo))
    for di in range(HH):
        for dj in range(WW):
            patch = xp[:, :, di : di + stride * Ho : stride, dj : dj + stride * Wo : stride]  # (N, C, Ho, Wo)
            cols[:, di, dj] = patch.transpose(1, 0, 2, 3)
    return cols.reshape(C * HH * WW, N * Ho * Wo)


def col2im(cols, x_shape, HH, WW, stride=1, pad=0, accumulate=True):
    """The adjoint of im2col: every column's entries added back where im2col took them from.

    Inputs: cols (C * HH * WW, N * H_out * W_out), x_shape (N, C, H, W), the window, stride, pad.
    Returns an array of shape x_shape. accumulate=False assigns instead of adding (the bug the chapter
    shows: where windows overlap, all but the last contribution are lost).
    """
    N, C, H, W = x_shape
    Ho, Wo = out_size(H, HH, stride, pad), out_size(W, WW, stride, pad)
    cols = np.asarray(cols, dtype=float).reshape(C, HH, WW, N, Ho, Wo)
    xp = np.zeros((N, C, H + 2 * pad, W + 2 * pad))
    for di in range(HH):
        for dj in range(WW):
            where = (slice(None), slice(None), slice(di, di + stride * Ho, stride), slice(dj, dj + stride * Wo, stride))
            if accumulate:
                xp[where] += cols[:, di, dj].transpose(1, 0, 2, 3)
            else:
                xp[where] = cols[:, di, dj].transpose(1, 0, 2, 3)
    return xp[:, :, pad : pad + H, pad : pad + W]


def conv2d_im2col(x, w, b, stride=1, pad=0):
    """conv2d_naive as one matrix product: (F, C*HH*WW) @ (C*HH*WW, N*H_out*W_out).

    Returns out (N, F, H_out, W_out).
    """
    N, _, H, W = x.shape
    F, _, HH, WW = w.shape
    Ho, Wo = out_size(H, HH, stride, pad), out_size(W, WW, stride, pad)
    out = w.reshape(F, -1) @ im2col(x, HH, WW, stride, pad) + b[:, None]
    return out.reshape(F, N, Ho, Wo).transpose(1, 0, 2, 3)


def conv2d_im2col_backward(dout, x, w, stride=1, pad=0, accumulate=True):
    """Backward of conv2d_im2col as two matrix products and a col2im.

    Inputs: dout (N, F, H_out, W_out), x and w as given to conv2d_im2col.
    Returns (dx, dw, db) of shapes (N, C, H, W), (F, C, HH, WW), (F,).
    """
    F, _, HH, WW = w.shape
    d = dout.transpose(1, 0, 2, 3).reshape(F, -1)  # (F, N*Ho*Wo), the layout of the forward's product
    cols = im2col(x, HH, WW, stride, pad)
    dw = (d @ cols.T).reshape(w.shape)
    dx = col2im(w.reshape(F, -1).T @ d, x.shape, HH, WW, stride, pad, accumulate=accumulate)
    return dx, dw, dout.sum(axis=(0, 2, 3))


# --- pooling --------------------------------------------------------------------------------------------


def _windows(x, ph, pw, stride):
    """Windows of x (N, C, H, W) as (N, C, H_out, W_out, ph * pw), no padding."""
    N, C, H, W = x.shape
    Ho, Wo = out_size(H, ph, stride, 0), out_size(W, pw, stride, 0)
    view = np.lib.stride_tricks.sliding_window_view(x, (ph, pw), axis=(2, 3))[:, :, ::stride, ::stride]
    return view[:, :, :Ho, :Wo].reshape(N, C, Ho, Wo, ph * pw)


def maxpool(x, ph, pw, stride):
    """Max over every ph x pw window, windows stride apart. x (N, C, H, W) -> (N, C, H_out, W_out)."""
    return _windows(np.asarray(x, dtype=float), ph, pw, stride).max(axis=-1)


def maxpool_backward(dout, x, ph, pw, stride, ties="split"):
    """Backward of maxpool: each window's gradient goes to its maximum.

    ties="split" shares it evenly among tied maxima (chapter 3's max gate), "all" gives all of it to
    every tied maximum (the bug), "first" to the first one only (also a subgradient, not the course's rule).
    Windows that overlap add their shares. Returns dx of the shape of x.
    """
    x = np.asarray(x, dtype=float)
    N, C, H, W = x.shape
    Ho, Wo = dout.shape[2:]
    dx = np.zeros_like(x)
    win = _windows(x, ph, pw, stride)
    is_max = win == win.max(axis=-1, keepdims=True)
    if ties == "first":
        first = np.argmax(win, axis=-1)
        is_max = np.zeros_like(is_max)
        np.put_along_axis(is_max, first[..., None], True, axis=-1)
    share = is_max / is_max.sum(axis=-1, keepdims=True) if ties == "split" else is_max.astype(float)
    grads = (share * dout[..., None]).reshape(N, C, Ho, Wo, ph, pw)
    for i in range(Ho):
        for j in range(Wo):
            dx[:, :, i * stride : i * stride + ph, j * stride : j * stride + pw] += grads[:, :, i, j]
    return dx


def avgpool(x, ph, pw, stride):
    """Mean over every ph x pw window. x (N, C, H, W) -> (N, C, H_out, W_out)."""
    return _windows(np.asarray(x, dtype=float), ph, pw, stride).mean(axis=-1)


def avgpool_backward(dout, x_shape, ph, pw, stride):
    """Backward of avgpool: each window's gradient spread evenly, 1/(ph pw) to each entry; overlaps add."""
    dx = np.zeros(x_shape)
    Ho, Wo = dout.shape[2:]
    for i in range(Ho):
        for j in range(Wo):
            share = dout[:, :, i, j, None, None] / (ph * pw)
            dx[:, :, i * stride : i * stride + ph, j * stride : j * stride + pw] += share
    return dx


def receptive_field(kernels, strides):
    """Side of the input region one output of a stack of layers sees: r = 1 + sum (k_l - 1) prod_{m<l} s_m."""
    r, jump = 1, 1
    for k, s in zip(kernels, strides, strict=True):
        r += (k - 1) * jump
        jump *= s
    return r
