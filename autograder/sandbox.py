"""Run one submission's cells in a bubblewrap sandbox with bounded resources.

The sandbox sees a read-only Python environment, the runner script, and an empty private /tmp:
no repository (so no solutions/, no other students, no gradebook), no network, a clean
environment, its own PID namespace (everything it started dies with it), no capabilities.
Limits: CPU seconds and address space (rlimits), processes (a pids cgroup when we run as root,
RLIMIT_NPROC otherwise), file size, output size, and the wall time of the whole notebook.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

RUNNER = Path(__file__).with_name("runner.py")
PIDS_CGROUP_ROOT = Path("/sys/fs/cgroup/pids")

OK, TIMEOUT, DIED, CPU_LIMIT, OUTPUT_LIMIT = "ok", "timeout", "kernel died", "cpu time limit", "output limit"


@dataclass(frozen=True)
class Limits:
    cell_timeout: float = 30.0  # seconds per cell, like nbgrader's Execute.timeout
    wall_time: float = 120.0  # seconds for the whole notebook
    cpu_time: int = 120  # CPU seconds for the whole notebook
    memory_bytes: int = 2 * 1024**3  # address space of each process
    processes: int = 64  # processes and threads at once
    file_bytes: int = 16 * 1024**2  # largest file the code may write (in its private /tmp)
    tmp_bytes: int = 64 * 1024**2  # size of the private /tmp
    output_bytes: int = 20_000  # captured stdout/stderr kept per cell
    results_bytes: int = 8 * 1024**2  # everything the runner may send back


@dataclass
class SandboxResult:
    status: str  # OK, TIMEOUT, DIED, CPU_LIMIT or OUTPUT_LIMIT
    outputs: dict[int, list] = field(default_factory=dict)  # code-cell index -> outputs
    detail: str = ""
    seconds: float = 0.0  # wall time of the whole run, sandbox set-up included
    phases: dict[str, float] = field(default_factory=dict)  # runner's startup and execution


LAST_RUN: list[SandboxResult] = []  # the latest result in this process, for timing reports


def bwrap_available() -> tuple[bool, str]:
    """Can we start a sandbox here? (True, "") or (False, why not)."""
    if not shutil.which("bwrap"):
        return False, "bubblewrap (bwrap) is not installed: apt-get install bubblewrap"
    probe = subprocess.run(
        [*_bwrap_args(Limits()), "--", sys.executable, "-c", "print('sandbox-ok')"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    if probe.returncode != 0 or "sandbox-ok" not in probe.stdout:
        return False, f"bwrap cannot start a sandbox here: {probe.stderr.strip()[:300]}"
    return True, ""


def _bwrap_args(limits: Limits) -> list[str]:
    python_homes = sorted({str(Path(p).resolve()) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)})
    args = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL"]
    args += ["--uid", "65534", "--gid", "65534", "--hostname", "sandbox"]
    # The private /tmp first: mounts are applied in order, and a Python environment that lives
    # under /tmp (a clone in a temporary directory) must be bound on top of it, not hidden by it.
    args += ["--size", str(limits.tmp_bytes), "--tmpfs", "/tmp"]
    args += ["--ro-bind", "/usr", "/usr", "--proc", "/proc", "--dev", "/dev"]
    for name in ("bin", "lib", "lib64", "sbin"):
        if Path(f"/{name}").is_symlink():
            args += ["--symlink", os.readlink(f"/{name}"), f"/{name}"]
        elif Path(f"/{name}").is_dir():
            args += ["--ro-bind", f"/{name}", f"/{name}"]
    for home in python_homes:
        args += ["--ro-bind", home, home]
    for path in (sys.prefix, sys.base_prefix):  # a venv's own path may be a symlink
        if Path(path).resolve() != Path(path) and Path(path).exists():
            args += ["--symlink", str(Path(path).resolve()), path]
    args += ["--ro-bind", str(RUNNER), "/sandbox/runner.py", "--chdir", "/tmp"]
    args += ["--clearenv"] + [x for k, v in sandbox_env("/tmp").items() for x in ("--setenv", k, v)]
    return args


def sandbox_env(home: str) -> dict[str, str]:
    """The whole environment of the student's code: nothing of the grader's (no URLs, no tokens)."""
    return {
        "HOME": home,
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": f"{home}/.matplotlib",
        "IPYTHONDIR": f"{home}/.ipython",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
    }


class _ProcessLimit:
    """A pids cgroup for one sandbox when we may create one (root), else RLIMIT_NPROC."""

    def __init__(self, limit: int):
        self.limit, self.path = limit, None
        base = PIDS_CGROUP_ROOT / "backprop-autograder"
        try:
            base.mkdir(exist_ok=True)
            path = base / uuid.uuid4().hex[:12]
            path.mkdir()
            (path / "pids.max").write_text(str(limit))
            self.path = path
        except OSError:
            self.path = None  # not root or no pids controller: fall back to the rlimit

    def enter(self) -> None:
        """Called in the child before exec: join the cgroup, or set the rlimit."""
        if self.path is not None:
            (self.path / "cgroup.procs").write_text(str(os.getpid()))
        else:
            resource.setrlimit(resource.RLIMIT_NPROC, (self.limit, self.limit))

    def close(self) -> None:
        if self.path is not None:
            for _ in range(50):  # the processes are dead; the kernel needs a moment to notice
                try:
                    self.path.rmdir()
                    return
                except OSError:
                    time.sleep(0.01)


def run_cells(
    cells: list[str], limits: Limits = Limits(), *, isolate: bool = True, helper_cells=(), test_cells=()
) -> SandboxResult:
    """Execute `cells` (code-cell sources, in order) in a fresh sandbox; collect their outputs.

    With isolate=False the runner runs directly as this user, with the same resource limits but
    no isolation: only for an instructor who accepted running untrusted code (--unsafe-no-sandbox).
    """
    job = json.dumps(
        {
            "cells": cells,
            "cell_timeout": limits.cell_timeout,
            "max_output_bytes": limits.output_bytes,
            "helper_cells": list(helper_cells),  # locked, ungraded code cells (the grading helpers)
            "test_cells": list(test_cells),  # graded cells: run with monkeypatching undone
        }
    ).encode()
    process_limit = _ProcessLimit(limits.processes)

    def in_child():
        process_limit.enter()
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_time, limits.cpu_time + 5))
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))

    scratch = None
    if isolate:
        command, cwd, env = [*_bwrap_args(limits), "--", sys.executable, "/sandbox/runner.py"], None, None
    else:
        scratch = tempfile.mkdtemp(prefix="autograder-unsafe-")
        command, cwd, env = [sys.executable, str(RUNNER)], scratch, sandbox_env(scratch)
    start = time.monotonic()
    proc = subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        preexec_fn=in_child,  # noqa: PLW1509 - needed to apply limits before exec
        start_new_session=True,
    )
    try:
        raw, timed_out, too_big = _communicate(proc, job, limits, start)
    finally:
        _kill(proc)
        process_limit.close()
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
    result = _parse(raw)
    result.seconds = time.monotonic() - start
    LAST_RUN[:] = [result]
    if result.status == OK and not (timed_out or too_big):
        return result
    if timed_out:
        result.status, result.detail = TIMEOUT, f"the notebook ran longer than {limits.wall_time:g} s"
    elif too_big:
        result.status, result.detail = OUTPUT_LIMIT, f"more than {limits.results_bytes} bytes of output"
    elif proc.returncode in (-signal.SIGXCPU, -signal.SIGKILL) and result.seconds < limits.wall_time:
        result.status, result.detail = CPU_LIMIT, f"used more than {limits.cpu_time} s of CPU time"
    else:
        result.status = DIED
        result.detail = f"the notebook's process ended early (exit status {proc.returncode})"
    return result


def _communicate(proc, job: bytes, limits: Limits, start: float):
    """Send the job, read results until EOF, the wall-time limit or the size limit."""
    import selectors

    try:
        proc.stdin.write(job)
        proc.stdin.close()
    except BrokenPipeError:
        pass
    chunks, size = [], 0
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        while True:
            remaining = limits.wall_time - (time.monotonic() - start)
            if remaining <= 0:
                return b"".join(chunks), True, False
            if not selector.select(timeout=min(remaining, 1.0)):
                continue
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                proc.wait(timeout=max(remaining, 0.1))
                return b"".join(chunks), False, False
            chunks.append(chunk)
            size += len(chunk)
            if size > limits.results_bytes:
                return b"".join(chunks), False, True


def _kill(proc) -> None:
    """Kill the sandbox's whole session; its PID namespace takes every descendant with it."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait()
    proc.stdout.close()


def _parse(raw: bytes) -> SandboxResult:
    result = SandboxResult(status=DIED)
    for line in raw.splitlines():
        try:
            message = json.loads(line)
        except ValueError:
            continue  # a partial last line, or noise
        if message.get("done"):
            result.status = OK
            result.phases = {k: float(v) for k, v in (message.get("seconds") or {}).items()}
        elif isinstance(message.get("index"), int) and isinstance(message.get("outputs"), list):
            result.outputs[message["index"]] = message["outputs"]
    return result
