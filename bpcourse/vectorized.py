"""Reference implementations for the vectorized-gradients chapter (matrix gradients, softmax
cross-entropy, a two-layer ReLU network, minibatch SGD) and a small data set to train on.

The chapter quotes and plots what these compute; tests/test_vectorized.py checks every gradient
numerically. Students write their own versions in exercise 04.
"""

from __future__ import annotations

import numpy as np


def softmax_cross_entropy(logits, y):
    """Mean cross-entropy of softmax(logits) for integer labels y, and d loss / d logits.

    logits: (N, C); y: (N,). Returns (loss, dlogits) with dlogits = (S - I_y) / N, shape (N, C).
    """
    n = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)  # exp never sees a large positive number
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    dlogits = np.exp(log_probs)
    dlogits[np.arange(n), y] -= 1.0
    return float(-log_probs[np.arange(n), y].mean()), dlogits / n


def two_layer(X, y, W1, W2):
    """logits = relu(X W1) W2 with softmax cross-entropy. Returns (loss, dW1, dW2).

    X: (N, D), W1: (D, H), W2: (H, C); the gradients have the shapes of W1 and W2.
    """
    H = X @ W1
    Z1 = np.maximum(H, 0.0)
    loss, G2 = softmax_cross_entropy(Z1 @ W2, y)  # G2 = (S - I_y) / N
    G1 = (G2 @ W2.T) * (H > 0)
    return loss, X.T @ G1, Z1.T @ G2


def nn_epoch(X, y, W1, W2, lr=0.1, batch=100):
    """One epoch of minibatch SGD in place; consecutive batches, each averaged over its own size."""
    for start in range(0, X.shape[0], batch):
        _, dW1, dW2 = two_layer(X[start : start + batch], y[start : start + batch], W1, W2)
        W1 -= lr * dW1
        W2 -= lr * dW2


def spiral(n_per_class=100, classes=3, seed=0):
    """CS231n's spiral data set: (X of shape (N, 2), y of shape (N,)), not linearly separable."""
    rng = np.random.default_rng(seed)
    X, y = [], []
    for c in range(classes):
        r = np.linspace(0.0, 1.0, n_per_class)
        t = np.linspace(c * 4.0, (c + 1) * 4.0, n_per_class) + rng.normal(scale=0.2, size=n_per_class)
        X.append(np.column_stack([r * np.sin(t), r * np.cos(t)]))
        y.append(np.full(n_per_class, c))
    X, y = np.concatenate(X), np.concatenate(y)
    order = rng.permutation(len(y))  # one fixed shuffle, so minibatches mix the classes
    return X[order], y[order]


def with_bias(X):
    """Append a column of ones, so that the first layer has a bias."""
    return np.column_stack([X, np.ones(len(X))])
