"""The judge: runs the locked cells (grading helpers, visible and hidden tests) and decides each one.

Started once per grading worker inside its own bubblewrap sandbox (see sandbox.py) as a zygote
that imports numpy once and forks one judge per submission. No student code ever runs here: the
student's definitions are reached through proxies (`Remote`) whose every use is a request to the
student's process (student.py) over a socket, answered with plain data (wire.py). The verdict of
a test cell is whether the cell raised, decided here and sent only to the grader.

This module is the judge's process: its zygote, and one submission's cells in order. What a
test cell sees is judge_env.py; process control of the student's process (restart, replay),
judge_process.py; the proxies of its objects, judge_link.py;
how the student's replies are read, judge_protocol.py.

Per submission, over the channel to the grader:
    grader -> judge  {"cells": [{"index", "kind": "student"|"locked", "source"}], "limits", "preamble"}
                     and the student's socket (a file descriptor, SCM_RIGHTS)
    judge -> grader  {"cell": index, "outputs": [...]} per code cell, in notebook order
                     {"restart": true} when the student's process must be replaced (a new socket follows)
                     {"done": true, "seconds": {...}}

    python judge.py zygote FD
"""

from __future__ import annotations

import json
import os
import resource
import signal
import socket
import sys
import time
import traceback

import wire
from judge_env import Capture, Namespace, alarm, bound_names, describe, error_output
from judge_link import Link
from judge_protocol import OUTPUT_LIMIT, StudentError, StudentGone, clean_outputs

JUDGE_MEMORY = 1536 * 1024**2  # address space of a judge (Limits.judge_memory_bytes, when given)
PREPARED_LIMIT = 4096  # locked cells the zygote keeps compiled (a few assignments' worth)
# The locked cells the zygote has compiled and analysed, inherited by every judge it forks:
# {(index, source): (code or None if it does not compile, the names it binds)}. Analysing and
# compiling an assignment's locked cells costs 30-50 ms, the same for every submission (measured).
PREPARED: dict[tuple[int, str], tuple] = {}


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
        elif "prepare" in request:
            count = prepare(_received_cells(fds[0]))
            control.sendall(json.dumps({"prepared": count}).encode())


def _received_cells(fd: int) -> list:
    """The locked cells the grader sends on socket `fd` (one frame, {"cells": [{"index", "source"}]})."""
    connection = wire.Connection(socket.socket(fileno=fd), buffered=False)
    try:
        cells = connection.receive(time.monotonic() + 30)["cells"]
        return [(int(cell["index"]), str(cell["source"])) for cell in cells]
    except (wire.WireError, KeyError, TypeError, ValueError):
        return []
    finally:
        connection.close()


def prepare(cells: list[tuple[int, str]]) -> int:
    """Compile and analyse these locked cells (index, source) before any fork: each judge forked
    later finds them in PREPARED instead of doing that work again for every submission."""
    if len(PREPARED) + len(cells) > PREPARED_LIMIT:
        PREPARED.clear()
    for index, source in cells:
        try:
            code = compile(source, f"<cell {index}>", "exec")
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            code = None  # compiled again where it runs, to fail that cell with its own error
        PREPARED[index, source] = (code, frozenset(bound_names(source)))
    return len(cells)


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
            prepared = PREPARED.get((cell["index"], cell["source"])) if cell["kind"] == "locked" else None
            names = prepared[1] if prepared else bound_names(cell["source"])
            (self.student_names if cell["kind"] == "student" else self.locked_names).update(names)
        self.link = Link(self, self._receive_socket())
        self.link.start(job.get("preamble", ""))
        for cell in job["cells"]:
            if cell["kind"] == "student":
                outputs = self.run_student_cell(cell["index"], cell["source"])
            else:
                outputs = self.run_locked_cell(cell["index"], cell["source"])
            self.channel.send({"cell": cell["index"], "outputs": clean_outputs(outputs)})
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
            return self.take_output() + [error_output(*describe(error, self.limits["cell_timeout"]))]
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
                code = (PREPARED.get((index, source)) or (None,))[0] or compile(source, f"<cell {index}>", "exec")
                self.student_values = {}  # each cell sees the student's current definitions
                sys.stdout = sys.stderr = Capture(self)
                exec(code, self.namespace)
        except BaseException as raised:  # noqa: BLE001 - whatever the cell raised is its verdict
            error = describe(raised, timeout)
        finally:
            sys.stdout, sys.stderr = saved
            self.link.expire_callbacks()  # the cell's functions, passed to student code, end with it
        return self.take_output() + ([error_output(*error)] if error else [])

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


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "zygote":
        zygote(int(sys.argv[2]))
