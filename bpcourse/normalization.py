"""Backward passes of new layers for the new-layer chapter: softmax as a vector-Jacobian product,
batch and layer normalization (training mode) staged stage by stage and in compact form.

Batch and layer normalization are one computation that differs only in the axis its statistics
run over: `kind="batch"` normalizes each feature (column) over the N examples of the batch,
`kind="layer"` normalizes each example (row) over its D features. Both keep gamma and beta per
feature, shape (D,). The chapter (book/07-new-layer) draws, plots and quotes what these compute;
tests/test_normalization.py checks every backward pass against numerical gradients. Students
write their own versions in exercise 07.
"""

from __future__ import annotations

import numpy as np

AXES = {"batch": 0, "layer": 1}  # the axis of x (N, D) that the statistics run over
EPS = 1e-5

# The forward pass of batch/layer normalization as the chapter draws it: (stage, operation, inputs).
STAGES = [
    ("mu", "mean", ["x"]),
    ("xmu", "−", ["x", "mu"]),
    ("sq", "(·)²", ["xmu"]),
    ("var", "mean", ["sq"]),
    ("std", "√(·+ε)", ["var"]),  # sigma-hat: the standard deviation with eps inside
    ("ivar", "1/(·)", ["std"]),
    ("xhat", "×", ["xmu", "ivar"]),
    ("scaled", "×", ["xhat", "gamma"]),
    ("out", "+", ["scaled", "beta"]),
]


# --- softmax ---------------------------------------------------------------------------------


def softmax(z):
    """Row-wise softmax of z (N, C) (or of one row (C,)), with the row maximum subtracted first."""
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def softmax_jacobian(s):
    """The Jacobian ds/dz of one row's softmax, from its output s of shape (C,): shape (C, C).

    Built only to be looked at and to check softmax_backward: a layer never needs it.
    """
    s = np.asarray(s, dtype=float)
    return np.diag(s) - np.outer(s, s)


def softmax_backward(s, ds):
    """Vector-Jacobian product of the row-wise softmax: dz = J^T ds for every row, without J.

    Inputs:
    - s: softmax output, shape (N, C) (or (C,))
    - ds: upstream gradient dL/ds, same shape

    Returns dz of the shape of s.
    """
    s, ds = np.asarray(s, dtype=float), np.asarray(ds, dtype=float)
    return s * (ds - np.sum(ds * s, axis=-1, keepdims=True))


# --- batch and layer normalization -------------------------------------------------------------


def norm_forward(x, gamma, beta, eps=EPS, kind="batch"):
    """Batch (kind="batch") or layer (kind="layer") normalization in training mode, stage by stage.

    Inputs:
    - x: data of shape (N, D)
    - gamma, beta: scale and shift, shape (D,)
    - eps: added to the variance inside the square root
    - kind: "batch" (statistics of each feature over the N rows) or "layer" (of each row over its D features)

    Returns (out, cache): out of shape (N, D); cache a dict of every stage's value (the statistics
    keep their axis: (1, D) for batch, (N, 1) for layer) plus gamma, eps and kind.
    """
    axis = AXES[kind]
    x = np.asarray(x, dtype=float)
    mu = x.mean(axis=axis, keepdims=True)
    xmu = x - mu
    sq = xmu**2
    var = sq.mean(axis=axis, keepdims=True)  # the biased (1/n) variance of the batch or row
    std = np.sqrt(var + eps)
    ivar = 1.0 / std
    xhat = xmu * ivar
    scaled = gamma * xhat
    out = scaled + beta
    cache = {"x": x, "mu": mu, "xmu": xmu, "sq": sq, "var": var, "std": std, "ivar": ivar, "xhat": xhat,
             "gamma": np.asarray(gamma, dtype=float), "eps": eps, "kind": kind}  # fmt: skip
    return out, cache


def norm_backward_staged(dout, cache):
    """Backward pass of norm_forward, one stage at a time in reverse (local VJP times upstream).

    Inputs:
    - dout: upstream gradient, shape (N, D)
    - cache: from norm_forward

    Returns (dx, dgamma, dbeta) of shapes (N, D), (D,), (D,).
    """
    c = cache
    axis, n = AXES[c["kind"]], c["x"].shape[AXES[c["kind"]]]
    dbeta = dout.sum(axis=0)  # beta was broadcast over the rows: sum
    dscaled = dout
    dgamma = (dscaled * c["xhat"]).sum(axis=0)
    dxhat = dscaled * c["gamma"]
    divar = (dxhat * c["xmu"]).sum(axis=axis, keepdims=True)  # ivar was broadcast along the axis
    dxmu = dxhat * c["ivar"]  # first use of xmu
    dstd = -divar / c["std"] ** 2
    dvar = dstd * 0.5 / c["std"]
    dsq = np.broadcast_to(dvar / n, c["sq"].shape)  # mean: each of the n entries gets 1/n
    dxmu = dxmu + 2.0 * c["xmu"] * dsq  # second use of xmu: gradients add at a fork
    dmu = -dxmu.sum(axis=axis, keepdims=True)
    dx = dxmu + np.broadcast_to(dmu / n, dxmu.shape)  # x feeds both xmu and mu
    return dx, dgamma, dbeta


def norm_backward_compact(dout, cache):
    """The same gradients as norm_backward_staged from three arrays of the cache (xhat, ivar, gamma).

    dx = ivar / n * (n * dxhat - sum(dxhat) - xhat * sum(dxhat * xhat)), sums along the statistics' axis.
    """
    axis = AXES[cache["kind"]]
    xhat, ivar = cache["xhat"], cache["ivar"]
    n = xhat.shape[axis]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * xhat).sum(axis=0)
    dxhat = dout * cache["gamma"]
    dx = ivar / n * (n * dxhat - dxhat.sum(axis=axis, keepdims=True)
                     - xhat * (dxhat * xhat).sum(axis=axis, keepdims=True))  # fmt: skip
    return dx, dgamma, dbeta


def frozen_statistics_backward(dout, cache):
    """The gradient you get by treating mean and variance as constants: dx = dout * gamma * ivar.

    Right for inference mode (fixed statistics), wrong in training mode; the chapter measures how wrong.
    """
    return dout * cache["gamma"] * cache["ivar"]


def batchnorm_forward(x, gamma, beta, eps=EPS):
    """norm_forward with kind="batch"."""
    return norm_forward(x, gamma, beta, eps, "batch")


def layernorm_forward(x, gamma, beta, eps=EPS):
    """norm_forward with kind="layer"."""
    return norm_forward(x, gamma, beta, eps, "layer")


def gain(std, eps=EPS, where="inside"):
    """How much a normalization multiplies a feature's deviations by, for a feature of standard deviation std.

    where="inside": 1/sqrt(std**2 + eps) (the layer as defined); "outside": 1/(std + eps) (eps added
    after the square root, a common slip); "none": 1/std.
    """
    std = np.asarray(std, dtype=float)
    with np.errstate(divide="ignore"):
        return {"inside": 1.0 / np.sqrt(std**2 + eps), "outside": 1.0 / (std + eps), "none": 1.0 / std}[where]


def one_pass_variance(x, axis=0):
    """Variance as mean(x**2) - mean(x)**2: one pass over the data, but it cancels catastrophically
    when the mean is large compared with the spread (shown in the chapter; never use it)."""
    x = np.asarray(x, dtype=float)
    return (x**2).mean(axis=axis) - x.mean(axis=axis) ** 2


# --- the staged graph ---------------------------------------------------------------------------


def staged_graph(kind="batch"):
    """Graphviz figure of the staged forward pass: one box per stage, each edge labelled with the
    value it carries and that value's shape."""
    import graphviz

    from bpcourse.graphs import FONT, FONT_PT

    stat = "(1, D)" if kind == "batch" else "(N, 1)"
    shapes = {"x": "(N, D)", "mu": stat, "xmu": "(N, D)", "sq": "(N, D)", "var": stat, "std": stat, "ivar": stat,
              "xhat": "(N, D)", "gamma": "(D,)", "scaled": "(N, D)", "beta": "(D,)", "out": "(N, D)"}  # fmt: skip
    titles = {"x": "x", "mu": "μ", "xmu": "x−μ", "sq": "(x−μ)²", "var": "σ²", "std": "σ̂", "ivar": "1/σ̂",
              "xhat": "x̂", "gamma": "γ", "scaled": "γx̂", "beta": "β", "out": "y"}  # fmt: skip
    graph = graphviz.Digraph(format="svg")
    graph.attr(rankdir="TB", bgcolor="transparent", nodesep="0.25", ranksep="0.3")
    graph.attr("node", fontname=FONT, fontsize=str(FONT_PT))
    graph.attr("edge", fontname=FONT, fontsize=str(FONT_PT), arrowsize="0.7", color="#555555")
    for name in ("x", "gamma", "beta"):
        graph.node(name, titles[name], shape="plaintext")
    graph.node("y", titles["out"], shape="plaintext")
    over = "N rows" if kind == "batch" else "D features"
    for name, op, _ in STAGES:
        label = f"mean over {over}" if op == "mean" else op
        graph.node(f"op_{name}", label, shape="box", style="rounded,filled", fillcolor="#f2f2f2",
                   margin="0.08,0.03", height="0.3")  # fmt: skip
    for name, _, inputs in STAGES:
        for src in inputs:
            tail = src if src in ("x", "gamma", "beta") else f"op_{src}"
            graph.edge(tail, f"op_{name}", label=f" {titles[src]} {shapes[src]}")
    graph.edge("op_out", "y", label=f" {titles['out']} {shapes['out']}")
    return graph


# --- the per-feature Jacobian and how wrong frozen statistics are ---------------------------------


def batchnorm_jacobian_block(xhat, gamma, ivar):
    """The Jacobian dy_i/dx_k of one feature of batch normalization over its N examples, shape (N, N).

    (gamma * ivar / N) * (N I - 1 1^T - xhat xhat^T) for that feature's column xhat (shape (N,)),
    its scale gamma and its 1/sqrt(var + eps) ivar: the matrix the compact backward pass applies to
    the column of dout without forming it. Symmetric, so it is its own transpose.
    """
    xhat = np.asarray(xhat, dtype=float).reshape(-1)
    n = len(xhat)
    return gamma * ivar / n * (n * np.eye(n) - np.ones((n, n)) - np.outer(xhat, xhat))


def frozen_statistics_gap(n, d=4, seed=0):
    """||frozen - true|| / ||true|| for batch normalization's dx on a random (n, d) batch with random dout.

    For random upstream gradients the frozen-statistics gradient keeps the part of dxhat along the
    two directions 1 and xhat of each feature that the true gradient removes: about sqrt(2 / (n - 2)).
    """
    rng = np.random.default_rng(seed)
    x, dout = rng.normal(size=(n, d)), rng.normal(size=(n, d))
    gamma, beta = rng.normal(size=d), rng.normal(size=d)
    cache = batchnorm_forward(x, gamma, beta)[1]
    true = norm_backward_compact(dout, cache)[0]
    return float(np.linalg.norm(frozen_statistics_backward(dout, cache) - true) / np.linalg.norm(true))


def batchnorm_check_error(x, gamma, beta, dout, h, eps=EPS, column=None):
    """rel_error of the compact dx against central differences with step h (numerical_gradient_array),
    over the whole of dx or over one feature's column.

    On a constant feature the output varies on a scale of sqrt(eps) (one entry moved by h gives the
    feature a standard deviation of about h), so the check's truncation error falls as h**2.
    """
    from bpcourse.gradcheck import numerical_gradient_array, rel_error

    dx = norm_backward_compact(dout, batchnorm_forward(x, gamma, beta, eps)[1])[0]
    num = numerical_gradient_array(lambda v: batchnorm_forward(v, gamma, beta, eps)[0], x, dout, h)
    keep = slice(None) if column is None else column
    return rel_error(dx[:, keep], num[:, keep])
