"""Grade one notebook with two sandboxed processes: the student's, and the judge that decides.

    grader (this process: nbgrader, the gradebook)
      |-- judge zygote    bwrap: no network, no repository, read-only; course code only (sandboxed/judge*.py)
      |     `-- judge      forked per submission: runs the locked cells, decides each test cell
      `-- student zygote  bwrap: the same, plus a user namespace in which it may make more (sandboxed/student*.py)
            `-- student    forked per submission into fresh mount/PID/IPC namespaces, capabilities
                           dropped, resource limits set: runs the student's cells only

Both zygotes start once per grading worker and import numpy once, so a submission costs two
forks, not two interpreter starts. The judge and the student talk over a socket pair (plain data,
wire.py); the judge reports each cell's outputs to us and nothing else reaches us. The student
process never receives a locked cell's source, and only the judge's outputs are scored.

Limits, per student process: CPU seconds, address space, processes (RLIMIT_NPROC counted inside
its own user namespace, and a pids cgroup around the whole student sandbox where we may make one),
file size, open files, a private /tmp of bounded size; a memory cgroup around the student sandbox
where we may make one; the rest of its file system is read-only. Per cell: a time limit (a call
that runs past it fails that cell and the student's process is replaced, its cells replayed).
Per notebook: a wall-time limit.
"""

from __future__ import annotations

import atexit
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

from autograder.engine.sandboxed import wire

HERE = Path(__file__).resolve().parent / "sandboxed"  # the code that runs in the sandboxes, at /sandbox
CGROUP_ROOT = Path("/sys/fs/cgroup")

OK, TIMEOUT, DIED = "ok", "timeout", "grader error"  # DIED: the judge ended early (ours to fix, retried once)
MEMORY = "memory limit"  # the judge passed its memory limit: the student's code made the tests hold too much


@dataclass(frozen=True)
class Limits:
    cell_timeout: float = 30.0  # seconds per cell, like nbgrader's Execute.timeout
    wall_time: float = 120.0  # seconds for the whole notebook
    cpu_time: int = 120  # CPU seconds of one student process
    memory_bytes: int = 2 * 1024**3  # address space of each student process
    processes: int = 64  # processes and threads of the student at once
    file_bytes: int = 16 * 1024**2  # largest file the student's code may write (in its private /tmp)
    tmp_bytes: int = 64 * 1024**2  # size of the student's private /tmp
    output_bytes: int = 20_000  # printed text kept per cell
    judge_memory_bytes: int = 1536 * 1024**2  # address space of the judge (RLIMIT_AS, set by the judge itself)


@dataclass
class SandboxResult:
    status: str  # OK, TIMEOUT or DIED
    outputs: dict[int, list] = field(default_factory=dict)  # code-cell index -> outputs
    detail: str = ""
    seconds: float = 0.0  # wall time of the whole notebook
    phases: dict[str, float] = field(default_factory=dict)  # start (forks), judge (cells)


LAST_RUN: list[SandboxResult] = []  # the latest result in this process, for timing reports


def bwrap_available() -> tuple[bool, str]:
    """Can we start both sandboxes here? (True, "") or (False, why not)."""
    if not shutil.which("bwrap"):
        return False, "bubblewrap (bwrap) is not installed: apt-get install bubblewrap"
    for kind in ("judge", "student"):
        command = [*_bwrap_args(kind, Limits()), "--", sys.executable, "-c", "print('sandbox-ok')"]
        probe = subprocess.run(command, capture_output=True, text=True, timeout=30)
        if probe.returncode != 0 or "sandbox-ok" not in probe.stdout:
            return False, f"bwrap cannot start a sandbox here: {probe.stderr.strip()[:300]}"
    return True, ""


def _bwrap_args(kind: str, limits: Limits) -> list[str]:
    """bubblewrap's arguments for the judge's or the student's sandbox."""
    python_homes = sorted({str(Path(p).resolve()) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)})
    args = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--hostname", "sandbox"]
    if kind == "student":  # root of a user namespace of its own, to make a namespace per student
        args += ["--unshare-user", "--uid", "0", "--gid", "0", "--cap-add", "ALL", "--disable-userns"]
    else:
        args += ["--uid", "65534", "--gid", "65534", "--cap-drop", "ALL"]
    # The private /tmp first: mounts are applied in order, and a Python environment that lives
    # under /tmp (a clone in a temporary directory) must be bound on top of it, not hidden by it.
    args += ["--size", str(limits.tmp_bytes), "--tmpfs", "/tmp"]
    args += ["--ro-bind", "/usr", "/usr", "--proc", "/proc", "--dev", "/dev", "--remount-ro", "/dev"]
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
    for name in sandboxed_files(kind):
        args += ["--ro-bind", str(HERE / name), f"/sandbox/{name}"]
    args += ["--remount-ro", "/", "--chdir", "/tmp"]
    args += ["--clearenv"] + [x for k, v in sandbox_env("/tmp").items() for x in ("--setenv", k, v)]
    return args


def sandboxed_files(kind: str) -> list[str]:
    """The modules a judge's or a student's sandbox holds: its own (judge*.py or student*.py) and wire*.py."""
    return sorted(p.name for p in HERE.glob(f"{kind}*.py")) + sorted(p.name for p in HERE.glob("wire*.py"))


def sandbox_env(home: str) -> dict[str, str]:
    """The whole environment of the sandboxes: nothing of the grader's (no URLs, no tokens)."""
    return {
        "HOME": home,
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": f"{home}/.matplotlib",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        "PYTHONPATH": "/sandbox",
    }


# ---------------------------------------------------------------------------------------------
# Zygotes


class _Cgroups:
    """A pids and a memory cgroup (v1 or v2) around one sandbox, where this user may make them."""

    def __init__(self, processes: int, memory_bytes: int | None):
        self.paths: list[Path] = []
        name = f"backprop-autograder/{uuid.uuid4().hex[:12]}"
        for leftover in CGROUP_ROOT.glob("*/backprop-autograder/*/"):  # of graders that were killed
            try:
                if time.time() - leftover.stat().st_mtime > 600:  # not one another grader just made
                    leftover.rmdir()  # only an empty one goes
            except OSError:
                pass
        for controller, limit_file, value in (
            ("pids", "pids.max", processes),
            ("memory", "memory.limit_in_bytes", memory_bytes),
        ):
            if value is None:
                continue
            path = CGROUP_ROOT / controller / name
            try:
                path.mkdir(parents=True)
                (path / limit_file).write_text(str(value))
                self.paths.append(path)
            except OSError:
                continue  # not root, or no such controller: the rlimits still hold

    def enter(self) -> None:
        """In the child, before exec (a cgroup that cannot be joined is skipped: the rlimits hold)."""
        for path in self.paths:
            try:
                (path / "cgroup.procs").write_text(str(os.getpid()))
            except OSError:
                pass

    def close(self) -> None:
        for path in self.paths:
            for _ in range(50):  # the processes are dead; the kernel needs a moment to notice
                try:
                    path.rmdir()
                    break
                except OSError:
                    time.sleep(0.01)


class Zygote:
    """A long-lived sandboxed process that forks a judge or a student per submission."""

    def __init__(self, kind: str, limits: Limits, isolate: bool):
        self.kind, self.limits, self.isolate = kind, limits, isolate
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        fd = theirs.fileno()
        if kind == "student":  # the whole student sandbox: a student, its zygote and forks
            self.cgroups = _Cgroups(limits.processes + 8, limits.memory_bytes + limits.tmp_bytes + 512 * 1024**2)
        else:  # the judge zygote and its judge (its RLIMIT_AS bounds each; the watch bounds both)
            self.cgroups = _Cgroups(64, limits.judge_memory_bytes + ZYGOTE_ALLOWANCE)
        if isolate:
            command = [*_bwrap_args(kind, limits), "--", sys.executable, f"/sandbox/{kind}.py", "zygote", str(fd)]
            env = None
        else:
            command = [sys.executable, str(HERE / f"{kind}.py"), "zygote", str(fd)]
            env = {**sandbox_env(os.environ.get("TMPDIR", "/tmp")), "PYTHONPATH": str(HERE)}
        if kind == "student" and isolate:
            command.append("--isolate")

        cpu = CPU

        def in_child():
            self.cgroups.enter()
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
            if cpu is not None:  # the judge and the student on one CPU: a request is a local wake-up
                os.sched_setaffinity(0, {cpu})

        self.process = subprocess.Popen(
            command,
            env=env,
            pass_fds=[fd],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=_debug_log(kind),
            preexec_fn=in_child,  # noqa: PLW1509 - joins the cgroups before exec
            start_new_session=True,
        )
        theirs.close()
        self.control = ours
        self.prepared: set[tuple[int, int]] = set()  # locked cells the judge zygote has compiled: (index, hash)

    def prepare(self, cells: list[dict]) -> None:
        """Have the judge zygote compile and analyse the locked cells it has not seen (judge.prepare)."""
        new = [c for c in cells if c["kind"] == "locked" and (c["index"], hash(c["source"])) not in self.prepared]
        if not new:
            return
        if len(self.prepared) + len(new) > 4096:  # as the zygote forgets (judge.PREPARED_LIMIT)
            self.prepared.clear()
        ours, theirs = socket.socketpair()
        with ours, theirs:
            socket.send_fds(self.control, [b'{"prepare": true}'], [theirs.fileno()])
            wire.Connection(ours, buffered=False).send({"cells": new})
            self._reply()
        self.prepared.update((c["index"], hash(c["source"])) for c in new)

    def alive(self) -> bool:
        return self.process.poll() is None

    def fork(self, fd: int) -> int:
        """A new judge or student serving on `fd`; its pid (in the zygote's namespace)."""
        limits = asdict(self.limits)
        socket.send_fds(self.control, [json.dumps({"fork": limits}).encode()], [fd])
        return int(self._reply()["pid"])

    def kill(self, pid: int) -> None:
        try:
            self.control.sendall(json.dumps({"kill": pid}).encode())
            self._reply()
        except (OSError, ValueError):
            pass

    def _reply(self) -> dict:
        self.control.settimeout(30)
        data = self.control.recv(4096)
        if not data:
            raise OSError(f"the {self.kind} zygote ended")
        return json.loads(data)

    def close(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()
        self.control.close()
        self.cgroups.close()


def _debug_log(kind: str):
    """Where a zygote's stderr goes: nowhere, or $AUTOGRADER_DEBUG_DIR/<kind>.log for debugging."""
    folder = os.environ.get("AUTOGRADER_DEBUG_DIR")
    return open(Path(folder) / f"{kind}-{os.getpid()}.log", "ab") if folder else subprocess.DEVNULL  # noqa: SIM115


# The CPU this grading worker's two zygotes share (set per worker by grade.py; None: any CPU). Every
# call into student code wakes the other process: on one CPU a round trip took about 100 us, across two 230.
CPU: int | None = None


def use_cpu(index: int) -> None:
    """Put this process's future zygotes on the index-th CPU it may use (round robin)."""
    global CPU
    cpus = sorted(os.sched_getaffinity(0))
    CPU = cpus[index % len(cpus)]


WATCH_INTERVAL = 0.25  # seconds between two looks at the student sandbox's memory
ZYGOTE_ALLOWANCE = 512 * 1024**2  # the zygote itself (numpy imported) and the kernel's rounding
PAGE = os.sysconf("SC_PAGE_SIZE")


def _memory_of(root: int) -> int:
    """Resident bytes of process `root` and all its descendants (a sandbox's whole memory).

    A memory cgroup would do this in the kernel, but not every machine has one that accounts
    (these machines' v1 memory controller counts nothing): this works everywhere, for any user.
    """
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as f:
                    ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, ()))
        try:
            with open(f"/proc/{pid}/statm", "rb") as f:
                total += int(f.read().split()[1]) * PAGE
        except (OSError, ValueError, IndexError):
            continue
    return total


_zygotes: dict[tuple, Zygote] = {}


def _zygote(kind: str, limits: Limits, isolate: bool) -> Zygote:
    """This process's zygote of that kind, started (or restarted) when needed."""
    key = (kind, limits, isolate)
    zygote = _zygotes.get(key)
    if zygote is None or not zygote.alive():
        if zygote is not None:
            zygote.close()
        zygote = _zygotes[key] = Zygote(kind, limits, isolate)
    return zygote


@atexit.register
def close_zygotes() -> None:
    for zygote in _zygotes.values():
        zygote.close()
    _zygotes.clear()


# ---------------------------------------------------------------------------------------------
# One notebook


def run_notebook(cells: list[dict], limits: Limits = Limits(), *, preamble: str = "", isolate: bool = True):
    """Run a notebook's code cells; each cell's outputs as the judge reports them.

    cells: [{"index": i, "kind": "student" | "locked", "source": str}] in notebook order.
    preamble: import statements from the locked helper cells that student code may rely on.
    With isolate=False the processes run without bubblewrap (--unsafe-no-sandbox only).
    """
    start = time.monotonic()
    for attempt in range(2):  # a zygote that died since the last notebook is restarted once
        try:
            judge_zygote = _zygote("judge", limits, isolate)
            judge_zygote.prepare(cells)  # once per assignment: each judge forked then inherits the work
            student_zygote = _zygote("student", limits, isolate)
            channel_socket, judge_end = socket.socketpair()
            channel = wire.Connection(channel_socket, buffered=False)
            judge_pid = judge_zygote.fork(judge_end.fileno())
            judge_end.close()
            student_pid = _send_new_student(student_zygote, channel)
            break
        except OSError:
            if attempt:
                raise
            for key in list(_zygotes):
                _zygotes.pop(key).close()
    forked = time.monotonic()
    result = SandboxResult(status=DIED)
    try:
        channel.send({"cells": cells, "limits": asdict(limits), "preamble": preamble})
        _send_socket(channel, student_pid[1])
        deadline = start + limits.wall_time
        next_look = time.monotonic() + WATCH_INTERVAL
        while True:
            try:
                message = channel.receive(min(deadline, next_look))
            except wire.Deadline:
                if time.monotonic() >= deadline:
                    raise
                message = None
            if time.monotonic() >= next_look:  # the watch: both sandboxes' whole memory
                next_look = time.monotonic() + WATCH_INTERVAL
                if _memory_of(student_zygote.process.pid) > limits.memory_bytes + ZYGOTE_ALLOWANCE:
                    student_zygote.kill(student_pid[0])  # the judge sees the process end, and replaces it
                judge_memory = _memory_of(judge_zygote.process.pid)
                result.phases["judge_peak_bytes"] = max(result.phases.get("judge_peak_bytes", 0), judge_memory)
                if judge_memory > limits.judge_memory_bytes + ZYGOTE_ALLOWANCE:
                    judge_zygote.kill(judge_pid)
                    result.status = MEMORY
                    result.detail = (
                        f"grading this notebook held more than {limits.judge_memory_bytes // 1024**2} MB "
                        "(the tests were made to keep too much of what your code sent)"
                    )
                    break
            if message is None:
                continue
            if "cell" in message:
                result.outputs[int(message["cell"])] = message["outputs"]
            elif message.get("restart"):
                student_zygote.kill(student_pid[0])
                student_pid = _send_new_student(student_zygote, channel, send=True)
            elif message.get("done"):
                result.status = OK
                result.phases.update({"start": forked - start, **message.get("seconds", {})})
                if type(message.get("judge_peak_bytes")) is int:  # the judge's own maximum resident size
                    result.phases["judge_peak_bytes"] = max(
                        result.phases.get("judge_peak_bytes", 0), message["judge_peak_bytes"]
                    )
                break
    except wire.Deadline:
        result.status, result.detail = TIMEOUT, f"the notebook ran longer than {limits.wall_time:g} s"
    except wire.WireError as error:
        result.detail = f"the judge's process ended early ({error})"
    finally:
        student_zygote.kill(student_pid[0])
        judge_zygote.kill(judge_pid)
        channel.close()
    result.seconds = time.monotonic() - start
    LAST_RUN[:] = [result]
    return result


def _send_new_student(zygote: Zygote, channel: wire.Connection, *, send: bool = False):
    """Fork a student process; return (its pid, the judge's end of its socket) or send that end."""
    judge_end, student_end = socket.socketpair()
    pid = zygote.fork(student_end.fileno())
    student_end.close()
    if send:
        _send_socket(channel, judge_end)
    return pid, judge_end


def _send_socket(channel: wire.Connection, sock: socket.socket) -> None:
    socket.send_fds(channel.sock, [b"S"], [sock.fileno()])
    sock.close()
