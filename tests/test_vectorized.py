"""The vectorized-gradients chapter's formulas, each checked against numerical gradients."""

import numpy as np
import pytest

from bpcourse import vectorized as v
from bpcourse.gradcheck import numerical_gradient, rel_error


@pytest.fixture
def rng():
    return np.random.default_rng(7)


def test_matmul_gradients_are_dD_XT_and_WT_dD(rng):
    W, X, dD = rng.normal(size=(3, 4)), rng.normal(size=(4, 5)), rng.normal(size=(3, 5))
    assert rel_error(dD @ X.T, numerical_gradient(lambda w: np.sum(dD * (w @ X)), W)) < 1e-7
    assert rel_error(W.T @ dD, numerical_gradient(lambda x: np.sum(dD * (W @ x)), X)) < 1e-7


def test_squared_norm_gradients_are_2qxT_and_2WTq(rng):
    W, x = rng.normal(size=(3, 4)), rng.normal(size=4)
    q = W @ x
    assert rel_error(2 * np.outer(q, x), numerical_gradient(lambda w: np.sum((w @ x) ** 2), W)) < 1e-7
    assert rel_error(2 * W.T @ q, numerical_gradient(lambda z: np.sum((W @ z) ** 2), x)) < 1e-7


def test_softmax_cross_entropy_gradient_is_S_minus_Iy_over_N(rng):
    logits, y = rng.normal(size=(6, 4)), rng.integers(0, 4, size=6)
    _, dlogits = v.softmax_cross_entropy(logits, y)
    assert rel_error(dlogits, numerical_gradient(lambda z: v.softmax_cross_entropy(z, y)[0], logits)) < 1e-7


def test_softmax_cross_entropy_is_stable_at_1000():
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is fine
        loss, dlogits = v.softmax_cross_entropy(np.array([[1000.0, 0.0]]), np.array([0]))
    assert loss == pytest.approx(0.0, abs=1e-300) and np.all(np.isfinite(dlogits))


def test_two_layer_gradients_match_numerical(rng):
    X, y = rng.normal(size=(7, 3)), rng.integers(0, 3, size=7)
    W1, W2 = rng.normal(size=(3, 5)), rng.normal(size=(5, 3))
    _, dW1, dW2 = v.two_layer(X, y, W1, W2)
    assert rel_error(dW1, numerical_gradient(lambda w: v.two_layer(X, y, w, W2)[0], W1)) < 1e-6
    assert rel_error(dW2, numerical_gradient(lambda w: v.two_layer(X, y, W1, w)[0], W2)) < 1e-6


def test_an_epoch_with_a_partial_last_batch_averages_each_batch_over_its_size(rng):
    X, y = rng.normal(size=(5, 2)), rng.integers(0, 2, size=5)
    W1, W2 = rng.normal(size=(2, 3)), rng.normal(size=(3, 2))
    A1, A2 = W1.copy(), W2.copy()
    for rows in (slice(0, 2), slice(2, 4), slice(4, 5)):
        _, g1, g2 = v.two_layer(X[rows], y[rows], A1, A2)
        A1, A2 = A1 - 0.1 * g1, A2 - 0.1 * g2
    v.nn_epoch(X, y, W1, W2, lr=0.1, batch=2)
    assert np.allclose(W1, A1) and np.allclose(W2, A2)


def test_training_on_the_spiral_lowers_the_loss():
    X, y = v.spiral()
    Xb = v.with_bias(X)
    rng = np.random.default_rng(0)
    W1, W2 = rng.normal(scale=0.5, size=(3, 50)), rng.normal(scale=0.1, size=(50, 3))
    before = v.two_layer(Xb, y, W1, W2)[0]
    for _ in range(30):
        v.nn_epoch(Xb, y, W1, W2, lr=1.0, batch=50)
    assert v.two_layer(Xb, y, W1, W2)[0] < 0.6 * before
