"""A catalogue of the bugs real backward passes have, each as a running example (chapter 8).

Every entry is a small layer written twice, the buggy way and the fixed way, as functions
`loss(x) -> float` and `grad(x) -> array shaped like x` of the variable under check (an input or
a parameter), with every other input fixed. The upstream gradient `dout` is a fixed random array,
so `loss(x) = sum(forward(x) * dout)` checks the backward pass of any array-valued layer.
tests/test_bugs.py checks that every fixed version passes a gradient check and every buggy one
fails it (or, for the last entries, what exactly the check shows).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass
class Case:
    """One bug: where to check (x), the buggy and the fixed gradient, and the loss they differentiate."""

    name: str
    x: np.ndarray
    loss: Callable[[np.ndarray], float]
    buggy: Callable[[np.ndarray], np.ndarray]
    fixed: Callable[[np.ndarray], np.ndarray]


def sigmoid(z):
    """Logistic sigmoid without overflow for any z (float64 array)."""
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def log_sigmoid(z):
    """log(sigmoid(z)) = -log(1 + exp(-z)) without overflow or log(0): -logaddexp(0, -z).

    Finite wherever it is representable: -800 at z = -800, where sigmoid itself is 0 in float64.
    """
    return -np.logaddexp(0.0, -np.asarray(z, dtype=np.float64))


def swish_fork(seed: int = 0) -> Case:
    """out = x * sigmoid(x): x is used twice (a fork), so both branches' gradients must add up."""
    rng = np.random.default_rng(seed)
    x, dout = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))

    def backward(x, accumulate):
        s = sigmoid(x)
        dx = np.zeros_like(x)
        dx += s * dout  # through the first use: x * (...)
        branch = x * s * (1 - s) * dout  # through the second use: sigmoid(x)
        if accumulate:
            dx += branch
        else:
            dx = branch  # the bug: "=" overwrites what the first branch put there
        return dx

    return Case(
        "= instead of += at a fork",
        x,
        lambda x: float(np.sum(x * sigmoid(x) * dout)),
        lambda x: backward(x, False),
        lambda x: backward(x, True),
    )


def mse_mean(seed: int = 1, n: int = 8) -> Case:
    """Mean squared error over a batch of n predictions: the 1/n must be in the gradient too."""
    rng = np.random.default_rng(seed)
    y, pred = rng.normal(size=(n, 2)), rng.normal(size=(n, 2))
    return Case(
        "a missing 1/N",
        pred,
        lambda p: float(np.sum((p - y) ** 2) / n),
        lambda p: 2 * (p - y),
        lambda p: 2 * (p - y) / n,
    )


def bias_axis(seed: int = 2, n: int = 4) -> Case:
    """out = X + b with b of shape (n,) broadcast over the n rows of X (square: the bug runs silently)."""
    rng = np.random.default_rng(seed)
    X, b, dout = rng.normal(size=(n, n)), rng.normal(size=n), rng.normal(size=(n, n))
    return Case(
        "the wrong broadcast axis",
        b,
        lambda b: float(np.sum((X + b) * dout)),
        lambda b: dout.sum(axis=1),
        lambda b: dout.sum(axis=0),
    )


def matmul_transposed(seed: int = 3, d: int = 4) -> Case:
    """out = X @ W with a square W: dW in the transposed layout still has the right shape."""
    rng = np.random.default_rng(seed)
    X, W, dout = rng.normal(size=(5, d)), rng.normal(size=(d, d)), rng.normal(size=(5, d))
    return Case(
        "a transposed gradient",
        W,
        lambda W: float(np.sum((X @ W) * dout)),
        lambda W: (X.T @ dout).T,
        lambda W: X.T @ dout,
    )


class Linear:
    """A parameter that accumulates its gradient in .grad (as frameworks do) until zero_grad()."""

    def __init__(self, W, X, dout):
        self.W, self.X, self.dout = W, X, dout
        self.grad = np.zeros_like(W)

    def loss(self, W):
        return float(np.sum((self.X @ W) * self.dout))

    def backward(self):
        self.grad += self.X.T @ self.dout

    def zero_grad(self):
        self.grad[...] = 0.0


def accumulated_gradients(seed: int = 4, steps: int = 2) -> Case:
    """A training loop that calls backward() `steps` times with or without zero_grad() between."""
    rng = np.random.default_rng(seed)
    layer = Linear(rng.normal(size=(3, 2)), rng.normal(size=(4, 3)), rng.normal(size=(4, 2)))

    def after_steps(reset):
        layer.zero_grad()
        for _ in range(steps):
            if reset:
                layer.zero_grad()
            layer.backward()
        return layer.grad.copy()

    return Case(
        "gradients not reset between steps",
        layer.W,
        layer.loss,
        lambda W: after_steps(False),
        lambda W: after_steps(True),
    )


def inplace_cache(seed: int = 5) -> Case:
    """out = 2 * sigmoid(x), scaled in place after the sigmoid was cached for the backward pass."""
    rng = np.random.default_rng(seed)
    x, dout = rng.normal(size=(2, 5)), rng.normal(size=(2, 5))

    def forward(x, inplace):
        s = sigmoid(x)
        cache = s if inplace else s.copy()
        s *= 2.0  # the scaling, in place: with inplace=True it also rescales the cache
        return s, cache

    def backward(x, inplace):
        _, s = forward(x, inplace)
        return 2.0 * s * (1 - s) * dout

    return Case(
        "an in-place update that corrupts the cache",
        x,
        lambda x: float(np.sum(forward(x, False)[0] * dout)),
        lambda x: backward(x, True),
        lambda x: backward(x, False),
    )


def softmax_ce(logits, y, stable):
    """Mean softmax cross-entropy of logits (N, C) with labels y (N,), and its gradient (N, C).

    stable=True subtracts each row's maximum before exp and takes the log of the probabilities
    as z - log(sum(exp(z))); stable=False exponentiates the logits as they are.
    """
    n = len(y)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        if stable:
            z = logits - logits.max(axis=1, keepdims=True)
            log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
            p = np.exp(log_p)
        else:
            e = np.exp(logits)
            p = e / e.sum(axis=1, keepdims=True)
            log_p = np.log(p)
    loss = float(-np.mean(log_p[np.arange(n), y]))
    dlogits = p.copy()
    dlogits[np.arange(n), y] -= 1.0
    return loss, dlogits / n


def unstable_softmax(seed: int = 6, scale: float = 1000.0) -> Case:
    """Softmax cross-entropy on large logits: exp overflows unless the row maximum is subtracted first."""
    rng = np.random.default_rng(seed)
    logits, y = scale * rng.normal(size=(3, 4)), rng.integers(0, 4, size=3)
    return Case(
        "an unstable softmax",
        logits,
        lambda z: softmax_ce(z, y, True)[0],
        lambda z: softmax_ce(z, y, False)[1],
        lambda z: softmax_ce(z, y, True)[1],
    )


def relu_at_zero(seed: int = 7) -> Case:
    """ReLU on inputs some of which are exactly 0 (as after a max-pool or a clipped input).

    Both "buggy" (mask x >= 0) and "fixed" (mask x > 0) are valid choices of the slope at 0: the
    central difference agrees with neither at x = 0. The entry shows a false alarm, not a bug.
    """
    rng = np.random.default_rng(seed)
    x, dout = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    x[0, 1] = x[2, 2] = 0.0
    return Case(
        "the gradient of ReLU at 0",
        x,
        lambda x: float(np.sum(np.maximum(x, 0.0) * dout)),
        lambda x: (x >= 0) * dout,
        lambda x: (x > 0) * dout,
    )


CATALOGUE = [
    swish_fork,
    mse_mean,
    bias_axis,
    matmul_transposed,
    accumulated_gradients,
    inplace_cache,
    unstable_softmax,
    relu_at_zero,
]


def two_layer(seed: int = 8, buggy_second: bool = True):
    """A two-layer network loss = sum(relu(X W1) W2 * dout) whose second layer's backward is wrong.

    Returns a dict: X, W1, W2, loss(W1, W2), grads(W1, W2) -> (dW1, dW2), and each layer on its own:
    "layer1": (loss(W1), grad(W1)) with a random upstream gradient; "layer2": (h, loss(h), dh(h)).
    """
    rng = np.random.default_rng(seed)
    X, W1, W2 = rng.normal(size=(6, 4)), rng.normal(size=(4, 5)), rng.normal(size=(5, 3))
    dout = rng.normal(size=(6, 3))

    def loss(W1, W2):
        return float(np.sum(np.maximum(X @ W1, 0.0) @ W2 * dout))

    def grads(W1, W2):
        z = X @ W1
        h = np.maximum(z, 0.0)
        dW2 = h.T @ dout
        dh = dout @ (W2 if buggy_second else W2.T).reshape(3, 5)  # the bug: W2 reshaped, not transposed
        dz = dh * (z > 0)
        return X.T @ dz, dW2

    dh_own = rng.normal(size=(6, 5))  # each layer checked on its own, with a random upstream gradient
    h_own = np.maximum(X @ W1, 0.0)

    def layer2_dh(h):
        return dout @ (W2 if buggy_second else W2.T).reshape(3, 5)

    return {
        "X": X,
        "W1": W1,
        "W2": W2,
        "loss": loss,
        "grads": grads,
        "layer1": (lambda W: float(np.sum(np.maximum(X @ W, 0.0) * dh_own)), lambda W: X.T @ (dh_own * (X @ W > 0))),
        "layer2": (h_own, lambda h: float(np.sum(h @ W2 * dout)), layer2_dh),
    }
