"""The student's side of grading: runs the student's cells and answers the judge's requests.

Started once per grading worker inside its own bubblewrap sandbox (see sandbox.py) as a *zygote*:
it imports numpy once, then forks one student process per submission on request. Each student
process gets a fresh mount, PID and IPC namespace (its own /tmp, nothing else writable, no way to
see or signal the zygote or an earlier student), drops every capability and takes its resource
limits before any student code runs. It never sees a locked cell: the judge (judge.py) sends it
the student's own cells to run, then calls into them through handles.

Everything here runs beside hostile code, so nothing here is trusted by the judge: replies are
plain data that the judge decodes strictly (wire.py).

    python student.py zygote FD [--isolate]
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import ctypes
import io
import json
import linecache
import operator
import os
import resource
import signal
import socket
import sys
import traceback
import warnings

import wire

OUTPUT_LIMIT = 20_000  # characters of printed text kept per request
BINARY = {name: getattr(operator, name) for name in (
    "add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and_", "or_", "xor", "lshift", "rshift",
    "eq", "ne", "lt", "le", "gt", "ge", "contains",
)}  # fmt: skip
NUMPY_ERR_KINDS, NUMPY_ERR_MODES = ("divide", "over", "under", "invalid"), ("ignore", "warn", "raise", "print", "log")
UNARY = {"neg": operator.neg, "pos": operator.pos, "abs": operator.abs, "invert": operator.invert}


# ---------------------------------------------------------------------------------------------
# The zygote: forks student processes


def zygote(control_fd: int, isolate: bool) -> None:
    """Serve {"fork": limits} (with the student's socket attached) and {"kill": pid} until EOF."""
    import numpy  # noqa: F401 - imported once here, so that every student process starts warm
    import numpy.random  # noqa: F401 - (numpy imports it lazily: 20 ms in every student process otherwise)

    _libc_call("prctl", 4, 0, 0, 0, 0)  # PR_SET_DUMPABLE 0: students cannot read this process
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
                _student_process(fds[0], request["fork"], isolate)  # never returns
            for fd in fds:
                os.close(fd)
            control.sendall(json.dumps({"pid": pid}).encode())
        elif "kill" in request:
            _kill_group(int(request["kill"]))
            control.sendall(b'{"killed": true}')


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)  # the student process and everything it started
    except (ProcessLookupError, PermissionError):
        pass
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def _reap() -> None:
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _student_process(fd: int, limits: dict, isolate: bool) -> None:
    """In the forked child: new namespaces, then a grandchild that serves the judge."""
    try:
        os.setsid()  # one process group: the zygote kills it as a whole
        if isolate:
            # CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC: the grandchild is PID 1 of a namespace of its own
            _libc_call("unshare", 0x00020000 | 0x20000000 | 0x08000000)
        pid = os.fork()
        if pid == 0:
            _libc_call("prctl", 1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG: die with the parent
            if isolate:
                _enter_private_filesystem(limits)
                _drop_capabilities()
            _set_limits(limits)
            _close_fds_except(fd)
            Server(wire.Connection(socket.socket(fileno=fd))).serve()
            os._exit(0)
        os.close(fd)
        _status = os.waitpid(pid, 0)
    finally:
        os._exit(0)


def _enter_private_filesystem(limits: dict) -> None:
    """A fresh /tmp of bounded size, and a /proc of its own (bubblewrap made everything else read-only)."""
    ms_rdonly, ms_nosuid, ms_nodev, ms_noexec, ms_rec, ms_private = 1, 2, 4, 8, 16384, 1 << 18
    _libc_call("mount", b"none", b"/", None, ms_rec | ms_private, None)
    size = f"size={int(limits['tmp_bytes'])},mode=1777".encode()
    _libc_call("mount", b"tmpfs", b"/tmp", b"tmpfs", ms_nosuid | ms_nodev, size)
    try:  # a /proc that shows only this namespace; where the kernel refuses, hide /proc instead
        _libc_call("mount", b"proc", b"/proc", b"proc", ms_nosuid | ms_nodev | ms_noexec, None)
    except OSError:
        _libc_call("mount", b"tmpfs", b"/proc", b"tmpfs", ms_rdonly | ms_nosuid | ms_nodev, b"size=4k")
    os.chdir("/tmp")


def _drop_capabilities() -> None:
    """No capabilities, now or after any exec; no new privileges."""
    for cap in range(64):
        if _libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP until the kernel's last capability
            break
    _libc.prctl(47, 4, 0, 0, 0)  # PR_CAP_AMBIENT_CLEAR_ALL

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]

    _libc_call("capset", ctypes.byref(Header(0x20080522, 0)), (Data * 2)())
    _libc_call("prctl", 38, 1, 0, 0, 0)  # PR_SET_NO_NEW_PRIVS


def _set_limits(limits: dict) -> None:
    cpu, memory = int(limits["cpu_time"]), int(limits["memory_bytes"])
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_FSIZE, (int(limits["file_bytes"]),) * 2)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))
    resource.setrlimit(resource.RLIMIT_NPROC, (int(limits["processes"]),) * 2)


def _close_fds_except(keep: int) -> None:
    """stdin, stdout and stderr to /dev/null; every other descriptor but the judge's socket closed."""
    devnull = os.open(os.devnull, os.O_RDWR)
    for target in (0, 1, 2):
        os.dup2(devnull, target)
    os.closerange(3, keep)
    os.closerange(keep + 1, 65536)


_libc = ctypes.CDLL(None, use_errno=True)


def _libc_call(name: str, *args) -> None:
    if getattr(_libc, name)(*args) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{name}: {os.strerror(errno)}")


# ---------------------------------------------------------------------------------------------
# The student process: runs cells, answers requests


class Callback:
    """A function of the judge's, passed to student code: calling it asks the judge to call it."""

    __slots__ = ("_id", "_server")

    def __init__(self, ident, server):
        self._id, self._server = ident, server

    def __call__(self, *args, **kwargs):
        return self._server.callback(self._id, args, kwargs)

    def __repr__(self):
        return "<function passed by the test>"


class _Capture(io.TextIOBase):
    """Bounded text stream for what student code prints."""

    def __init__(self):
        self.parts, self.size, self.dropped = [], 0, 0

    def write(self, text):
        text = str(text)
        room = OUTPUT_LIMIT - self.size
        self.parts.append(text[: max(room, 0)])
        self.size += min(len(text), max(room, 0))
        self.dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def writable(self):
        return True

    def text(self):
        return "".join(self.parts) + (f"\n... {self.dropped} more characters dropped ...\n" if self.dropped else "")


class _Shell:
    """What `get_ipython()` returns in a graded notebook: magics and shell commands do nothing."""

    def run_line_magic(self, *args, **kwargs):
        return None

    run_cell_magic = system = getoutput = run_line_magic


class Server:
    def __init__(self, sock: wire.Connection):
        self.sock = sock
        self.handles: dict[int, object] = {}
        self.next_handle = 1
        self.namespace = {"__name__": "__main__", "__builtins__": builtins, "get_ipython": _Shell}
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
        capture = _Capture()
        saved = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = capture
        try:
            with _test_environment(message.get("env")):
                reply = self.dispatch(message, keep_as)
        except BaseException as error:  # noqa: BLE001 - anything the student's code raised
            if keep_as is not None:
                self.handles[keep_as] = _Failed(error)
            reply = {"err": _describe(error, where=message.get("op") != "run")}
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
            return {"ok": self.encode(self.run_cell(message["source"], name))}
        if op == "names":
            found = {name: self.namespace[name] for name in message["names"] if name in self.namespace}
            return {"ok": self.encode(found)}
        containers: list = []  # the lists, dicts and arrays passed in, as the judge numbered them
        self.received = {}
        value = self.decode(message.get("args", []), containers)
        before = [_snapshot(c, containers) for c in containers]
        if op == "call":
            target, args, kwargs = value
            result = target(*args, **kwargs)
        elif op == "getattr":
            result = getattr(value[0], value[1])
        elif op == "setattr":
            setattr(value[0], value[1], value[2])
            result = None
        elif op == "binary":
            result = BINARY[message["name"]](value[0], value[1])
        elif op == "unary":
            result = UNARY[message["name"]](value[0])
        elif op == "getitem":
            result = value[0][value[1]]
        elif op == "setitem":
            value[0][value[1]] = value[2]
            result = None
        elif op == "convert":  # bool, float, int, len, repr, str, list (iteration)
            kind = message["name"]
            convert = {"bool": bool, "float": float, "int": int, "len": len, "list": list, "repr": repr, "str": str}
            result = convert[kind](value[0])
            if kind in ("repr", "str"):
                result = result[:2000]
        else:
            raise ValueError(f"unknown request {op!r}")
        if keep_as is not None:
            self.handles[keep_as] = result
            return {}
        changed = self.changed(containers, before)
        self.received = {}
        return {"ok": self.encode(result), "w": changed}

    # -- cells ---------------------------------------------------------------------------------
    def run_cell(self, source: str, name: str = "<cell>") -> list:
        """Execute one cell; its outputs in notebook form (the last expression's value included)."""
        outputs, capture = [], sys.stdout
        # its lines for tracebacks (and for the line an error of a test call quotes)
        linecache.cache[name] = (len(source), None, source.splitlines(True), name)
        try:
            tree = ast.parse(source, name)
            last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
            exec(compile(tree, name, "exec"), self.namespace)
            if last is not None:
                value = eval(compile(ast.Expression(last.value), name, "eval"), self.namespace)
                if value is not None:
                    outputs.append({"output_type": "execute_result", "text": repr(value)[:10000]})
        except BaseException as error:  # noqa: BLE001
            name, message, _ = _describe(error)[:3]
            lines = _student_traceback(error)
            outputs.append({"output_type": "error", "ename": name, "evalue": message, "traceback": lines[-20:]})
        printed = capture.text() if isinstance(capture, _Capture) else ""
        capture.parts, capture.size, capture.dropped = [], 0, 0
        if printed:
            outputs.insert(0, {"output_type": "stream", "text": printed})
        return outputs

    # -- values --------------------------------------------------------------------------------
    def encode(self, value):
        return wire.encode(value, self.handle_of)

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

        return wire.decode(message, resolve, containers)

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
                [i, wire.encode(c, self.handle_of, refs=refs)]
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


@contextlib.contextmanager
def _test_environment(env):
    """Run a call under the numpy error state and warning filter of the test that made it.

    A test that says "no overflow and no warning" (the helpers' _quietly) sets them in the judge;
    the student's code must run under the same rules for the test to mean what it says.
    """
    if not env:
        yield
        return
    import numpy

    errstate = {k: v for k, v in env.get("np", {}).items() if k in NUMPY_ERR_KINDS and v in NUMPY_ERR_MODES}
    with numpy.errstate(**errstate), warnings.catch_warnings():
        if env.get("warnings") == "error":
            warnings.simplefilter("error")
        yield


def _describe(error: BaseException, where: bool = False) -> list:
    """[type name, message, is-an-Exception(, where)] of an exception, bounded, whatever its
    __str__ does. where: the innermost line of the student's own cells that the traceback passes
    ("in your function f (cell 3, line 7: `return x[i]`)"), plain text; "" if none."""
    try:
        message = str(error)[:2000]
    except BaseException:  # noqa: BLE001
        message = "(its message could not be shown)"
    described = [str(type(error).__name__)[:100], message, isinstance(error, Exception)]
    if where:
        try:
            described.append(_where(error.__traceback__))
        except BaseException:  # noqa: BLE001 - a traceback the student's code tampered with
            described.append("")
    return described


def _student_traceback(error: BaseException) -> list:
    """The traceback of an error in a student cell, with only the student's own frames."""
    try:
        frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename.startswith("<cell")]
        lines = ["Traceback (most recent call last):\n", *traceback.format_list(frames)] if frames else []
        return lines + traceback.format_exception_only(type(error), error)
    except BaseException:  # noqa: BLE001 - an error whose traceback or message cannot be shown
        name, message = _describe(error)[:2]
        return [f"{name}: {message}\n"]


def _where(tb) -> str:
    found = None
    for _ in range(1000):
        if tb is None:
            break
        code = tb.tb_frame.f_code
        if type(code.co_filename) is str and code.co_filename.startswith("<cell "):
            found = (code.co_name, code.co_filename, tb.tb_lineno)
        tb = tb.tb_next
    if found is None:
        return ""
    function, filename, line = found
    text = linecache.getline(filename, line).strip()[:200]
    place = f"{filename.strip('<>')}, line {line}" + (f": `{text}`" if text else "")
    if function in ("<module>", "<lambda>"):
        return f"in your code ({place})"
    return f"in your function {function} ({place})"


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "zygote":
        zygote(int(sys.argv[2]), "--isolate" in sys.argv[3:])
