"""Reference forward and backward passes of the chain-rule chapter's worked circuits.

The chapters display what these return (through glue), and the tests check every gradient here
against `bpcourse.gradcheck`, so a number in the prose is always a number the code computed.
"""

from __future__ import annotations

import math


def sigmoid(z: float) -> float:
    """Logistic sigmoid 1 / (1 + e^-z), computed without overflow for any float z."""
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    ez = math.exp(z)  # z < 0: e^z is in (0, 1), no overflow
    return ez / (1.0 + ez)


def add_mul_forward_backward(x: float, y: float, z: float, dout: float = 1.0) -> dict:
    """f = (x + y) * z, forward and backward, every intermediate named.

    Returns a dict with the forward values q, f and the gradients dq, dx, dy, dz of f.
    """
    q = x + y
    f = q * z
    # mul gate f = q * z: each input's local gradient is the other input
    dq = z * dout
    dz = q * dout
    # add gate q = x + y: local gradients are 1, so the upstream gradient is copied
    dx = 1.0 * dq
    dy = 1.0 * dq
    return {"q": q, "f": f, "dq": dq, "dx": dx, "dy": dy, "dz": dz}


def neuron_forward_backward(w, x, dout: float = 1.0) -> dict:
    """Sigmoid neuron f = sigmoid(w[0] x[0] + w[1] x[1] + ... + w[-1]).

    Inputs:
    - w: sequence of D + 1 weights, the last one is the bias
    - x: sequence of D inputs

    Returns a dict with dot, f, ddot (gradient on the pre-activation), dw (D + 1) and dx (D).
    """
    if len(w) != len(x) + 1:
        raise ValueError(f"w needs len(x) + 1 = {len(x) + 1} entries, got {len(w)}")
    dot = sum(wi * xi for wi, xi in zip(w[:-1], x, strict=True)) + w[-1]
    f = sigmoid(dot)
    ddot = (1.0 - f) * f * dout  # sigmoid gate: local gradient sigma (1 - sigma)
    dx = [wi * ddot for wi in w[:-1]]
    dw = [xi * ddot for xi in x] + [1.0 * ddot]
    return {"dot": dot, "f": f, "ddot": ddot, "dw": dw, "dx": dx}


def staged_forward(x: float, y: float):
    """f(x, y) = (x + sigmoid(y)) / (sigmoid(x) + (x + y)^2) in eight named stages.

    Returns (f, cache): cache holds every stage the backward pass needs.
    """
    sigy = sigmoid(y)  # (1)
    num = x + sigy  # (2)
    sigx = sigmoid(x)  # (3)
    xpy = x + y  # (4)
    xpysqr = xpy**2  # (5)
    den = sigx + xpysqr  # (6)
    invden = 1.0 / den  # (7)
    f = num * invden  # (8)
    cache = {
        "x": x, "y": y, "sigy": sigy, "num": num, "sigx": sigx,
        "xpy": xpy, "xpysqr": xpysqr, "den": den, "invden": invden, "f": f,
    }  # fmt: skip
    return f, cache


def staged_backward(cache: dict, dout: float = 1.0) -> dict:
    """Backward pass of `staged_forward`, stage by stage in reverse order.

    Returns a dict of the gradient of f with respect to every stage, named d<stage>,
    including the inputs dx and dy. x and y each feed two stages, so their gradients
    accumulate with += (the multivariable chain rule).
    """
    c = cache
    g = {"df": dout}
    g["dnum"] = c["invden"] * dout  # (8) mul gate
    g["dinvden"] = c["num"] * dout  # (8)
    g["dden"] = -1.0 / c["den"] ** 2 * g["dinvden"]  # (7) reciprocal
    g["dsigx"] = 1.0 * g["dden"]  # (6) add gate
    g["dxpysqr"] = 1.0 * g["dden"]  # (6)
    g["dxpy"] = 2.0 * c["xpy"] * g["dxpysqr"]  # (5) square
    g["dx"] = 1.0 * g["dxpy"]  # (4) add gate
    g["dy"] = 1.0 * g["dxpy"]  # (4)
    g["dx"] += (1.0 - c["sigx"]) * c["sigx"] * g["dsigx"]  # (3) sigmoid: x's second path
    g["dx"] += 1.0 * g["dnum"]  # (2) add gate: x's third path
    g["dsigy"] = 1.0 * g["dnum"]  # (2)
    g["dy"] += (1.0 - c["sigy"]) * c["sigy"] * g["dsigy"]  # (1) sigmoid: y's second path
    return g
