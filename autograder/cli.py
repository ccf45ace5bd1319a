"""`python -m autograder`: parse, validate, run one named step, report."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import autograder
from autograder.records.course import Course, UnknownAssignment
from autograder.records.deadlines import POLICIES
from autograder.steps.collect import LAYOUTS

INTERRUPTED = 130  # the shell's code for a command stopped by Ctrl-C


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

    p = steps.add_parser("collect", help="import one notebook per student from an LMS download (folder or zip)")
    p.add_argument("assignment", metavar="ID")
    p.add_argument("source", type=Path, metavar="SOURCE")
    p.add_argument("--lms", choices=sorted(LAYOUTS), help="the download's layout (default: detected)")
    p.add_argument(
        "--pattern", metavar="REGEX", help="another layout: a regex for a file's whole path with (?P<student>...)"
    )

    p = steps.add_parser("roster", help="import the class list from the LMS's gradebook export")
    p.add_argument("action", choices=["import", "show"])
    p.add_argument("file", type=Path, nargs="?", metavar="FILE.csv")
    p.add_argument("--format", choices=["canvas", "moodle", "blackboard", "plain"], help="default: detected")

    p = steps.add_parser("adjust", help="set a test cell's points or a submission's total by hand, with a comment")
    p.add_argument("assignment", metavar="ID")
    p.add_argument("student", metavar="STUDENT")
    p.add_argument("--cell", metavar="NAME", help="a test cell's grade_id (default: the whole submission)")
    p.add_argument("--score", type=float, metavar="N")
    p.add_argument("--comment", default="", metavar="TEXT", help="why (shown to the student in the feedback)")
    p.add_argument("--clear", action="store_true", help="remove this adjustment")

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
    p.add_argument("--out", type=Path, metavar="FILE.csv", help="default: <state>/exports/grades.csv")
    p.add_argument("--canvas", type=Path, metavar="FILE.csv", help="also write a Canvas gradebook import file")
    p.add_argument("--moodle", type=Path, metavar="FILE.csv", help="also write a Moodle grading worksheet (one ID)")
    p.add_argument(
        "--blackboard", type=Path, metavar="FILE.xls", help="also write a Blackboard Grade Center upload (.xls or .csv)"
    )
    p.add_argument("--assignment", action="append", metavar="ID", help="only this assignment (repeatable)")
    p.add_argument("--all", action="store_true", help="every assignment of the gradebook, also without collected work")
    _deadline_options(p)

    p = steps.add_parser("report", help="summary table and score/pass-rate plot")
    p.add_argument("assignment", metavar="ID")
    p.add_argument("--out", type=Path, metavar="FILE.png", help="plot file (default: <state>/reports/ID.png)")

    p = steps.add_parser("explain", help="one student's points, messages and what each test checks (regrade requests)")
    p.add_argument("assignment", metavar="ID")
    p.add_argument("student", metavar="STUDENT")

    p = steps.add_parser("similarity", help="pairs of submissions with alike answers, ranked (flags, accuses no one)")
    p.add_argument("assignment", metavar="ID")
    p.add_argument("--out", type=Path, metavar="DIR", help="report folder (default: <state>/similarity/ID)")
    p.add_argument("--threshold", type=_fraction, default=0.5, metavar="F",
                   help="flag a pair when at least F of each answer is shared code (default 0.5)")  # fmt: skip
    p.add_argument("--shared", type=_fraction, default=0.5, metavar="F",
                   help="code in more than F of the answers is the class's and never counts (default 0.5)")  # fmt: skip

    p = steps.add_parser("check", help="a student's check before hand-in: visible tests, and what grading refuses")
    p.add_argument("notebook", type=Path, metavar="NOTEBOOK")
    p.add_argument("--assignment", metavar="ID", help="the assignment (default: from the file name)")
    p.add_argument("--unsafe-no-sandbox", action="store_true", help="run without bubblewrap (your own code only)")

    p = steps.add_parser("feedback", help="per-student HTML feedback")
    p.add_argument("assignment", metavar="ID")
    p.add_argument("--student", action="append", metavar="S")
    p.add_argument("--zip", type=Path, metavar="FILE.zip", help="also hand out: one page per student, LMS names")
    p.add_argument("--folders", type=Path, metavar="DIR", help="also hand out: DIR/<student>/ID-feedback.html")
    _deadline_options(p)
    return parser


def _deadline_options(p: argparse.ArgumentParser) -> None:
    """Deadline settings for one run, over those of the config file (export and feedback agree)."""
    p.add_argument("--due", metavar="WHEN", help="due date of the assignment(s), e.g. '2026-03-02 23:59'")
    p.add_argument("--late-policy", choices=POLICIES, help="none, per-day (penalty) or refuse (after --grace)")
    p.add_argument("--penalty-per-day", type=float, metavar="F", help="fraction of the max score per day late")
    p.add_argument("--grace", metavar="DURATION", help="lateness forgiven, e.g. 15m, 1h")
    p.add_argument("--extension", action="append", metavar="STUDENT=WHEN", help="a new due date or delay (2d)")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    try:
        course = Course.locate(root=args.root, state=args.state, db_url=args.db_url, config=args.config)
        return STEPS[args.step](course, args)
    except (UnknownAssignment, LookupError, OSError, ValueError, RuntimeError) as error:
        print(f"error: {_one_line(error)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\ninterrupted: {args.step} stopped; what was finished is kept (run it again to go on)", file=sys.stderr)
        return INTERRUPTED


def _one_line(error: BaseException) -> str:
    """OSError's own text ('[Errno 13] Permission denied: ...') said plainly, on one line."""
    if isinstance(error, OSError) and error.strerror:
        return f"{error.filename or ''}: {error.strerror.lower()}".lstrip(": ")
    return str(error)


def run_release(course, args) -> int:
    from autograder.steps.release import release

    for assignment_id in release(course, args.assignments):
        print(f"released {assignment_id} -> {course.release_dir / assignment_id}")
    return 0


def run_collect(course, args) -> int:
    from autograder.steps.collect import collect

    report = collect(course, args.assignment, args.source, lms=args.lms, pattern=args.pattern)
    for name, reason in report.skipped.items():
        print(f"skipped {name}: {reason}")
    for note in report.notes:
        print(f"note: {note}")
    if not report.collected:
        print(f"error: no submission of {args.assignment} collected from {args.source} ({report.layout} layout)",
              file=sys.stderr)  # fmt: skip
        return 1
    print(f"collected {len(report.collected)} submission(s) of {args.assignment} ({report.layout} layout)")
    if report.changed or report.unchanged:  # a re-collection: say what it changed
        print(f"  new {len(report.new)}, changed {len(report.changed)}, unchanged {len(report.unchanged)}")
        for label, students in (("new", report.new), ("changed (to grade again)", report.changed),
                                ("unchanged (grade kept)", report.unchanged)):  # fmt: skip
            if students:
                print(f"  {label}: {_names(students)}")
    return 0


def run_roster(course, args) -> int:
    if args.action == "show":
        book = course.statuses()
        roster = book.roster()
        book.close()
        for entry in roster.values():
            print(f"{entry.student}\t{entry.name}\t{entry.email}\t{entry.section}")
        print(f"{len(roster)} student(s) on the roster")
        return 0
    if not args.file:
        raise ValueError("roster import needs the LMS's export: roster import FILE.csv")
    from autograder.steps.roster import import_roster

    fmt, entries = import_roster(course, args.file, fmt=args.format)
    print(f"imported {len(entries)} student(s) from {args.file} ({fmt} format)")
    return 0


def run_adjust(course, args) -> int:
    from autograder.steps.adjust import adjust

    print(adjust(course, args.assignment, args.student, cell=args.cell, score=args.score, comment=args.comment,
                 clear=args.clear))  # fmt: skip
    return 0


def run_grade(course, args) -> int:
    from autograder.records.gradebook import FAILED, tests_digest
    from autograder.steps.grade import grade, stale_students, submitted_students

    digest = tests_digest(course.source_notebooks(args.assignment))  # the tests this run grades with
    if not submitted_students(course, args.assignment):
        raise LookupError(f"nothing collected for {args.assignment} yet: run collect {args.assignment} SOURCE first")
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
    book = course.statuses()
    book.set_graded_with(args.assignment, [o.student for o in outcomes], digest)
    stale = stale_students(book, args.assignment, digest)
    book.close()
    print(f"graded {len(outcomes) - len(failed)}, failed {len(failed)} of {len(outcomes)} submission(s)")
    if stale:
        print(f"{len(stale)} graded with older tests: `grade {args.assignment} --regrade` "
              f"(or --student S): {_names(stale)}")  # fmt: skip
    if args.timings:
        timings = {o.student: {"total": o.seconds, **o.sandbox} for o in outcomes}
        args.timings.write_text(json.dumps(timings, indent=1, sort_keys=True) + "\n")
    return 0  # a failed submission is a recorded outcome, not a failure of the grader


def run_export(course, args) -> int:
    from autograder.steps.export import export

    deadlines = _deadlines(course, args, args.assignment)
    args.out = args.out or course.state / "exports" / "grades.csv"
    rows = export(
        course, args.out, canvas=args.canvas, moodle=args.moodle, blackboard=args.blackboard,
        assignment_ids=args.assignment, all_assignments=args.all, deadlines=deadlines,
    )  # fmt: skip
    print(f"wrote {len(rows)} row(s) to {args.out}")
    if not rows:
        print("(no assignment has collected work yet: collect first, or name one with --assignment / --all)")
    unrostered = sorted({r.student for r in rows if "not on the roster" in r.notes})
    lms_files = [
        (name, path)
        for name, path in (
            ("Canvas import file", args.canvas),
            ("Moodle grading worksheet", args.moodle),
            ("Blackboard Grade Center upload", args.blackboard),
        )
        if path
    ]
    if unrostered:
        print(f"not on the roster, with a submission: {', '.join(unrostered)}")
        if lms_files:
            print(f"warning: left out of the LMS file, not on the roster: {_names(unrostered)}", file=sys.stderr)
    _stale_and_blank(rows)
    _late_warnings(course, rows, deadlines)
    for name, path in lms_files:
        print(f"wrote the {name} {path}")
    return _row_errors()


def _row_errors() -> int:
    """1 (after naming them) if some students' records could not be read; the others were handled."""
    from autograder.steps.rows import ROW_ERRORS

    for (assignment, student), reason in sorted(ROW_ERRORS.items()):
        print(f"error: {assignment} {student}: {reason}", file=sys.stderr)
    return 1 if ROW_ERRORS else 0


def _stale_and_blank(rows) -> None:
    stale = sorted({(r.assignment, r.student) for r in rows if r.stale})
    for assignment in sorted({a for a, _ in stale}):
        students = [s for a, s in stale if a == assignment]
        print(f"warning: {len(students)} graded with older tests of {assignment} (marked in notes): "
              f"`grade {assignment} --regrade`: {_names(students)}", file=sys.stderr)  # fmt: skip
    blank = sorted(r.student for r in rows if r.unchanged)
    if blank:
        print(f"no answer changed (the release handed in as it was): {_names(blank)}")


def _late_warnings(course, rows, deadlines) -> None:
    from autograder.records.deadlines import lateness_warnings

    book = course.statuses()
    submissions = book.submissions()
    book.close()
    for warning in lateness_warnings(deadlines, submissions, {(r.assignment, r.student) for r in rows}):
        print(f"warning: {warning}", file=sys.stderr)


def _deadlines(course, args, assignment_ids):
    """The config file's Deadlines with this run's --due/--extension/--late-policy/... on top."""
    from autograder.records.deadlines import Deadlines

    deadlines = Deadlines(config=course.nbgrader_config())
    ids = assignment_ids or sorted({a for a, _ in course.statuses().all()})
    if args.due:
        deadlines.due = {**deadlines.due, **{a: args.due for a in ids}}
    for text in args.extension or []:
        student, sep, when = text.partition("=")
        if not sep or not student or not when:
            raise ValueError(f"--extension {text!r}: expected STUDENT=WHEN, e.g. 12345=2d")
        extended = {a: {**deadlines.extensions.get(a, {}), student: when} for a in ids}
        deadlines.extensions = {**deadlines.extensions, **extended}
    for option, trait in (("late_policy", "policy"), ("penalty_per_day", "penalty_per_day"), ("grace", "grace")):
        if getattr(args, option) is not None:
            setattr(deadlines, trait, getattr(args, option))
    deadlines.check()  # a typo in a date or a duration fails now, by name, not for the first late student
    return deadlines


def run_report(course, args) -> int:
    from autograder.steps.report import report

    text, plot = report(course, args.assignment, args.out)
    print(text)
    print(f"plot: {plot}")
    return _row_errors()


def run_explain(course, args) -> int:
    from autograder.steps.explain import explain

    print(explain(course, args.assignment, args.student))
    return 0


def run_similarity(course, args) -> int:
    from autograder.steps.similarity import similarity

    pairs, out, compared = similarity(course, args.assignment, args.out, threshold=args.threshold,
                                      shared=args.shared)  # fmt: skip
    flagged = [p for p in pairs if p.flagged]
    print(f"compared the answer cells of {compared} submissions of {args.assignment}: {len(pairs)} pair(s) with "
          f"shared code, {len(flagged)} flagged (a reason to look, not a finding)")  # fmt: skip
    for p in flagged[:20]:
        print(f"  {p.a} and {p.b}: {p.similarity_a:.0%} / {p.similarity_b:.0%} shared")
    print(f"report: {out / 'index.html'} (side by side), {out / 'pairs.csv'}")
    return 0


def run_check(course, args) -> int:
    from autograder.steps.check import check

    report = check(course, args.notebook, assignment_id=args.assignment, sandbox=not args.unsafe_no_sandbox)
    print(report.text())
    return 0 if report.ok else 1


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a fraction from 0 to 1, got {text!r}") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"expected a fraction from 0 to 1, got {text}")
    return value


def run_feedback(course, args) -> int:
    from autograder.records.deadlines import lateness_warnings
    from autograder.steps.feedback import FAILURES, feedback, hand_out

    deadlines = _deadlines(course, args, [args.assignment])
    book = course.statuses()
    submissions = book.submissions()
    book.close()
    chosen = {(a, s) for a, s in submissions if a == args.assignment and (not args.student or s in args.student)}
    for warning in lateness_warnings(deadlines, submissions, chosen):
        print(f"warning: {warning}", file=sys.stderr)
    pages = feedback(course, args.assignment, args.student, deadlines=deadlines)
    if args.zip or args.folders:
        n = hand_out(course, args.assignment, pages, zip_path=args.zip, folders=args.folders)
        print(f"handed out {n} page(s) in {args.zip or args.folders}")
    if FAILURES:  # every other student has a page; the exit code says that some have none
        print(f"error: no feedback page for {len(FAILURES)} student(s): {', '.join(sorted(FAILURES))}", file=sys.stderr)
        return 1
    return 0


def _names(students, limit: int = 20) -> str:
    shown = ", ".join(students[:limit])
    return shown + (f" and {len(students) - limit} more" if len(students) > limit else "")


def _shard(text: str) -> tuple[int, int]:
    if text == "auto" or text.startswith("auto/"):
        from autograder.steps.cluster import shard_from_environment

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
    "roster": run_roster,
    "adjust": run_adjust,
    "grade": run_grade,
    "export": run_export,
    "report": run_report,
    "feedback": run_feedback,
    "explain": run_explain,
    "similarity": run_similarity,
    "check": run_check,
}
