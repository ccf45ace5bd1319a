"""Numerical gradients: the ground truth every analytic gradient in the course is checked against.

Central differences have truncation error O(h^2); with h = 1e-5 in float64 the total error
(truncation + round-off) of a well-scaled smooth function is around 1e-10 absolute, so a
relative error below 1e-7 between an analytic and a numerical gradient means "correct".
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def numerical_derivative(f: Callable[[float], float], x: float, h: float = 1e-5) -> float:
    """Central-difference estimate of f'(x) for a scalar function of one scalar.

    Returns (f(x + h) - f(x - h)) / (2h) as a Python float.
    """
    return float((f(x + h) - f(x - h)) / (2.0 * h))


def numerical_gradient(f: Callable[[np.ndarray], float], x, h: float = 1e-5) -> np.ndarray:
    """Central-difference gradient of a scalar function of an array.

    Inputs:
    - f: function taking an array shaped like x and returning a scalar
    - x: array of any shape (N1, ..., Nk); it is not modified
    - h: step size

    Returns an array of shape (N1, ..., Nk), float64: entry i is df/dx[i].
    """
    x = np.array(x, dtype=np.float64)  # a private copy: the caller's array never changes
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        original = x[i]
        x[i] = original + h
        f_plus = float(f(x))
        x[i] = original - h
        f_minus = float(f(x))
        x[i] = original
        grad[i] = (f_plus - f_minus) / (2.0 * h)
    return grad


def numerical_gradient_array(f: Callable[[np.ndarray], np.ndarray], x, dout, h: float = 1e-5):
    """Gradient of sum(f(x) * dout) with respect to x: checks a backward pass of an array function.

    Inputs:
    - f: function from an array shaped like x to an array shaped like dout
    - x: array of shape (N1, ..., Nk); not modified
    - dout: upstream gradient, same shape as f(x)

    Returns an array of shape (N1, ..., Nk).
    """
    dout = np.asarray(dout, dtype=np.float64)
    return numerical_gradient(lambda z: np.sum(np.asarray(f(z)) * dout), x, h)


def rel_error(a, b, eps: float = 1e-12) -> float:
    """Largest elementwise relative error max|a - b| / max(|a| + |b|, eps); 0 for equal arrays."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} vs {b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), eps)))
