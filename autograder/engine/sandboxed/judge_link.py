"""The proxies of student objects in the judge, and the requests they make through the link.

`Link` (a judge_process.StudentProcess) turns a test's use of a student object into a request:
calls, attributes, items, conversions and comparisons wait for the answer; arithmetic operators
are pipelined (sent without waiting, their result stays in the student's process under a handle
the judge names). `Remote` is a student object in a test: every use of it goes through the link.
"""

from __future__ import annotations

import time

import wire
import wire_values
from judge_process import StudentProcess
from judge_protocol import ENDED, CellTimeout, NeedsCallback, StudentGone, student_outputs

HUNG = "your function {} timed out in an earlier test: see the first (it is not called again in this notebook)"


class Link(StudentProcess):
    """Requests about student values: call, getattr, setattr, operators, items, conversions, names, cells."""

    def op(self, op: str, args: list, name: str | None = None):
        """A request about student values: call, getattr, setattr, binary, unary, getitem, setitem, convert.

        A hang costs one limit: a call of a student's function (by its global name) that ran past
        the cell's limit, having run at least half of it itself (not a fast function that a test's
        long loop happened to be calling), marks the function; every later call of it in this
        submission fails at once, without a request (HUNG). The other functions are called as usual.
        """
        function = args[0]._origin if op == "call" and type(args[0]) is Remote else None
        if function in self.hung:
            raise StudentGone(HUNG.format(function))
        self.ensure()  # a restart first, so that the arguments are checked against the new process
        arrays: list = []
        self.sent_handles = {}
        message = {"op": op, "args": self.encode(args, arrays)}
        sent, self.sent_handles = self.sent_handles, {}
        if name is not None:
            message["name"] = name
        started = time.monotonic()
        try:
            return self.request(message, arrays=arrays, sent=sent)
        except StudentGone as gone:
            ran = time.monotonic() - started
            if function is not None and str(gone) == self._too_long() and ran >= self.judge.limits["cell_timeout"] / 2:
                self.hung.add(function)
            raise

    def pipelined(self, op: str, args: list, name: str):
        """An operator on student objects, sent without waiting: its result stays in the student's
        process under a handle we choose (an error, too: it is raised where the result is next used).

        A chain of 100,000 operations then costs no round trip, and few system calls: the requests
        are queued and go out together, with the next request that waits for an answer (or when
        wire.QUEUED bytes are waiting). Operators whose arguments include a test's function fall
        back to a plain request.
        """
        self.ensure()
        try:
            encoded = wire_values.encode(args, self._handle_without_callbacks)
        except NeedsCallback:
            return self.op(op, args, name)
        finally:
            self.sent_handles = {}  # no in-place change comes back from an operator
        ident, self.next_promise = self.next_promise, self.next_promise - 1
        try:
            self.sock.queue(self._stamped({"op": op, "args": encoded, "name": name, "as": ident}))
        except CellTimeout:  # the student's process stopped reading: it is stuck in earlier work
            raise self.fail(self._too_long()) from None
        except wire.Closed:
            raise self.fail(ENDED) from None
        return Remote(self, ident)

    def _handle_without_callbacks(self, obj):
        if type(obj) is not Remote and callable(obj):
            raise NeedsCallback()
        return self.handle_of(obj)

    def names(self, wanted: list[str]) -> dict:
        """The student's current values of these globals (a proxy remembers the name it was read by)."""
        found = self.request({"op": "names", "names": wanted})
        if type(found) is not dict:
            raise self.fail("your code sent something that is not plain data (names)")
        for name, value in found.items():
            if type(value) is Remote and name in wanted:
                object.__setattr__(value, "_origin", name)
        return found

    def run_cell(self, source: str, index: int) -> list:
        message = {"op": "run", "source": source, "cell": index}
        outputs = self.request(dict(message))
        self.replay.append(message)
        return student_outputs(outputs)

    # -- values --------------------------------------------------------------------------------
    def encode(self, value, arrays: list):
        return wire_values.encode(value, self.handle_of, arrays)

    def handle_of(self, obj):
        if type(obj) is Remote:
            if obj._generation != self.generation:
                raise StudentGone("an object your code made before it was restarted is gone")
            self.sent_handles[obj._ident] = obj
            return {"h": obj._ident}
        if callable(obj):
            ident, self.next_callback = self.next_callback, self.next_callback + 1
            self.callbacks[ident] = obj
            return {"c": ident}
        raise TypeError(f"a test passed a {type(obj).__name__} to student code, which only takes plain data")

    def resolve(self, tag: str, ident: int):
        if tag == "r":
            raise wire.WireError("a reference where none can be")
        if tag == "h":
            return Remote(self, ident)
        if ident in self.callbacks:  # the student handed back a function of the test's
            return self.callbacks[ident]
        raise wire.WireError("an unknown function")

    def release(self, remote: Remote) -> None:
        if remote._generation == self.generation and not self.broken:
            self.releases.append(remote._ident)


def _binary(name: str, reflected: bool = False, pipelined: bool = True):
    send = "pipelined" if pipelined else "op"
    if reflected:
        return lambda self, other: getattr(self._link, send)("binary", [other, self], name)
    return lambda self, other: getattr(self._link, send)("binary", [self, other], name)


def _unary(name: str):
    return lambda self: self._link.pipelined("unary", [self], name)


def _convert(kind: str, result_type: type):
    def convert(self):
        value = self._link.op("convert", [self], kind)
        if type(value) is not result_type:
            raise TypeError(f"{kind}() of an object of your code gave a {type(value).__name__}, not a {kind}")
        return value

    return convert


class Remote:
    """A student object, seen from the judge: every use is a request to the student's process.

    Arithmetic operators (+ - * / ** @ ..., unary minus) are pipelined (Link.pipelined): their
    result is always a Remote, read through its attributes (`(a * b).data`), as the exercises do.
    """

    __slots__ = ("_link", "_ident", "_generation", "_origin", "__weakref__")
    # How messages name it, in the student's words (`type(x).__name__` reads the same, without "an"):
    # a value the student's code made that is not plain data (a number, an array, a list ...).
    _kind_for_messages = "an object of your code"
    # numpy defers to the reflected operators: array + remote and array @ remote call __radd__ and
    # __rmatmul__ (one request), instead of making an object array of one request per entry
    __array_ufunc__ = None

    def __init__(self, link: Link, ident: int):
        object.__setattr__(self, "_link", link)
        object.__setattr__(self, "_ident", ident)
        object.__setattr__(self, "_generation", link.generation)
        object.__setattr__(self, "_origin", None)  # the student's global name it was read by, if any

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):  # protocols (numpy's __array_interface__ ...) stay local
            raise AttributeError(name)
        return self._link.op("getattr", [self, name])

    def __setattr__(self, name, value):
        self._link.op("setattr", [self, name, value])

    def __call__(self, *args, **kwargs):
        return self._link.op("call", [self, list(args), kwargs])

    def __getitem__(self, key):
        return self._link.op("getitem", [self, key])

    def __setitem__(self, key, value):
        self._link.op("setitem", [self, key, value])

    def __iter__(self):
        return iter(_convert("list", list)(self))

    def __del__(self):
        try:
            self._link.release(self)
        except Exception:  # noqa: BLE001 - at interpreter exit
            pass

    __hash__ = object.__hash__
    __bool__ = _convert("bool", bool)
    __float__ = _convert("float", float)
    __int__ = _convert("int", int)
    __index__ = _convert("int", int)
    __len__ = _convert("len", int)
    __repr__ = _convert("repr", str)
    __str__ = _convert("str", str)
    __contains__ = _binary("contains", pipelined=False)
    __neg__, __pos__, __abs__, __invert__ = (_unary(n) for n in ("neg", "pos", "abs", "invert"))
    # comparisons answer at once: their results decide branches in the test
    __eq__, __ne__, __lt__, __le__, __gt__, __ge__ = (
        _binary(n, pipelined=False) for n in ("eq", "ne", "lt", "le", "gt", "ge")
    )


for _name in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and_", "or_", "xor", "lshift",
              "rshift"):  # fmt: skip
    _dunder = _name.rstrip("_")
    setattr(Remote, f"__{_dunder}__", _binary(_name))
    setattr(Remote, f"__r{_dunder}__", _binary(_name, reflected=True))
Remote.__name__ = Remote.__qualname__ = "object of your code"  # what `got {type(x).__name__}` says
