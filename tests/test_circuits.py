"""The chain-rule chapter's worked circuits: CS231n's numbers, and gradients checked numerically."""

import pytest

from bpcourse import circuits
from bpcourse.gradcheck import numerical_derivative, rel_error


def test_add_mul_circuit_at_minus2_5_minus4():
    r = circuits.add_mul_forward_backward(-2, 5, -4)
    assert (r["q"], r["f"], r["dq"], r["dx"], r["dy"], r["dz"]) == (3, -12, -4, -4, -4, 3)


def test_add_mul_gradients_match_numerical():
    r = circuits.add_mul_forward_backward(1.3, -0.4, 2.2)
    f = lambda x, y, z: (x + y) * z  # noqa: E731
    assert rel_error(r["dx"], numerical_derivative(lambda t: f(t, -0.4, 2.2), 1.3)) < 1e-8
    assert rel_error(r["dz"], numerical_derivative(lambda t: f(1.3, -0.4, t), 2.2)) < 1e-8


def test_neuron_at_cs231n_point():
    r = circuits.neuron_forward_backward([2, -3, -3], [-1, -2])
    assert r["dot"] == 1 and r["f"] == pytest.approx(0.7311, abs=1e-4)
    assert r["dw"] == pytest.approx([-0.1966, -0.3932, 0.1966], abs=1e-4)
    assert r["dx"] == pytest.approx([0.3932, -0.5898], abs=1e-4)


def test_neuron_gradients_match_numerical():
    w, x = [0.3, -1.1, 0.8, 0.2], [1.5, -0.7, 2.0]
    r = circuits.neuron_forward_backward(w, x)
    for i in range(len(w)):
        numeric = numerical_derivative(
            lambda t, i=i: circuits.neuron_forward_backward(w[:i] + [t] + w[i + 1 :], x)["f"], w[i]
        )
        assert rel_error(r["dw"][i], numeric) < 1e-7
    for i in range(len(x)):
        numeric = numerical_derivative(
            lambda t, i=i: circuits.neuron_forward_backward(w, x[:i] + [t] + x[i + 1 :])["f"], x[i]
        )
        assert rel_error(r["dx"][i], numeric) < 1e-7


def test_sigmoid_is_stable_and_its_derivative_is_sigma_one_minus_sigma():
    assert circuits.sigmoid(-1000.0) == 0.0 and circuits.sigmoid(1000.0) == 1.0
    for z in (-3.0, 0.0, 1.0, 4.0):
        s = circuits.sigmoid(z)
        assert numerical_derivative(circuits.sigmoid, z) == pytest.approx(s * (1 - s), rel=1e-8)


@pytest.mark.parametrize("x, y", [(3.0, -4.0), (0.5, 1.5), (-2.0, 0.3)])
def test_staged_backward_matches_numerical(x, y):
    _, cache = circuits.staged_forward(x, y)
    g = circuits.staged_backward(cache, dout=1.0)
    f = lambda a, b: circuits.staged_forward(a, b)[0]  # noqa: E731
    assert rel_error(g["dx"], numerical_derivative(lambda t: f(t, y), x)) < 1e-7
    assert rel_error(g["dy"], numerical_derivative(lambda t: f(x, t), y)) < 1e-7


def test_staged_values_at_3_minus4():
    f, cache = circuits.staged_forward(3.0, -4.0)
    g = circuits.staged_backward(cache)
    assert f == pytest.approx(1.5456448841, rel=1e-9)
    assert (g["dx"], g["dy"]) == pytest.approx((2.0595697956, 1.5922327515), rel=1e-9)
