"""The circuit figures show numbers computed by code, and those numbers are right."""

import math
import re

import pytest

from bpcourse import graphs
from bpcourse.gradcheck import numerical_derivative


def neuron(w0, x0, w1, x1, w2):
    return 1 / (1 + math.exp(-(w0 * x0 + w1 * x1 + w2)))


def test_neuron_circuit_gradients_match_numerical_derivatives():
    point = {"w0": 2.0, "x0": -1.0, "w1": -3.0, "x1": -2.0, "w2": -3.0}
    _, value, grad = graphs.sigmoid_neuron_backward([2, -3, -3], [-1, -2])
    assert value["inv"] == pytest.approx(0.7310585786, rel=1e-9)
    for name in point:
        numeric = numerical_derivative(lambda t, name=name: neuron(**{**point, name: t}), point[name])
        assert grad[name] == pytest.approx(numeric, rel=1e-7), name


def test_neuron_circuit_shows_cs231n_numbers():
    source = graphs.sigmoid_neuron_circuit([2, -3, -3], [-1, -2]).source
    for text in ("0.73", "1.00", "\u22120.20", "0.39", "\u22120.39", "\u22120.59", "\u22120.53", "0.37", "1.37"):
        assert text in source


def test_add_mul_circuit_labels_values_and_gradients():
    source = graphs.add_mul_circuit(-2, 5, -4).source
    labels = re.findall(r"label=<(.*?)>\]", source)
    assert len(labels) == 5
    assert any("\u221212.00" in label for label in labels) and any("3.00" in label for label in labels)
    assert "\u22124.00" in source


def test_no_negative_zero_is_printed():
    assert graphs._number(-0.0001, 2) == "0.00"


def test_figure_renders_to_svg_with_graphviz():
    svg = graphs.add_mul_circuit(-2, 5, -4).pipe(format="svg").decode()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
