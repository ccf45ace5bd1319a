"""Deep MLPs for the vanishing/exploding-gradients chapter: loss, backward pass, per-layer norms.

h = X; h = act(h @ W) for every weight matrix but the last; out = h @ W_last;
loss = 0.5 * mean over rows of sum((out - y)**2). The chapter measures how the gradient norm
changes from layer to layer for each activation and initialization scale.
"""

from __future__ import annotations

import numpy as np

ACTIVATIONS = {
    # name: (function, derivative expressed through the pre-activation z)
    "sigmoid": (lambda z: 0.5 * (1 + np.tanh(0.5 * z)), lambda z: 0.25 * (1 - np.tanh(0.5 * z) ** 2)),
    "tanh": (np.tanh, lambda z: 1 - np.tanh(z) ** 2),
    "relu": (lambda z: np.maximum(z, 0.0), lambda z: (z > 0).astype(float)),
}


def mlp_loss_and_grads(X, y, weights, activation):
    """Loss and gradients (one array per weight matrix, same shapes) of the MLP above."""
    act, dact = ACTIVATIONS[activation]
    hs, zs = [np.asarray(X, dtype=float)], []
    for W in weights[:-1]:
        zs.append(hs[-1] @ W)
        hs.append(act(zs[-1]))
    out = hs[-1] @ weights[-1]
    n = out.shape[0]
    loss = 0.5 * float(np.sum((out - y) ** 2)) / n
    dh = (out - y) / n
    grads = [hs[-1].T @ dh]
    dh = dh @ weights[-1].T
    for i in range(len(weights) - 2, -1, -1):
        dz = dh * dact(zs[i])
        grads.append(hs[i].T @ dz)
        dh = dz @ weights[i].T
    return loss, grads[::-1]


def gradient_norms(grads) -> list[float]:
    """Frobenius norm of each layer's gradient, first layer first."""
    return [float(np.linalg.norm(g)) for g in grads]


def init_weights(sizes, scale, rng):
    """Gaussian weights with standard deviation scale / sqrt(fan_in) for layer sizes[i] -> sizes[i+1]."""
    return [rng.normal(scale=scale / np.sqrt(a), size=(a, b)) for a, b in zip(sizes[:-1], sizes[1:], strict=True)]


def layer_norms(activation, scale, depth=10, width=64, batch=128, seed=0):
    """Per-layer gradient norms of a depth-layer MLP of the given width on random data."""
    rng = np.random.default_rng(seed)
    X, y = rng.normal(size=(batch, width)), rng.normal(size=(batch, 1))
    weights = init_weights([width] * depth + [1], scale, rng)
    return gradient_norms(mlp_loss_and_grads(X, y, weights, activation)[1])
