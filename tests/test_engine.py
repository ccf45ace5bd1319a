"""The autograd-engine chapter's Tensor: every operation against numerical gradients, and its conventions."""

import numpy as np
import pytest

from bpcourse import vectorized
from bpcourse.engine import Tensor, one_hot, two_layer_loss
from bpcourse.gradcheck import numerical_gradient, rel_error


@pytest.fixture
def rng():
    return np.random.default_rng(9)


def relu(t):
    return t.relu() if isinstance(t, Tensor) else np.maximum(t, 0.0)


def exp(t):
    return t.exp() if isinstance(t, Tensor) else np.exp(t)


def log(t):
    return t.log() if isinstance(t, Tensor) else np.log(t)


# Expressions written once, run on Tensors (backward) and on arrays (central differences).
EXPRESSIONS = {
    "affine-relu": (lambda X, W, b: (relu(X @ W + b) * 1.5).sum(), [(4, 3), (3, 5), (5,)]),
    "column-broadcast": (lambda A, c, s: (A * c - s).mean(axis=0).sum(), [(4, 3), (4, 1), ()]),
    "sum-keepdims": (lambda A, B: (exp(A.sum(axis=1, keepdims=True) * 0.3) * B).sum(), [(3, 4), (3, 4)]),
    "fork": (lambda A, B: ((A @ B) * (A @ B) - 2.0 * (A @ B)).mean(), [(2, 3), (3, 2)]),
    "numbers-on-the-left": (
        lambda A, b: (
            (1.0 - 2.0 * A + b).relu().sum() if isinstance(A, Tensor) else np.maximum(1.0 - 2.0 * A + b, 0).sum()
        ),
        [(3, 2), (1, 2)],
    ),
}


def tensor_and_numerical_gradients(f, shapes, rng):
    arrays = [rng.normal(size=s) for s in shapes]
    tensors = [Tensor(a) for a in arrays]
    out = f(*tensors)
    out.backward()
    for i, (t, a) in enumerate(zip(tensors, arrays, strict=True)):
        others = list(arrays)

        def g(v, i=i, others=others):
            return f(*[v if j == i else o for j, o in enumerate(others)])

        yield t.grad, numerical_gradient(g, a)


@pytest.mark.parametrize("name", list(EXPRESSIONS))
def test_gradients_match_numerical_gradients(name, rng):
    f, shapes = EXPRESSIONS[name]
    for grad, numeric in tensor_and_numerical_gradients(f, shapes, rng):
        assert grad.shape == numeric.shape
        assert rel_error(grad, numeric) < 1e-6


def test_sum_over_a_negative_axis_of_a_3d_tensor(rng):
    A, w = rng.normal(size=(2, 3, 4)), rng.normal(size=(3, 2))
    At = Tensor(A)
    out = (At * At + 1.0).log().sum(axis=-1) @ Tensor(w)  # (2, 3) @ (3, 2)
    out.sum().backward()
    numeric = numerical_gradient(lambda v: (np.log(v * v + 1.0).sum(axis=-1) @ w).sum(), A)
    assert rel_error(At.grad, numeric) < 1e-6


def test_arrays_on_the_left_give_tensors(rng):
    X, W = rng.normal(size=(3, 4)), Tensor(rng.normal(size=(4, 2)))
    out = X @ W
    assert isinstance(out, Tensor) and isinstance(X + W.sum(axis=1), Tensor)
    out.sum().backward()
    assert np.allclose(W.grad, numerical_gradient(lambda v: (X @ v).sum(), W.data))


def test_relu_gradient_at_zero_is_zero():
    x = Tensor([-1.0, 0.0, 2.0])
    x.relu().sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 1.0]


def test_backward_adds_into_leaves_and_zero_grad_resets():
    a, b = Tensor([1.0, 2.0]), Tensor([3.0, -1.0])
    loss = ((a * b).exp() * a).sum()
    loss.backward()
    once = a.grad.copy()
    loss.backward()
    assert np.allclose(a.grad, 2 * once)  # leaves accumulate, intermediates start again from zero
    loss.zero_grad()
    loss.backward()
    assert np.allclose(a.grad, once)


def test_a_graph_100000_operations_deep():
    x = Tensor([0.5, -0.5])
    y = x
    for _ in range(100_000):
        y = y * 1.0 + 0.0
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]
    y.zero_grad()
    assert x.grad.tolist() == [0.0, 0.0]


def test_two_layer_network_gradients_equal_chapter_4s(rng):
    X, y = rng.normal(size=(7, 3)), rng.integers(0, 3, size=7)
    W1, W2 = rng.normal(size=(3, 5)), rng.normal(size=(5, 3))
    T1, T2 = Tensor(W1), Tensor(W2)
    loss = two_layer_loss(X, one_hot(y, 3), T1, T2)
    loss.backward()
    ref_loss, dW1, dW2 = vectorized.two_layer(X, y, W1, W2)
    assert loss.data == pytest.approx(ref_loss, rel=1e-12)
    assert rel_error(T1.grad, dW1) < 1e-12 and rel_error(T2.grad, dW2) < 1e-12
    assert rel_error(T1.grad, numerical_gradient(lambda w: vectorized.two_layer(X, y, w, W2)[0], W1)) < 1e-6


def test_large_logits_do_not_overflow():
    X = np.array([[1.0, 0.0]])
    with np.errstate(over="raise", invalid="raise"):
        loss = two_layer_loss(X, one_hot([1], 2), Tensor([[1000.0, 0.0], [0.0, 0.0]]), Tensor(np.eye(2)))
        loss.backward()
    assert loss.data == pytest.approx(1000.0)
