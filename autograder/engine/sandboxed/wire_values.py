"""The values inside wire.py's frames: plain data, encoded on either side, decoded strictly by the judge.

    None, bool, int, float, str          as JSON
    list                                 a JSON array
    tuple                                {"t": [items]}
    dict                                 {"d": [[key, value], ...]}   (keys: hashable data)
    numpy array (numeric or bool dtype)  {"b": [dtype, shape, offset, size]}  -> a plain ndarray
                                         (its bytes, raw, in the frame's data part: wire.py)
    numpy scalar (same dtypes)           {"n": [dtype, base64 bytes]}
    object array of plain numbers        {"o": [shape, [items]]}  (items: bool, int, float only)
    a student object                     {"h": id}   (a handle: it stays in the student's process)
    a judge function                     {"c": id}   (a callback: it stays in the judge's process)

No pickle, no code, no subclasses; sizes, nesting depth and the number of items are bounded. On
decoding, an array's dtype must be one of DTYPES, its size exactly its shape times its dtype's
size, and its bytes inside the frame's data part. Text from the student's side is cleaned here
too (clean_text), so that any string can be shown in a notebook, a page or a file.
"""

from __future__ import annotations

import base64
import math

from wire import MAX_FRAME, Raw, WireError

MAX_DEPTH = 64  # nesting of lists, tuples and dicts
MAX_ITEMS = 4_000_000  # values in one message, array elements counted as one value each
MAX_OBJECT_ITEMS = 1_000_000  # entries of an object-dtype array (each crosses as a JSON value)
DTYPES = {  # numeric and bool dtypes only, little-endian or byte-order free
    "|b1", "|i1", "<i2", "<i4", "<i8", "|u1", "<u2", "<u4", "<u8", "<f2", "<f4", "<f8", "<c8", "<c16",
}  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Values: encoding (either side) and strict decoding (the judge)


def encode(value, handle_of, track: list | None = None, refs: dict | None = None, depth: int = 0):
    """JSON-ready form of `value`; `handle_of(obj)` gives the tagged form of anything not data.

    track: if given, receives every list, dict and ndarray encoded, in order (a call's arguments,
    whose in-place changes come back). refs: {id(container): position} of containers the other
    side already has; those are sent as {"r": position} (an in-place change that keeps them).
    """
    kind = type(value)
    if value is None or kind in (bool, int, float, str):
        return value
    if depth >= MAX_DEPTH:
        raise ValueError(f"value nested more than {MAX_DEPTH} deep")
    if refs and depth and id(value) in refs:  # the container itself (depth 0) is sent by value
        return {"r": refs[id(value)]}
    if kind is list:
        if track is not None:
            track.append(value)
        return [encode(item, handle_of, track, refs, depth + 1) for item in value]
    if kind is tuple:
        return {"t": [encode(item, handle_of, track, refs, depth + 1) for item in value]}
    if kind is dict:
        if track is not None:
            track.append(value)
        return {"d": [[encode(k, handle_of, track, refs, depth + 1), encode(v, handle_of, track, refs, depth + 1)]
                      for k, v in value.items()]}  # fmt: skip
    numpy = _numpy()
    if numpy is not None:
        if isinstance(value, numpy.ndarray) and _dtype_name(value.dtype) in DTYPES:
            if track is not None:
                track.append(value)
            if kind is not numpy.ndarray:  # a subclass crosses as its data, nothing of its methods
                value = numpy.ndarray.view(value, numpy.ndarray)
            return Raw(_dtype_name(value.dtype), list(value.shape), numpy.ascontiguousarray(value).tobytes())
        if isinstance(value, numpy.ndarray) and value.dtype.kind == "O" and value.size <= MAX_OBJECT_ITEMS:
            items = [_plain_number(item, numpy) for item in value.ravel().tolist()]
            if all(type(item) in (bool, int, float) for item in items):
                if track is not None:
                    track.append(value)
                return {"o": [list(value.shape), items]}
        if isinstance(value, numpy.generic) and kind.__module__ == "numpy" and _dtype_name(value.dtype) in DTYPES:
            return {"n": [_dtype_name(value.dtype), base64.b64encode(value.tobytes()).decode()]}
    return handle_of(value)


def _plain_number(item, numpy):
    """A numpy bool, integer or float scalar as the Python number it holds; anything else as it is."""
    if isinstance(item, numpy.generic) and type(item).__module__ == "numpy" and item.dtype.kind in "biuf":
        return item.item()
    return item


def decode(message, resolve, track: list | None = None, *, limit=MAX_ITEMS, data: bytes = b""):
    """Rebuild plain values from parsed JSON; `resolve(tag, id)` turns {"h"|"c"|"r": id} into objects.

    Raises WireError for anything that is not exactly one of the documented forms. `track`, if
    given, receives every list, dict and array decoded, in the order `encode` tracked them.
    `data`: the data part of the frame the message came in (Connection.data), its arrays' bytes.
    """
    return _decode(message, resolve, 0, [limit, data], track)


def _decode(node, resolve, depth, budget, track=None):
    budget[0] -= 1
    if budget[0] < 0:
        raise WireError("too many values in one message")
    kind = type(node)
    if node is None or kind in (bool, int, float, str):
        if kind is int and node.bit_length() > 64:
            raise WireError("an integer with more than 64 bits")
        return node
    if depth >= MAX_DEPTH:
        raise WireError(f"a value nested more than {MAX_DEPTH} deep")
    if kind is list:
        result = []
        if track is not None:
            track.append(result)
        result.extend(_decode(item, resolve, depth + 1, budget, track) for item in node)
        return result
    if kind is not dict or len(node) != 1:
        raise WireError("not a value")
    ((tag, body),) = node.items()
    if tag == "t" and type(body) is list:
        return tuple(_decode(item, resolve, depth + 1, budget, track) for item in body)
    if tag == "d" and type(body) is list:
        result = {}
        if track is not None:
            track.append(result)
        for pair in body:
            if type(pair) is not list or len(pair) != 2:
                raise WireError("a dict entry is not a pair")
            key = _decode(pair[0], resolve, depth + 1, budget, track)
            if not _hashable_data(key):
                raise WireError("a dict key is not a number, string or tuple of them")
            result[key] = _decode(pair[1], resolve, depth + 1, budget, track)
        return result
    if tag == "b" and type(body) is list and len(body) == 4:
        array = _decode_raw(*body, budget=budget)
        if track is not None:
            track.append(array)
        return array
    if tag == "n" and type(body) is list and len(body) == 2:
        array = _decode_array(body[0], [], body[1], budget=budget)
        return array[()]  # a numpy scalar of exactly that dtype
    if tag == "o" and type(body) is list and len(body) == 2:
        array = _decode_objects(*body, budget=budget)
        if track is not None:
            track.append(array)
        return array
    if tag in ("h", "c", "r") and type(body) is int:
        return resolve(tag, body)
    raise WireError("not a value")


def _check_dtype_and_shape(dtype, shape):
    if type(dtype) is not str or dtype not in DTYPES:
        raise WireError(f"an array of dtype {str(dtype)[:20]!r} (only numeric and bool arrays cross)")
    if type(shape) is not list or len(shape) > 32 or any(type(n) is not int or not 0 <= n <= MAX_FRAME for n in shape):
        raise WireError("an array with an invalid shape")


def _decode_raw(dtype, shape, offset, size, *, budget):
    """An array from the frame's data part: `size` bytes at `offset`, exactly its shape's worth."""
    _check_dtype_and_shape(dtype, shape)
    if type(offset) is not int or type(size) is not int or offset < 0 or size < 0:
        raise WireError("an array with an invalid place in its message")
    numpy = _numpy()
    count, dt = math.prod(shape), numpy.dtype(dtype)
    if count * dt.itemsize != size:
        raise WireError("an array whose size does not match its shape")
    data = budget[1]
    if offset + size > len(data):
        raise WireError("an array larger than its message's data")
    budget[0] -= count
    if budget[0] < 0:
        raise WireError("too many values in one message")
    return numpy.frombuffer(data, dtype=dt, count=count, offset=offset).reshape(shape).copy()  # plain, writable


def _decode_array(dtype, shape, data, *, budget):
    """A numpy scalar's bytes, in base64 ("n")."""
    numpy = _numpy()
    _check_dtype_and_shape(dtype, shape)
    if type(data) is not str:
        raise WireError("an array without data")
    try:
        raw = base64.b64decode(data, validate=True)
    except ValueError:
        raise WireError("an array whose data is not base64") from None
    count = math.prod(shape)
    dt = numpy.dtype(dtype)
    if count * dt.itemsize != len(raw):
        raise WireError("an array whose data does not match its shape")
    budget[0] -= count
    if budget[0] < 0:
        raise WireError("too many values in one message")
    return numpy.frombuffer(raw, dtype=dt).reshape(shape).copy()  # a plain, writable ndarray


def _decode_objects(shape, items, *, budget):
    """An object-dtype array of plain Python numbers (bool, int, float): nothing else may be inside."""
    numpy = _numpy()
    if type(shape) is not list or len(shape) > 32 or any(type(n) is not int or n < 0 for n in shape):
        raise WireError("an array with an invalid shape")
    if type(items) is not list or len(items) != math.prod(shape) or len(items) > MAX_OBJECT_ITEMS:
        raise WireError("an array whose items do not match its shape")
    budget[0] -= len(items)
    if budget[0] < 0:
        raise WireError("too many values in one message")
    for item in items:
        kind = type(item)
        if kind not in (bool, int, float) or (kind is int and item.bit_length() > 64):
            raise WireError("an object array holding something other than numbers")
    array = numpy.empty(len(items), dtype=object)
    array[:] = items
    return array.reshape(shape)


def _hashable_data(key) -> bool:
    if key is None or type(key) in (bool, int, float, str):
        return True
    if type(key) is tuple:
        return all(_hashable_data(k) for k in key)
    numpy = _numpy()
    return numpy is not None and isinstance(key, numpy.generic)


def _dtype_name(dtype) -> str:
    return dtype.str if dtype.kind in "biufc" else ""


_np = []


def _numpy():
    """numpy if this process has it (always, in practice), imported once."""
    if not _np:
        try:
            import numpy
        except ImportError:  # pragma: no cover - the course's environment has numpy
            numpy = None
        _np.append(numpy)
    return _np[0]


# ---------------------------------------------------------------------------------------------
# Text from the student's side: any string is shown, never breaks a notebook, a page or a file

_ESCAPED = {i: f"\\x{i:02x}" for i in range(32) if chr(i) not in "\t\n\r"}
_ESCAPED[0x7F] = "\\x7f"
MAX_LINE = 10_000  # characters of one line of a student's text kept in the graded notebook


def clean_text(text: str, limit: int | None = None, line_limit: int = MAX_LINE) -> str:
    """`text` that encodes as UTF-8 and holds no control character (they are shown escaped:
    a lone surrogate as \\udc80, NUL as \\x00), with lines longer than `line_limit` cut and
    the whole cut at `limit` characters; each cut says how much was dropped."""
    if type(text) is not str:
        text = str(text)
    if limit is not None and len(text) > limit:
        text = text[:limit] + f"\n... {len(text) - limit} more characters dropped ...\n"
    if not text.isascii() or not text.isprintable():
        text = text.encode("utf-8", "backslashreplace").decode("utf-8").translate(_ESCAPED)
    if len(text) > line_limit and any(len(line) > line_limit for line in text.split("\n")):
        text = "\n".join(
            line if len(line) <= line_limit else line[:line_limit] + f" ... ({len(line) - line_limit} more characters)"
            for line in text.split("\n")
        )
    return text


def clean_strings(node, limit: int | None = None):
    """Every string inside a JSON-like value (dicts, lists) cleaned (clean_text), in a new value."""
    if type(node) is str:
        return clean_text(node, limit)
    if type(node) is list:
        return [clean_strings(item, limit) for item in node]
    if type(node) is dict:
        return {clean_text(str(key)): clean_strings(value, limit) for key, value in node.items()}
    return node
