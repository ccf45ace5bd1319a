"""Executes one submission's code cells inside the sandbox and reports each cell's outputs.

Runs as `python runner.py` inside bubblewrap (see autograder/sandbox.py) with only the standard
library, IPython and the course's Python packages available. It is the stand-in for a Jupyter
kernel: no ZeroMQ, no kernel start, the same output model (stream, execute_result,
display_data, error), so nbgrader's SaveAutoGrades scores the cells exactly as it would after a
kernel run (an error or a stderr stream costs the cell its points).

Protocol: stdin carries one JSON object {"cells": [source, ...], "cell_timeout": seconds,
"max_output_bytes": n, "helper_cells": [i, ...], "test_cells": [i, ...]} (indices into cells).
The results channel is the original stdout: one JSON line per executed cell
{"index": i, "outputs": [...]}, then {"done": true, "seconds": {"startup", "execution"}}.
The student's code writes to captured streams; raw writes to file descriptors 1 and 2 go to
/dev/null.
"""

import time

STARTED = time.monotonic()  # before the heavy imports: "startup" below is what a kernel start costs

import json  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
from types import ModuleType  # noqa: E402

# Modules whose attributes student code might replace (np.allclose = ..., builtins.abs = ...).
PROTECTED_MODULES = (
    "builtins", "math", "random", "warnings", "numpy", "numpy.linalg", "numpy.random", "numpy.testing",
)  # fmt: skip


class CellTimeout(BaseException):
    """Raised in the student's code when a cell runs past its time limit (like an interrupt)."""


class _Capture:
    """A text stream that keeps at most `limit` characters (the rest is counted, not kept)."""

    def __init__(self, name, limit):
        self.name, self.limit, self.parts, self.size, self.dropped = name, limit, [], 0, 0

    def write(self, text):
        text = str(text)
        room = self.limit - self.size
        if room > 0:
            self.parts.append(text[:room])
            self.size += min(len(text), room)
        self.dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def flush(self):
        pass

    def isatty(self):
        return False

    def text(self):
        suffix = f"\n... {self.dropped} more characters of output dropped ...\n" if self.dropped else ""
        return "".join(self.parts) + suffix


def _results_channel():
    """Keep the original stdout for results; point fds 1 and 2 at /dev/null for everything else."""
    channel = os.fdopen(os.dup(1), "w", buffering=1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    return channel


def _make_shell():
    from IPython.core.displayhook import DisplayHook
    from IPython.core.displaypub import DisplayPublisher
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets import Type

    recorded = []  # the current cell's outputs, in order

    class RecordingDisplayHook(DisplayHook):
        def __call__(self, result=None):  # the value of a cell's last expression
            if result is not None:
                recorded.append(
                    {
                        "output_type": "execute_result",
                        "execution_count": None,
                        "metadata": {},
                        "data": {"text/plain": repr(result)[:10000]},
                    }
                )

    class RecordingDisplayPublisher(DisplayPublisher):
        def publish(self, data, metadata=None, **kwargs):  # display(...): plain text only
            if isinstance(data, dict) and "text/plain" in data:
                recorded.append(
                    {
                        "output_type": "display_data",
                        "metadata": {},
                        "data": {"text/plain": str(data["text/plain"])[:10000]},
                    }
                )

    class RecordingShell(InteractiveShell):
        displayhook_class = Type(RecordingDisplayHook)
        display_pub_class = Type(RecordingDisplayPublisher)

        def _showtraceback(self, etype, evalue, stb):
            recorded.append(
                {
                    "output_type": "error",
                    "ename": getattr(etype, "__name__", str(etype)),
                    "evalue": str(evalue)[:2000],
                    "traceback": list(stb)[-50:],
                }
            )

    shell = RecordingShell.instance(colors="NoColor", history_length=0)
    shell.history_manager.enabled = False
    return shell, recorded


class Guard:
    """Undo student monkeypatching before the course's own cells run.

    Before the grading-helpers cell and before every test cell: the protected modules get back
    the attributes they had before any cell ran, and the names the helpers cell defined get back
    their values. A student cell can still replace `np.allclose` or `_close` for its own use; it
    cannot make a test cell use the replacement.
    """

    def __init__(self, shell, helpers=(), tests=()):
        import importlib

        self.shell, self.helpers, self.tests = shell, set(helpers), set(tests)
        modules = []
        for name in PROTECTED_MODULES:  # import them all first: importing a submodule adds to its parent
            try:
                modules.append(importlib.import_module(name))
            except ImportError:
                continue
        self.modules = {m.__name__: (m, dict(m.__dict__)) for m in modules}
        self.helper_names = {}

    def before(self, index):
        if index in self.helpers or index in self.tests:
            for module, saved in self.modules.values():
                current = module.__dict__
                for key in [k for k in current if k not in saved and not isinstance(current[k], ModuleType)]:
                    del current[key]  # (a submodule imported since is not a patch: keep it)
                current.update(saved)
            self.shell.user_ns.update(self.helper_names)
        if index in self.helpers:
            self._names_before = dict(self.shell.user_ns)

    def after(self, index):
        if index in self.helpers:
            user_ns = self.shell.user_ns
            self.helper_names.update(
                {k: v for k, v in user_ns.items() if k not in self._names_before or self._names_before[k] is not v}
            )


def _on_alarm(signum, frame):
    raise CellTimeout("the cell ran longer than its time limit")


def run_cells(shell, recorded, cells, cell_timeout, max_output_bytes, channel, guard=None):
    signal.signal(signal.SIGALRM, _on_alarm)
    guard = guard or Guard(shell)
    runner_pid = os.getpid()
    ready = time.monotonic()
    for index, source in enumerate(cells):
        stdout, stderr = _Capture("stdout", max_output_bytes), _Capture("stderr", max_output_bytes)
        recorded.clear()
        guard.before(index)
        sys.stdout, sys.stderr = stdout, stderr
        signal.setitimer(signal.ITIMER_REAL, cell_timeout)
        try:
            shell.run_cell(source, store_history=False, silent=False)
        except CellTimeout as timeout:  # raised outside the student's frames (between statements)
            recorded.append(
                {
                    "output_type": "error",
                    "ename": "CellTimeout",
                    "evalue": str(timeout),
                    "traceback": ["CellTimeout: " + str(timeout)],
                }
            )
        finally:
            if os.getpid() != runner_pid:  # a process the student's code forked: it reports nothing
                os._exit(0)
            signal.setitimer(signal.ITIMER_REAL, 0)
            sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
        guard.after(index)
        outputs = [
            {"output_type": "stream", "name": s.name, "text": s.text()} for s in (stdout, stderr) if s.text()
        ] + recorded
        channel.write(json.dumps({"index": index, "outputs": outputs}) + "\n")
    timing = {"startup": ready - STARTED, "execution": time.monotonic() - ready}
    channel.write(json.dumps({"done": True, "seconds": timing}) + "\n")


def main():
    job = json.loads(sys.stdin.read())
    sys.stdin.close()
    channel = _results_channel()
    shell, recorded = _make_shell()
    sys.__stdout__ = sys.__stderr__ = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
    guard = Guard(shell, job.get("helper_cells", ()), job.get("test_cells", ()))  # before any cell runs
    run_cells(shell, recorded, job["cells"], job["cell_timeout"], job["max_output_bytes"], channel, guard)
    channel.flush()
    os._exit(0)  # skip interpreter teardown: nothing the student left behind may run after this


if __name__ == "__main__":
    main()
