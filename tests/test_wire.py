"""wire.py and the judge's name analysis, without processes: object arrays, frames refused before
parsing, text cleaned for the notebook, and which names a cell binds (judge_env.bound_names)."""

from __future__ import annotations

import json
import socket
import struct
import sys
import threading

import numpy as np
import pytest

from tests.conftest import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "autograder" / "engine" / "sandboxed"))  # as in the sandboxes: top-level modules
import judge_env  # noqa: E402
import wire  # noqa: E402


def no_handles(obj):
    return {"h": 1}


def refuse(tag, ident):
    raise wire.WireError("no handle expected")


@pytest.mark.parametrize(
    "array",
    [
        np.frompyfunc(lambda t: t * 0.5, 1, 1)(np.arange(6.0).reshape(2, 3)),  # np.float64 items
        np.array([1, 2.5, True, 3], dtype=object),
        np.array(7.25, dtype=object),
    ],
)
def test_object_arrays_of_numbers_cross_as_data(array):
    encoded = wire.encode(array, no_handles)
    assert set(encoded) == {"o"}
    decoded = wire.decode(json.loads(json.dumps(encoded)), refuse)
    assert type(decoded) is np.ndarray and decoded.dtype == object and decoded.shape == array.shape
    assert all(type(item) in (bool, int, float) for item in decoded.ravel().tolist())
    assert np.array_equal(decoded.astype(float), array.astype(float))


def test_an_object_array_holding_anything_else_stays_a_handle_and_is_refused_as_data():
    assert wire.encode(np.array([1.0, object()], dtype=object), no_handles) == {"h": 1}
    for items in ([1.0, {"h": 3}], [1.0, "text"], [1.0, [2.0]], [2**70]):
        with pytest.raises(wire.WireError):
            wire.decode({"o": [[len(items)], items]}, refuse)
    with pytest.raises(wire.WireError):
        wire.decode({"o": [[3], [1.0, 2.0]]}, refuse)  # fewer items than its shape


def frame(body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + body


def send_later(sock, data: bytes) -> threading.Thread:
    thread = threading.Thread(target=sock.sendall, args=(data,), daemon=True)
    thread.start()
    return thread


def test_a_frame_of_many_small_values_is_refused_before_it_is_parsed(monkeypatch):
    ours, theirs = socket.socketpair()
    parsed = []
    monkeypatch.setattr(wire.json, "loads", lambda raw: parsed.append(raw) or [])
    body = b"[" + b"{}," * (wire.MAX_STRUCTURE // 2 + 1) + b"{}]"
    sender = send_later(theirs, frame(body))
    with pytest.raises(wire.WireError, match="more than"):
        wire.Connection(ours).receive()
    assert parsed == []
    sender.join()
    ours.close(), theirs.close()


def test_honest_frames_pass_the_count():
    ours, theirs = socket.socketpair()
    handles = [{"h": i} for i in range(100_000)]  # a 100,000-node chain's handles: 200,000 counted bytes
    sender = send_later(theirs, frame(json.dumps(handles).encode()))
    assert len(wire.Connection(ours).receive()) == 100_000
    sender.join()
    ours.close(), theirs.close()


def test_text_is_cleaned_escaped_and_cut():
    assert wire.clean_text("a\ud800b") == "a\\ud800b"
    assert wire.clean_text("nul\x00 esc\x1b ok\tline\n") == "nul\\x00 esc\\x1b ok\tline\n"
    assert wire.clean_text("é ü 中") == "é ü 中"
    long = wire.clean_text("x" * 50_000 + "\nshort")
    assert long.endswith("\nshort") and "40000 more characters" in long and len(long) < 11_000
    cleaned = wire.clean_strings([{"text": "\udcff", "n": 1}])
    assert cleaned == [{"text": "\\udcff", "n": 1}]
    json.dumps(cleaned, ensure_ascii=False).encode("utf-8")


def test_bound_names_finds_every_kind_of_global_binding():
    source = """
import numpy as np, os.path
from math import exp as _exp
a = b = 1
c += 1
d: int = 2
for e, (f, g) in []:
    pass
with open("x") as h:
    pass
try:
    pass
except Exception as i:
    pass
if (j := 3):
    pass
def k(x, y=(l := 4)):
    global m
    n = 5
class o:
    p = 6
[q for q in range(3)]
[(r := t) for t in range(3)]
lambda s: s
"""
    assert judge_env.bound_names(source) == set("abcdefghijklmor") | {"np", "os", "_exp"}
    assert judge_env.bound_names("this is not python(") == set()
