"""A vanilla tanh RNN and backpropagation through time (chapter 11).

Shapes: a batch of N sequences of T steps, D input features, H hidden units.

    h_t = tanh(x_t Wx + h_{t-1} Wh + b),   x_t (N, D), h_t (N, H), Wx (D, H), Wh (H, H), b (H,)

The weights are the same at every step: in the unrolled graph each weight forks into T uses, so
its gradient is the sum of the T steps' contributions (chapter 2's fork). The upstream gradient
`dh` of shape (N, T, H) is dL/dh_t for every step (the loss may read every hidden state); the
gradient that reaches h_t is dh[:, t] plus what flows back from step t + 1 through Wh.
"""

from __future__ import annotations

import numpy as np


def step_forward(x, prev_h, Wx, Wh, b):
    """One step: next_h = tanh(x Wx + prev_h Wh + b).

    x (N, D), prev_h (N, H), Wx (D, H), Wh (H, H), b (H,). Returns (next_h (N, H), cache).
    """
    next_h = np.tanh(x @ Wx + prev_h @ Wh + b)
    return next_h, (x, prev_h, Wx, Wh, next_h)


def step_backward(dnext_h, cache):
    """Backward of step_forward. dnext_h (N, H) is dL/dnext_h.

    Returns (dx (N, D), dprev_h (N, H), dWx (D, H), dWh (H, H), db (H,)).
    """
    x, prev_h, Wx, Wh, next_h = cache
    da = dnext_h * (1.0 - next_h**2)  # tanh'(a) = 1 - tanh(a)^2, from the output
    return da @ Wx.T, da @ Wh.T, x.T @ da, prev_h.T @ da, da.sum(axis=0)


def forward(x, h0, Wx, Wh, b):
    """The whole sequence. x (N, T, D), h0 (N, H). Returns (h (N, T, H), cache)."""
    N, T, _ = x.shape
    h = np.empty((N, T, Wh.shape[0]))
    prev = h0
    for t in range(T):
        prev = np.tanh(x[:, t] @ Wx + prev @ Wh + b)
        h[:, t] = prev
    return h, (x, h0, Wx, Wh, h)


def backward(dh, cache):
    """Backpropagation through time. dh (N, T, H) is dL/dh_t for every t.

    Returns (dx (N, T, D), dh0 (N, H), dWx (D, H), dWh (H, H), db (H,)).
    """
    x, h0, Wx, Wh, h = cache
    T = x.shape[1]
    dx = np.zeros_like(x, dtype=float)
    dWx, dWh, db = np.zeros_like(Wx, dtype=float), np.zeros_like(Wh, dtype=float), np.zeros(Wh.shape[0])
    carried = np.zeros_like(h0, dtype=float)  # dL/dh_t arriving from step t + 1
    for t in range(T - 1, -1, -1):
        prev = h[:, t - 1] if t > 0 else h0
        da = (dh[:, t] + carried) * (1.0 - h[:, t] ** 2)
        dx[:, t] = da @ Wx.T
        dWx += x[:, t].T @ da
        dWh += prev.T @ da
        db += da.sum(axis=0)
        carried = da @ Wh.T
    return dx, carried, dWx, dWh, db


def truncated_backward(dh, cache, k):
    """Truncated BPTT: the gradient of dh[:, s] is carried back at most k - 1 steps (k >= 1).

    Returns (dx, dh0, dWx, dWh, db) as `backward` does; k >= T gives exactly `backward`.
    """
    x, h0, Wx, Wh, h = cache
    N, T, _ = x.shape
    dx = np.zeros_like(x, dtype=float)
    dh0 = np.zeros_like(h0, dtype=float)
    dWx, dWh, db = np.zeros_like(Wx, dtype=float), np.zeros_like(Wh, dtype=float), np.zeros(Wh.shape[0])
    for s in range(T):
        carried = dh[:, s].astype(float)
        for t in range(s, max(s - k, -1), -1):
            prev = h[:, t - 1] if t > 0 else h0
            da = carried * (1.0 - h[:, t] ** 2)
            dx[:, t] += da @ Wx.T
            dWx += x[:, t].T @ da
            dWh += prev.T @ da
            db += da.sum(axis=0)
            carried = da @ Wh.T
            if t == 0:
                dh0 += carried
    return dx, dh0, dWx, dWh, db


def clip_by_norm(grads, max_norm):
    """Clip a list of arrays by their global norm, sqrt(sum of every squared entry of every array).

    Returns (clipped, norm): new arrays, each multiplied by max_norm / norm if norm > max_norm,
    else unchanged copies (at norm == max_norm and at norm 0 too). The inputs are not modified.
    """
    norm = float(np.sqrt(sum(np.sum(np.asarray(g, dtype=float) ** 2) for g in grads)))
    scale = max_norm / norm if norm > max_norm else 1.0
    return [np.array(g, dtype=float) * scale for g in grads], norm


def scalar_example(xs, h0, wx, wh, b, dhs):
    """A scalar RNN (N = D = H = 1) written out step by step, for the chapter's worked example.

    Returns a dict with the lists a (pre-activations), h, the total gradient g_t reaching each h_t,
    da_t, each step's share of dwh, and the totals dwx, dwh, db, dh0.
    """
    a, h, prev = [], [], h0
    for x in xs:
        a.append(wx * x + wh * prev + b)
        prev = float(np.tanh(a[-1]))
        h.append(prev)
    T = len(xs)
    g, da, shares = [0.0] * T, [0.0] * T, [0.0] * T
    carried = 0.0
    for t in range(T - 1, -1, -1):
        g[t] = dhs[t] + carried
        da[t] = g[t] * (1 - h[t] ** 2)
        shares[t] = da[t] * (h[t - 1] if t > 0 else h0)
        carried = da[t] * wh
    return {"a": a, "h": h, "g": g, "da": da, "dwh_shares": shares, "dwh": sum(shares),
            "dwx": sum(d * x for d, x in zip(da, xs, strict=True)), "db": sum(da), "dh0": carried}


def dh0_norm_through_time(radius, T, H=16, N=1, seed=0, scale_x=0.0):
    """||dL/dh_0|| for L = sum(g * h_T) with a random unit g, Wh of spectral radius `radius`.

    Wh is a random orthogonal matrix times `radius` (all its singular values equal `radius`), the
    input is zero (scale_x=0) unless asked, h0 small: the linear regime, where the norm is about
    radius^T times the tanh factors. Returns a list of the norms for T' = 1..T.
    """
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.normal(size=(H, H)))
    Wh = radius * Q
    Wx = rng.normal(size=(1, H))
    b = np.zeros(H)
    h0 = 1e-6 * rng.normal(size=(N, H))
    g = rng.normal(size=(N, H))
    g /= np.linalg.norm(g)
    norms = []
    for steps in range(1, T + 1):
        x = scale_x * rng.normal(size=(N, steps, 1))
        h, cache = forward(x, h0, Wx, Wh, b)
        dh = np.zeros_like(h)
        dh[:, -1] = g
        norms.append(float(np.linalg.norm(backward(dh, cache)[1])))
    return norms


def unrolled_graph(example=None, T=3):
    """The unrolled RNN as a Graphviz Digraph: T step nodes, one Wh and one Wx node forking into every step.

    With `example` (the dict of scalar_example) each state shows its value h_t and the gradient g_t
    that reaches it; each Wh edge is labelled with that step's share of dL/dWh, and only the last state
    feeds L (the example's loss is h_T). Without it, every state feeds L.
    """
    import graphviz

    from bpcourse.graphs import BACKWARD, FONT, FORWARD
    from bpcourse.numbers import number

    g = graphviz.Digraph(format="svg")
    g.attr(rankdir="TB", bgcolor="transparent", nodesep="0.3", ranksep="0.45")  # top to bottom: narrow enough
    # for a phone's column at a legible size (tests/test_rnn.py keeps it under 500 pt wide)
    g.attr("node", fontname=FONT, fontsize="14")
    g.attr("edge", fontname=FONT, fontsize="13", arrowsize="0.7", color="#555555")
    g.node("h0", "h₀", shape="plaintext")
    g.node("Wh", "Wₕ (shared)", shape="box", style="rounded")
    g.node("Wx", "Wₓ (shared)", shape="box", style="rounded")
    g.node("L", "L", shape="doublecircle")
    sub = "₁₂₃₄₅₆₇₈₉"
    prev = "h0"
    for t in range(T):
        step = f"step{t}"
        g.node(f"x{t}", f"x{sub[t]}", shape="plaintext")
        g.node(step, "tanh", shape="circle")
        state = f"h{t + 1}"
        if example is not None:
            label = (f'<h{sub[t]}<br/><font color="{FORWARD}">{number(example["h"][t], ".3f")}</font>'
                     f'<br/><font color="{BACKWARD}">g = {number(example["g"][t], ".3f")}</font>>')
            share = f'<<font face="{FONT}" color="{BACKWARD}">{number(example["dwh_shares"][t], ".3f")}</font>>'
        else:
            label, share = f"h{sub[t]}", ""
        g.node(state, label, shape="box")
        g.edge(f"x{t}", step)
        g.edge(prev, step)
        g.edge("Wh", step, label=share, style="dashed")
        g.edge("Wx", step, style="dashed", color="#999999")
        g.edge(step, state)
        if example is None or t == T - 1:  # the worked example's loss reads the last state only
            g.edge(state, "L", color="#999999")
        prev = state
    return g
