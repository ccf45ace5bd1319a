"""The new-layer chapter's backward passes (bpcourse.normalization), each against numerical gradients."""

import numpy as np
import pytest

from bpcourse import normalization as nm
from bpcourse.gradcheck import numerical_gradient, numerical_gradient_array, rel_error

KINDS = ["batch", "layer"]


@pytest.fixture
def rng():
    return np.random.default_rng(7)


def random_layer(rng, N=5, D=4):
    x = rng.normal(loc=2.0, scale=3.0, size=(N, D))
    return x, rng.normal(size=D), rng.normal(size=D), rng.normal(size=(N, D))


def test_softmax_jacobian_is_diag_s_minus_ssT(rng):
    z = rng.normal(size=6)
    J = nm.softmax_jacobian(nm.softmax(z))
    numeric = np.array([numerical_gradient(lambda v, i=i: nm.softmax(v)[i], z) for i in range(6)])
    assert rel_error(J, numeric) < 1e-7
    assert np.allclose(J, J.T) and np.allclose(J.sum(axis=0), 0.0)


@pytest.mark.parametrize("shape", [(1, 1), (1, 5), (4, 3), (6, 2)])
def test_softmax_backward_is_the_vjp(rng, shape):
    z, ds = rng.normal(size=shape), rng.normal(size=shape)
    dz = nm.softmax_backward(nm.softmax(z), ds)
    assert rel_error(dz, numerical_gradient_array(nm.softmax, z, ds)) < 1e-7
    for row in range(shape[0]):  # the same as multiplying by the Jacobian's transpose, row by row
        assert np.allclose(dz[row], nm.softmax_jacobian(nm.softmax(z[row])).T @ ds[row])


def test_softmax_backward_of_cross_entropy_is_s_minus_y(rng):
    z, y = rng.normal(size=(3, 4)), np.array([0, 3, 1])
    s = nm.softmax(z)
    onehot = np.eye(4)[y]
    assert np.allclose(nm.softmax_backward(s, -onehot / s), s - onehot)


@pytest.mark.parametrize("kind", KINDS)
def test_forward_normalizes_along_its_axis(rng, kind):
    x, _, _, _ = random_layer(rng)
    out, cache = nm.norm_forward(x, np.ones(4), np.zeros(4), eps=0.0, kind=kind)
    axis = nm.AXES[kind]
    assert np.allclose(out.mean(axis=axis), 0.0) and np.allclose(out.var(axis=axis), 1.0)
    assert cache["mu"].shape == ((1, 4) if kind == "batch" else (5, 1))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("backward", [nm.norm_backward_staged, nm.norm_backward_compact])
def test_backward_matches_numerical_gradients(rng, kind, backward):
    x, gamma, beta, dout = random_layer(rng)
    _, cache = nm.norm_forward(x, gamma, beta, kind=kind)
    dx, dgamma, dbeta = backward(dout, cache)

    def f(x=x, gamma=gamma, beta=beta):
        return nm.norm_forward(x, gamma, beta, kind=kind)[0]

    assert rel_error(dx, numerical_gradient_array(lambda v: f(x=v), x, dout)) < 1e-6
    assert rel_error(dgamma, numerical_gradient_array(lambda v: f(gamma=v), gamma, dout)) < 1e-7
    assert rel_error(dbeta, numerical_gradient_array(lambda v: f(beta=v), beta, dout)) < 1e-7


@pytest.mark.parametrize("kind", KINDS)
def test_staged_and_compact_backward_agree_on_a_constant_feature(rng, kind):
    x, gamma, beta, dout = random_layer(rng)
    if kind == "batch":
        x[:, 1] = 3.0
    else:
        x[2] = -1.0
    out, cache = nm.norm_forward(x, gamma, beta, kind=kind)
    staged, compact = nm.norm_backward_staged(dout, cache), nm.norm_backward_compact(dout, cache)
    assert all(np.allclose(a, b) for a, b in zip(staged, compact, strict=True))
    assert np.all(np.isfinite(staged[0]))
    numeric = numerical_gradient_array(lambda v: nm.norm_forward(v, gamma, beta, kind=kind)[0], x, dout)
    assert rel_error(staged[0], numeric) < 1e-5  # the gain 1/sqrt(eps) makes the numbers larger


@pytest.mark.parametrize("kind", KINDS)
def test_dx_is_orthogonal_to_shifts_and_scalings_along_the_axis(rng, kind):
    """Shifting x along the axis never changes out; scaling it does not when eps = 0."""
    x, gamma, beta, dout = random_layer(rng)
    _, cache = nm.norm_forward(x, gamma, beta, eps=0.0, kind=kind)
    dx, _, _ = nm.norm_backward_compact(dout, cache)
    axis = nm.AXES[kind]
    assert np.allclose(dx.sum(axis=axis), 0.0)
    assert np.allclose((dx * cache["xhat"]).sum(axis=axis), 0.0)


def test_frozen_statistics_gradient_is_wrong_in_training_mode(rng):
    x, gamma, beta, dout = random_layer(rng)
    _, cache = nm.norm_forward(x, gamma, beta)
    numeric = numerical_gradient_array(lambda v: nm.norm_forward(v, gamma, beta)[0], x, dout)
    assert rel_error(nm.frozen_statistics_backward(dout, cache), numeric) > 0.1


def test_a_batch_of_one_gives_beta_and_no_gradient(rng):
    x, gamma, beta, dout = random_layer(rng, N=1)
    out, cache = nm.batchnorm_forward(x, gamma, beta)
    dx, _, _ = nm.norm_backward_compact(dout, cache)
    assert np.allclose(out, beta) and np.allclose(dx, 0.0)


def test_gain_with_eps_inside_outside_and_without():
    std = np.array([0.0, 1.0])
    assert nm.gain(std)[0] == pytest.approx(1 / np.sqrt(nm.EPS))
    assert nm.gain(std, where="outside")[0] == pytest.approx(1 / nm.EPS)
    assert np.isinf(nm.gain(std, where="none")[0])
    assert nm.gain(std)[1] == pytest.approx(1.0, rel=1e-5)


def test_one_pass_variance_cancels_for_a_large_mean(rng):
    x = 1e6 + 1e-2 * rng.normal(size=(1000, 1))
    two_pass = ((x - x.mean(axis=0)) ** 2).mean(axis=0)
    assert abs(nm.one_pass_variance(x)[0] - two_pass[0]) > 0.5 * two_pass[0]


def test_staged_graph_has_a_box_per_stage():
    source = nm.staged_graph("layer").source
    assert source.count("shape=box") == len(nm.STAGES)
    assert "mean over D features" in source and "(N, 1)" in source


def test_one_pass_variance_loses_the_spread_as_chapter_7_says():
    """07's prose: around 1e6 the one-pass variance is tens of percent off; around 1e8 it is 0."""
    noise = 1e-2 * np.random.default_rng(1).normal(size=(1000, 1))
    for mean, off_at_least in [(1e6, 0.1), (1e8, 0.99)]:
        x = mean + noise
        true = ((x - x.mean()) ** 2).mean()
        assert abs(nm.one_pass_variance(x)[0] / true - 1) > off_at_least
    assert abs(nm.one_pass_variance(1e4 + noise)[0] / ((noise - noise.mean()) ** 2).mean() - 1) < 1e-2
