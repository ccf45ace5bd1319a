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
