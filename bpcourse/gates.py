"""Reference backward passes of the gate-patterns chapter (add, mul, max, broadcasting).

The chapter draws and quotes what these compute; the tests check them numerically. The exercise
asks students for their own versions, so the chapter shows the rules, not this code.
"""

from __future__ import annotations

import numpy as np


def max_shares(x, y):
    """Fraction of the upstream gradient each input of max(x, y) receives: 1 / 0, or 1/2 on a tie."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    share_x = np.where(x > y, 1.0, np.where(x < y, 0.0, 0.5))
    return share_x, 1.0 - share_x


def example_circuit(x: float, y: float, z: float, w: float) -> dict:
    """f = 2 (x y + max(z, w)), every intermediate value and gradient, by the three gate rules."""
    xy, m = x * y, max(z, w)
    s = xy + m
    f = 2.0 * s
    ds = 2.0  # the *2 gate
    dxy = dm = ds  # add distributes
    dx, dy = y * dxy, x * dxy  # mul swaps
    share_z, share_w = max_shares(z, w)
    dz, dw = float(share_z) * dm, float(share_w) * dm  # max routes
    return {"xy": xy, "max": m, "s": s, "f": f, "ds": ds, "dxy": dxy, "dm": dm, "dx": dx, "dy": dy, "dz": dz, "dw": dw}


def unbroadcast(grad, shape):
    """Sum `grad` over the dimensions that broadcasting added or stretched, down to `shape`."""
    grad = np.asarray(grad, dtype=float)
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad
