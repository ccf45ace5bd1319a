"""Deep MLPs for the vanishing/exploding-gradients chapter: loss, backward pass, per-layer norms.

h_0 = X; h_l = act(h_{l-1} @ W_l) for every weight matrix but the last; out = h_{L-1} @ W_L;
loss = 0.5 * mean over rows of sum((out - y)**2). The chapter measures how the gradient norm
changes from layer to layer for each activation and initialization scale, for two quantities:

- dL/dh_l, the gradient reaching the activations: the backward product the chapter's theory
  is about (`activation_gradient_norms`);
- dL/dW_l = h_{l-1}^T (dL/dz_l), the weight gradient an optimizer uses (`layer_norms`): it
  multiplies a forward activation by a backward gradient, so it mixes forward and backward growth.
"""

from __future__ import annotations

import numpy as np

# The chapter's claims about its measurement are checked on these seeds (tests/test_deep.py); the
# He-scaled ReLU network keeps every layer's ||dL/dh|| within this factor of every other.
CLAIM_SEEDS = range(10)
HE_SPREAD_BOUND = 3.0

ACTIVATIONS = {
    # name: (function, derivative expressed through the pre-activation z)
    "sigmoid": (lambda z: 0.5 * (1 + np.tanh(0.5 * z)), lambda z: 0.25 * (1 - np.tanh(0.5 * z) ** 2)),
    "tanh": (np.tanh, lambda z: 1 - np.tanh(z) ** 2),
    "relu": (lambda z: np.maximum(z, 0.0), lambda z: (z > 0).astype(float)),
}


def _forward(X, weights, activation):
    """The MLP's forward pass: activations hs (h_0 = X first), pre-activations zs, and the output."""
    act = ACTIVATIONS[activation][0]
    hs, zs = [np.asarray(X, dtype=float)], []
    for W in weights[:-1]:
        zs.append(hs[-1] @ W)
        hs.append(act(zs[-1]))
    return hs, zs, hs[-1] @ weights[-1]


def mlp_loss_and_grads(X, y, weights, activation):
    """Loss and gradients (one array per weight matrix, same shapes) of the MLP above."""
    dact = ACTIVATIONS[activation][1]
    hs, zs, out = _forward(X, weights, activation)
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


def random_problem(activation_scale, depth, width, batch, seed):
    """Random inputs X (batch, width), targets y (batch, 1) and weights of a depth-layer MLP."""
    rng = np.random.default_rng(seed)
    X, y = rng.normal(size=(batch, width)), rng.normal(size=(batch, 1))
    return X, y, init_weights([width] * depth + [1], activation_scale, rng)


def layer_norms(activation, scale, depth=10, width=64, batch=128, seed=0):
    """||dL/dW_l|| for l = 1..depth of a depth-layer MLP of the given width on random data."""
    X, y, weights = random_problem(scale, depth, width, batch, seed)
    return gradient_norms(mlp_loss_and_grads(X, y, weights, activation)[1])


def activation_gradients(X, y, weights, activation):
    """dL/dh_l for l = 0..L-1 (h_0 = X; h_l = act(h_{l-1} @ W_l)), first layer first.

    Inputs as in mlp_loss_and_grads. Returns a list of L arrays; entry l has the shape of h_l,
    (N, D) for the input and (N, H) for a hidden layer.
    """
    dact = ACTIVATIONS[activation][1]
    hs, zs, out = _forward(X, weights, activation)
    dh = (out - y) / out.shape[0] @ weights[-1].T  # dL/dh_{L-1}
    dhs = [dh]
    for i in range(len(weights) - 2, -1, -1):
        dh = (dh * dact(zs[i])) @ weights[i].T  # dL/dh_{l-1} = (dL/dh_l * act'(z_l)) W_l^T
        dhs.append(dh)
    return dhs[::-1]


def activation_gradient_norms(activation, scale, depth=10, width=64, batch=128, seed=0):
    """||dL/dh_l|| for l = 0..depth-1 (0 = the input) of the same network as layer_norms."""
    X, y, weights = random_problem(scale, depth, width, batch, seed)
    return gradient_norms(activation_gradients(X, y, weights, activation))


def residual_backward_factor(scale: float, blocks: int, width: int = 3, seed: int = 0) -> float:
    """||dL/dh_0|| / ||dL/dh_K|| through `blocks` residual blocks h <- h + F(h) with F(h) = scale * h.

    Measured with central differences of L = sum(h_K * g) for a random g, not from the formula
    (1 + scale) ** blocks that it should equal: the chapter's example of a residual path that shrinks.
    """
    from bpcourse.gradcheck import numerical_gradient

    rng = np.random.default_rng(seed)
    h0, g = rng.normal(size=width), rng.normal(size=width)

    def loss(h):
        for _ in range(blocks):
            h = h + scale * h
        return float(np.sum(h * g))

    return float(np.linalg.norm(numerical_gradient(loss, h0)) / np.linalg.norm(g))
