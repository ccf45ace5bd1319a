"""Where the judge's time goes on one notebook: crossings per cell and per kind, and their cost.

    PYTHONPATH=$PWD .venv/bin/python tools/profile_judge.py [ID] [--repeat 5]

Runs the judge's own code (engine/sandboxed/judge*.py) in this process, in the main thread as in
its sandbox, against a student process forked from here (student_server.Server), without
bubblewrap: the crossings and their cost, not the sandbox's start (engine/sandbox.py measures
that: the `start` phase of `grade --timings`). The student's cells are the source notebook's
solutions (the reference), the locked cells its tests (hidden ones included). Per locked cell it
prints the time, the requests by kind (call, getattr, names, ...) and the time spent waiting for
replies; then the totals, and the cost of one round trip of a trivial request.
It measures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import socket
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "autograder" / "engine" / "sandboxed"))
sys.path.insert(0, str(REPO))

import judge  # noqa: E402
import judge_process  # noqa: E402
import student_server  # noqa: E402
import wire  # noqa: E402

from autograder.engine.preprocessors import imports_of, plain_python  # noqa: E402


def cells_of(assignment: str) -> tuple[list[dict], str]:
    (path,) = sorted((REPO / "solutions" / assignment).glob("*.ipynb"))
    code = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
    cells, preamble = [], []
    for index, cell in enumerate(code):
        meta, source = cell["metadata"].get("nbgrader", {}), "".join(cell["source"])
        if meta.get("locked") and not meta.get("solution"):
            cells.append({"index": index, "kind": "locked", "source": source, "id": meta.get("grade_id", "")})
            if not meta.get("grade"):
                preamble += imports_of(source)
        else:
            markers = ("### BEGIN SOLUTION", "### END SOLUTION")
            source = "".join(line for line in source.splitlines(True) if line.strip() not in markers)
            cells.append({"index": index, "kind": "student", "source": plain_python(source)})
    return cells, "\n".join(preamble)


def fork_student() -> socket.socket:
    ours, theirs = socket.socketpair()
    if os.fork() == 0:
        ours.close()
        student_server.Server(wire.Connection(theirs)).serve()
        os._exit(0)
    theirs.close()
    return ours


class Counting:
    """Wraps StudentProcess.request: requests by kind (and callbacks served), and the time waiting
    for their replies (callbacks included)."""

    def __init__(self):
        self.kinds: collections.Counter = collections.Counter()
        self.waited = 0.0
        self.original = judge_process.StudentProcess.request
        counter = self

        def request(link, message, *args, **kwargs):
            counter.kinds[message.get("op")] += 1
            start = time.perf_counter()
            try:
                return counter.original(link, message, *args, **kwargs)
            finally:
                counter.waited += time.perf_counter() - start

        judge_process.StudentProcess.request = request
        serve = judge_process.serve_callback

        def serve_callback(link, request):  # the student's code calling a test's function: a crossing back
            counter.kinds["callback"] += 1
            return serve(link, request)

        judge_process.serve_callback = serve_callback

    def take(self):
        kinds, waited = dict(self.kinds), self.waited
        self.kinds.clear()
        self.waited = 0.0
        return kinds, waited


def profile(assignment: str, prepared: bool = True) -> list[tuple]:
    cells, preamble = cells_of(assignment)
    judge.PREPARED.clear()
    if prepared:  # what the judge's zygote does once per assignment, before it forks the judges
        judge.prepare([(c["index"], c["source"]) for c in cells if c["kind"] == "locked"])
    counting = Counting()
    grader, judge_end = socket.socketpair()
    channel = wire.Connection(grader, buffered=False)
    student = fork_student()
    the_judge = judge.Judge(wire.Connection(judge_end, buffered=False))
    rows = []
    run_locked, run_student = the_judge.run_locked_cell, the_judge.run_student_cell

    def timed(kind, run):
        def wrapper(index, source):
            counting.take()
            start = time.perf_counter()
            outputs = run(index, source)
            seconds = time.perf_counter() - start
            rows.append((index, kind, seconds, *counting.take(), any(o["output_type"] == "error" for o in outputs)))
            return outputs

        return wrapper

    the_judge.run_locked_cell = timed("locked", run_locked)
    the_judge.run_student_cell = timed("student", run_student)
    job = {"cells": [{k: c[k] for k in ("index", "kind", "source")} for c in cells],
           "limits": {"cell_timeout": 30, "output_bytes": 20_000}, "preamble": preamble}  # fmt: skip

    def drive():
        channel.send(job)
        socket.send_fds(grader, [b"s"], [student.fileno()])
        while not channel.receive().get("done"):
            pass

    driver = threading.Thread(target=drive)
    driver.start()
    start = time.perf_counter()
    the_judge.run()
    total = time.perf_counter() - start
    driver.join()
    ids = {c["index"]: c.get("id", "") for c in cells}
    return [(ids[r[0]], *r[1:]) for r in rows], total


def round_trip(n: int = 2000) -> float:
    ours = fork_student()
    connection = wire.Connection(ours)
    start = time.perf_counter()
    for _ in range(n):
        connection.send({"op": "names", "names": []})
        connection.receive()
    seconds = (time.perf_counter() - start) / n
    ours.close()
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("assignment", nargs="?", default="01-chain-rule")
    parser.add_argument("--repeat", type=int, default=5, help="runs; the fastest is shown")
    parser.add_argument("--unprepared", action="store_true", help="the locked cells not compiled in advance")
    args = parser.parse_args()
    runs = [profile(args.assignment, prepared=not args.unprepared) for _ in range(args.repeat)]
    rows, total = min(runs, key=lambda run: run[1])
    print(f"{args.assignment}: judge {total * 1000:.1f} ms (fastest of {args.repeat}), per cell:")
    print(f"  {'cell':<36} {'ms':>7} {'waiting':>8}  requests")
    kinds_total: collections.Counter = collections.Counter()
    waited_total = 0.0
    for name, _kind, seconds, kinds, waited, failed in rows:
        kinds_total.update(kinds)
        waited_total += waited
        label = (name or "(student cell)") + (" FAILED" if failed else "")
        shown = ", ".join(f"{k} {v}" for k, v in sorted(kinds.items()))
        print(f"  {label:<36} {seconds * 1000:7.2f} {waited * 1000:8.2f}  {shown}")
    requests = sum(kinds_total.values())
    print(f"  requests {requests} ({', '.join(f'{k} {v}' for k, v in sorted(kinds_total.items()))}); "
          f"waiting for replies {waited_total * 1000:.1f} ms of {total * 1000:.1f} ms")  # fmt: skip
    print(f"  one round trip of an empty request: {round_trip() * 1e6:.0f} us")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
