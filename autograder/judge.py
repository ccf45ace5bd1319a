"""The judge: runs the locked cells (grading helpers, visible and hidden tests) and decides each one.

Started once per grading worker inside its own bubblewrap sandbox (see sandbox.py) as a zygote
that imports numpy once and forks one judge per submission. No student code ever runs here: the
student's definitions are reached through proxies (`Remote`) whose every use is a request to the
student's process (student.py) over a socket, answered with plain data (wire.py). The verdict of
a test cell is whether the cell raised, decided here and sent only to the grader.

Per submission, over the channel to the grader:
    grader -> judge  {"cells": [{"index", "kind": "student"|"locked", "source"}], "limits", "preamble"}
                     and the student's socket (a file descriptor, SCM_RIGHTS)
    judge -> grader  {"cell": index, "outputs": [...]} per code cell, in notebook order
                     {"restart": true} when the student's process must be replaced (a new socket follows)
                     {"done": true, "seconds": {...}}

    python judge.py zygote FD
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import json
import os
import resource
import signal
import socket
import sys
import time
import traceback
import warnings

import wire

ENDED = "your code ended its own process (exit, crash, or a resource limit)"
MAX_RESTARTS = 4  # student processes replaced per submission after a timeout or crash
OUTPUT_LIMIT = 20_000  # characters of printed text kept per cell (Limits.output_bytes, when given)
JUDGE_MEMORY = 1536 * 1024**2  # address space of a judge (Limits.judge_memory_bytes, when given)
WHERE_LIMIT = 300  # characters of the student's line quoted with an exception of theirs
BUILTIN_NAMES = frozenset(dir(builtins))
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


# ---------------------------------------------------------------------------------------------
# The zygote


def zygote(control_fd: int) -> None:
    import math  # noqa: F401 - what the grading helpers import, once, before any fork
    import random  # noqa: F401

    import numpy  # noqa: F401
    import numpy.random  # noqa: F401 - numpy imports it lazily: 20 ms in every judge otherwise (measured)

    control = socket.socket(fileno=control_fd)
    while True:
        _reap()
        try:
            data, fds, _flags, _addr = socket.recv_fds(control, 65536, 4)
        except OSError:
            return
        if not data:
            return
        request = json.loads(data)
        if "fork" in request:
            pid = os.fork()
            if pid == 0:
                control.close()
                try:
                    Judge(wire.Connection(socket.socket(fileno=fds[0]), buffered=False)).run()
                except BaseException:  # noqa: BLE001 - a bug of ours: the grader reports the submission failed
                    traceback.print_exc()
                finally:
                    os._exit(0)
            for fd in fds:
                os.close(fd)
            control.sendall(json.dumps({"pid": pid}).encode())
        elif "kill" in request:
            try:
                os.kill(int(request["kill"]), signal.SIGKILL)
                os.waitpid(int(request["kill"]), 0)
            except (ProcessLookupError, ChildProcessError):
                pass
            control.sendall(b'{"killed": true}')


def _reap() -> None:
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


# ---------------------------------------------------------------------------------------------
# One submission


class Judge:
    def __init__(self, channel: wire.Connection):
        self.channel = channel
        self.namespace = Namespace(self)
        self.student_values: dict[str, object] = {}  # fetched during the current cell
        self.limits: dict = {}  # the job's, once it arrives
        self.printed: list[str] = []
        self.printed_size = 0
        self.locked_names: set[str] = set()  # names any locked cell binds: never the student's
        self.student_names: set[str] = set()  # names the student's cells define at top level

    def run(self) -> None:
        started = time.monotonic()
        job = self.channel.receive()
        self.limits = job["limits"]
        memory = int(self.limits.get("judge_memory_bytes") or JUDGE_MEMORY)
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))  # a MemoryError fails the cell that asked
        for cell in job["cells"]:
            names = bound_names(cell["source"])
            (self.student_names if cell["kind"] == "student" else self.locked_names).update(names)
        self.link = Link(self, self._receive_socket())
        self.link.start(job.get("preamble", ""))
        for cell in job["cells"]:
            if cell["kind"] == "student":
                outputs = self.run_student_cell(cell["index"], cell["source"])
            else:
                outputs = self.run_locked_cell(cell["index"], cell["source"])
            self.channel.send({"cell": cell["index"], "outputs": _clean_outputs(outputs)})
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        self.channel.send({"done": True, "seconds": {"judge": time.monotonic() - started}, "judge_peak_bytes": peak})

    def _receive_socket(self) -> wire.Connection:
        _data, fds, _flags, _addr = socket.recv_fds(self.channel.sock, 1, 1)
        if not fds:
            raise RuntimeError("the grader sent no socket")
        return wire.Connection(socket.socket(fileno=fds[0]))

    def new_student(self) -> wire.Connection:
        """Ask the grader for a fresh student process (the old one is killed) and its socket."""
        self.channel.send({"restart": True})
        return self._receive_socket()

    # -- printed text --------------------------------------------------------------------------
    def add_output(self, text) -> None:
        if type(text) is not str or not text:
            return
        limit = self.limits.get("output_bytes", OUTPUT_LIMIT)
        room = limit - self.printed_size
        if room > 0:
            self.printed.append(text[:room])
        self.printed_size += len(text)

    def take_output(self) -> list:
        text = "".join(self.printed)
        limit = self.limits.get("output_bytes", OUTPUT_LIMIT)
        if self.printed_size > limit:
            text += f"\n... {self.printed_size - limit} more characters of output dropped ...\n"
        self.printed, self.printed_size = [], 0
        return [{"output_type": "stream", "name": "stdout", "text": text}] if text else []

    # -- cells ---------------------------------------------------------------------------------
    def run_student_cell(self, index: int, source: str) -> list:
        """Run an answer cell (or another unlocked cell) in the student's process."""
        try:
            with alarm(self.limits["cell_timeout"]):
                outputs = self.link.run_cell(source, index)
        except (StudentGone, StudentError) as error:
            return self.take_output() + [_error_output(*_describe(error, self.limits["cell_timeout"]))]
        finally:
            self.link.expire_callbacks()  # a test's function passed earlier is no longer callable
        return self.take_output() + outputs

    def run_locked_cell(self, index: int, source: str) -> list:
        """Run a locked cell here; it fails if and only if it raises."""
        error = None
        timeout = self.limits["cell_timeout"]
        saved = sys.stdout, sys.stderr
        try:
            with alarm(timeout):
                code = compile(source, f"<cell {index}>", "exec")
                self.student_values = {}  # each cell sees the student's current definitions
                sys.stdout = sys.stderr = _Capture(self)
                exec(code, self.namespace)
        except BaseException as raised:  # noqa: BLE001 - whatever the cell raised is its verdict
            error = _describe(raised, timeout)
        finally:
            sys.stdout, sys.stderr = saved
            self.link.expire_callbacks()  # the cell's functions, passed to student code, end with it
        return self.take_output() + ([_error_output(*error)] if error else [])

    def student_value(self, name: str):
        """The student's current value of a global the judge does not define (KeyError: none).

        Only a name that the student's cells define at top level and that no locked cell binds
        (nor any name starting with "_"): a test's own name whose cell failed before binding it
        stays unbound (a NameError), it is never answered by the student.
        """
        if name.startswith("_") or name in self.locked_names or name not in self.student_names:
            raise KeyError(name)
        if name not in self.student_values:
            found = self.link.names([name])
            if name not in found:
                raise KeyError(name)
            self.student_values[name] = found[name]
        return self.student_values[name]


class Namespace(dict):
    """The judge's globals: its own names first, then the builtins, then the student's names.

    A name the locked cells never defined is looked up in the student's process when it is read
    (by a test cell, or by a function an earlier test cell defined), so it is always the
    student's current definition. CPython reads globals through __missing__ when they are a
    dict subclass; builtins are answered here without asking, so they cannot be shadowed.
    """

    def __init__(self, judge: Judge):
        super().__init__(__name__="__main__", __builtins__=builtins)
        self._judge = judge

    def __missing__(self, name):
        if name in BUILTIN_NAMES or name.startswith("__"):
            raise KeyError(name)
        return self._judge.student_value(name)


def bound_names(source: str) -> set[str]:
    """The global names a cell's source binds: assignments, defs and classes, imports, for and with
    targets, except-as, walrus, and every name a `global` statement names anywhere in it.
    A cell that does not parse binds nothing (it fails where it runs)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return set()
    found: set[str] = set()

    def visit(node, top: bool, in_comprehension: bool = False):
        if isinstance(node, ast.Global):
            found.update(node.names)
            return
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if top:
                found.add(node.name)
            for part in [*node.decorator_list, *getattr(node, "bases", []), *getattr(node, "keywords", [])]:
                visit(part, top)
            if not isinstance(node, ast.ClassDef):
                for default in [*node.args.defaults, *node.args.kw_defaults]:
                    if default is not None:
                        visit(default, top)
            for child in node.body:
                visit(child, False)
            return
        if isinstance(node, ast.Lambda):
            visit(node.body, False)
            return
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            for child in ast.iter_child_nodes(node):
                visit(child, top, True)
            return
        if top:
            if isinstance(node, ast.NamedExpr) and isinstance(node.target, ast.Name):
                found.add(node.target.id)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) and not in_comprehension:
                found.add(node.id)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                found.update((alias.asname or alias.name).split(".")[0] for alias in node.names if alias.name != "*")
            elif isinstance(node, ast.ExceptHandler) and node.name:
                found.add(node.name)
            elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
                found.add(node.name)
            elif isinstance(node, ast.MatchMapping) and node.rest:
                found.add(node.rest)
        for child in ast.iter_child_nodes(node):
            visit(child, top, in_comprehension)

    try:
        for statement in tree.body:
            visit(statement, True)
    except RecursionError:
        pass
    return found


def _clean_outputs(outputs: list) -> list:
    """Every text of a cell's outputs, cleaned (wire.clean_text): it encodes, shows, and is bounded."""
    try:
        return wire.clean_strings(outputs)
    except RecursionError:  # not from our own outputs, which are flat
        return []


class _Capture:
    """sys.stdout of the judge while a locked cell runs: into the cell's output, bounded."""

    def __init__(self, judge):
        self.judge = judge

    def write(self, text):
        self.judge.add_output(str(text))
        return len(text)

    def flush(self):
        pass


def _on_alarm(signum, frame):
    raise CellTimeout()


@contextlib.contextmanager
def alarm(seconds: float):
    """Raise CellTimeout in whatever runs after `seconds` (a wait for the student included).

    Nested inside another alarm (replaying the student's cells during a test cell), the outer one
    is suspended and resumes afterwards with the time it had left: a restart costs the test
    cell nothing.
    """
    outer_left, _ = signal.setitimer(signal.ITIMER_REAL, 0)
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer_left > 0:
            signal.setitimer(signal.ITIMER_REAL, outer_left)


def _describe(error: BaseException, timeout: float) -> tuple[str, str]:
    """(ename, evalue) of a failed cell, as the feedback shows it."""
    if isinstance(error, CellTimeout):
        return "TimeoutError", f"this test ran longer than its limit of {timeout:g} s"
    if isinstance(error, (StudentError, StudentAbort)):
        return error.args[0], error.args[1]
    if isinstance(error, StudentGone):
        return ("TimeoutError" if "longer" in str(error) else "ProcessEnded"), str(error)
    try:
        message = str(error)
    except Exception:  # noqa: BLE001
        message = ""
    return type(error).__name__, message[:2000]


def _error_output(ename: str, evalue: str) -> dict:
    return {
        "output_type": "error",
        "ename": ename,
        "evalue": evalue,
        "traceback": [f"{ename}: {evalue}" if evalue else ename],
    }


# ---------------------------------------------------------------------------------------------
# The link to the student's process, and the proxies that use it


class Link:
    """Requests to the student's process; restarts it (replaying its cells) after a timeout or crash."""

    def __init__(self, judge: Judge, sock: wire.Connection):
        self.judge, self.sock = judge, sock
        self.generation = 0
        self.broken: str | None = None  # why the current student process cannot be used
        self.dead: str | None = None  # why no student process will be started again
        self.restarts = 0
        self.replay: list[dict] = []  # requests running the student cells that completed, in order
        self.callbacks: dict[int, object] = {}  # the test functions passed during the current cell
        self.next_callback = 1  # never reused: an expired callback's number stays unknown
        self.sent_handles: dict[int, Remote] = {}  # the proxies encoded by the request being built
        self.releases: list[int] = []
        self.next_promise = -1  # handles the judge names itself, for pipelined operators (negative)

    # -- life ----------------------------------------------------------------------------------
    def start(self, preamble: str) -> None:
        if preamble:
            message = {"op": "run", "source": preamble, "cell": -1}
            self.replay.append(message)
            try:
                with alarm(self.judge.limits["cell_timeout"]):
                    self.request(dict(message))
            except StudentGone:
                pass

    def expire_callbacks(self) -> None:
        """The test's functions passed to student code end with the cell that passed them: a
        student that kept one and calls it later gets an error, and the judge keeps nothing."""
        self.callbacks.clear()

    def ensure(self) -> None:
        if self.dead:
            raise StudentGone(self.dead)
        if not self.broken:
            return
        if self.restarts >= MAX_RESTARTS:
            self.dead = f"{self.broken}; not restarted again ({MAX_RESTARTS} restarts already)"
            raise StudentGone(self.dead)
        self.restarts += 1
        self.sock.close()
        self.sock = self.judge.new_student()
        self.generation += 1
        self.callbacks.clear()
        self.releases.clear()
        self.broken = None
        for message in self.replay:  # the state the student's cells had built, built again
            try:
                with alarm(self.judge.limits["cell_timeout"]):
                    self.request(dict(message))
            except StudentGone as gone:
                self.dead = f"your cells could not be run again after a restart ({gone})"
                raise StudentGone(self.dead) from None

    def fail(self, why: str) -> StudentGone:
        self.broken = why
        return StudentGone(why)

    # -- requests ------------------------------------------------------------------------------
    def request(self, message: dict, arrays: list | None = None, sent: dict | None = None):
        """Send one request, serve callbacks until its reply, return the decoded value.

        `arrays`: the test's lists, dicts and arrays sent with the request, in order (in-place changes);
        `sent`: the proxies sent with it, by handle (the only student objects a change may hold).
        """
        self.ensure()
        try:
            self.sock.send(self._stamped(message))
            while True:
                reply = self.sock.receive()
                if type(reply) is not dict:
                    raise wire.WireError("a reply that is not an object")
                if reply.get("op") == "callback":
                    self.serve_callback(reply)
                    continue
                break
            self.judge.add_output(reply.get("out"))
            if "err" in reply:
                raise self.student_error(reply["err"])
            value = wire.decode(reply.get("ok"), self.resolve)
            self.write_back(reply.get("w"), arrays or [], sent or {})
            return value
        except CellTimeout:  # the alarm, while the student's code ran (or a test's function it called)
            raise self.fail(self._too_long()) from None
        except wire.Closed:
            raise self.fail(ENDED) from None
        except wire.WireError as error:
            raise self.fail(f"your code sent something that is not plain data ({error})") from None
        except StudentError:
            raise
        except BaseException:  # the judge's alarm or an error mid-request: the protocol state is unknown
            self.broken = self.broken or "a request was interrupted"
            raise

    def op(self, op: str, args: list, name: str | None = None):
        """A request about student values: call, getattr, setattr, binary, unary, getitem, setitem, convert."""
        self.ensure()  # a restart first, so that the arguments are checked against the new process
        arrays: list = []
        self.sent_handles = {}
        message = {"op": op, "args": self.encode(args, arrays)}
        sent, self.sent_handles = self.sent_handles, {}
        if name is not None:
            message["name"] = name
        return self.request(message, arrays=arrays, sent=sent)

    def pipelined(self, op: str, args: list, name: str):
        """An operator on student objects, sent without waiting: its result stays in the student's
        process under a handle we choose (an error, too: it is raised where the result is next used).

        A chain of 100,000 operations then costs 100,000 sends, not 100,000 round trips. Operators
        whose arguments include a test's function fall back to a plain request.
        """
        self.ensure()
        try:
            encoded = wire.encode(args, self._handle_without_callbacks)
        except _NeedsCallback:
            return self.op(op, args, name)
        finally:
            self.sent_handles = {}  # no in-place change comes back from an operator
        ident, self.next_promise = self.next_promise, self.next_promise - 1
        try:
            self.sock.send(self._stamped({"op": op, "args": encoded, "name": name, "as": ident}))
        except CellTimeout:  # the student's process stopped reading: it is stuck in earlier work
            raise self.fail(self._too_long()) from None
        except wire.Closed:
            raise self.fail(ENDED) from None
        return Remote(self, ident)

    def _stamped(self, message: dict) -> dict:
        """A request with the handles the judge no longer needs and the test's numeric rules."""
        if self.releases:
            message["rel"], self.releases = self.releases, []
        env = _test_environment()
        if env:
            message["env"] = env
        return message

    def _too_long(self) -> str:
        limit = self.judge.limits["cell_timeout"]
        return f"your code ran longer than the limit of {limit:g} s per cell and was stopped"

    def _handle_without_callbacks(self, obj):
        if type(obj) is not Remote and callable(obj):
            raise _NeedsCallback()
        return self.handle_of(obj)

    def names(self, wanted: list[str]) -> dict:
        found = self.request({"op": "names", "names": wanted})
        if type(found) is not dict:
            raise self.fail("your code sent something that is not plain data (names)")
        return found

    def run_cell(self, source: str, index: int) -> list:
        message = {"op": "run", "source": source, "cell": index}
        outputs = self.request(dict(message))
        self.replay.append(message)
        return _student_outputs(outputs)

    # -- values --------------------------------------------------------------------------------
    def encode(self, value, arrays: list):
        return wire.encode(value, self.handle_of, arrays)

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

    def write_back(self, changes, containers: list, sent: dict) -> None:
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
            target, new = containers[change[0]], wire.decode(change[1], resolve)
            if type(new) is not type(target):
                raise wire.WireError("an in-place change of the wrong type")
            if foreign:  # nothing of this call's changes is made: only data flows into a test's values
                kind = {list: "list", dict: "dict"}.get(type(target), "array")
                raise _error_class(TypeError)(
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

    def student_error(self, described) -> BaseException:
        if (
            type(described) is not list
            or len(described) not in (3, 4)
            or type(described[0]) is not str
            or type(described[1]) is not str
            or type(described[2]) is not bool
            or (len(described) == 4 and type(described[3]) is not str)
        ):
            return self.fail("your code sent something that is not plain data (an error)")
        name, message, is_exception = described[0][:100], described[1][:2000], described[2]
        if len(described) == 4 and described[3]:
            # where in the student's own code it was raised: their function, cell, line and its text
            message = f"{message} [raised {described[3][:WHERE_LIMIT]}]".lstrip()
        if not is_exception:
            return _named_error(StudentAbort, name)(name, message)
        known = KNOWN_ERRORS.get(name)
        if known is None:
            return _named_error(StudentError, name)(name, message)
        return _error_class(known)(name, message)

    def serve_callback(self, request: dict) -> None:
        """The student's code called a function the test passed to it: call it here, send the result."""
        called = request.get("args")
        if type(called) is not list or len(called) != 3 or type(called[0]) is not dict:
            raise wire.WireError("a malformed call of the test's function")
        # checked before its arguments are decoded: an expired function costs the judge nothing
        if type(called[0].get("c")) is not int or called[0]["c"] not in self.callbacks:
            self.sock.send({"err": "an expired function: the test that passed it has ended"})
            return
        objects: list = []

        def resolve(tag, ident):  # a test's function is given data only, never an object of the student's
            if tag == "h":
                objects.append(ident)
                return None
            return self.resolve(tag, ident)

        try:
            target, args, kwargs = wire.decode(called, resolve)
            if not callable(target) or type(args) is not list or type(kwargs) is not dict:
                raise wire.WireError("a malformed call of the test's function")
            if not all(type(k) is str for k in kwargs):
                raise wire.WireError("a malformed call of the test's function")
        except (wire.WireError, TypeError, ValueError) as error:
            raise wire.WireError(str(error)) from None
        if objects:
            self.sock.send({"err": "an object of your code as an argument: pass it numbers or arrays"})
            return
        try:
            result = target(*args, **kwargs)
            reply = {"ok": self.encode(result, [])}
        except (StudentGone, CellTimeout):
            raise
        except Exception as error:  # noqa: BLE001 - the student sees only the type of what went wrong
            reply = {"err": type(error).__name__}
        self.sock.send(reply)

    def release(self, remote: Remote) -> None:
        if remote._generation == self.generation and not self.broken:
            self.releases.append(remote._ident)


class _NeedsCallback(Exception):
    pass


_error_classes: dict[type, type] = {}


def _error_class(known: type) -> type:
    """StudentError that is also a `known` builtin exception (made once per type)."""
    if known not in _error_classes:
        _error_classes[known] = type(known.__name__, (StudentError, known), {})
    return _error_classes[known]


_named: dict[tuple[type, str], type] = {}


def _named_error(base: type, name: str) -> type:
    """A subclass of `base` that bears the student's exception's name (`type(e).__name__` in a
    test's message then says "SystemExit" or "MyError", never a class of ours)."""
    key = (base, name if name.isidentifier() else "Error")
    if key not in _named:
        if len(_named) >= 256:  # a student inventing names by the thousand
            return base
        _named[key] = type(key[1], (base,), {"__module__": "builtins"})
    return _named[key]


def _test_environment():
    """The numpy error state and warning filter under which the test makes this call (None: defaults)."""
    numpy = sys.modules.get("numpy")
    env = {}
    if numpy is not None:
        err = numpy.geterr()
        if err != _DEFAULT_NP_ERR:
            env["np"] = err
    if warnings.filters and warnings.filters[0][0] == "error" and warnings.filters[0][2] is Warning:
        env["warnings"] = "error"
    return env or None


_DEFAULT_NP_ERR = {"divide": "warn", "over": "warn", "under": "ignore", "invalid": "warn"}


def _student_outputs(outputs) -> list:
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

    __slots__ = ("_link", "_ident", "_generation", "__weakref__")
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


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "zygote":
        zygote(int(sys.argv[2]))
