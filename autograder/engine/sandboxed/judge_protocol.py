"""What the judge receives from the student's process, and how it reads it: nothing but decoded data.

The student's replies (wire.py frames) carry values, an exception's description, in-place changes
of the test's containers, and calls of the test's own functions. This module decides what each
may be: a malformed one is a protocol error (the student's process is replaced), an exception
becomes an ordinary exception of that name (StudentError), a change touches only the test's own
lists, dicts and arrays and only with data, a callback is called with data only.
"""

from __future__ import annotations

import wire
import wire_values

ENDED = "your code ended its own process (exit, crash, or a resource limit)"
OUTPUT_LIMIT = 20_000  # characters of printed text kept per cell (Limits.output_bytes, when given)
WHERE_LIMIT = 300  # characters of the student's line quoted with an exception of theirs
# Exceptions of student code arrive as these types too (plus StudentError), so that a test that
# expects one (a FloatingPointError inside _quietly, an AttributeError from getattr) sees it.
KNOWN_ERRORS = {
    cls.__name__: cls
    for cls in (
        ArithmeticError, FloatingPointError, OverflowError, ZeroDivisionError, ValueError, TypeError, IndexError,
        KeyError, AttributeError, NotImplementedError, RuntimeError, RecursionError, MemoryError, NameError,
        UnboundLocalError, LookupError, Warning, RuntimeWarning, UserWarning, DeprecationWarning,
    )
}  # fmt: skip


class StudentError(Exception):
    """An exception raised by student code (its type name and message, nothing else of it)."""

    def __str__(self):  # what a test's message quotes: the student's message, as in Jupyter
        return self.args[1] if len(self.args) == 2 else super().__str__()


class StudentAbort(StudentError):
    """Student code raised SystemExit, KeyboardInterrupt or another non-Exception.

    An ordinary Exception here: a test's `except Exception` sees it as it sees any other error of
    the student's code (a BaseException would skip the test's handler and leave its names unbound).
    """


class StudentGone(BaseException):
    """The student's process timed out, ended or sent garbage: this cell fails, later ones go on."""


class CellTimeout(BaseException):
    """A locked cell ran past its time limit (the judge's own alarm)."""


class NeedsCallback(Exception):
    """An operator's arguments include a test's function: it cannot be pipelined."""


def student_error(described) -> BaseException | None:
    """The exception a test sees for a student's [type name, message, is-an-Exception(, where)]; None if malformed."""
    if (
        type(described) is not list
        or len(described) not in (3, 4)
        or type(described[0]) is not str
        or type(described[1]) is not str
        or type(described[2]) is not bool
        or (len(described) == 4 and type(described[3]) is not str)
    ):
        return None
    name, message, is_exception = described[0][:100], described[1][:2000], described[2]
    if len(described) == 4 and described[3]:
        # where in the student's own code it was raised: their function, cell, line and its text
        message = f"{message} [raised {described[3][:WHERE_LIMIT]}]".lstrip()
    if not is_exception:
        return named_error(StudentAbort, name)(name, message)
    known = KNOWN_ERRORS.get(name)
    if known is None:
        return named_error(StudentError, name)(name, message)
    return error_class(known)(name, message)


def write_back(changes, containers: list, sent: dict, data: bytes = b"") -> None:
    """Make the in-place changes the student's code made to lists, dicts and arrays a test passed."""
    if not changes:
        return
    if type(changes) is not list:
        raise wire.WireError("in-place changes that are not a list")

    foreign: list[str] = []  # what the student tried to put in that is not data

    def resolve(tag, ident):
        if tag == "r":
            if not 0 <= ident < len(containers):
                raise wire.WireError("a reference to an unknown argument")
            return containers[ident]
        if tag == "h" and ident in sent:  # an object the test itself put there, moved around
            return sent[ident]
        foreign.append("object" if tag == "h" else "function")
        return None

    decoded = []
    for change in changes:
        if type(change) is not list or len(change) != 2 or type(change[0]) is not int:
            raise wire.WireError("an in-place change that is not [position, contents]")
        if not 0 <= change[0] < len(containers):
            raise wire.WireError("an in-place change of an unknown argument")
        target, new = containers[change[0]], wire_values.decode(change[1], resolve, data=data)
        if type(new) is not type(target):
            raise wire.WireError("an in-place change of the wrong type")
        if foreign:  # nothing of this call's changes is made: only data flows into a test's values
            kind = {list: "list", dict: "dict"}.get(type(target), "array")
            raise error_class(TypeError)(
                "TypeError",
                f"your function put one of its own objects into the test's {kind} argument: "
                "put numbers or arrays there",
            )
        decoded.append((target, new))
    for target, new in decoded:
        if type(target) is list:
            target[:] = new
        elif type(target) is dict:
            target.clear()
            target.update(new)
        elif new.shape == target.shape and new.dtype == target.dtype and target.flags.writeable:
            target[...] = new


def serve_callback(link, request: dict) -> None:
    """The student's code called a function the test passed to it: call it here, send the result."""
    called = request.get("args")
    if type(called) is not list or len(called) != 3 or type(called[0]) is not dict:
        raise wire.WireError("a malformed call of the test's function")
    # checked before its arguments are decoded: an expired function costs the judge nothing
    if type(called[0].get("c")) is not int or called[0]["c"] not in link.callbacks:
        link.sock.send({"err": "an expired function: the test that passed it has ended"})
        return
    objects: list = []

    def resolve(tag, ident):  # a test's function is given data only, never an object of the student's
        if tag == "h":
            objects.append(ident)
            return None
        return link.resolve(tag, ident)

    try:
        target, args, kwargs = wire_values.decode(called, resolve, data=link.sock.data)
        if not callable(target) or type(args) is not list or type(kwargs) is not dict:
            raise wire.WireError("a malformed call of the test's function")
        if not all(type(k) is str for k in kwargs):
            raise wire.WireError("a malformed call of the test's function")
    except (wire.WireError, TypeError, ValueError) as error:
        raise wire.WireError(str(error)) from None
    if objects:
        link.sock.send({"err": "an object of your code as an argument: pass it numbers or arrays"})
        return
    try:
        result = target(*args, **kwargs)
        reply = {"ok": link.encode(result, [])}
    except (StudentGone, CellTimeout):
        raise
    except Exception as error:  # noqa: BLE001 - the student sees only the type of what went wrong
        reply = {"err": type(error).__name__}
    link.sock.send(reply)


error_classes: dict[type, type] = {}


def error_class(known: type) -> type:
    """StudentError that is also a `known` builtin exception (made once per type)."""
    if known not in error_classes:
        error_classes[known] = type(known.__name__, (StudentError, known), {})
    return error_classes[known]


_named: dict[tuple[type, str], type] = {}


def named_error(base: type, name: str) -> type:
    """A subclass of `base` that bears the student's exception's name (`type(e).__name__` in a
    test's message then says "SystemExit" or "MyError", never a class of ours)."""
    key = (base, name if name.isidentifier() else "Error")
    if key not in _named:
        if len(_named) >= 256:  # a student inventing names by the thousand
            return base
        _named[key] = type(key[1], (base,), {"__module__": "builtins"})
    return _named[key]


def student_outputs(outputs) -> list:
    """The outputs of a student cell, rebuilt by the judge from what the student's process sent."""
    rebuilt = []
    for output in outputs if type(outputs) is list else []:
        if type(output) is not dict:
            continue
        kind, text = output.get("output_type"), output.get("text")
        if kind == "stream" and type(text) is str:
            rebuilt.append({"output_type": "stream", "name": "stdout", "text": text[:OUTPUT_LIMIT]})
        elif kind == "execute_result" and type(text) is str:
            rebuilt.append(
                {"output_type": "execute_result", "execution_count": None, "metadata": {},
                 "data": {"text/plain": text[:10000]}}
            )  # fmt: skip
        elif kind == "error" and type(output.get("ename")) is str and type(output.get("evalue")) is str:
            lines = output.get("traceback")
            lines = [line[:2000] for line in lines[-20:] if type(line) is str] if type(lines) is list else []
            rebuilt.append(
                {"output_type": "error", "ename": output["ename"][:100], "evalue": output["evalue"][:2000],
                 "traceback": lines}
            )  # fmt: skip
    return rebuilt


def clean_outputs(outputs: list) -> list:
    """Every text of a cell's outputs, cleaned (wire_values.clean_text): it encodes, shows, and is bounded."""
    try:
        return wire_values.clean_strings(outputs)
    except RecursionError:  # not from our own outputs, which are flat
        return []
