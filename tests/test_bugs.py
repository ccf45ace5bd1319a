"""The chapter's bug catalogue shows what it says: every fixed backward pass agrees with central
differences, every buggy one is caught by the check (and the ReLU-at-0 entry is a false alarm)."""

import numpy as np
import pytest

from bpcourse import bugs
from bpcourse.gradcheck import check_errors, grad_check, numerical_gradient, rel_error

REAL_BUGS = [make for make in bugs.CATALOGUE if make is not bugs.relu_at_zero]


@pytest.mark.parametrize("make", REAL_BUGS, ids=lambda m: m.__name__)
def test_fixed_version_matches_numerical_gradient(make):
    case = make()
    assert rel_error(case.fixed(case.x), numerical_gradient(case.loss, case.x)) < 1e-6


@pytest.mark.parametrize("make", REAL_BUGS, ids=lambda m: m.__name__)
def test_buggy_version_fails_the_check(make):
    case = make()
    with np.errstate(all="ignore"):
        errors = grad_check(case.loss, case.x, case.buggy(case.x))
    assert not np.all(errors <= 1e-4), "the check should expose the bug"


def test_unstable_softmax_gives_nan_where_exp_overflows():
    case = bugs.unstable_softmax()
    with np.errstate(all="ignore"):
        assert np.isnan(case.buggy(case.x)).any()
    assert np.isfinite(case.fixed(case.x)).all()


def test_relu_at_zero_is_a_false_alarm_that_one_sided_differences_explain():
    case = bugs.relu_at_zero()
    zeros = case.x == 0
    for grad in (case.buggy, case.fixed):
        central, forward, backward = check_errors(case.loss, case.x, grad(case.x))
        assert np.all(central[zeros] > 0.49) and np.all(central[~zeros] < 1e-8)
        assert np.all(np.minimum(forward, backward) < 1e-8)


def test_two_layer_bug_shows_in_w1_but_lives_in_layer_two():
    net = bugs.two_layer()
    W1, W2 = net["W1"], net["W2"]
    dW1, dW2 = net["grads"](W1, W2)
    assert grad_check(lambda W: net["loss"](W, W2), W1, dW1).max() > 1e-2
    assert grad_check(lambda W: net["loss"](W1, W), W2, dW2).max() < 1e-6
    loss1, grad1 = net["layer1"]
    assert grad_check(loss1, W1, grad1(W1)).max() < 1e-6
    h, loss2, dh = net["layer2"]
    assert grad_check(loss2, h, dh(h)).max() > 1e-2
    fixed = bugs.two_layer(buggy_second=False)
    dW1, _ = fixed["grads"](W1, W2)
    assert grad_check(lambda W: fixed["loss"](W, W2), W1, dW1).max() < 1e-6
