"""What crosses between the student's process and the judge: frames, and the errors of reading them.

Both sides import this file and wire_values.py (the sandboxes bind wire*.py beside student*.py and
judge*.py); the grader imports only this one, to speak the same frames to the judge. Only the
judge's reading matters: the student's side is under the student's control, so whatever it sends
is treated as hostile bytes (wire_values.decode rebuilds plain data from them and nothing else).

A frame is a 4-byte big-endian length and that many bytes of UTF-8 JSON. A frame that carries
arrays has the length's top bit set (DATA_FLAG) and its body is a 4-byte length of its JSON, the
JSON, then the arrays' bytes, each array's JSON naming its place (offset) and size in them: an
array crosses as one copy of its memory, never element by element nor re-encoded as text. The
whole frame is bounded (MAX_FRAME). Before a frame is parsed, its length and its JSON's count of
structural bytes ('[', '{' and ',', counted in C) are checked: a 64 MB frame of `[{},{},...]` is
refused before `json.loads` builds 16 million dicts. Messages that need no answer (pipelined
operators) can be queued and sent with the next one, in one system call.
"""

from __future__ import annotations

import json
import socket
import struct
import time

MAX_FRAME = 64 * 1024 * 1024  # bytes in one message (a 1 GB array does not cross)
# '[', '{' and ',' bytes in one frame, counted before parsing: json.loads costs about 100 bytes of
# memory per such byte at worst ([{},{},...]), so a frame costs at most ~100 MB more than its
# size. Honest frames are far below: a list of 100,000 handles has 200,000.
MAX_STRUCTURE = 1_000_000
HEADER = struct.Struct(">I")
DATA_FLAG = 0x80000000  # in a frame's length: the frame has a data part (arrays' bytes) after its JSON
QUEUED = 256 * 1024  # bytes of queued messages (pipelined operators) sent in one system call at most


class Raw:
    """An array's bytes in an encoded message: placed in the frame's data part when it is sent."""

    __slots__ = ("dtype", "shape", "data")

    def __init__(self, dtype: str, shape: list, data: bytes):
        self.dtype, self.shape, self.data = dtype, shape, data


_parts: list = []  # the data part of the frame being made (Connection._frame), as its pieces
_placed = [0]  # its size so far


def _place_raw(value):
    """The JSON encoder's hook for what is not JSON: an array's bytes go to the data part."""
    if type(value) is not Raw:
        raise TypeError(f"a {type(value).__name__} is not data")
    offset = _placed[0]
    _parts.append(value.data)
    _placed[0] += len(value.data)
    return {"b": [value.dtype, value.shape, offset, len(value.data)]}


def _json_coders():
    """JSON text of a message, and a message of JSON text, with the C encoder and scanner made once
    (json.dumps and json.loads set them up again for every message: most of a small one's cost).
    No check for cycles: messages are built by `encode`, which copies, bounded in depth."""
    from json import decoder, encoder, scanner

    plain = json.JSONEncoder(separators=(",", ":"), check_circular=False, default=_place_raw)
    make = getattr(encoder, "c_make_encoder", None)
    try:
        # the arguments JSONEncoder.iterencode passes (markers, default, encoder, indent, separators,
        # sort_keys, skipkeys, allow_nan), checked against the plain encoder below
        fast = make(None, _place_raw, encoder.encode_basestring_ascii, None, ":", ",", False, False, True)
        probe = [1, -2.5, float("inf"), "é\n", {"k": [None, True]}]
        if "".join(fast(probe, 0)) != plain.encode(probe):
            raise TypeError
        to_json = lambda value: "".join(fast(value, 0))  # noqa: E731
    except TypeError:  # pragma: no cover - a Python without the C encoder, or another signature
        to_json = plain.encode
    scan = getattr(scanner, "c_make_scanner", scanner.py_make_scanner)(decoder.JSONDecoder())

    def from_json(text: str):
        try:
            value, end = scan(text, 0)
        except StopIteration:
            value, end = None, -1
        if end != len(text):  # leading or trailing whitespace, or not JSON: json.loads decides
            value = json.loads(text)
        return value

    return to_json, from_json


_to_json, _from_json = _json_coders()


class WireError(Exception):
    """The other side sent something that is not a well-formed message of plain data."""


class Closed(WireError):
    """The other side closed the connection (its process ended)."""


class Deadline(WireError):
    """No message arrived in time."""


# ---------------------------------------------------------------------------------------------
# Framing


class Connection:
    """Framed messages over a stream socket.

    buffered=True reads ahead (one system call per message, usually); a socket that also carries
    file descriptors (the judge's channel to the grader) must be read exactly (buffered=False).
    A deadline of None blocks (the judge bounds its waits with an alarm instead: fewer calls).
    """

    def __init__(self, sock: socket.socket, *, buffered: bool = True):
        self.sock, self.buffered, self.buffer = sock, buffered, bytearray()
        self.queued = bytearray()  # frames waiting to be sent (queue)
        self.data = b""  # the data part of the last message received (its arrays' bytes): decode(data=...)
        self._timeout = "unset"

    def fileno(self) -> int:
        return self.sock.fileno()

    def close(self) -> None:
        self.sock.close()

    def send(self, message) -> None:
        """Send `message`, after every queued one, in one system call."""
        frame = self._frame(message)
        if self.queued:
            frame, self.queued = self.queued + frame, bytearray()
        self._sendall(frame)

    def queue(self, message) -> None:
        """Send `message` later, with the next one sent (or once QUEUED bytes wait): a message
        that needs no answer (a pipelined operator) then costs no system call and no wake-up of
        the other process of its own. Messages keep their order."""
        self.queued += self._frame(message)
        if len(self.queued) >= QUEUED:
            self.flush()

    def flush(self) -> None:
        if self.queued:
            frame, self.queued = self.queued, bytearray()
            self._sendall(frame)

    def _frame(self, message) -> bytes:
        _parts.clear()
        _placed[0] = 0
        try:
            data = _to_json(message).encode()
            if not _parts:
                if len(data) > MAX_FRAME:
                    raise WireError(f"a message of {len(data)} bytes is larger than {MAX_FRAME}")
                return HEADER.pack(len(data)) + data
            size = HEADER.size + len(data) + _placed[0]
            if size > MAX_FRAME:
                raise WireError(f"a message of {size} bytes is larger than {MAX_FRAME}")
            return b"".join([HEADER.pack(size | DATA_FLAG), HEADER.pack(len(data)), data, *_parts])
        finally:
            _parts.clear()

    def _sendall(self, frame) -> None:
        self._set_timeout(None)
        try:
            self.sock.sendall(frame)
        except OSError as error:
            raise Closed(f"connection lost ({error})") from None

    def receive(self, deadline: float | None = None):
        """The next message as parsed JSON (not yet decoded into values).

        A Deadline leaves what arrived so far in the buffer: the next call goes on from there.
        Queued messages are sent first: the answer may depend on them.
        """
        self.flush()
        self._have(HEADER.size, deadline)
        size = HEADER.unpack(self.buffer[: HEADER.size])[0]
        flagged, size = size & DATA_FLAG, size & ~DATA_FLAG
        if size > MAX_FRAME:
            raise WireError(f"a message of {size} bytes is larger than the limit of {MAX_FRAME}")
        self._have(HEADER.size + size, deadline)
        buffer, start, end = self.buffer, HEADER.size, HEADER.size + size
        self.data = b""
        if flagged:  # [JSON's length][JSON][data]
            json_size = HEADER.unpack(buffer[start : start + HEADER.size])[0] if size >= HEADER.size else -1
            if not 0 <= json_size <= size - HEADER.size:
                del buffer[:end]
                raise WireError("a message whose parts do not match its length")
            start += HEADER.size
            self.data = bytes(buffer[start + json_size : end])
            end = start + json_size
        # counted in place, no copy
        structure = buffer.count(b"[", start, end) + buffer.count(b"{", start, end) + buffer.count(b",", start, end)
        if structure > MAX_STRUCTURE:
            del buffer[: HEADER.size + size]
            raise WireError(f"a message of more than {MAX_STRUCTURE} values")
        raw = buffer[start:end]
        del buffer[: HEADER.size + size]
        try:
            return _from_json(raw.decode())
        except (ValueError, RecursionError) as error:
            raise WireError(f"not a well-formed message ({type(error).__name__})") from None

    def _have(self, size: int, deadline: float | None) -> None:
        while len(self.buffer) < size:  # (read ahead: usually there already)
            want = max(65536, size - len(self.buffer)) if self.buffered else size - len(self.buffer)
            self._fill(min(want, 1 << 22), deadline)

    def _fill(self, want: int, deadline: float | None) -> None:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise Deadline("no answer in time")
            self._set_timeout(remaining)
        else:
            self._set_timeout(None)
        try:
            chunk = self.sock.recv(want)
        except TimeoutError:
            raise Deadline("no answer in time") from None
        except OSError as error:
            raise Closed(f"connection lost ({error})") from None
        if not chunk:
            raise Closed("the other process ended")
        self.buffer += chunk

    def _set_timeout(self, timeout) -> None:
        if timeout is None and self._timeout is None:
            return
        self.sock.settimeout(timeout)
        self._timeout = timeout
