"""The deep-MLP gradients behind the vanishing/exploding chapter, checked numerically."""

import numpy as np
import pytest

from bpcourse import deep
from bpcourse.gradcheck import numerical_gradient, rel_error


@pytest.mark.parametrize("activation", sorted(deep.ACTIVATIONS))
def test_mlp_gradients_match_numerical(activation):
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    weights = [rng.normal(size=(3, 4)), rng.normal(size=(4, 4)), rng.normal(size=(4, 2))]
    _, grads = deep.mlp_loss_and_grads(X, y, weights, activation)
    for i, W in enumerate(weights):

        def loss_of(v, i=i):
            return deep.mlp_loss_and_grads(X, y, weights[:i] + [v] + weights[i + 1 :], activation)[0]

        assert grads[i].shape == W.shape
        assert rel_error(grads[i], numerical_gradient(loss_of, W)) < 1e-6


def test_sigmoid_derivative_never_exceeds_a_quarter():
    z = np.linspace(-10, 10, 2001)
    assert deep.ACTIVATIONS["sigmoid"][1](z).max() == pytest.approx(0.25)


def test_sigmoid_gradients_vanish_toward_the_first_layer():
    norms = deep.layer_norms("sigmoid", scale=1.0)
    assert norms[0] < 1e-3 * norms[-1]


def test_large_initialization_makes_gradients_explode():
    he = deep.layer_norms("relu", scale=np.sqrt(2.0))
    assert min(deep.layer_norms("relu", scale=4.0)) > 1e6 * max(he)  # every layer, by the activations' growth
    tanh_large = deep.layer_norms("tanh", scale=4.0)
    assert tanh_large[0] > 10 * tanh_large[-1]  # and growing toward the input


def test_he_scaled_relu_keeps_gradients_within_an_order_of_magnitude():
    norms = deep.layer_norms("relu", scale=np.sqrt(2.0))
    assert max(norms[:-1]) / min(norms[:-1]) < 10


@pytest.mark.parametrize("activation", sorted(deep.ACTIVATIONS))
def test_activation_gradients_match_numerical(activation):
    rng = np.random.default_rng(4)  # 8 hidden units: no row of a ReLU layer is all zeros (a kink)
    X, y = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    weights = [rng.normal(size=(3, 8)), rng.normal(size=(8, 8)), rng.normal(size=(8, 2))]
    dhs = deep.activation_gradients(X, y, weights, activation)
    act = deep.ACTIVATIONS[activation][0]

    def loss_from(layer, h):  # the loss as a function of h_layer, the layers above unchanged
        for W in weights[layer:-1]:
            h = act(h @ W)
        return 0.5 * np.sum((h @ weights[-1] - y) ** 2) / len(y)

    hs = [X]
    for W in weights[:-1]:
        hs.append(act(hs[-1] @ W))
    assert len(dhs) == len(weights)
    for layer, (h, dh) in enumerate(zip(hs, dhs, strict=True)):
        assert dh.shape == h.shape
        assert rel_error(dh, numerical_gradient(lambda v, layer=layer: loss_from(layer, v), h)) < 1e-6


# The claims chapter 6 makes about its measurement, checked on ten seeds (the page shows seed 0).
SEEDS = deep.CLAIM_SEEDS


@pytest.mark.parametrize("seed", SEEDS)
def test_chapter6_sigmoid_divides_the_gradient_by_four_or_more_per_layer(seed):
    norms = deep.activation_gradient_norms("sigmoid", 1.0, seed=seed)
    per_layer = (norms[0] / norms[-1]) ** (1 / (len(norms) - 1))
    assert per_layer < 0.25
    assert all(a < b for a, b in zip(norms[:-1], norms[1:], strict=True))  # shrinks at every layer toward the input


@pytest.mark.parametrize("seed", SEEDS)
def test_chapter6_large_weights_explode_toward_the_input(seed):
    for activation, at_least in (("tanh", 10.0), ("relu", 1e3)):
        norms = deep.activation_gradient_norms(activation, 4.0, seed=seed)
        assert norms[0] > at_least * norms[-1]
        assert all(a > b for a, b in zip(norms[:-1], norms[1:], strict=True))  # grows at every layer toward the input


@pytest.mark.parametrize("seed", SEEDS)
def test_chapter6_he_scaled_relu_stays_within_a_factor_of_three(seed):
    norms = deep.activation_gradient_norms("relu", np.sqrt(2.0), seed=seed)
    assert max(norms) / min(norms) < deep.HE_SPREAD_BOUND


@pytest.mark.parametrize("seed", SEEDS)
def test_chapter6_relu_weight_gradients_hide_the_explosion(seed):
    """The weight gradients of ReLU at s = 4 span far less than its activation gradients: the
    forward activations grow toward the output as fast as the backward gradients toward the input."""
    dh = deep.activation_gradient_norms("relu", 4.0, seed=seed)
    dw = deep.layer_norms("relu", 4.0, seed=seed)
    assert max(dw) / min(dw) < 100 < dh[0] / dh[-1] / 10
    assert min(dw) > 1e6 * max(deep.layer_norms("relu", np.sqrt(2.0), seed=seed))
