"""The step-through graphs' description (bpcourse.stepper): the exported graphs agree with the
chapters' own forward and backward passes (autodiff, gates, engine), every local rule agrees with
a numerical derivative, and bad descriptions fail with a clear message."""

from __future__ import annotations

import html
import json
import math
import re

import numpy as np
import pytest

from bpcourse import autodiff, gates, stepper
from bpcourse.engine import Tensor
from bpcourse.gradcheck import numerical_derivative

# points where every rule is differentiable (and ln is defined)
POINTS = {1: [(0.7,), (2.3,), (-1.1,)], 2: [(3.0, -4.0), (-1.5, 2.5), (0.25, 0.75)]}


@pytest.mark.parametrize("rule", sorted(stepper.RULES))
def test_every_local_rule_matches_a_numerical_derivative(rule):
    value, partials = stepper.RULES[rule]
    points = POINTS[stepper.ARITY[rule]]
    if rule == "ln":
        points = [tuple(abs(v) for v in p) for p in points]
    for point in points:
        for i in range(len(point)):

            def moved(t, i=i, point=point):
                return value(*(t if j == i else v for j, v in enumerate(point)))

            assert partials(*point)[i] == pytest.approx(numerical_derivative(moved, point[i]), rel=1e-6, abs=1e-8)


def test_rules_cover_exactly_what_the_page_script_implements():
    from tests.conftest import REPO_ROOT

    script = (REPO_ROOT / "book/_vendor/stepper/stepper.js").read_text()
    block = script[script.index("var RULES = {") : script.index("function el(")]
    assert set(re.findall(r"^    (\w+): \{", block, flags=re.M)) == set(stepper.RULES)


def test_max_rule_splits_a_tie_as_the_gates_chapter_does():
    share = gates.max_shares(1.0, 1.0)
    assert stepper.RULES["max"][1](1.0, 1.0) == (float(share[0]), float(share[1])) == (0.5, 0.5)
    assert stepper.RULES["max"][1](2.0, -1.0) == (1.0, 0.0)


@pytest.mark.parametrize("point", [(2.0, 5.0), (0.5, -1.25), (7.0, 0.0)])
def test_trace_graph_equals_the_chapters_primal_and_adjoint_traces(point):
    at = dict(zip(autodiff.EXAMPLE_INPUTS, point, strict=True))
    graph = stepper.trace_graph(autodiff.EXAMPLE, at)
    values, grads = stepper.evaluate(graph)
    assert values == pytest.approx(autodiff.primal(autodiff.EXAMPLE, at))
    assert grads == pytest.approx(autodiff.adjoints(autodiff.EXAMPLE, at))
    exported = {n["id"]: n for n in stepper.export(graph)["nodes"]}
    assert {k: n["value"] for k, n in exported.items()} == pytest.approx(values)
    assert {k: n["grad"] for k, n in exported.items()} == pytest.approx(grads)


@pytest.mark.parametrize("point", [(3.0, -4.0, 2.0, -1.0), (-1.5, 2.0, -3.0, 0.5), (1.0, 1.0, 2.0, 2.0)])
def test_gate_panels_carry_the_example_circuits_numbers(point):
    ex = gates.example_circuit(*point)
    add, max_, mul, tie = (stepper.evaluate(g) for g in stepper.gate_panels(*point))
    assert add[0]["s"] == ex["s"] and add[1]["xy"] == ex["dxy"] and add[1]["m"] == ex["dm"]
    assert max_[0]["m"] == ex["max"] and (max_[1]["z"], max_[1]["w"]) == (ex["dz"], ex["dw"])
    assert mul[0]["xy"] == ex["xy"] and (mul[1]["x"], mul[1]["y"]) == (ex["dx"], ex["dy"])
    assert (tie[1]["z"], tie[1]["w"]) == (0.5, 0.5)
    # the chain through the panels is the circuit's: each panel's seed is what the circuit sends it
    x, y, z, w = point
    f = lambda *p: 2 * (p[0] * p[1] + max(p[2], p[3]))  # noqa: E731
    for i, name in enumerate("xyzw"):
        if name in "zw" and z == w:
            continue  # no derivative at a tie (the tie has its own panel)
        numeric = numerical_derivative(lambda t, i=i: f(*(t if j == i else v for j, v in enumerate(point))), point[i])
        got = (mul[1] if name in "xy" else max_[1])[name]
        assert got == pytest.approx(numeric, abs=1e-6)


def _neuron(values):
    t = {name: Tensor(v) for name, v in zip(("x1", "w1", "x2", "w2", "b"), values, strict=True)}
    t["m1"], t["m2"] = t["x1"] * t["w1"], t["x2"] * t["w2"]
    t["s"] = t["m1"] + t["m2"]
    t["n"] = t["s"] + t["b"]
    t["o"] = stepper.tanh(t["n"])
    t["o"].backward()
    return t


@pytest.mark.parametrize("values", [(1.5, -0.5, 2.0, 0.75, 0.25), (-2.0, 0.3, 0.0, 4.0, 3.0)])
def test_tensor_graph_is_the_engines_graph_with_the_engines_gradients(values):
    t = _neuron(values)
    graph = stepper.tensor_graph(t["o"], t)
    assert list(graph.inputs) == ["x1", "w1", "x2", "w2", "b"]
    assert graph.ops == [("m1", "mul", ("x1", "w1")), ("m2", "mul", ("x2", "w2")), ("s", "add", ("m1", "m2")),
                         ("n", "add", ("s", "b")), ("o", "tanh", ("n",))]  # fmt: skip
    got_values, got_grads = stepper.evaluate(graph)
    for name, tensor in t.items():
        assert got_values[name] == pytest.approx(float(tensor.data), rel=1e-12)
        assert got_grads[name] == pytest.approx(float(tensor.grad), rel=1e-12, abs=1e-15)
    # and the engine's tanh gradient is the derivative of tanh: checked against central differences
    for name in ("x1", "w1", "b"):
        base = list(values)
        k = ("x1", "w1", "x2", "w2", "b").index(name)

        def o_of(v, k=k, base=base):
            moved = list(base)
            moved[k] = v
            return float(_neuron(moved)["o"].data)

        assert float(t[name].grad) == pytest.approx(numerical_derivative(o_of, base[k]), rel=1e-6, abs=1e-9)


def test_evaluate_with_other_inputs_follows_the_rules():
    graph = stepper.trace_graph(autodiff.EXAMPLE, {"v-1": 2.0, "v0": 5.0})
    values, grads = stepper.evaluate(graph, {"v-1": 3.0})
    at = {"v-1": 3.0, "v0": 5.0}
    assert values == pytest.approx(autodiff.primal(autodiff.EXAMPLE, at))
    assert grads == pytest.approx(autodiff.adjoints(autodiff.EXAMPLE, at))


def test_schedule_visits_every_operation_then_every_edge_backwards():
    graph = stepper.trace_graph(autodiff.EXAMPLE, {"v-1": 2.0, "v0": 5.0})
    forward, backward = stepper.schedule(graph)
    assert forward == ["v1", "v2", "v3", "v4", "v5"]
    assert backward[0] == ("seed", "v5")
    assert backward[1:] == [("v5", 0), ("v5", 1), ("v4", 0), ("v4", 1), ("v3", 0), ("v2", 0), ("v2", 1), ("v1", 0)]
    assert len(backward) - 1 == len(stepper.export(graph)["edges"])  # one step per edge


def test_static_html_carries_the_figure_as_json_in_an_attribute():
    fig = stepper.figure(stepper.gate_panels(3.0, -4.0, 2.0, -1.0), digits=2, trim=True)
    page = stepper.static_html(fig)
    match = re.fullmatch(r'<div class="bp-stepper" data-config="([^"]*)"><p>[^<]+</p></div>', page)
    assert match, page[:200]
    assert json.loads(html.unescape(match[1])) == fig
    assert [p["title"] for p in fig["panels"]] == ["add distributes", "max routes", "mul swaps", "max with a tie"]


def test_labels_are_written_with_subscripts():
    assert stepper.pretty("x1") == "x₁" and stepper.pretty("v-1") == "v₋₁" and stepper.pretty("xy") == "xy"


@pytest.mark.parametrize(
    ("ops", "message"),
    [
        ([("q", "pow", ("x", "y"))], "unknown rule 'pow'"),
        ([("q", "mul", ("x",))], "mul takes 2 argument(s)"),
        ([("q", "add", ("x", "r"))], "q uses r before it is computed"),
        ([("x", "ln", ("y",))], "the name x is used twice"),
        ([], "needs at least one operation"),
    ],
)
def test_a_bad_graph_is_refused_with_a_clear_message(ops, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        stepper.Graph("bad", {"x": 1.0, "y": 2.0}, ops)


def test_tensor_graph_refuses_what_it_cannot_draw():
    x = Tensor(2.0)
    with pytest.raises(ValueError, match="has no name"):
        stepper.tensor_graph(x * Tensor(3.0), {"x": x})
    v = Tensor([1.0, 2.0])
    with pytest.raises(ValueError, match="scalar graphs"):
        stepper.tensor_graph(v.sum(), {"v": v})
    with pytest.raises(ValueError, match="no rule for the engine's 'sum'"):
        stepper.tensor_graph(x.sum(), {"x": x})


def test_a_figure_refuses_nan():
    graph = stepper.Graph("nan", {"x": math.nan}, [("y", "sin", ("x",))])
    with pytest.raises(ValueError):
        stepper.static_html(stepper.figure(graph))
    assert np.isnan(stepper.evaluate(graph)[0]["y"])
