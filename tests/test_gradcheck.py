"""The numerical gradients every other test trusts must themselves be right."""

import numpy as np
import pytest

from bpcourse.gradcheck import numerical_derivative, numerical_gradient, numerical_gradient_array, rel_error


def test_numerical_derivative_matches_known_derivatives():
    assert abs(numerical_derivative(np.sin, 0.3) - np.cos(0.3)) < 1e-9
    assert abs(numerical_derivative(lambda x: x**3, 2.0) - 12.0) < 1e-8


def test_numerical_derivative_is_central_not_forward():
    # f(x) = x^2 at 1: a forward difference gives 2 + h, a central one gives exactly 2.
    assert abs(numerical_derivative(lambda x: x * x, 1.0, h=1e-3) - 2.0) < 1e-9


def test_numerical_gradient_of_quadratic_form():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(4, 4))
    x = rng.normal(size=4)
    expected = (A + A.T) @ x  # d/dx x^T A x
    assert rel_error(numerical_gradient(lambda v: v @ A @ v, x), expected) < 1e-7


def test_numerical_gradient_keeps_shape_and_leaves_input_alone():
    x = np.arange(6.0).reshape(2, 3)
    before = x.copy()
    grad = numerical_gradient(lambda v: np.sum(v**2), x)
    assert grad.shape == (2, 3)
    assert np.array_equal(x, before)
    assert rel_error(grad, 2 * before) < 1e-7


def test_numerical_gradient_array_checks_a_backward_pass():
    rng = np.random.default_rng(1)
    W = rng.normal(size=(3, 5))
    x = rng.normal(size=5)
    dout = rng.normal(size=3)
    assert rel_error(numerical_gradient_array(lambda v: W @ v, x, dout), W.T @ dout) < 1e-7


def test_rel_error_is_zero_for_equal_and_rejects_shape_mismatch():
    assert rel_error(np.zeros(3), np.zeros(3)) == 0.0
    assert rel_error([1.0, 2.0], [1.0, 2.0 + 2e-6]) == pytest.approx(5e-7, rel=1e-3)
    with pytest.raises(ValueError):
        rel_error(np.zeros(3), np.zeros(4))
