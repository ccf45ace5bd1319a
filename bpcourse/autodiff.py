"""Forward and reverse mode on an evaluation trace (a Wengert list), and the cost of each.

The computational-graphs chapter uses these to print the primal, tangent and adjoint traces of
y = ln(x1) + x1*x2 - sin(x2) (Baydin et al., 2018, Tables 2 and 3) and to count the work each
mode does. A trace is a list of steps (name, operation, argument names); every operation knows
its value and its local partial derivatives.
"""

from __future__ import annotations

import math

# op -> (value of the arguments, local partial derivative with respect to each argument)
OPERATIONS = {
    "ln": (lambda a: math.log(a), lambda a: (1.0 / a,)),
    "sin": (lambda a: math.sin(a), lambda a: (math.cos(a),)),
    "mul": (lambda a, b: a * b, lambda a, b: (b, a)),
    "add": (lambda a, b: a + b, lambda a, b: (1.0, 1.0)),
    "sub": (lambda a, b: a - b, lambda a, b: (1.0, -1.0)),
}
SYMBOL = {"ln": "ln {}", "sin": "sin {}", "mul": "{} × {}", "add": "{} + {}", "sub": "{} − {}"}

# y = ln(x1) + x1 * x2 - sin(x2), inputs v_-1 = x1 and v_0 = x2
EXAMPLE = [
    ("v1", "ln", ("v-1",)),
    ("v2", "mul", ("v-1", "v0")),
    ("v3", "sin", ("v0",)),
    ("v4", "add", ("v1", "v2")),
    ("v5", "sub", ("v4", "v3")),
]
EXAMPLE_INPUTS = ("v-1", "v0")


def primal(trace, inputs: dict) -> dict:
    """Evaluate the trace: {name: value} for the inputs and every step."""
    values = dict(inputs)
    for name, op, args in trace:
        values[name] = OPERATIONS[op][0](*(values[a] for a in args))
    return values


def tangents(trace, inputs: dict, seeds: dict) -> dict:
    """Forward mode: {name: d(name)/d(seeded direction)}; one pass per seed direction."""
    values, dots = primal(trace, inputs), dict(seeds)
    for name, op, args in trace:
        partials = OPERATIONS[op][1](*(values[a] for a in args))
        dots[name] = sum(p * dots[a] for p, a in zip(partials, args, strict=True))
    return dots


def adjoints(trace, inputs: dict) -> dict:
    """Reverse mode: {name: d(output)/d(name)} for every node, in one backward pass."""
    values = primal(trace, inputs)
    bars = {name: 0.0 for name in values}
    bars[trace[-1][0]] = 1.0
    for name, op, args in reversed(trace):
        partials = OPERATIONS[op][1](*(values[a] for a in args))
        for p, a in zip(partials, args, strict=True):
            bars[a] += p * bars[name]  # a fork receives one contribution per use
    return bars


def describe(step) -> str:
    """'v2 = v-1 × v0' for a trace step."""
    name, op, args = step
    return f"{name} = " + SYMBOL[op].format(*args)


TEX_SYMBOL = {"ln": r"\ln {}", "sin": r"\sin {}", "mul": r"{} \times {}", "add": "{} + {}", "sub": "{} - {}"}


def tex(name: str, accent: str = "") -> str:
    """A trace name as TeX: tex("v-1") is "v_{-1}", tex("v-1", r"\bar") is "\bar v_{-1}"."""
    return (accent + " " if accent else "") + f"v_{{{name[1:]}}}"


def describe_tex(step) -> str:
    """'$v_{2} = v_{-1} \times v_{0}$' for a trace step: the row of a rendered table."""
    name, op, args = step
    return f"${tex(name)} = " + TEX_SYMBOL[op].format(*(tex(a) for a in args)) + "$"


def matrix_chain_cost(dims: list[int], order: str) -> int:
    """Multiplications to form the Jacobian J_k ... J_2 J_1 of a chain of functions.

    dims = [n, d1, ..., dk]: function i maps R^dims[i-1] -> R^dims[i], so J_i is dims[i] x dims[i-1].
    order="forward" multiplies from the input side (J_2 J_1 first), as forward mode does;
    order="reverse" from the output side (J_k J_{k-1} first), as reverse mode does.
    """
    if order == "forward":
        cost, cols = 0, dims[0]
        for i in range(1, len(dims) - 1):  # (dims[i+1] x dims[i]) @ (dims[i] x cols)
            cost += dims[i + 1] * dims[i] * cols
        return cost
    if order == "reverse":
        cost, rows = 0, dims[-1]
        for i in range(len(dims) - 2, 0, -1):  # (rows x dims[i]) @ (dims[i] x dims[i-1])
            cost += rows * dims[i] * dims[i - 1]
        return cost
    raise ValueError("order is 'forward' or 'reverse'")
