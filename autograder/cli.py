"""`python -m autograder`: parse, validate, run one named step, report."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import autograder
from autograder.course import Course, UnknownAssignment


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m autograder",
        description=autograder.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--root", help="course root holding solutions/ and exercises/ (default: this repository)")
    parser.add_argument("--state", help="instructor state directory (default: autograder/state, or $AUTOGRADER_STATE)")
    parser.add_argument(
        "--db-url", help="gradebook URL, sqlite:///... or postgresql+psycopg2://... (or $AUTOGRADER_DB_URL)"
    )
    parser.add_argument("--config", help="extra nbgrader config file loaded after ours (or $AUTOGRADER_CONFIG)")
    steps = parser.add_subparsers(dest="step", required=True, metavar="STEP")

    p = steps.add_parser("release", help="regenerate exercises/ from solutions/")
    p.add_argument("assignments", nargs="*", metavar="ID")

    p = steps.add_parser("collect", help="import <student>.ipynb files from a folder or a zip")
    p.add_argument("assignment", metavar="ID")
    p.add_argument("source", type=Path, metavar="SOURCE")

    p = steps.add_parser("grade", help="autograde collected submissions")
    p.add_argument("assignment", metavar="ID")
    p.add_argument("--student", action="append", metavar="S", help="(re)grade this student (repeatable)")
    p.add_argument("--workers", type=int, metavar="N", help="parallel graders (default: number of cores)")
    p.add_argument("--regrade", action="store_true", help="grade again students already graded or failed")
    p.add_argument(
        "--shard",
        type=_shard,
        metavar="I/N",
        help="grade only shard I of N of the class; 'auto' (or auto/N) reads I (and N) from a SLURM "
        "array job or a Kubernetes indexed Job",
    )
    p.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="grade on a Dask cluster: a scheduler address (tcp://host:8786) or local[:N] (N worker processes); "
        "use a PostgreSQL gradebook (--db-url) shared with the workers",
    )
    p.add_argument("--timings", type=Path, metavar="FILE.json", help="write where each submission's time went")
    p.add_argument(
        "--unsafe-no-sandbox",
        action="store_true",
        help="run student code WITHOUT the bubblewrap sandbox, with your rights (never for real classes)",
    )

    p = steps.add_parser("export", help="write grades as CSV")
    p.add_argument("--out", type=Path, required=True, metavar="FILE.csv")
    p.add_argument("--canvas", type=Path, metavar="FILE.csv", help="also write a Canvas gradebook import file")
    p.add_argument("--assignment", action="append", metavar="ID", help="only this assignment (repeatable)")

    p = steps.add_parser("report", help="summary table and score/pass-rate plot")
    p.add_argument("assignment", metavar="ID")
    p.add_argument("--out", type=Path, metavar="FILE.png", help="plot file (default: <state>/reports/ID.png)")

    p = steps.add_parser("feedback", help="per-student HTML feedback")
    p.add_argument("assignment", metavar="ID")
    p.add_argument("--student", action="append", metavar="S")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    try:
        course = Course.locate(root=args.root, state=args.state, db_url=args.db_url, config=args.config)
        return STEPS[args.step](course, args)
    except (UnknownAssignment, LookupError, FileNotFoundError, ValueError, RuntimeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def run_release(course, args) -> int:
    from autograder.release import release

    for assignment_id in release(course, args.assignments):
        print(f"released {assignment_id} -> {course.release_dir / assignment_id}")
    return 0


def run_collect(course, args) -> int:
    from autograder.collect import collect

    report = collect(course, args.assignment, args.source)
    print(f"collected {len(report.collected)} submission(s) of {args.assignment}")
    for name, reason in report.skipped.items():
        print(f"skipped {name}: {reason}")
    return 0


def run_grade(course, args) -> int:
    from autograder.grade import grade
    from autograder.records import FAILED

    if args.dask:  # Dask's own progress and shutdown messages: only its warnings and errors
        logging.getLogger("distributed").setLevel(logging.ERROR)

    outcomes = grade(
        course,
        args.assignment,
        args.student,
        workers=args.workers,
        regrade=args.regrade,
        shard=args.shard,
        sandbox=not args.unsafe_no_sandbox,
        dask=args.dask,
    )
    failed = [o for o in outcomes if o.status == FAILED]
    print(f"graded {len(outcomes) - len(failed)}, failed {len(failed)} of {len(outcomes)} submission(s)")
    if args.timings:
        timings = {o.student: {"total": o.seconds, **o.sandbox} for o in outcomes}
        args.timings.write_text(json.dumps(timings, indent=1, sort_keys=True) + "\n")
    return 0  # a failed submission is a recorded outcome, not a failure of the grader


def run_export(course, args) -> int:
    from autograder.export import export

    rows = export(course, args.out, canvas=args.canvas, assignment_ids=args.assignment)
    print(f"wrote {rows} row(s) to {args.out}")
    if args.canvas:
        print(f"wrote the Canvas import file {args.canvas}")
    return 0


def run_report(course, args) -> int:
    from autograder.report import report

    text, plot = report(course, args.assignment, args.out)
    print(text)
    print(f"plot: {plot}")
    return 0


def run_feedback(course, args) -> int:
    from autograder.feedback import feedback

    results = feedback(course, args.assignment, args.student)
    return 0 if all(isinstance(r, Path) for r in results.values()) else 1


def _shard(text: str) -> tuple[int, int]:
    if text == "auto" or text.startswith("auto/"):
        from autograder.cluster import shard_from_environment

        try:
            count = int(text.split("/")[1]) if "/" in text else None
            i, n = shard_from_environment(count)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None
        return _shard(f"{i}/{n}")
    try:
        i, n = (int(part) for part in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected I/N such as 1/4, got {text!r}") from None
    if not 1 <= i <= n:
        raise argparse.ArgumentTypeError(f"shard {i}/{n}: I must be between 1 and N")
    return i, n


STEPS = {
    "release": run_release,
    "collect": run_collect,
    "grade": run_grade,
    "export": run_export,
    "report": run_report,
    "feedback": run_feedback,
}
