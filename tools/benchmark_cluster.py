"""Benchmark: grading on Dask against local workers, and the gradebook's cost per submission.

    .venv/bin/python tools/benchmark_cluster.py [-n 60]

Starts a throw-away PostgreSQL server (tests/pgserver.py), builds a class of N submissions
(correct and partial samples of 01-chain-rule), and grades it with `grade --workers 1`,
`--workers 2`, `--dask local:1` and `--dask local:2`, each into a fresh database, printing
submissions per minute. Then it measures what one submission costs the gradebook: the writes
nbgrader's autograde makes (a submission row, one grade and comment row per cell) and our
status row, done N times against the same server. It measures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
ASSIGNMENT = "01-chain-rule"


def make_class(folder: Path, n: int) -> None:
    folder.mkdir(parents=True)
    samples = REPO / "tests" / "fixtures" / ASSIGNMENT / "submissions"
    for i in range(n):
        shutil.copy(samples / ("partial.ipynb" if i % 4 == 3 else "correct.ipynb"), folder / f"s{i:04d}.ipynb")


def grade_once(url: str, work: Path, folder: Path, *options: str) -> float:
    state = work / f"state-{time.monotonic_ns()}"
    base = [sys.executable, "-m", "autograder", "--state", str(state), "--db-url", url]
    subprocess.run([*base, "collect", ASSIGNMENT, str(folder)], cwd=REPO, check=True, capture_output=True)
    start = time.monotonic()
    subprocess.run([*base, "grade", ASSIGNMENT, *options], cwd=REPO, check=True, capture_output=True)
    return time.monotonic() - start


def gradebook_cost(url: str, n: int) -> float:
    """Seconds per submission of the gradebook writes one autograde makes (autograder/engine/scoring.py's
    record, score and late-penalty steps and its one commit, then the status row)."""
    from nbgrader.api import Comment, Grade

    from autograder.engine.autograde import Autograder
    from autograder.records.course import Course
    from autograder.steps.release import release

    with tempfile.TemporaryDirectory() as tmp:
        course = Course.locate(root=REPO, state=Path(tmp) / "state", db_url=url)
        release(course, [ASSIGNMENT], into=course.grading_release_dir)
        statuses = course.statuses()
        autograder = Autograder(course, sandbox=False)
        (notebook,) = autograder.notebooks(ASSIGNMENT)
        start = time.monotonic()
        for i in range(n):
            student = f"cost{i:05d}"
            scoring = autograder.scoring
            submission = scoring.record(ASSIGNMENT, student, Path(tmp) / "no-timestamp")
            submitted = scoring.submitted_notebook(notebook, ASSIGNMENT, student)
            for grade in scoring.by_cell_name(Grade, submitted).values():
                grade.auto_score, grade.needs_manual_grade = 1.0, False
            for comment in scoring.by_cell_name(Comment, submitted).values():
                comment.auto_comment = None
            scoring.late_penalties([notebook], ASSIGNMENT, student, submission)
            autograder.gradebook.db.commit()
            statuses.set(ASSIGNMENT, student, "graded")
        seconds = (time.monotonic() - start) / n
        autograder.close()
        statuses.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=60, help="submissions in the class")
    args = parser.parse_args()
    from tests.pgserver import postgres_server

    results = {}
    with tempfile.TemporaryDirectory(prefix="cluster-benchmark-") as tmp, postgres_server() as server:
        work = Path(tmp)
        make_class(work / "class", args.n)
        admin = server.rsplit("/", 1)[0]
        for name, options in [
            ("local --workers 1", ["--workers", "1"]),
            ("local --workers 2", ["--workers", "2"]),
            ("dask local:1", ["--dask", "local:1"]),
            ("dask local:2", ["--dask", "local:2"]),
        ]:
            database = f"bench{len(results)}"
            subprocess.run(["psql", f"{admin}/gradebook".replace("postgresql+psycopg2", "postgresql"), "-qc",
                            f"create database {database}"], check=True, capture_output=True)  # fmt: skip
            seconds = grade_once(f"{admin}/{database}", work, work / "class", *options)
            results[name] = {"seconds": round(seconds, 1), "per_minute": round(args.n / seconds * 60, 1)}
            print(f"{name:<20} {seconds:7.1f} s  {args.n / seconds * 60:7.1f} submissions/min", flush=True)
        cost = gradebook_cost(f"{admin}/gradebook", max(args.n, 200))
        results["gradebook_seconds_per_submission"] = round(cost, 4)
        print(f"gradebook writes per submission (PostgreSQL): {cost * 1000:.1f} ms")
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
