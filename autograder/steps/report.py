"""Step `report`: how did the class do? A summary in the terminal and a PNG for the instructor:
the distribution of scores and the pass rate of every test cell (which idea needs re-teaching).
"""

from __future__ import annotations

import statistics
from collections import Counter
from pathlib import Path

from autograder.records.course import Course
from autograder.records.gradebook import GRADED
from autograder.steps.rows import grade_rows


def report(course: Course, assignment_id: str, out: Path | None = None) -> tuple[str, Path]:
    """Return the summary text and write the plot; `out` defaults to <state>/reports/<id>.png."""
    course.source_notebooks(assignment_id)
    rows, tests = grade_rows(course, [assignment_id])
    if assignment_id not in tests:
        raise LookupError(f"{assignment_id} has not been graded yet: run grade first")
    graded = [r for r in rows if r.status == GRADED]
    counts = Counter(r.status for r in rows)
    max_score = float(rows[0].max_score or 0.0) if rows else 0.0
    scores = [r.score for r in graded]
    pass_rates = {
        name: sum(r.tests.get(name) == points for r in graded) / len(graded) if graded else 0.0
        for name, points in tests[assignment_id].items()
    }
    lines = [f"{assignment_id}: {len(rows)} students, max score {max_score:g}"]
    lines.append("  " + ", ".join(f"{status} {n}" for status, n in sorted(counts.items())))
    if scores:
        lines.append(
            f"  score mean {statistics.mean(scores):.2f}, median {statistics.median(scores):g}, "
            f"min {min(scores):g}, max {max(scores):g}"
        )
    stale = sorted(r.student for r in rows if r.stale)
    if stale:
        lines.append(f"  graded with older tests: {len(stale)} (`grade {assignment_id} --regrade`): {_names(stale)}")
    blank = sorted(r.student for r in rows if r.unchanged)
    if blank:
        lines.append(f"  no answer changed (the release handed in as it was): {len(blank)}: {_names(blank)}")
    failures = Counter(r.reason.split(":")[0] for r in rows if r.status == "failed")
    for reason, n in failures.most_common():
        lines.append(f"  failed: {reason} x{n}")
    lines.append("  test cell pass rate:")
    width = max((len(name) for name in pass_rates), default=10)
    for name, rate in pass_rates.items():
        lines.append(f"    {name:<{width}}  {rate:6.1%}  {'#' * round(rate * 20)}")
    out = Path(out) if out else course.state / "reports" / f"{assignment_id}.png"
    _plot(out, assignment_id, scores, max_score, pass_rates, counts)
    return "\n".join(lines), out


def _names(students: list[str], limit: int = 10) -> str:
    return ", ".join(students[:limit]) + (f" and {len(students) - limit} more" if len(students) > limit else "")


def _plot(out: Path, assignment_id: str, scores, max_score, pass_rates, counts: Counter) -> None:
    """Three panels: students by status (failed and missing are students too), the graded
    scores, the pass rate per test cell. constrained_layout keeps every title inside the image."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(pass_rates)
    height = max(4.5, 0.28 * len(names) + 1.5)
    fig, (status_ax, left, right) = plt.subplots(
        1, 3, figsize=(15, height), gridspec_kw={"width_ratios": [0.55, 1, 1.4]}, layout="constrained"
    )
    fig.suptitle(f"{assignment_id}: {sum(counts.values())} students", fontsize=13)
    order = [s for s in ("graded", "failed", "collected", "missing") if counts.get(s)]
    colours = {"graded": "#4c72b0", "failed": "#c44e52", "collected": "#8c8c8c", "missing": "#dd8452"}
    bars = status_ax.bar(order, [counts[s] for s in order], color=[colours[s] for s in order])
    status_ax.bar_label(bars)
    status_ax.set_ylabel("students")
    status_ax.yaxis.get_major_locator().set_params(integer=True)
    status_ax.set_title("students by status")
    bins = max(int(max_score), 1)
    left.hist(scores, bins=bins, range=(0, max_score or 1), color=colours["graded"], edgecolor="white")
    left.set_xlabel(f"score (points out of {max_score:g})")
    left.set_ylabel("students")
    left.yaxis.get_major_locator().set_params(integer=True)
    left.set_title(f"scores of the {len(scores)} graded")
    right.barh(names, [100 * pass_rates[n] for n in names], color="#55a868")
    right.set_xlim(0, 100)
    right.invert_yaxis()
    right.set_xlabel("graded submissions passing the test cell (%)")
    right.set_title("pass rate per test cell")
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
