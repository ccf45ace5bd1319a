"""The ipywidgets SSR-vs-b3 explorer, driven headless from Python (no browser, no kernel needed)."""

import numpy as np
import pytest

from bpcourse import b3
from bpcourse.explorer import B3Explorer, b3_config, b3_static_html


@pytest.fixture
def explorer():
    return B3Explorer()


def test_moving_the_slider_moves_curve_residuals_point_and_tangent(explorer):
    curve_before = explorer.curve.get_ydata().copy()
    explorer.slider.value = 1.0
    assert np.allclose(explorer.curve.get_ydata(), curve_before + 1.0)  # b3 shifts the squiggle
    x, y = explorer.point.get_data()
    assert (x[0], y[0]) == pytest.approx((1.0, b3.ssr(b3.OBSERVED, b3.predict(b3.DOSAGE, {**b3.TRAINED, "b3": 1.0}))))
    tx, ty = explorer.tangent.get_data()
    slope = b3.dssr_db3(b3.DOSAGE, b3.OBSERVED, {**b3.TRAINED, "b3": 1.0})
    assert (ty[1] - ty[0]) / (tx[1] - tx[0]) == pytest.approx(slope)
    _, residual = explorer.residuals[1].get_data()
    assert residual[0] == b3.OBSERVED[1]


def test_step_and_run_follow_gradient_descent_from_zero(explorer):
    expected = b3.gradient_descent_b3(b3.DOSAGE, b3.OBSERVED, b3.TRAINED, lr=0.1)
    explorer.step_button.click()
    assert explorer.b3 == pytest.approx(expected[1])  # 1.57
    explorer.run_button.click()
    assert explorer.path == pytest.approx(expected)  # 1.57, 2.19, ..., 2.61
    assert "2.6089" in explorer.table.value
    assert len(explorer.trail.get_xdata()) == len(expected)


def test_learning_rate_and_reset(explorer):
    explorer.rate.value = 0.01
    explorer.step_button.click()
    assert explorer.b3 == pytest.approx(0.01 * 15.655108, rel=1e-5)
    explorer.reset_button.click()
    assert explorer.b3 == 0.0 and explorer.path == [0.0]


def test_redraws_reuse_one_figure(explorer):
    figure, lines = explorer.figure, len(explorer.right.lines)
    for value in (0.5, 1.5, 2.5):
        explorer.slider.value = value
    explorer.run_button.click()
    assert explorer.figure is figure and len(explorer.right.lines) == lines


def test_static_version_gets_the_same_numbers():
    config = b3_config()
    base = np.array(config["base"])
    # what explorer.js computes: SSR and slope from the b3 = 0 predictions shifted by b3
    for value in (0.0, 1.0, 2.61):
        ssr = float(np.sum((np.array(config["observed"]) - base - value) ** 2))
        assert ssr == pytest.approx(b3.ssr(b3.OBSERVED, b3.predict(b3.DOSAGE, {**b3.TRAINED, "b3": value})))
    assert 'data-kind="b3"' in b3_static_html()


def test_learning_rates_above_one_third_are_offered_and_diverge(explorer):
    assert max(b3_config()["learning_rates"]) > 1 / 3  # the chapter asks what happens above 1/3
    explorer.rate.value = 0.4
    explorer.run_button.click()
    assert abs(explorer.b3) > 10  # each step overshoots farther: the iteration diverges and Run stops
    assert len(explorer.path) < 100


def test_residual_lines_are_inside_the_frame(explorer):
    left, right = explorer.left.get_xlim()
    assert left < b3.DOSAGE.min() and b3.DOSAGE.max() < right
