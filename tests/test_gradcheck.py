"""The numerical gradients every other test trusts must themselves be right."""

import numpy as np
import pytest

from bpcourse.gradcheck import (
    check_errors,
    default_step,
    find_bad_coordinates,
    grad_check,
    numerical_derivative,
    numerical_gradient,
    numerical_gradient_array,
    rel_error,
    relative_error,
    sample_coordinates,
    step_sweep,
)


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


# --- chapter 8: per-coordinate checks, the step per dtype, kinks ---


def test_relative_error_is_elementwise_with_a_floor_for_zeros():
    err = relative_error(np.array([1.0, -2.0, 0.0, 1e-15]), np.array([1.5, -2.0, 0.0, 0.0]))
    assert err.dtype == np.float64
    assert err == pytest.approx([0.5 / 1.5, 0.0, 0.0, 1e-3])


def test_default_step_is_the_cube_root_of_epsilon():
    assert default_step(np.float64) == pytest.approx(6.06e-6, rel=1e-2)
    assert default_step(np.float32) == pytest.approx(4.92e-3, rel=1e-2)


def test_grad_check_finds_the_wrong_coordinate_and_leaves_x_alone():
    x = np.array([[0.1, 1.0 / 3.0], [2.2, -0.9]])
    before = x.copy()
    analytic = np.cos(x)
    analytic[1, 0] *= 2
    err = grad_check(lambda z: float(np.sum(np.sin(z))), x, analytic)
    assert np.array_equal(x, before)
    assert err[1, 0] == pytest.approx(0.5, rel=1e-6)
    assert np.delete(err.ravel(), 2).max() < 1e-9


def test_grad_check_on_a_sample_of_coordinates():
    x = np.random.default_rng(0).normal(size=(30, 40))
    coords = sample_coordinates(x.shape, 10, seed=1)
    assert len(set(coords)) == 10
    calls = []

    def f(z):
        calls.append(1)
        return float(np.sum(z**2))

    err = grad_check(f, x, 2 * x, coords=coords)
    assert err.shape == (10,) and err.max() < 1e-6 and len(calls) == 21  # f(x) once, then two per coordinate


def test_grad_check_in_float32_needs_the_larger_step():
    x = np.random.default_rng(2).uniform(-1, 1, size=6).astype(np.float32)
    f = lambda z: float(np.sum(np.exp(z) * np.float32(0.5)))  # noqa: E731
    analytic = 0.5 * np.exp(x.astype(np.float64))
    assert grad_check(f, x, analytic).max() < 1e-3
    assert grad_check(f, x, analytic, h=1e-6).max() > 1e-2


def test_find_bad_coordinates_excuses_kinks_but_not_bugs():
    x = np.array([[0.0, -1.0, 0.7], [2.0, 0.0, -0.4], [1e-9, -1e-9, 0.3]])
    dout = np.arange(1.0, 10.0).reshape(3, 3)
    relu = lambda z: float(np.sum(np.maximum(z, 0) * dout))  # noqa: E731
    assert find_bad_coordinates(lambda z: (relu(z), (z > 0) * dout), x) == []
    assert find_bad_coordinates(lambda z: (relu(z), (z >= 0) * dout), x) == []
    assert find_bad_coordinates(lambda z: (relu(z), (z > 0.5) * dout), x) == [(2, 0), (2, 2)]
    central, _, _ = check_errors(relu, x, (z := x > 0) * dout)
    assert central[0, 0] == pytest.approx(1.0) and z is not None  # the naive check's false alarm


def test_find_bad_coordinates_counts_nan_as_bad():
    x = np.array([1.0, 2.0])
    assert find_bad_coordinates(lambda z: (float(np.sum(z)), np.array([1.0, np.nan])), x) == [(1,)]


def test_step_sweep_has_its_minimum_near_the_default_step():
    x = np.random.default_rng(3).normal(size=4)
    steps = np.logspace(-12, 0, 49)
    for dtype in (np.float64, np.float32):
        f = lambda z: float(np.sum(np.sin(z) * np.exp(z / z.dtype.type(2))))  # noqa: E731
        analytic = np.cos(x) * np.exp(x / 2) + 0.5 * np.sin(x) * np.exp(x / 2)
        errors = step_sweep(f, x, analytic, steps, dtype)
        best = steps[np.argmin(errors)]
        assert default_step(dtype) / 30 < best < default_step(dtype) * 30
