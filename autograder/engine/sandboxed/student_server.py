"""The student's answers to the judge's requests: run a cell, look up names, use a value.

A `Server` reads one request at a time (wire.py frames), does it under the test's numpy rules,
and answers with plain data: values by handle or by copy, the in-place changes a call made to
the test's lists, dicts and arrays, an exception's description. Calls of the test's functions
go back to the judge as requests of their own (`Callback`).
"""

from __future__ import annotations

import builtins
import operator
import os
import sys

import wire
import wire_values
from student_env import OUTPUT_LIMIT, Capture, Shell, describe, run_cell, test_environment

BINARY = {name: getattr(operator, name) for name in (
    "add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and_", "or_", "xor", "lshift", "rshift",
    "eq", "ne", "lt", "le", "gt", "ge", "contains",
)}  # fmt: skip
UNARY = {"neg": operator.neg, "pos": operator.pos, "abs": operator.abs, "invert": operator.invert}


class Callback:
    """A function of the judge's, passed to student code: calling it asks the judge to call it."""

    __slots__ = ("_id", "_server")

    def __init__(self, ident, server):
        self._id, self._server = ident, server

    def __call__(self, *args, **kwargs):
        return self._server.callback(self._id, args, kwargs)

    def __repr__(self):
        return "<function passed by the test>"


class Server:
    """One student process's loop: requests in, answers out, until the judge closes the socket."""

    def __init__(self, sock: wire.Connection):
        self.sock = sock
        self.handles: dict[int, object] = {}
        self.next_handle = 1
        self.namespace = {"__name__": "__main__", "__builtins__": builtins, "get_ipython": Shell}
        self.pending_out = ""  # printed by pipelined operators, sent with the next reply
        self.pid = os.getpid()
        self.received: dict[int, int] = {}  # id(object) -> the judge's handle for it, during one request
        self.reusing = False  # True while changed() encodes: objects the judge sent keep its handles

    # -- the loop ------------------------------------------------------------------------------
    def serve(self) -> None:
        while True:
            try:
                self.receive_and_answer()
            except wire.WireError:
                return

    def receive_and_answer(self):
        """Answer the next request; return the next message that is not one (a callback's reply)."""
        message = self.sock.receive()
        if "op" not in message:
            return message
        if "as" in message:  # a pipelined operator: keep its result (or error) under the judge's handle
            self.pending_out += self.answer(message, keep_as=message["as"])
        else:
            reply = self.answer(message)
            if os.getpid() != self.pid:  # a process the student's code forked: it never answers
                os._exit(0)
            self.sock.send(reply)
        return None

    def answer(self, message: dict, keep_as=None):
        for ident in message.get("rel", ()):
            self.handles.pop(ident, None)
        capture = Capture()
        saved = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = capture
        env = message.get("env")
        try:
            if env:
                with test_environment(env):
                    reply = self.dispatch(message, keep_as)
            else:  # the test's defaults (most requests): no context to enter
                reply = self.dispatch(message, keep_as)
        except BaseException as error:  # noqa: BLE001 - anything the student's code raised
            if keep_as is not None:
                self.handles[keep_as] = _Failed(error)
            reply = {"err": describe(error, where=message.get("op") != "run")}
        finally:
            sys.stdout, sys.stderr = saved
        if keep_as is not None:
            return capture.text()
        reply["out"], self.pending_out = (self.pending_out + capture.text())[: 2 * OUTPUT_LIMIT], ""
        return reply

    def dispatch(self, message: dict, keep_as=None) -> dict:
        op = message["op"]
        if op == "run":
            cell = message.get("cell")
            name = f"<cell {cell + 1}>" if type(cell) is int and cell >= 0 else "<cell>"
            return {"ok": self.encode(run_cell(self.namespace, message["source"], name))}
        if op == "names":
            found = {name: self.namespace[name] for name in message["names"] if name in self.namespace}
            return {"ok": self.encode(found)}
        containers: list = []  # the lists, dicts and arrays passed in, as the judge numbered them
        self.received = {}
        value = self.decode(message.get("args", []), containers)
        if keep_as is not None:  # a pipelined operator: no in-place change comes back from it
            self.handles[keep_as] = apply(op, message.get("name"), value)
            return {}
        before = [_snapshot(c, containers) for c in containers]
        result = apply(op, message.get("name"), value)
        changed = self.changed(containers, before)
        self.received = {}
        return {"ok": self.encode(result), "w": changed}

    # -- values --------------------------------------------------------------------------------
    def encode(self, value):
        return wire_values.encode(value, self.handle_of)

    def handle_of(self, obj):
        if isinstance(obj, Callback):
            return {"c": obj._id}
        if self.reusing and id(obj) in self.received:  # the judge's own proxy of it, in an in-place change
            return {"h": self.received[id(obj)]}
        ident = self.next_handle
        self.next_handle += 1
        self.handles[ident] = obj
        return {"h": ident}

    def decode(self, message, containers: list):
        def resolve(tag, ident):
            if tag == "h":
                found = self.handles[ident]
                if type(found) is _Failed:  # the result of a pipelined operator that raised
                    raise found.error
                self.received[id(found)] = ident
                return found
            if tag == "c":
                return Callback(ident, self)
            raise ValueError("a reference where none can be")

        return wire_values.decode(message, resolve, containers, data=self.sock.data)

    def changed(self, containers: list, before: list) -> list:
        """The containers passed in that the call changed in place: [[position, new contents], ...].

        Inside a changed list or dict, a container that was passed in too is sent as a reference
        to it ({"r": position}), so the judge keeps its own object (and its own changes).
        """
        if not containers:
            return []
        refs = {id(c): i for i, c in enumerate(containers)}
        # an object the judge passed in keeps the judge's handle (it may move it); anything new gets
        # a new handle, which the judge refuses inside its own containers
        self.reusing = True
        try:
            return [
                [i, wire_values.encode(c, self.handle_of, refs=refs)]
                for i, c in enumerate(containers)
                if _snapshot(c, containers) != before[i]
            ]
        finally:
            self.reusing = False

    def callback(self, ident: int, args: tuple, kwargs: dict):
        """Ask the judge to call its function `ident`; serve the judge's own requests meanwhile."""
        self.sock.send({"op": "callback", "args": [{"c": ident}, self.encode(list(args)), self.encode(kwargs)]})
        while True:
            message = self.receive_and_answer()
            if message is None:
                continue
            if "err" in message:
                error = str(message["err"])[:200]
                if error.startswith("an expired function"):
                    raise RuntimeError(
                        "the test's function cannot be called any more: the test that passed it has ended"
                    )
                if error.startswith("an object of your code"):
                    raise TypeError(f"the test's function was given {error}")
                raise RuntimeError(f"the test's function raised {error}")
            return self.decode(message.get("ok"), [])


def apply(op: str, name, value):
    """Do what a request asks of the student's values (decoded): call, getattr, setattr, operators, items."""
    if op == "call":
        target, args, kwargs = value
        result = target(*args, **kwargs)
    elif op == "getattr":
        result = getattr(value[0], value[1])
    elif op == "setattr":
        setattr(value[0], value[1], value[2])
        result = None
    elif op == "binary":
        result = BINARY[name](value[0], value[1])
    elif op == "unary":
        result = UNARY[name](value[0])
    elif op == "getitem":
        result = value[0][value[1]]
    elif op == "setitem":
        value[0][value[1]] = value[2]
        result = None
    elif op == "convert":  # bool, float, int, len, repr, str, list (iteration)
        kind = name
        convert = {"bool": bool, "float": float, "int": int, "len": len, "list": list, "repr": repr, "str": str}
        result = convert[kind](value[0])
        if kind in ("repr", "str"):
            result = result[:2000]
    else:
        raise ValueError(f"unknown request {op!r}")
    return result


def _snapshot(container, containers: list):
    """What an in-place change would alter: an array's bytes, a list's or dict's entries."""
    if type(container) is list:
        return [_entry(item, containers) for item in container]
    if type(container) is dict:
        return [(_entry(k, containers), _entry(v, containers)) for k, v in container.items()]
    if container.dtype.kind == "O":  # an object array of numbers: its entries, not its pointers
        return (container.shape, [_entry(item, containers) for item in container.ravel().tolist()])
    return (container.dtype.str, container.shape, container.tobytes())


def _entry(item, containers):
    if item is None or type(item) in (bool, int, float, str):
        return (type(item), repr(item))
    return id(item)  # a container (followed on its own), a student object or a tuple


class _Failed:
    """What a pipelined operator left behind when it raised."""

    __slots__ = ("error",)

    def __init__(self, error):
        self.error = error
