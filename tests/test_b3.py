"""The b3 network's helper reproduces StatQuest's numbers and its gradients are right."""

import numpy as np
import pytest

from bpcourse import b3
from bpcourse.gradcheck import numerical_derivative, rel_error


def test_ssr_at_b3_zero_is_20_4():
    assert b3.ssr(b3.OBSERVED, b3.predict(b3.DOSAGE, b3.TRAINED)) == pytest.approx(20.4, abs=0.05)


def test_slope_at_b3_zero_is_minus_15_7():
    assert b3.dssr_db3(b3.DOSAGE, b3.OBSERVED, b3.TRAINED) == pytest.approx(-15.7, abs=0.05)


def test_gradient_descent_visits_1_57_2_19_and_stops_near_2_61():
    visited = b3.gradient_descent_b3(b3.DOSAGE, b3.OBSERVED, b3.TRAINED, lr=0.1)
    assert visited[0] == 0.0
    assert visited[1:3] == pytest.approx([1.57, 2.19], abs=0.005)
    assert visited[-1] == pytest.approx(2.61, abs=0.005)
    assert abs(visited[-1] - visited[-2]) < 0.001 <= abs(visited[-2] - visited[-3])
    assert b3.TRAINED["b3"] == 0.0  # the input dict is not mutated


def test_gradient_descent_subtracts_the_step():
    # At b3 = 5 the slope is positive, so b3 must decrease (the seeds' "b3 + step" would diverge).
    visited = b3.gradient_descent_b3(b3.DOSAGE, b3.OBSERVED, {**b3.TRAINED, "b3": 5.0}, max_steps=1)
    assert visited[1] < visited[0]


@pytest.mark.parametrize("name", b3.PARAMETERS)
def test_every_partial_matches_a_numerical_derivative(name):
    rng = np.random.default_rng(3)
    params = {k: float(rng.normal()) for k in b3.PARAMETERS}
    x, observed = rng.uniform(0, 1, size=5), rng.normal(size=5)

    def ssr_of(value):
        return b3.ssr(observed, b3.predict(x, {**params, name: value}))

    analytic = b3.ssr_gradients(x, observed, params)[name]
    assert rel_error(analytic, numerical_derivative(ssr_of, params[name])) < 1e-7


def test_dssr_db3_is_minus_two_times_the_sum_of_residuals_not_the_ssr():
    params = {**b3.TRAINED, "b3": 0.7}
    residuals = b3.OBSERVED - b3.predict(b3.DOSAGE, params)
    assert b3.dssr_db3(b3.DOSAGE, b3.OBSERVED, params) == pytest.approx(-2 * residuals.sum())
    assert b3.dssr_db3(b3.DOSAGE, b3.OBSERVED, params) != pytest.approx(
        -2 * b3.ssr(b3.OBSERVED, b3.predict(b3.DOSAGE, params))
    )


def test_fit_from_a_random_start_drives_ssr_down_without_mutating_its_input():
    rng = np.random.default_rng(0)
    start = {k: float(rng.normal()) for k in b3.PARAMETERS}
    before = dict(start)
    fitted = b3.fit(b3.DOSAGE, b3.OBSERVED, start, lr=0.1, steps=2000)
    assert start == before
    assert b3.ssr(b3.OBSERVED, b3.predict(b3.DOSAGE, fitted)) < 1e-3 < b3.ssr(b3.OBSERVED, b3.predict(b3.DOSAGE, start))


def test_softplus_is_stable_and_its_derivative_is_sigmoid():
    assert b3.softplus(np.array([1000.0]))[0] == pytest.approx(1000.0)
    assert b3.softplus(np.array([-1000.0]))[0] == pytest.approx(0.0, abs=1e-300)
    for z in (-3.0, 0.0, 2.5):
        assert numerical_derivative(b3.softplus, z) == pytest.approx(float(b3.sigmoid(z)), rel=1e-8)
