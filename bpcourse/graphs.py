"""Computational-graph figures in the style of CS231n's circuits, generated from the numbers.

Every edge carries the value that flows forward (green, above) and the gradient that flows
back (red, below). Layout is Graphviz's `dot` (Debian package `graphviz`, through the `graphviz`
Python binding): a real layout engine, crisp SVG, text that stays text and is searchable, and
no figure drawn by hand, so a figure can never disagree with the code that computed it.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass

import graphviz
import numpy as np

FORWARD, BACKWARD = "#1b7a33", "#c0392b"  # green values, red gradients
FONT = "DejaVu Sans"
FONT_PT = 14  # node and edge labels; the browser test checks they stay >= 10 px once scaled to the column


@dataclass(frozen=True)
class Node:
    name: str  # unique id
    label: str  # what is shown: a variable name or an operation
    kind: str = "op"  # "input", "op" or "output"


@dataclass(frozen=True)
class Edge:
    src: str
    dst: str
    value: float  # forward value carried by the edge
    grad: float | None = None  # d(output)/d(value); None before the backward pass


def _number(v: float | None, digits: int) -> str:
    if v is None:
        return ""
    from bpcourse.numbers import number

    return number(v, f".{digits}f")  # a real minus sign, and no "-0.00"


def draw_circuit(
    nodes, edges, *, title=None, digits=2, show_grads=True, rankdir="LR", ranksep="0.65"
) -> graphviz.Digraph:
    """A Digraph of the circuit: operations as circles, inputs as plain names, values on edges.

    nodes: sequence of Node; edges: sequence of Edge (from input/op to op/output).
    Rendered inline (SVG) by Jupyter and by the book.
    """
    graph = graphviz.Digraph(format="svg")
    graph.attr(rankdir=rankdir, bgcolor="transparent", nodesep="0.35", ranksep=ranksep)
    graph.attr("node", fontname=FONT, fontsize=str(FONT_PT))
    graph.attr("edge", fontname=FONT, fontsize=str(FONT_PT), arrowsize="0.7", color="#555555")
    if title:
        graph.attr(label=title, labelloc="t", fontname=FONT, fontsize="13")
    for node in nodes:
        if node.kind == "op":
            graph.node(node.name, node.label, shape="circle", width="0.45", fixedsize="true", style="filled",
                       fillcolor="#f2f2f2")  # fmt: skip
        else:
            graph.node(node.name, node.label, shape="plaintext")
    for edge in edges:
        value = f'<font color="{FORWARD}">{_number(edge.value, digits)}</font>'
        grad = f'<br/><font color="{BACKWARD}">{_number(edge.grad, digits)}</font>' if show_grads else ""
        graph.edge(edge.src, edge.dst, label=f"<{value}{grad}>")
    return graph


def add_mul_circuit(x: float, y: float, z: float, *, show_grads=True) -> graphviz.Digraph:
    """f = (x + y) * z, forward values and gradients from bpcourse.circuits."""
    from bpcourse.circuits import add_mul_forward_backward

    r = add_mul_forward_backward(x, y, z)
    nodes = [Node("x", "x", "input"), Node("y", "y", "input"), Node("z", "z", "input"),
             Node("add", "+"), Node("mul", "×"), Node("f", "f", "output")]  # fmt: skip
    edges = [
        Edge("x", "add", x, r["dx"]),
        Edge("y", "add", y, r["dy"]),
        Edge("add", "mul", r["q"], r["dq"]),
        Edge("z", "mul", z, r["dz"]),
        Edge("mul", "f", r["f"], 1.0),
    ]
    return draw_circuit(nodes, edges, show_grads=show_grads)


def sigmoid_neuron_steps(w, x) -> list[tuple[str, str, list[str], float]]:
    """The neuron f = 1 / (1 + exp(-(w0 x0 + w1 x1 + w2))) unrolled into elementary gates.

    Returns (name, operation, inputs, value) in forward order, values computed here.
    """
    (w0, w1, w2), (x0, x1) = w, x
    steps = [("m0", "×", ["w0", "x0"], w0 * x0), ("m1", "×", ["w1", "x1"], w1 * x1)]
    steps.append(("a0", "+", ["m0", "m1"], steps[0][3] + steps[1][3]))
    steps.append(("a1", "+", ["a0", "w2"], steps[2][3] + w2))
    steps.append(("neg", "×-1", ["a1"], -steps[3][3]))
    steps.append(("exp", "exp", ["neg"], math.exp(steps[4][3])))
    steps.append(("inc", "+1", ["exp"], steps[5][3] + 1.0))
    steps.append(("inv", "1/x", ["inc"], 1.0 / steps[6][3]))
    return steps


def sigmoid_neuron_backward(w, x):
    """Backpropagate through the unrolled neuron: returns (steps, value, grad) where value and
    grad map every input and gate name to its forward value and to d f / d(that value)."""
    inputs = {"w0": w[0], "x0": x[0], "w1": w[1], "x1": x[1], "w2": w[2]}
    steps = sigmoid_neuron_steps(w, x)
    value = {**inputs, **{name: v for name, _, _, v in steps}}
    grad = {"inv": 1.0}
    for name, op, args, out in reversed(steps):  # local gradient times upstream gradient
        up = grad[name]
        if op == "1/x":
            grad[args[0]] = grad.get(args[0], 0.0) + (-1.0 / value[args[0]] ** 2) * up
        elif op == "+1":
            grad[args[0]] = grad.get(args[0], 0.0) + up
        elif op == "exp":
            grad[args[0]] = grad.get(args[0], 0.0) + out * up
        elif op == "×-1":
            grad[args[0]] = grad.get(args[0], 0.0) - up
        elif op == "+":
            for a in args:
                grad[a] = grad.get(a, 0.0) + up
        elif op == "×":
            a, b = args
            grad[a] = grad.get(a, 0.0) + value[b] * up
            grad[b] = grad.get(b, 0.0) + value[a] * up
    return steps, value, grad


def sigmoid_neuron_circuit(w, x, *, show_grads=True) -> graphviz.Digraph:
    """The CS231n neuron circuit gate by gate, with every local gradient chained backwards.

    Drawn top to bottom: nine gates in a row would be scaled down to illegible labels."""
    steps, value, grad = sigmoid_neuron_backward(w, x)
    nodes = [Node(n, n, "input") for n in ("w0", "x0", "w1", "x1", "w2")]
    nodes += [Node(name, op) for name, op, _, _ in steps] + [Node("f", "f", "output")]
    edges = [Edge(a, name, value[a], grad[a]) for name, _, args, _ in steps for a in args]
    edges.append(Edge("inv", "f", value["inv"], 1.0))
    return draw_circuit(nodes, edges, show_grads=show_grads, rankdir="TB", ranksep="0.3")


def sigmoid_neuron_grouped_circuit(w, x, *, show_grads=True) -> graphviz.Digraph:
    """The same neuron with the sigmoid as one gate (local gradient sigma * (1 - sigma))."""
    from bpcourse.circuits import neuron_forward_backward

    r = neuron_forward_backward(w, x)
    products = [w[0] * x[0], w[1] * x[1]]
    nodes = [Node(n, n, "input") for n in ("w0", "x0", "w1", "x1", "w2")]
    nodes += [
        Node("m0", "×"),
        Node("m1", "×"),
        Node("a0", "+"),
        Node("a1", "+"),
        Node("sig", "σ"),
        Node("f", "f", "output"),
    ]
    edges = [
        Edge("w0", "m0", w[0], r["dw"][0]),
        Edge("x0", "m0", x[0], r["dx"][0]),
        Edge("w1", "m1", w[1], r["dw"][1]),
        Edge("x1", "m1", x[1], r["dx"][1]),
        Edge("m0", "a0", products[0], r["ddot"]),
        Edge("m1", "a0", products[1], r["ddot"]),
        Edge("a0", "a1", products[0] + products[1], r["ddot"]),
        Edge("w2", "a1", w[2], r["dw"][2]),
        Edge("a1", "sig", r["dot"], r["ddot"]),
        Edge("sig", "f", r["f"], 1.0),
    ]
    return draw_circuit(nodes, edges, show_grads=show_grads, rankdir="TB", ranksep="0.3")


def trace_circuit(trace, inputs: dict, labels: dict | None = None, *, show_grads=True) -> graphviz.Digraph:
    """Draw an evaluation trace (bpcourse.autodiff) with values and, on every edge, the gradient
    that flows back along it (local gradient × upstream). A variable used twice has two edges:
    its gradient is the sum of theirs."""
    from bpcourse.autodiff import OPERATIONS, adjoints, primal

    values, bars = primal(trace, inputs), adjoints(trace, inputs)
    short = {"ln": "ln", "sin": "sin", "mul": "×", "add": "+", "sub": "−"}
    labels = labels or {}
    nodes = [Node(name, labels.get(name, name), "input") for name in inputs]
    nodes += [Node(name, short[op]) for name, op, _ in trace] + [Node("y", "y", "output")]
    edges = []
    for name, op, args in trace:
        partials = OPERATIONS[op][1](*(values[a] for a in args))
        edges += [Edge(a, name, values[a], p * bars[name]) for p, a in zip(partials, args, strict=True)]
    edges.append(Edge(trace[-1][0], "y", values[trace[-1][0]], 1.0))
    return draw_circuit(nodes, edges, show_grads=show_grads, digits=3, rankdir="TB", ranksep="0.3")


def tensor_graph(named: dict, *, digits: int = 2, show_grads: bool = True) -> graphviz.Digraph:
    """The graph of an engine expression, one box per named Tensor with its operation, value and gradient.

    named: {name: Tensor}, every tensor of the expression (leaves and results), in any order; a
    result's inputs must be named too. A box reads "q = x * w" (its operation and inputs), then its
    value (green) and, with show_grads, its .grad (red); arrays print as (v1, v2, ...).
    """
    from bpcourse.numbers import number

    def fmt(a):
        a = np.asarray(a, dtype=float)
        text = ", ".join(number(v + 0.0, f".{digits}f") for v in a.reshape(-1))
        return text if a.ndim == 0 else f"({text})"

    name_of = {id(t): n for n, t in named.items()}
    graph = graphviz.Digraph(format="svg")
    graph.attr(rankdir="TB", bgcolor="transparent", nodesep="0.3", ranksep="0.35")
    graph.attr("node", fontname=FONT, fontsize=str(FONT_PT), shape="box", style="rounded,filled",
               fillcolor="#f7f7f7", color="#999999", margin="0.1,0.05")  # fmt: skip
    graph.attr("edge", arrowsize="0.7", color="#555555")
    for n, t in named.items():
        inputs = [name_of[id(c)] for c in t._prev]
        if not inputs:
            head = n
        elif len(inputs) == 1:
            head = f"{n} = {t._op}({inputs[0]})"
        else:
            head = f"{n} = {f' {t._op} '.join(inputs)}"
        rows = [html.escape(head), f'<font color="{FORWARD}">{html.escape(fmt(t.data))}</font>']
        if show_grads:
            rows.append(f'<font color="{BACKWARD}">{html.escape(fmt(t.grad))}</font>')
        graph.node(n, "<" + "<br/>".join(rows) + ">")
        for c in dict.fromkeys(t._prev):
            graph.edge(name_of[id(c)], n)
    return graph
