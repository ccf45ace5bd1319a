"""Benchmark: stock `nbgrader autograde` against our sandboxed `grade`, on the same submissions.

    .venv/bin/python tools/benchmark_grading.py [--assignment 01-chain-rule] [-n 40]

Generates N submissions from the assignment's sample fixtures (by default 60% correct, 25%
partial, 15% whose answer to one function loops forever, so the test cell calling it runs into
the per-cell time limit), then grades them (a) with one stock `nbgrader autograde ID`
process (a Jupyter kernel per notebook, no sandbox) and (b) with `python -m autograder grade`
at 1 worker and at every core, sandbox on, and prints submissions per minute, the ratio to
stock, and where the time of one submission goes (judge and student processes, the other steps).
It measures; it asserts nothing.
Both graders use the same per-cell time limit (--cell-timeout). Neither clock includes making the
assignment known to the grader, which happens once per assignment: stock's `generate_assignment`
and our private release (`steps.grade.register`) both run before it starts.

    .venv/bin/python tools/benchmark_grading.py --scale 40,400,2000 [--timeout-share 0]

Scale instead (no stock run): for each class size, generated as above, our grader at 1 worker,
at every core, and on a Dask LocalCluster of 2 workers (`--dask local:2`, SQLite: one machine):
seconds, submissions per minute, wall time per submission (which should stay flat as the class
grows), the median autograde of one submission, and the memory of the judge and the student
processes (the largest resident size of any one of them, sampled from /proc every 0.1 s, and
the judge's own peak as it reports it).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def make_submissions(assignment: str, n: int, folder: Path, timeout_share: float) -> dict[str, str]:
    samples = REPO / "tests" / "fixtures" / assignment / "submissions"
    correct = json.loads((samples / "correct.ipynb").read_text())
    looping = json.loads(json.dumps(correct))
    last_answer = [c for c in looping["cells"] if c["metadata"].get("nbgrader", {}).get("solution")][-1]
    source = "".join(last_answer["source"])
    body = source.index('"""', source.index('"""') + 3) + 3  # right after the first docstring
    last_answer["source"] = source[:body] + "\n    while True:  # a loop that never ends\n        pass" + source[body:]
    kinds = {}
    folder.mkdir(parents=True)
    every = round(1 / timeout_share) if timeout_share > 0 else 0
    for i in range(n):
        kind = "timeout" if every and i % every == every // 2 else "partial" if i % 4 == 1 else "correct"
        data = looping if kind == "timeout" else json.loads((samples / f"{kind}.ipynb").read_text())
        (folder / f"s{i:04d}.ipynb").write_text(json.dumps(data))
        kinds[f"s{i:04d}"] = kind
    return kinds


def timed(command: list[str], **kwargs) -> float:
    start = time.monotonic()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kwargs)
    return time.monotonic() - start


def stock_nbgrader(assignment: str, submissions: Path, work: Path, cell_timeout: float) -> float:
    """One `nbgrader autograde ID` over the whole class, as the nbgrader docs do it."""
    root = work / "stock"
    shutil.copytree(REPO / "solutions" / assignment, root / "source" / assignment)
    (root / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.CourseDirectory.root = {str(root)!r}\n"
        f"c.CourseDirectory.db_url = 'sqlite:///{root}/gradebook.db'\n"
        f"c.Execute.timeout = {cell_timeout}\n"
        f"c.Exchange.root = {str(root / 'exchange')!r}\n"
    )
    (root / "exchange").mkdir()
    env = {**os.environ, "PATH": f"{VENV_BIN}:{os.environ['PATH']}"}
    nbgrader = [str(VENV_BIN / "nbgrader")]
    subprocess.run([*nbgrader, "generate_assignment", assignment, "--force"], cwd=root, env=env, check=True,
                   capture_output=True)  # fmt: skip
    notebook = next((root / "source" / assignment).glob("*.ipynb")).name
    for path in submissions.glob("*.ipynb"):
        target = root / "submitted" / path.stem / assignment
        target.mkdir(parents=True)
        shutil.copy(path, target / notebook)
    return timed([*nbgrader, "autograde", assignment], cwd=root, env=env)


def ours(assignment: str, submissions: Path, work: Path, workers, cell_timeout: float) -> tuple[float, dict]:
    """`grade` at `workers` (a number, or "local:N" for Dask); (seconds, its --timings)."""
    label = str(workers).replace(":", "-")
    state = work / f"ours-{label}"
    config = work / "limits.py"
    config.write_text(f"c = get_config()\nc.SandboxExecute.cell_timeout = {cell_timeout}\n")
    base = [sys.executable, "-m", "autograder", "--state", str(state), "--config", str(config)]
    subprocess.run([*base, "collect", assignment, str(submissions)], cwd=REPO, check=True, capture_output=True)
    # The assignment's registration in this gradebook (a private release, 2-4 s), as stock's
    # `generate_assignment` above, happens once per assignment and term, before the clock starts.
    register = ("from autograder.records.course import Course; from autograder.steps.grade import register; "
                f"register(Course.locate(state={str(state)!r}, config={str(config)!r}), {assignment!r})")
    subprocess.run([sys.executable, "-c", register], cwd=REPO, check=True, capture_output=True)
    timings = work / f"timings-{label}.json"
    how = ["--dask", workers] if str(workers).startswith("local") else ["--workers", str(workers)]
    seconds = timed([*base, "grade", assignment, *how, "--timings", str(timings)], cwd=REPO)
    return seconds, json.loads(timings.read_text())


class MemorySampler:
    """The largest resident size of any judge and any student process (zygotes and their forks,
    which keep the zygote's command line), read from /proc every `interval` seconds."""

    def __init__(self, interval: float = 0.1):
        import threading

        self.peak = {"judge": 0, "student": 0}
        self.interval, self.stopped = interval, threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopped.set()
        self.thread.join()

    def _run(self) -> None:
        while not self.stopped.wait(self.interval):
            for proc in Path("/proc").iterdir():
                if not proc.name.isdigit():
                    continue
                try:
                    command = (proc / "cmdline").read_bytes()
                    if b"zygote" not in command:
                        continue
                    kind = "judge" if b"judge.py" in command else "student" if b"student.py" in command else None
                    if kind is None:
                        continue
                    for line in (proc / "status").read_text().splitlines():
                        if line.startswith("VmRSS:"):
                            self.peak[kind] = max(self.peak[kind], int(line.split()[1]) * 1024)
                except OSError:
                    continue


def scale(args, cores: int) -> None:
    sizes = [int(n) for n in args.scale.split(",")]
    configs = sorted({1, cores}) + ["local:2"]
    print(f"{args.assignment}, timeout share {args.timeout_share:g}, per-cell limit {args.cell_timeout:g} s, "
          f"{cores} cores; load average {os.getloadavg()[0]:.1f} at the start")  # fmt: skip
    header = ("size", "grader", "seconds", "subm/min", "ms/subm", "median ms", "judge MB", "student MB")
    print("\n" + " ".join(f"{h:>11}" for h in header))
    for n in sizes:
        with tempfile.TemporaryDirectory(prefix="grading-benchmark-") as tmp:
            work = Path(tmp)
            make_submissions(args.assignment, n, work / "class", args.timeout_share)
            for workers in configs:
                with MemorySampler() as memory:
                    seconds, timings = ours(args.assignment, work / "class", work, workers, args.cell_timeout)
                median = statistics.median(t["total"] for t in timings.values()) if timings else 0.0
                label = f"dask {workers}" if str(workers).startswith("local") else f"{workers} worker(s)"
                row = (n, label, f"{seconds:.1f}", f"{n / seconds * 60:.0f}", f"{seconds / n * 1000:.0f}",
                       f"{median * 1000:.0f}", f"{memory.peak['judge'] / 2**20:.0f}",
                       f"{memory.peak['student'] / 2**20:.0f}")  # fmt: skip
                print(" ".join(f"{str(c):>11}" for c in row), flush=True)
    print(f"load average {os.getloadavg()[0]:.1f} at the end (other work on this machine slows every figure)")


def kernel_start_stop(samples: int = 5) -> float:
    """Seconds to start and stop one python3 Jupyter kernel (what stock nbgrader pays per notebook)."""
    from jupyter_client.manager import start_new_kernel

    durations = []
    for _ in range(samples):
        start = time.monotonic()
        manager, client = start_new_kernel(kernel_name="python3")
        client.stop_channels()
        manager.shutdown_kernel(now=False)
        durations.append(time.monotonic() - start)
    return statistics.median(durations)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assignment", default="01-chain-rule")
    parser.add_argument("-n", type=int, default=40, help="number of submissions")
    parser.add_argument("--cell-timeout", type=float, default=5.0, help="seconds per cell, for both graders")
    parser.add_argument("--timeout-share", type=float, default=0.15, help="share of submissions that time out")
    parser.add_argument("--scale", metavar="N,N,...", help="class sizes to grade with our grader only (no stock run)")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    if args.scale:
        scale(args, cores)
        return
    with tempfile.TemporaryDirectory(prefix="grading-benchmark-") as tmp:
        work = Path(tmp)
        kinds = make_submissions(args.assignment, args.n, work / "class", args.timeout_share)
        mix = {k: list(kinds.values()).count(k) for k in ("correct", "partial", "timeout")}
        print(
            f"{args.n} submissions of {args.assignment}: {mix}; per-cell limit {args.cell_timeout:g} s; {cores} cores"
        )
        stock = stock_nbgrader(args.assignment, work / "class", work, args.cell_timeout)
        rows = [("stock nbgrader autograde (1 process)", stock, None)]
        for workers in sorted({1, cores}):
            seconds, timings = ours(args.assignment, work / "class", work, workers, args.cell_timeout)
            rows.append((f"python -m autograder grade --workers {workers}", seconds, timings))
        print(f"\n{'grader':<44} {'seconds':>8} {'subm/min':>9} {'vs stock':>9}")
        for name, seconds, _ in rows:
            print(f"{name:<44} {seconds:8.1f} {args.n / seconds * 60:9.1f} {stock / seconds:8.2f}x")
        _, _, timings = rows[1]
        quick = [t for s, t in timings.items() if kinds[s] != "timeout"]
        median = {
            key: statistics.median(t.get(key, 0.0) for t in quick) for key in ("total", "sandbox", "start", "judge")
        }
        print("\nwhere one submission's time goes (ours, 1 worker, median of submissions without a timeout):")
        print(f"  total autograde              {median['total']:.3f} s")
        print(f"  two processes (sandbox.py)   {median['sandbox']:.3f} s")
        print(f"    fork judge + student       {median['start']:.3f} s   (warm zygotes; our 'kernel start')")
        print(f"    cells (judge's clock)      {median['judge']:.3f} s")
        print(f"    rest (channel, teardown)   {median['sandbox'] - median['start'] - median['judge']:.3f} s")
        steps = median["total"] - median["sandbox"]
        print(f"  the other steps              {steps:.3f} s   (autograde.py: read, sanitize, score, store, gradebook)")
        first = max(timings.values(), key=lambda t: t.get("start", 0.0))
        print(f"  once per worker: starting both zygotes (bwrap + import numpy) {first.get('start', 0.0):.3f} s")
        print(f"stock: one Jupyter kernel start + stop costs {kernel_start_stop():.3f} s per notebook")


if __name__ == "__main__":
    main()
