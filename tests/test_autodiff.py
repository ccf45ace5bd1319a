"""The traces of the computational-graphs chapter: Baydin et al.'s numbers, checked numerically."""

import math

import pytest

from bpcourse import autodiff
from bpcourse.gradcheck import numerical_derivative

AT = {"v-1": 2.0, "v0": 5.0}


def y(x1, x2):
    return math.log(x1) + x1 * x2 - math.sin(x2)


def test_primal_trace_gives_y_11_652():
    assert autodiff.primal(autodiff.EXAMPLE, AT)["v5"] == pytest.approx(11.652, abs=5e-4)


def test_forward_and_reverse_mode_give_5_5_and_1_716():
    d1 = autodiff.tangents(autodiff.EXAMPLE, AT, {"v-1": 1.0, "v0": 0.0})["v5"]
    d2 = autodiff.tangents(autodiff.EXAMPLE, AT, {"v-1": 0.0, "v0": 1.0})["v5"]
    bars = autodiff.adjoints(autodiff.EXAMPLE, AT)
    assert (d1, d2) == pytest.approx((5.5, 1.716), abs=5e-4)
    assert (bars["v-1"], bars["v0"]) == pytest.approx((d1, d2), rel=1e-12)
    assert d1 == pytest.approx(numerical_derivative(lambda t: y(t, 5.0), 2.0), rel=1e-8)
    assert d2 == pytest.approx(numerical_derivative(lambda t: y(2.0, t), 5.0), rel=1e-8)


@pytest.mark.parametrize("point", [(0.5, -1.0), (3.0, 0.2)])
def test_both_modes_match_numerical_derivatives_elsewhere(point):
    at = {"v-1": point[0], "v0": point[1]}
    bars = autodiff.adjoints(autodiff.EXAMPLE, at)
    assert bars["v-1"] == pytest.approx(numerical_derivative(lambda t: y(t, point[1]), point[0]), rel=1e-7)
    assert bars["v0"] == pytest.approx(numerical_derivative(lambda t: y(point[0], t), point[1]), rel=1e-7)


def test_matrix_chain_costs_favour_reverse_for_a_scalar_output():
    dims = [1000, 100, 100, 1]
    assert autodiff.matrix_chain_cost(dims, "forward") == 100 * 100 * 1000 + 1 * 100 * 1000
    assert autodiff.matrix_chain_cost(dims, "reverse") == 1 * 100 * 100 + 1 * 100 * 1000
    # one input, many outputs: forward mode wins
    assert autodiff.matrix_chain_cost([1, 100, 100, 1000], "forward") < autodiff.matrix_chain_cost(
        [1, 100, 100, 1000], "reverse"
    )


def test_describe_reads_like_the_trace():
    assert autodiff.describe(autodiff.EXAMPLE[1]) == "v2 = v-1 × v0"


def test_describe_tex_writes_negative_indices_as_subscripts():
    assert autodiff.describe_tex(autodiff.EXAMPLE[1]) == r"$v_{2} = v_{-1} \times v_{0}$"
    assert autodiff.tex("v-1", r"\bar") == r"\bar v_{-1}"
