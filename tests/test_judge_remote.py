"""The judge's proxy of a student object (`judge_link.Remote`) with numpy arrays on the other side.

A test writes `X @ W` or `M - t` with X, M numpy arrays and W, t student tensors. numpy must defer
to the proxy's reflected operator (one request to the student's process carrying the array), not
treat the proxy as a scalar and build an object array of one request per entry.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

from tests.conftest import REPO_ROOT

# the judge's modules import each other and wire as top-level modules, as in its sandbox
sys.path.insert(0, str(REPO_ROOT / "autograder" / "engine" / "sandboxed"))
import judge_link  # noqa: E402


class RecordingLink:
    """Stands in for judge_link.Link: records the operators sent, answers each with a new proxy."""

    generation = 0

    def __init__(self):
        self.sent = []

    def pipelined(self, op, args, name):
        self.sent.append((op, name, [type(a).__name__ for a in args]))
        return judge_link.Remote(self, len(self.sent))

    def release(self, remote):
        pass


@pytest.mark.parametrize(
    ("expression", "name"),
    [(lambda a, r: a @ r, "matmul"), (lambda a, r: a + r, "add"), (lambda a, r: a - r, "sub"),
     (lambda a, r: a * r, "mul"), (lambda a, r: np.float64(2.0) * r, "mul")],
)  # fmt: skip
def test_an_array_on_the_left_sends_one_reflected_operator(expression, name):
    link = RecordingLink()
    remote = judge_link.Remote(link, 1)
    result = expression(np.ones((2, 2)), remote)
    assert type(result) is judge_link.Remote
    assert len(link.sent) == 1
    op, sent_name, types = link.sent[0]
    assert (op, sent_name) == ("binary", name)
    # the array (or number) first, as written
    assert types[1] == judge_link.Remote.__name__ and types[0] in ("ndarray", "float64")
