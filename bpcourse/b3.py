"""The StatQuest network of the gradient-descent chapter: data, forward pass, SSR, gradients.

dosage x -> two softplus hidden units -> weighted sum + b3:

    predicted = w3 * softplus(w1 x + b1) + w4 * softplus(w2 x + b2) + b3
    SSR       = sum_i (observed_i - predicted_i)^2

All seven parameters live in a dict with keys w1 b1 w2 b2 w3 w4 b3. The chapter, its
interactive figures and the tests use these functions; the exercise asks students to write
their own versions of them.
"""

from __future__ import annotations

import numpy as np

DOSAGE = np.array([0.0, 0.5, 1.0])  # x, the inputs
OBSERVED = np.array([0.0, 1.0, 0.0])  # efficacy measured at each dosage
# Weights and biases after training all but b3 (StatQuest's values); b3 starts at 0.
TRAINED = {"w1": 3.34, "b1": -1.43, "w2": -3.53, "b2": 0.57, "w3": -1.22, "w4": -2.30, "b3": 0.0}
PARAMETERS = ("w1", "b1", "w2", "b2", "w3", "w4", "b3")


def softplus(x):
    """log(1 + e^x), elementwise, without overflow for large |x|."""
    return np.logaddexp(0.0, x)


def sigmoid(x):
    """1 / (1 + e^-x): the derivative of softplus."""
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, dtype=float)))


def forward(x, params: dict) -> dict:
    """Every intermediate of the forward pass for inputs x of shape (N,)."""
    x = np.asarray(x, dtype=float)
    z1 = params["w1"] * x + params["b1"]
    z2 = params["w2"] * x + params["b2"]
    a1, a2 = softplus(z1), softplus(z2)
    predicted = params["w3"] * a1 + params["w4"] * a2 + params["b3"]
    return {"x": x, "z1": z1, "z2": z2, "a1": a1, "a2": a2, "predicted": predicted}


def predict(x, params: dict) -> np.ndarray:
    """The network's output ("green squiggle") at inputs x, shape (N,)."""
    return forward(x, params)["predicted"]


def ssr(observed, predicted) -> float:
    """Sum of squared residuals: sum_i (observed_i - predicted_i)^2."""
    residual = np.asarray(observed, dtype=float) - np.asarray(predicted, dtype=float)
    return float(np.sum(residual**2))


def dssr_db3(x, observed, params: dict) -> float:
    """dSSR/db3 = sum_i -2 (observed_i - predicted_i) * dpredicted_i/db3, and dpredicted/db3 = 1."""
    residual = np.asarray(observed, dtype=float) - predict(x, params)
    return float(np.sum(-2.0 * residual))


def ssr_gradients(x, observed, params: dict) -> dict:
    """All seven partial derivatives of SSR by the chain rule, keyed like params."""
    f = forward(x, params)
    dpred = -2.0 * (np.asarray(observed, dtype=float) - f["predicted"])  # dSSR/dpredicted_i
    dz1 = dpred * params["w3"] * sigmoid(f["z1"])  # softplus'(z) = sigmoid(z)
    dz2 = dpred * params["w4"] * sigmoid(f["z2"])
    grads = {
        "b3": dpred.sum(),
        "w3": (dpred * f["a1"]).sum(),
        "w4": (dpred * f["a2"]).sum(),
        "w1": (dz1 * f["x"]).sum(),
        "b1": dz1.sum(),
        "w2": (dz2 * f["x"]).sum(),
        "b2": dz2.sum(),
    }
    return {name: float(grads[name]) for name in PARAMETERS}


def gradient_descent_b3(x, observed, params: dict, lr=0.1, min_step=0.001, max_steps=1000) -> list[float]:
    """Optimise b3 alone: b3 -= lr * dSSR/db3 until a step is smaller than min_step.

    Returns the b3 values visited, starting with params["b3"]; params is not changed.
    """
    current = dict(params)
    visited = [float(current["b3"])]
    for _ in range(max_steps):
        step = lr * dssr_db3(x, observed, current)
        current["b3"] -= step
        visited.append(float(current["b3"]))
        if abs(step) < min_step:
            break
    return visited


def fit(x, observed, params: dict, lr=0.1, steps=1000) -> dict:
    """Gradient descent on all seven parameters at once; returns new params (input untouched)."""
    current = {name: float(params[name]) for name in PARAMETERS}
    for _ in range(steps):
        grads = ssr_gradients(x, observed, current)
        current = {name: current[name] - lr * grads[name] for name in PARAMETERS}
    return current


def ssr_sharpness(x, observed, params: dict, h: float = 1e-5) -> float:
    """Largest eigenvalue of the Hessian of SSR over the seven parameters (the curvature along the
    sharpest direction), from central differences of ssr_gradients. Gradient descent with learning
    rate lr is stable near a minimum only if this is below 2 / lr."""
    names = PARAMETERS
    point = np.array([params[n] for n in names], dtype=float)

    def grad(v):
        g = ssr_gradients(x, observed, dict(zip(names, v, strict=True)))
        return np.array([g[n] for n in names])

    H = np.empty((len(names), len(names)))
    for j in range(len(names)):
        step = np.zeros(len(names))
        step[j] = h
        H[:, j] = (grad(point + step) - grad(point - step)) / (2 * h)
    return float(np.linalg.eigvalsh((H + H.T) / 2).max())
