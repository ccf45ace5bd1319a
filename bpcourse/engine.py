"""A small reverse-mode automatic-differentiation engine on numpy arrays (the autograd-engine chapter).

`Tensor` grows exercise 02's scalar `Value` to arrays: every operation builds its output node and
a `_backward` closure that adds (local gradient x upstream gradient) into its inputs' `.grad`,
with broadcasting undone by `gates.unbroadcast`. Conventions (the exercise states the same ones):

- `Tensor(data)` stores `data` as a float64 array (a copy) and `grad` as zeros of its shape. A
  tensor made by the user is a *leaf*; the result of an operation is not.
- `out.backward()` seeds `out.grad` with ones (the gradient of `out.sum()`; call it on a scalar
  loss), resets the `.grad` of every non-leaf node of the graph to zero, and **adds** d out / d leaf
  into every leaf's `.grad`, as PyTorch does: two calls add twice. `zero_grad()` sets the `.grad`
  of a tensor and of everything it was computed from to zero.
- ReLU passes the gradient where its input is > 0 (0 at exactly 0, PyTorch's choice).
- `@` takes two 2-D operands; `sum` and `mean` take `axis` (None, an int or a tuple, negative
  allowed) and `keepdims`, as numpy does.

Nothing here is recursive, so a graph 100,000 operations deep is fine. tests/test_engine.py checks
every operation against numerical gradients; the chapter trains chapter 4's network with it.
"""

from __future__ import annotations

import numpy as np

from bpcourse.gates import unbroadcast


class Tensor:
    """A node of a computational graph holding a numpy array.

    Attributes:
    - data: float64 array of any shape S, the forward value
    - grad: float64 array of shape S, d(output)/d(data) after output.backward(); zeros before
    """

    __array_ufunc__ = None  # numpy defers to us: array + tensor calls Tensor.__radd__

    def __init__(self, data, _children=(), _op=""):
        self.data = np.array(data, dtype=np.float64)
        self.grad = np.zeros_like(self.data)
        self._prev = tuple(_children)
        self._op = _op
        self._backward = lambda: None

    @staticmethod
    def _lift(other):
        return other if isinstance(other, Tensor) else Tensor(other)

    @property
    def shape(self):
        return self.data.shape

    def _accumulate(self, contribution):
        """Add an upstream contribution (broadcast to the output's shape) into self.grad."""
        self.grad = self.grad + unbroadcast(contribution, self.data.shape)  # a new array: never aliased

    # -- operations ------------------------------------------------------------------------------
    def __add__(self, other):
        other = Tensor._lift(other)
        out = Tensor(self.data + other.data, (self, other), "+")

        def _backward():
            self._accumulate(out.grad)
            other._accumulate(out.grad)

        out._backward = _backward
        return out

    def __mul__(self, other):
        other = Tensor._lift(other)
        out = Tensor(self.data * other.data, (self, other), "*")

        def _backward():
            self._accumulate(other.data * out.grad)
            other._accumulate(self.data * out.grad)

        out._backward = _backward
        return out

    def __matmul__(self, other):
        other = Tensor._lift(other)
        if self.data.ndim != 2 or other.data.ndim != 2:
            raise ValueError(f"@ takes two 2-D tensors, got shapes {self.data.shape} and {other.data.shape}")
        out = Tensor(self.data @ other.data, (self, other), "@")

        def _backward():
            self._accumulate(out.grad @ other.data.T)  # (N, K) @ (K, M): the shape of self
            other._accumulate(self.data.T @ out.grad)  # (M, N) @ (N, K): the shape of other

        out._backward = _backward
        return out

    def _unary(self, value, local_grad, op):
        out = Tensor(value, (self,), op)

        def _backward():
            self._accumulate(local_grad * out.grad)

        out._backward = _backward
        return out

    def relu(self):
        return self._unary(np.maximum(self.data, 0.0), (self.data > 0).astype(np.float64), "relu")

    def exp(self):
        e = np.exp(self.data)
        return self._unary(e, e, "exp")

    def log(self):
        return self._unary(np.log(self.data), 1.0 / self.data, "log")

    def sum(self, axis=None, keepdims=False):
        out = Tensor(self.data.sum(axis=axis, keepdims=keepdims), (self,), "sum")

        def _backward():
            grad = out.grad
            if axis is not None and not keepdims:
                grad = np.expand_dims(grad, axis)  # put back the summed axes, with size 1
            self._accumulate(np.broadcast_to(grad, self.data.shape))  # every entry fed the sum once

        out._backward = _backward
        return out

    def mean(self, axis=None, keepdims=False):
        total = self.sum(axis=axis, keepdims=keepdims)
        return total * (total.data.size / max(self.data.size, 1))

    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-Tensor._lift(other))

    def __radd__(self, other):
        return self + other

    def __rmul__(self, other):
        return self * other

    def __rsub__(self, other):
        return Tensor._lift(other) - self

    def __rmatmul__(self, other):
        return Tensor._lift(other) @ self

    # -- the backward pass -----------------------------------------------------------------------
    def _topological_order(self):
        """Every node self depends on, each after all of its inputs (an explicit stack, no recursion)."""
        order, visited, stack = [], set(), [(self, False)]
        while stack:
            node, inputs_done = stack.pop()
            if inputs_done:
                order.append(node)
            elif id(node) not in visited:
                visited.add(id(node))
                stack.append((node, True))
                stack.extend((child, False) for child in node._prev if id(child) not in visited)
        return order

    def backward(self):
        """Add d(self.sum())/d(leaf) into every leaf's .grad; non-leaf nodes get this call's gradient."""
        order = self._topological_order()
        for node in order:
            if node._prev:
                node.grad = np.zeros_like(node.data)  # intermediate results start again from zero
        self.grad = self.grad + np.ones_like(self.data)
        for node in reversed(order):
            node._backward()

    def zero_grad(self):
        """Set the .grad of this tensor and of every tensor it was computed from to zero."""
        for node in self._topological_order():
            node.grad = np.zeros_like(node.data)

    def __repr__(self):
        return f"Tensor(data={self.data!r}, grad={self.grad!r})"


def traced_backward(out):
    """out.backward(), one node at a time, recording what each node's _backward adds to its inputs.

    The same steps as Tensor.backward (reset the non-leaf gradients, seed out.grad with ones, call
    each node's _backward in reverse topological order). Returns a list with one entry per node that
    has inputs, in the order backward visits them: (node, node.grad when its _backward ran,
    [(input, what it added to input.grad), ...]).
    """
    order = out._topological_order()
    for node in order:
        if node._prev:
            node.grad = np.zeros_like(node.data)
    out.grad = out.grad + np.ones_like(out.data)
    steps = []
    for node in reversed(order):
        if not node._prev:
            continue
        inputs = list(dict.fromkeys(node._prev))  # an input used twice (x * x) is listed once
        before = [child.grad.copy() for child in inputs]
        node._backward()
        steps.append(
            (node, node.grad.copy(), [(child, child.grad - b) for child, b in zip(inputs, before, strict=True)])
        )
    return steps


def two_layer_loss(X, Y, W1, W2):
    """Chapter 4's network on Tensors: cross-entropy of relu(X W1) W2.

    Inputs:
    - X: array (N, D); Y: one-hot labels, array (N, C)
    - W1: Tensor (D, H); W2: Tensor (H, C)

    Returns the mean loss, a Tensor of shape ();
    loss.backward() fills W1.grad and W2.grad.
    """
    logits = (X @ W1).relu() @ W2  # (N, C)
    # a constant row maximum: the softmax does not change
    shifted = logits - logits.data.max(axis=1, keepdims=True)
    log_sum_exp = shifted.exp().sum(axis=1).log()  # (N,)
    return (log_sum_exp - (shifted * Y).sum(axis=1)).mean()


def one_hot(y, classes):
    """Integer labels y of shape (N,) as an (N, classes) array of 0s and 1s."""
    return np.eye(classes)[np.asarray(y)]
