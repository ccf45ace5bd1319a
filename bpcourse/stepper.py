"""Step-through graphs of the backward pass for the static site (no kernel).

A chapter describes a small computational graph here, with the operations and values its own
Python uses (`bpcourse.autodiff`'s trace, `bpcourse.gates`' circuit, `bpcourse.engine`'s
tensors), and embeds `static_html(figure(...))`. book/_vendor/stepper/stepper.js draws it left
to right (top to bottom on a phone) and steps through it: Forward step evaluates one node,
Backward step sends the gradient along one edge, and the rule that produced each number is
written under the graph. The reader can edit the inputs: the script recomputes forward and
backward in the page from the *rule names* exported here (`RULES`: the same names, the same
local derivatives), so only arithmetic is duplicated, and a test evaluates both in Chromium.

The schedule that both sides follow (`schedule`):
- forward: one step per operation, in the order given (a topological order);
- backward: first the seed (the gradient arriving at the output, 1 unless the graph is a piece
  of a larger circuit), then one step per (operation, argument) pair, operations in reverse
  order, arguments in order: argument += local derivative x upstream gradient. A value used
  twice receives two steps, and its gradient is their sum.
"""

from __future__ import annotations

import html
import json
import math
import re
from dataclasses import dataclass, field

import numpy as np

from bpcourse import autodiff, gates
from bpcourse.engine import Tensor


def _max_rule():
    def value(a, b):
        return max(a, b)

    def partials(a, b):  # the tie convention of the gates chapter: half each
        share_a, share_b = gates.max_shares(a, b)
        return (float(share_a), float(share_b))

    return value, partials


def _tanh_partials(a):
    t = math.tanh(a)
    return (1.0 - t * t,)  # from the output: 1 - tanh(a)^2


# rule name -> (value of the arguments, local partial derivative with respect to each argument).
# stepper.js implements the same names; tests/test_stepper.py checks every partial numerically.
RULES = {
    **{name: autodiff.OPERATIONS[name] for name in ("add", "sub", "mul", "ln", "sin")},
    "max": _max_rule(),
    "tanh": (math.tanh, _tanh_partials),
    "exp": (math.exp, lambda a: (math.exp(a),)),
    "relu": (lambda a: max(a, 0.0), lambda a: (1.0 if a > 0 else 0.0,)),  # 0 at 0, as bpcourse.engine
}
ARITY = {"add": 2, "sub": 2, "mul": 2, "max": 2, "ln": 1, "sin": 1, "tanh": 1, "exp": 1, "relu": 1}
ENGINE_OPS = {"+": "add", "*": "mul", "tanh": "tanh", "exp": "exp", "relu": "relu", "log": "ln"}

_SUBSCRIPT = str.maketrans("0123456789-", "₀₁₂₃₄₅₆₇₈₉₋")


def pretty(name: str) -> str:
    """A node name as the book writes it: "x1" is "x₁", "v-1" is "v₋₁"."""
    match = re.fullmatch(r"([A-Za-z]+)(-?\d+)", name)
    return match[1] + match[2].translate(_SUBSCRIPT) if match else name


@dataclass
class Graph:
    """One small computational graph.

    - inputs: {name: default value}, the editable leaves
    - ops: [(name, rule, (argument names...))] in a topological order; the last is the output
    - of: the name of the function the gradients are of ("y" in dy/dv), for the rule text
    - seed: the gradient arriving at the output (1, or the upstream gradient of a larger circuit)
    - seed_note: where a seed other than 1 comes from, for the rule text
    - labels: {name: what the page shows}; default `pretty(name)`
    """

    title: str
    inputs: dict
    ops: list
    of: str = "f"
    seed: float = 1.0
    seed_note: str = ""
    labels: dict = field(default_factory=dict)

    def __post_init__(self):
        self.inputs = {name: float(value) for name, value in self.inputs.items()}
        known = set(self.inputs)
        if not self.ops:
            raise ValueError(f"{self.title}: a graph needs at least one operation")
        for name, rule, args in self.ops:
            if rule not in RULES:
                raise ValueError(f"{self.title}: unknown rule {rule!r} for {name} (known: {', '.join(sorted(RULES))})")
            if len(args) != ARITY[rule]:
                raise ValueError(f"{self.title}: {rule} takes {ARITY[rule]} argument(s), {name} has {len(args)}")
            missing = [a for a in args if a not in known]
            if missing:
                raise ValueError(f"{self.title}: {name} uses {', '.join(missing)} before it is computed")
            if name in known:
                raise ValueError(f"{self.title}: the name {name} is used twice")
            known.add(name)

    @property
    def output(self) -> str:
        return self.ops[-1][0]

    def label(self, name: str) -> str:
        return self.labels.get(name, pretty(name))


def schedule(graph: Graph) -> tuple[list, list]:
    """The steps of the figure: (forward, backward).

    forward: [op name, ...]; backward: [("seed", output)] + [(op name, argument index), ...].
    """
    forward = [name for name, _, _ in graph.ops]
    backward = [("seed", graph.output)]
    backward += [(name, i) for name, _, args in reversed(graph.ops) for i in range(len(args))]
    return forward, backward


def evaluate(graph: Graph, inputs: dict | None = None) -> tuple[dict, dict]:
    """Forward and backward by the schedule: ({name: value}, {name: gradient of the output})."""
    values = {**graph.inputs, **(inputs or {})}
    for name, rule, args in graph.ops:
        values[name] = float(RULES[rule][0](*(values[a] for a in args)))
    grads = {name: 0.0 for name in values}
    grads[graph.output] = float(graph.seed)
    ops = {name: (rule, args) for name, rule, args in graph.ops}
    for name, i in schedule(graph)[1][1:]:
        rule, args = ops[name]
        grads[args[i]] += RULES[rule][1](*(values[a] for a in args))[i] * grads[name]
    return values, grads


def export(graph: Graph) -> dict:
    """The graph as JSON-ready data: nodes, edges, rules, and Python's values and gradients."""
    values, grads = evaluate(graph)
    nodes = [{"id": n, "label": graph.label(n), "kind": "input", "value": values[n], "grad": grads[n]}
             for n in graph.inputs]  # fmt: skip
    nodes += [{"id": n, "label": graph.label(n), "kind": "op", "rule": rule, "args": list(args),
               "value": values[n], "grad": grads[n]} for n, rule, args in graph.ops]  # fmt: skip
    return {
        "title": graph.title,
        "of": graph.of,
        "seed": graph.seed,
        "seed_note": graph.seed_note,
        "output": graph.output,
        "nodes": nodes,
        "edges": [[a, n] for n, _, args in graph.ops for a in args],
    }


def figure(panels, *, digits: int = 3, trim: bool = False, label: str = "step-through graph") -> dict:
    """One figure: several graphs (panels) side by side, stepped together.

    digits: decimals shown; trim: drop trailing zeros (−8 rather than −8.00).
    """
    if isinstance(panels, Graph):
        panels = [panels]
    return {"label": label, "digits": digits, "trim": trim, "panels": [export(p) for p in panels]}


def static_html(config: dict) -> str:
    """The placeholder that stepper.js turns into the figure (the data rides in an attribute)."""
    data = html.escape(json.dumps(config, separators=(",", ":"), allow_nan=False), quote=True)
    fallback = "This step-through figure needs JavaScript; the graphs above show the same numbers."
    return f'<div class="bp-stepper" data-config="{data}"><p>{html.escape(fallback)}</p></div>'


# -- the chapters' graphs ----------------------------------------------------------------------
def trace_graph(trace, inputs: dict, labels: dict | None = None, *, title: str = "", of: str = "y") -> Graph:
    """An evaluation trace of bpcourse.autodiff (the computational-graphs chapter) as a Graph."""
    return Graph(title=title, inputs=dict(inputs), ops=[(n, op, tuple(args)) for n, op, args in trace],
                 of=of, labels=dict(labels or {}))  # fmt: skip


def gate_panels(x: float, y: float, z: float, w: float, tie: float = 1.0) -> list[Graph]:
    """The three gates of gates.example_circuit, f = 2 (x y + max(z, w)), each on its own with
    the gradient the circuit sends it, and a max gate with a tie (seed 1: the shares themselves).
    m is max(z, w), s = xy + m."""
    ex = gates.example_circuit(x, y, z, w)
    note = "from the ×2 gate"
    return [
        Graph(
            "add distributes",
            {"xy": ex["xy"], "m": ex["max"]},
            [("s", "add", ("xy", "m"))],
            seed=ex["ds"],
            seed_note=note,
        ),
        Graph("max routes", {"z": z, "w": w}, [("m", "max", ("z", "w"))], seed=ex["dm"], seed_note="from the + gate"),
        Graph("mul swaps", {"x": x, "y": y}, [("xy", "mul", ("x", "y"))], seed=ex["dxy"], seed_note="from the + gate"),
        Graph("max with a tie", {"z": tie, "w": tie}, [("m", "max", ("z", "w"))]),
    ]


def tanh(t: Tensor) -> Tensor:
    """tanh of a bpcourse.engine Tensor, built with the engine's own unary-operation machinery
    (local gradient 1 - tanh^2), for the engine chapter's neuron."""
    out = np.tanh(t.data)
    return t._unary(out, 1.0 - out**2, "tanh")


def tensor_graph(out: Tensor, names: dict, *, title: str = "", of: str = "o") -> Graph:
    """The graph an engine Tensor was computed from, as a Graph (scalars only).

    names: {name: Tensor} for every leaf and for any intermediate worth naming; other
    intermediates are called n1, n2, ... in forward order. The operations' rules come from the
    tensors' own `_op` (see ENGINE_OPS).
    """
    by_id = {id(t): n for n, t in names.items()}
    inputs, ops, count = {}, [], 0
    for node in out._topological_order():
        if node.data.shape != ():
            raise ValueError(f"the stepper draws scalar graphs; a node has shape {node.data.shape}")
        if not node._prev:
            if id(node) not in by_id:
                raise ValueError(f"a leaf with value {float(node.data):g} has no name: add it to `names`")
            inputs[by_id[id(node)]] = float(node.data)
            continue
        if node._op not in ENGINE_OPS:
            raise ValueError(f"the stepper has no rule for the engine's {node._op!r}")
        if id(node) not in by_id:
            count += 1
            by_id[id(node)] = f"n{count}"
        ops.append((by_id[id(node)], ENGINE_OPS[node._op], tuple(by_id[id(c)] for c in node._prev)))
    # the leaves in the order the caller named them, the operations as early as the caller named
    # them (the engine's own order is a valid one, but may compute x2 w2 before x1 w1)
    rank = {n: i for i, n in enumerate(names)}
    known, ordered, pending = set(inputs), [], sorted(ops, key=lambda op: rank.get(op[0], len(rank)))
    while pending:
        ready = next(op for op in pending if all(a in known for a in op[2]))
        pending.remove(ready)
        ordered.append(ready)
        known.add(ready[0])
    leaves = [n for n in names if n in inputs]
    return Graph(title=title, inputs={n: inputs[n] for n in leaves}, ops=ordered, of=of)
