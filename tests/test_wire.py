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
import wire_values  # noqa: E402

MAX_ITEMS = wire_values.MAX_ITEMS


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
    encoded = wire_values.encode(array, no_handles)
    assert set(encoded) == {"o"}
    decoded = wire_values.decode(json.loads(json.dumps(encoded)), refuse)
    assert type(decoded) is np.ndarray and decoded.dtype == object and decoded.shape == array.shape
    assert all(type(item) in (bool, int, float) for item in decoded.ravel().tolist())
    assert np.array_equal(decoded.astype(float), array.astype(float))


def test_an_object_array_holding_anything_else_stays_a_handle_and_is_refused_as_data():
    assert wire_values.encode(np.array([1.0, object()], dtype=object), no_handles) == {"h": 1}
    for items in ([1.0, {"h": 3}], [1.0, "text"], [1.0, [2.0]], [2**70]):
        with pytest.raises(wire.WireError):
            wire_values.decode({"o": [[len(items)], items]}, refuse)
    with pytest.raises(wire.WireError):
        wire_values.decode({"o": [[3], [1.0, 2.0]]}, refuse)  # fewer items than its shape


def frame(body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + body


def send_later(sock, data: bytes) -> threading.Thread:
    thread = threading.Thread(target=sock.sendall, args=(data,), daemon=True)
    thread.start()
    return thread


def test_a_frame_of_many_small_values_is_refused_before_it_is_parsed(monkeypatch):
    ours, theirs = socket.socketpair()
    parsed = []
    monkeypatch.setattr(wire, "_from_json", lambda raw: parsed.append(raw) or [])
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


def data_frame(message, data: bytes, json_size: int | None = None) -> bytes:
    """A frame with a data part, made by hand (as a hostile student process could)."""
    body = json.dumps(message).encode()
    size = len(body) if json_size is None else json_size
    return struct.pack(">I", (4 + len(body) + len(data)) | wire.DATA_FLAG) + struct.pack(">I", size) + body + data


def received(data: bytes):
    """(message, its data part) as the judge's side receives `data`."""
    ours, theirs = socket.socketpair()
    sender = send_later(theirs, data)
    try:
        connection = wire.Connection(ours)
        return connection.receive(), connection.data
    finally:
        sender.join()
        ours.close(), theirs.close()


ARRAYS = [
    np.arange(12.0).reshape(3, 4),
    np.arange(12.0).reshape(3, 4)[:, ::2],  # not contiguous
    np.array(2.5),  # 0-d
    np.zeros((2, 0, 3)),  # empty
    np.array([True, False]),
    np.arange(5, dtype=np.uint8),
    np.arange(4, dtype=np.int32) - 2,
    np.array([1 + 2j, -0.5j]),
    np.array([np.inf, -np.inf, np.nan, -0.0]),
]


def test_arrays_cross_as_their_raw_bytes_in_the_frames_data_part():
    ours, theirs = socket.socketpair()
    wire.Connection(theirs).send(wire_values.encode(ARRAYS, no_handles))
    head = ours.recv(4, socket.MSG_PEEK)
    raw = b""
    while len(raw) < 4 + (struct.unpack(">I", head)[0] & ~wire.DATA_FLAG):
        raw += ours.recv(1 << 20)
    ours.close(), theirs.close()
    assert struct.unpack(">I", raw[:4])[0] & wire.DATA_FLAG
    json_size = struct.unpack(">I", raw[4:8])[0]
    data = raw[8 + json_size :]
    # every array's memory, once, verbatim (no base64, no element-by-element JSON)
    assert data == b"".join(np.ascontiguousarray(a).tobytes() for a in ARRAYS)
    message, data = received(raw)
    decoded = wire_values.decode(message, refuse, data=data)
    for got, sent in zip(decoded, ARRAYS, strict=True):
        assert type(got) is np.ndarray and got.dtype == sent.dtype and got.shape == sent.shape
        assert got.flags.writeable and got.flags.c_contiguous
        assert np.array_equal(got, sent, equal_nan=True)


@pytest.mark.parametrize(
    "array, data, error",
    [
        (["<U1", [2], 0, 8], b"a\0\0\0b\0\0\0", "dtype '<U1'"),  # text
        (["|O", [1], 0, 8], bytes(8), "dtype '|O'"),  # pointers
        ([">f8", [1], 0, 8], bytes(8), "dtype '>f8'"),  # big-endian: not on the list
        (["float64", [1], 0, 8], bytes(8), "dtype 'float64'"),  # only exact dtype strings
        (["<f8", [3], 0, 16], bytes(24), "does not match its shape"),  # 2 floats' bytes for 3
        (["<f8", [2], 0, 24], bytes(24), "does not match its shape"),
        (["<f8", [4], 0, 32], bytes(24), "larger than its message's data"),  # oversize: beyond the frame
        (["<f8", [2], 16, 16], bytes(24), "larger than its message's data"),
        (["<f8", [2], -8, 16], bytes(24), "invalid place"),
        (["<f8", [2], 0.0, 16], bytes(24), "invalid place"),
        (["<f8", [-2], 0, -16], bytes(24), "invalid shape"),
        (["<f8", [2**40, 2**40], 0, 2**83], bytes(8), "invalid shape"),
        (["|b1", [MAX_ITEMS + 1], 0, MAX_ITEMS + 1], bytes(MAX_ITEMS + 1), "too many values"),
    ],
)
def test_malformed_raw_arrays_are_refused_by_name(array, data, error):
    message, data = received(data_frame({"b": array}, data))
    with pytest.raises(wire.WireError, match=error):
        wire_values.decode(message, refuse, data=data)


def test_malformed_data_frames_are_refused():
    with pytest.raises(wire.WireError, match="larger than the limit"):  # oversize: refused before it is read
        received(struct.pack(">I", (wire.MAX_FRAME + 1) | wire.DATA_FLAG) + bytes(16))
    with pytest.raises(wire.WireError, match="parts do not match"):  # its JSON longer than the frame
        received(data_frame({"b": ["<f8", [1], 0, 8]}, bytes(8), json_size=10_000))
    with pytest.raises(wire.WireError, match="parts do not match"):
        received(struct.pack(">I", 2 | wire.DATA_FLAG) + b"[]")
    # the count of structural bytes covers the JSON, not the arrays' bytes (any bytes, commas too) ...
    message, data = received(
        data_frame({"b": ["|u1", [wire.MAX_STRUCTURE + 1], 0, wire.MAX_STRUCTURE + 1]}, b"," * (wire.MAX_STRUCTURE + 1))
    )
    assert wire_values.decode(message, refuse, data=data).sum() == ord(",") * (wire.MAX_STRUCTURE + 1)
    # ... and a data frame's JSON is counted as any other
    body = b"[" + b"{}," * (wire.MAX_STRUCTURE // 2 + 1) + b"{}]"
    with pytest.raises(wire.WireError, match="more than"):
        received(struct.pack(">I", (4 + len(body)) | wire.DATA_FLAG) + struct.pack(">I", len(body)) + body)
    # an array in a frame without a data part has no bytes to be
    message, data = received(frame(json.dumps({"b": ["<f8", [1], 0, 8]}).encode()))
    with pytest.raises(wire.WireError, match="larger than its message's data"):
        wire_values.decode(message, refuse, data=data)


def test_an_array_too_large_for_a_frame_is_not_sent():
    ours, theirs = socket.socketpair()
    with pytest.raises(wire.WireError, match="larger than"):
        wire.Connection(theirs).send(wire_values.encode(np.zeros(wire.MAX_FRAME // 8 + 1), no_handles))
    ours.setblocking(False)
    with pytest.raises(BlockingIOError):  # nothing of it went out
        ours.recv(1)
    ours.close(), theirs.close()


def test_queued_messages_go_out_with_the_next_send_in_order():
    ours, theirs = socket.socketpair()
    sender, receiver = wire.Connection(theirs), wire.Connection(ours)
    for i in range(3):
        sender.queue({"as": -i, "x": wire_values.encode(np.full(2, float(i)), no_handles)})
    ours.setblocking(False)
    with pytest.raises(BlockingIOError):  # queued: not sent yet
        ours.recv(1)
    ours.setblocking(True)
    sender.send({"op": "names"})
    for i in range(3):
        message = receiver.receive()
        assert message["as"] == -i
        assert wire_values.decode(message["x"], refuse, data=receiver.data).tolist() == [float(i)] * 2
    assert receiver.receive() == {"op": "names"}
    got = []

    def read():
        try:
            while True:
                got.append(receiver.receive())
        except wire.WireError:
            pass

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    for i in range(wire.QUEUED // 8):  # a long queue goes out by itself, before it holds too much
        sender.queue({"as": i})
        assert len(sender.queued) < wire.QUEUED
    sender.send({"op": "names"})
    theirs.close()
    reader.join(30)
    assert got == [{"as": i} for i in range(wire.QUEUED // 8)] + [{"op": "names"}]
    ours.close()


def test_text_is_cleaned_escaped_and_cut():
    assert wire_values.clean_text("a\ud800b") == "a\\ud800b"
    assert wire_values.clean_text("nul\x00 esc\x1b ok\tline\n") == "nul\\x00 esc\\x1b ok\tline\n"
    assert wire_values.clean_text("é ü 中") == "é ü 中"
    long = wire_values.clean_text("x" * 50_000 + "\nshort")
    assert long.endswith("\nshort") and "40000 more characters" in long and len(long) < 11_000
    cleaned = wire_values.clean_strings([{"text": "\udcff", "n": 1}])
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
