"""bpcourse.rnn (chapter 11) against numerical gradients, and the chapter's claims about it."""

from __future__ import annotations

import numpy as np
import pytest

from bpcourse import rnn
from bpcourse.gradcheck import numerical_gradient, rel_error


def problem(N=2, T=4, D=3, H=5, seed=0, scale=0.5):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(N, T, D)), rng.normal(size=(N, H)), scale * rng.normal(size=(D, H)),
            scale * rng.normal(size=(H, H)), rng.normal(size=H), rng.normal(size=(N, T, H)))


def loss_of(dh, which, args):
    """sum(dh * h) as a function of the input number `which` of forward(x, h0, Wx, Wh, b)."""
    def f(v):
        values = list(args)
        values[which] = v
        return np.sum(dh * rnn.forward(*values)[0])
    return f


@pytest.mark.parametrize("shape", [(2, 4, 3, 5), (1, 1, 2, 3), (3, 6, 1, 2)])
def test_backward_matches_numerical_gradients_of_every_input(shape):
    x, h0, Wx, Wh, b, dh = problem(*shape)
    args = (x, h0, Wx, Wh, b)
    _, cache = rnn.forward(*args)
    grads = rnn.backward(dh, cache)
    for which, grad in enumerate(grads):
        assert rel_error(grad, numerical_gradient(loss_of(dh, which, args), args[which])) < 1e-7


def test_step_backward_matches_numerical_gradients():
    x, h0, Wx, Wh, b, _ = problem()
    dnext = np.random.default_rng(1).normal(size=h0.shape)
    args = [x[:, 0], h0, Wx, Wh, b]
    _, cache = rnn.step_forward(*args)
    for which, grad in enumerate(rnn.step_backward(dnext, cache)):
        def f(v, which=which):
            values = list(args)
            values[which] = v
            return np.sum(dnext * rnn.step_forward(*values)[0])
        assert rel_error(grad, numerical_gradient(f, args[which])) < 1e-7


def test_step_forward_is_one_step_of_forward():
    x, h0, Wx, Wh, b, _ = problem()
    h, _ = rnn.forward(x, h0, Wx, Wh, b)
    assert np.allclose(rnn.step_forward(x[:, 0], h0, Wx, Wh, b)[0], h[:, 0])
    assert np.allclose(rnn.step_forward(x[:, 1], h[:, 0], Wx, Wh, b)[0], h[:, 1])


def test_weight_gradient_is_the_sum_of_the_steps_shares():
    """Chapter 2's fork: dWh is the sum over t of each step's share, and the last step alone is not it."""
    x, h0, Wx, Wh, b, dh = problem(T=5)
    _, cache = rnn.forward(x, h0, Wx, Wh, b)
    _, _, _, dWh, _ = rnn.backward(dh, cache)
    numeric = numerical_gradient(loss_of(dh, 3, (x, h0, Wx, Wh, b)), Wh)
    assert rel_error(dWh, numeric) < 1e-7


EXAMPLE = ([1.0, 0.5, -1.0], 0.5, 0.5, 0.8, 0.0, [0.0, 0.0, 1.0])  # the chapter's worked example: L = h_3


def test_scalar_example_matches_numerical_derivatives():
    xs, h0, wx, wh, b, dhs = EXAMPLE
    ex = rnn.scalar_example(xs, h0, wx, wh, b, dhs)

    def L(wx=wx, wh=wh, b=b, h0=h0):
        h, total = h0, 0.0
        for x, d in zip(xs, dhs, strict=True):
            h = np.tanh(wx * x + wh * h + b)
            total += d * h
        return total

    e = 1e-6
    assert abs(ex["dwh"] - (L(wh=wh + e) - L(wh=wh - e)) / (2 * e)) < 1e-8
    assert abs(ex["dwx"] - (L(wx=wx + e) - L(wx=wx - e)) / (2 * e)) < 1e-8
    assert abs(ex["db"] - (L(b=b + e) - L(b=b - e)) / (2 * e)) < 1e-8
    assert abs(ex["dh0"] - (L(h0=h0 + e) - L(h0=h0 - e)) / (2 * e)) < 1e-8
    assert np.isclose(sum(ex["dwh_shares"]), ex["dwh"])
    # the last step's share alone is far from the total (the "no sum over time" mistake)
    assert abs(ex["dwh_shares"][-1] - ex["dwh"]) > 0.3


def test_scalar_example_agrees_with_the_array_code():
    xs, h0, wx, wh, b, dhs = EXAMPLE
    ex = rnn.scalar_example(xs, h0, wx, wh, b, dhs)
    args = (np.array(xs).reshape(1, 3, 1), np.array([[h0]]), np.array([[wx]]), np.array([[wh]]), np.array([b]))
    h, cache = rnn.forward(*args)
    dx, dh0, dWx, dWh, db = rnn.backward(np.array(dhs).reshape(1, 3, 1), cache)
    assert np.allclose(h.ravel(), ex["h"])
    assert np.allclose([dWx[0, 0], dWh[0, 0], db[0], dh0[0, 0]], [ex["dwx"], ex["dwh"], ex["db"], ex["dh0"]])


def test_truncated_backward_with_a_full_window_is_backward():
    x, h0, Wx, Wh, b, dh = problem(T=6)
    _, cache = rnn.forward(x, h0, Wx, Wh, b)
    for full, cut in zip(rnn.backward(dh, cache), rnn.truncated_backward(dh, cache, 6), strict=True):
        assert np.allclose(full, cut)


def test_truncated_backward_with_window_one_keeps_only_local_paths():
    """k = 1: every step's upstream gradient stops at its own step, nothing reaches h0 beyond step 0."""
    x, h0, Wx, Wh, b, dh = problem(T=4)
    _, cache = rnn.forward(x, h0, Wx, Wh, b)
    dx, dh0, *_ = rnn.truncated_backward(dh, cache, 1)
    h = cache[4]
    for t in range(4):
        assert np.allclose(dx[:, t], (dh[:, t] * (1 - h[:, t] ** 2)) @ Wx.T)
    assert np.allclose(dh0, (dh[:, 0] * (1 - h[:, 0] ** 2)) @ Wh.T)


def test_truncation_error_falls_with_the_window():
    x, h0, Wx, Wh, b, dh = problem(T=12, scale=0.4)
    _, cache = rnn.forward(x, h0, Wx, Wh, b)
    full = rnn.backward(dh, cache)[3]
    errors = [np.linalg.norm(rnn.truncated_backward(dh, cache, k)[3] - full) / np.linalg.norm(full) for k in (1, 3, 12)]
    assert errors[0] > errors[1] > errors[2] and errors[2] < 1e-12


def test_dh0_norm_vanishes_below_radius_one_and_grows_above():
    small = rnn.dh0_norm_through_time(0.8, 30)
    large = rnn.dh0_norm_through_time(1.2, 30)
    assert small[-1] < 1e-2 * small[0]
    assert large[-1] > 1e2 * large[0]
    # in the linear regime (zero input, tiny h0) the norm is about radius**T
    assert 0.5 < large[-1] / (1.2**30 * large[0] / 1.2) < 2.0


def test_clip_by_norm_is_global_keeps_direction_and_leaves_small_gradients_alone():
    rng = np.random.default_rng(3)
    grads = [rng.normal(size=(3, 4)), rng.normal(size=4)]
    copies = [g.copy() for g in grads]
    norm = np.sqrt(sum(np.sum(g**2) for g in grads))
    clipped, reported = rnn.clip_by_norm(grads, 1.0)
    assert np.isclose(reported, norm)
    assert np.isclose(np.sqrt(sum(np.sum(c**2) for c in clipped)), 1.0)
    flat = np.concatenate([g.ravel() for g in grads])
    flat_clipped = np.concatenate([c.ravel() for c in clipped])
    assert np.isclose(flat @ flat_clipped / (np.linalg.norm(flat) * np.linalg.norm(flat_clipped)), 1.0)
    assert all(np.array_equal(g, c) for g, c in zip(grads, copies, strict=True))
    for max_norm in (norm, 2 * norm):  # exactly at the threshold and below: unchanged
        same, _ = rnn.clip_by_norm(grads, max_norm)
        assert all(np.array_equal(g, s) for g, s in zip(grads, same, strict=True))
    zeros, zero_norm = rnn.clip_by_norm([np.zeros(3)], 1.0)
    assert zero_norm == 0.0 and np.array_equal(zeros[0], np.zeros(3))


def test_per_tensor_clipping_changes_the_direction():
    """The chapter's reason for the global norm: clipping each tensor apart turns the update."""
    grads = [np.array([3.0, 4.0]), np.array([0.1, 0.0])]
    per_tensor = [g * min(1.0, 1.0 / np.linalg.norm(g)) for g in grads]
    flat = np.concatenate(grads)
    turned = np.concatenate(per_tensor)
    cos = flat @ turned / (np.linalg.norm(flat) * np.linalg.norm(turned))
    assert cos < 0.999


def test_chapter_truncation_table_claims():
    """The chapter's truncated-BPTT table (same seed): small radius, little lost; radius above 1, much lost."""
    rng = np.random.default_rng(12)
    N, T, D, H = 4, 20, 3, 8
    x = rng.normal(size=(N, T, D))
    Wx = 0.5 * rng.normal(size=(D, H))
    Q, _ = np.linalg.qr(rng.normal(size=(H, H)))
    dh = np.zeros((N, T, H))
    dh[:, -1] = rng.normal(size=(N, H))

    def lost(r, k):
        _, c = rnn.forward(x, np.zeros((N, H)), Wx, r * Q, np.zeros(H))
        full = rnn.backward(dh, c)[3]
        return np.linalg.norm(rnn.truncated_backward(dh, c, k)[3] - full) / np.linalg.norm(full)

    assert lost(0.5, 5) < 0.02
    assert lost(1.1, 5) > 0.2 and lost(1.1, 10) > 0.05
    assert all(lost(r, 1) > lost(r, 2) > lost(r, 5) > lost(r, 10) for r in (0.5, 0.9, 1.1))


def test_chapter_clipping_claims():
    """The chapter's clipping example (same seed): the global rule keeps the direction, per-tensor turns it."""
    rng = np.random.default_rng(13)
    g = [rng.normal(size=(4, 5)) * 30.0, rng.normal(size=(5, 5)), rng.normal(size=5) * 0.1]
    clipped, _ = rnn.clip_by_norm(g, 1.0)
    flat = np.concatenate([a.ravel() for a in g])
    same = np.concatenate([a.ravel() for a in clipped])
    turned = np.concatenate([(a * min(1.0, 1.0 / np.linalg.norm(a))).ravel() for a in g])
    cos = lambda u, v: u @ v / (np.linalg.norm(u) * np.linalg.norm(v))  # noqa: E731
    assert abs(cos(flat, same) - 1) < 1e-12 and np.isclose(np.linalg.norm(same), 1.0)
    assert cos(flat, turned) < 0.8


def test_unrolled_graph_shows_the_example_numbers():
    ex = rnn.scalar_example([1.0, 0.5, -1.0], 0.5, 0.5, 0.8, 0.0, [0.0, 0.0, 1.0])
    source = rnn.unrolled_graph(ex).source
    assert "0.716" in source and "0.676" in source and source.count("-> L") == 1


def test_unrolled_graph_stays_legible_in_a_phone_column():
    """Edge labels of 14 pt stay >= 10 px when the SVG is scaled into a 358 px column: at most 501 pt wide."""
    import re

    ex = rnn.scalar_example([1.0, 0.5, -1.0], 0.5, 0.5, 0.8, 0.0, [0.0, 0.0, 1.0])
    svg = rnn.unrolled_graph(ex).pipe(format="svg").decode()
    width = float(re.search(r'<svg width="([\d.]+)pt"', svg)[1])
    assert 14 * 358 / width >= 10, f"{width} pt wide"
