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


# --- Checking gradients properly (chapter 8): elementwise errors, a step per dtype, kinks ---------


def relative_error(a, n, tiny: float = 1e-12) -> np.ndarray:
    """Elementwise |a - n| / max(|a|, |n|, tiny), in float64.

    Unlike rel_error (one number, |a| + |b| in the denominator), this keeps one error per
    coordinate, so a check can say *which* coordinates disagree. `tiny` keeps 0 / 0 at 0: two
    exact zeros agree.

    Inputs:
    - a: analytic gradient, array of shape (N1, ..., Nk) (or a number)
    - n: numerical gradient, same shape as a

    Returns an array of shape (N1, ..., Nk), float64.
    """
    a = np.asarray(a, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    return np.abs(a - n) / np.maximum(np.maximum(np.abs(a), np.abs(n)), tiny)


def default_step(dtype) -> float:
    """The step h that balances truncation (~h^2) against rounding (~eps/h) for central differences.

    eps ** (1/3) of the dtype: about 6e-6 for float64, 5e-3 for float32.
    """
    return float(np.finfo(np.dtype(dtype)).eps ** (1.0 / 3.0))


def _differences(f, x, coords, h):
    """f at x, and f one step h to the right and to the left of x along each coordinate in coords.

    x is perturbed in place and each coordinate restored from a saved copy (not by subtracting
    h, which would not give back the same float). Returns (f0, plus, minus), plus/minus of shape (len(coords),).
    """
    f0 = float(f(x))
    plus = np.empty(len(coords))
    minus = np.empty(len(coords))
    for k, i in enumerate(coords):
        original = x[i].copy()
        x[i] = original + h
        plus[k] = float(f(x))
        x[i] = original - h
        minus[k] = float(f(x))
        x[i] = original
    return f0, plus, minus


def sample_coordinates(shape, count: int, seed: int = 0) -> list[tuple[int, ...]]:
    """`count` distinct index tuples of an array of `shape`, drawn at random (all if count >= size)."""
    size = int(np.prod(shape))
    flat = np.random.default_rng(seed).choice(size, size=min(count, size), replace=False)
    return [tuple(int(j) for j in np.unravel_index(k, shape)) for k in sorted(flat)]


def rounding_floor(f, x, h: float | None = None) -> float:
    """The rounding level of a central difference of f at x: eps_m * |f(x)| / h, in x's dtype.

    f(x + h e_i) and f(x - h e_i) are each known to about eps_m * |f| only, so their difference
    divided by 2h carries an absolute error of that order whatever the gradient is. A gradient entry
    not far above it cannot be checked relatively: pass tiny=rounding_floor(...) / threshold to
    grad_check so that a difference at the rounding level counts as agreement.
    """
    x = np.asarray(x)
    h = default_step(x.dtype) if h is None else h
    return float(np.finfo(x.dtype).eps * abs(float(f(x))) / h)


def covering_coordinates(shape, seed: int = 0) -> list[tuple[int, ...]]:
    """max(shape) distinct index tuples that together meet every index of every axis (edges included).

    Index t of the sample takes, along each axis of length n, entry t mod n of a random
    permutation of range(n): every row, every column (the first and the last among them) appears,
    and no tuple repeats (t < max(shape) <= lcm of the lengths). A 256 x 512 matrix needs 512.
    """
    shape = tuple(int(n) for n in shape)
    if not shape or min(shape) < 1:
        raise ValueError(f"covering_coordinates needs a non-empty shape, got {shape}")
    rng = np.random.default_rng(seed)
    perms = [rng.permutation(n) for n in shape]
    return sorted({tuple(int(p[t % len(p)]) for p in perms) for t in range(max(shape))})


def hit_probability(shape, count: int, axis: int = 0) -> float:
    """Probability that `count` distinct coordinates drawn at random from an array of `shape` include
    at least one in a given slice along `axis` (a given row for axis 0): 1 - C(size - k, count) / C(size, count)."""
    size = int(np.prod(shape))
    k = size // int(shape[axis])  # entries in one slice
    miss = 1.0
    for j in range(count):  # product form of the ratio of binomials: no overflow
        miss *= (size - k - j) / (size - j)
    return 1.0 - max(miss, 0.0)


def grad_check(f, x, analytic, h: float | None = None, coords=None, tiny: float = 1e-12) -> np.ndarray:
    """Per-coordinate relative errors between an analytic gradient and central differences.

    Inputs:
    - f: function from an array shaped like x to a scalar (computed in x's dtype)
    - x: float array of shape (N1, ..., Nk); float32 stays float32. Not modified (a copy is perturbed).
    - analytic: array of shape (N1, ..., Nk), the gradient to check
    - h: step; None for default_step(x.dtype)
    - coords: None to check every coordinate, or a list of index tuples (a sample of a big tensor)
    - tiny: the floor of the denominator (see relative_error); rounding_floor(f, x, h) / threshold
      scales it with the loss, so that rounding noise in a large loss is not called a bug

    Returns relative errors, float64: of shape (N1, ..., Nk) if coords is None, else (len(coords),).
    """
    x = np.array(x, copy=True)
    h = default_step(x.dtype) if h is None else h
    analytic = np.asarray(analytic)
    every = coords is None
    coords = list(np.ndindex(x.shape)) if every else [tuple(c) for c in coords]
    _, plus, minus = _differences(f, x, coords, h)
    errors = relative_error([analytic[i] for i in coords], (plus - minus) / (2.0 * h), tiny)
    return errors.reshape(x.shape) if every else errors


def check_errors(f, x, analytic, h: float | None = None):
    """Relative errors of an analytic gradient against the central and both one-sided differences.

    Near a kink (ReLU at 0, a tie in a max) the central difference averages the slopes on the
    two sides and disagrees with any correct gradient; each one-sided difference sees one side.
    Returns (central, forward, backward), each of shape (N1, ..., Nk), float64.
    """
    x = np.array(x, copy=True)
    h = default_step(x.dtype) if h is None else h
    coords = list(np.ndindex(x.shape))
    f0, plus, minus = _differences(f, x, coords, h)
    a = np.asarray(analytic, dtype=np.float64).reshape(-1)
    errors = [
        relative_error(a, (plus - minus) / (2.0 * h)),
        relative_error(a, (plus - f0) / h),
        relative_error(a, (f0 - minus) / h),
    ]
    return tuple(e.reshape(x.shape) for e in errors)


def find_bad_coordinates(layer, x, threshold: float = 1e-4, h: float | None = None) -> list[tuple[int, ...]]:
    """The coordinates where a layer's backward pass disagrees with its forward pass.

    Inputs:
    - layer: function x -> (loss, dx): the layer's forward output reduced to a number with a fixed
      upstream gradient, and the gradient its backward pass computes, of the shape of x
    - x: float array of shape (N1, ..., Nk); not modified
    - threshold: a coordinate is bad if its analytic gradient's relative error to the central
      difference AND to both one-sided differences exceeds this (so a kink is no false alarm);
      an error that is not a number (nan, from an overflow) counts as exceeding it

    Returns the bad index tuples in row-major order.
    """
    x = np.array(x, copy=True)
    _, dx = layer(x)
    central, forward, backward = check_errors(lambda z: layer(z)[0], x, dx, h)
    with np.errstate(invalid="ignore"):
        bad = ~(central <= threshold) & ~(np.fmin(forward, backward) <= threshold)
    return [tuple(int(j) for j in i) for i in zip(*np.nonzero(bad), strict=True)]


def step_sweep(f, x, analytic, steps, dtype=np.float64) -> np.ndarray:
    """Largest relative error of grad_check(f, x in dtype, analytic, h) for each h in steps."""
    x = np.asarray(x, dtype=dtype)
    return np.array([float(np.max(grad_check(f, x, analytic, h))) for h in steps])
