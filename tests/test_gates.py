"""The gate-patterns chapter's numbers: CS231n's circuit, and every rule checked numerically."""

import numpy as np
import pytest

from bpcourse import gates
from bpcourse.gradcheck import numerical_derivative, numerical_gradient, rel_error


def f(x, y, z, w):
    return 2 * (x * y + max(z, w))


def test_example_circuit_at_3_minus4_2_minus1():
    r = gates.example_circuit(3.0, -4.0, 2.0, -1.0)
    assert (r["f"], r["dx"], r["dy"], r["dz"], r["dw"]) == (-20.0, -8.0, 6.0, 2.0, 0.0)


@pytest.mark.parametrize("point", [(0.3, 1.2, -0.5, 0.7), (-1.0, 2.0, 1.5, 0.2)])
def test_example_circuit_matches_numerical(point):
    r = gates.example_circuit(*point)
    for i, name in enumerate(("dx", "dy", "dz", "dw")):
        moved = lambda t, i=i: f(*(t if j == i else v for j, v in enumerate(point)))  # noqa: E731
        assert r[name] == pytest.approx(numerical_derivative(moved, point[i]), abs=1e-8)


def test_max_tie_splits_evenly_like_the_mean_of_both_one_sided_derivatives():
    share_z, share_w = gates.max_shares(1.0, 1.0)
    assert (share_z, share_w) == (0.5, 0.5)
    # at a tie the central difference of max(z, w) in z is exactly 1/2
    assert numerical_derivative(lambda t: max(t, 1.0), 1.0) == pytest.approx(0.5)


def test_broadcast_bias_gradient_is_the_sum_over_rows():
    rng = np.random.default_rng(0)
    X, b, dout = rng.normal(size=(5, 3)), rng.normal(size=3), rng.normal(size=(5, 3))
    numeric = numerical_gradient(lambda v: np.sum(dout * (X + v)), b)
    assert rel_error(gates.unbroadcast(dout, b.shape), numeric) < 1e-8
    assert (
        rel_error(
            gates.unbroadcast(dout, (5, 1)), numerical_gradient(lambda v: np.sum(dout * (X + v)), np.zeros((5, 1)))
        )
        < 1e-8
    )


def test_scaling_the_data_scales_the_weight_gradient():
    rng = np.random.default_rng(1)
    x, w = rng.normal(size=4), rng.normal(size=4)
    small = numerical_gradient(lambda v: np.tanh(v @ x), w)
    # data scaled by 1000 and weights by 1/1000: the same pre-activation and loss...
    large = numerical_gradient(lambda v: np.tanh(v @ (1000 * x)), w / 1000, h=1e-9)
    assert rel_error(large, 1000 * small) < 1e-5  # ...but a weight gradient 1000 times larger
