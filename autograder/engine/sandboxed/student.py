"""The student's side of grading: runs the student's cells and answers the judge's requests.

Started once per grading worker inside its own bubblewrap sandbox (see sandbox.py) as a *zygote*:
it imports numpy once, then forks one student process per submission on request. Each student
process gets a fresh mount, PID and IPC namespace (its own /tmp, nothing else writable, no way to
see or signal the zygote or an earlier student), drops every capability and takes its resource
limits before any student code runs. It never sees a locked cell: the judge (judge.py) sends it
the student's own cells to run, then calls into them through handles.

Everything here runs beside hostile code, so nothing here is trusted by the judge: replies are
plain data that the judge decodes strictly (wire.py).

This module is the process control: the zygote, and each student process's namespaces,
capabilities and limits. Its answers to the judge are student_server.py; what a student cell
sees, student_env.py.

    python student.py zygote FD [--isolate]
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import signal
import socket
import sys

import wire
from student_server import Server

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


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "zygote":
        zygote(int(sys.argv[2]), "--isolate" in sys.argv[3:])
