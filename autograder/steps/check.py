"""Step `check NOTEBOOK`: what a student can know before handing in, without any hidden test.

1. Before any test runs, what grading would refuse or silently repair: a file that is not a
   readable notebook, a notebook of another assignment (none of its answer cells), a file name
   other than the release's, a locked or test cell that was edited or deleted (grading puts the
   release's back, so the change is lost), a function or class of an answer cell that is missing
   (renamed: every test calling it fails), an answer cell that is not valid Python.
2. The visible tests, run as grading runs them (engine/sandbox.py): the student's cells in
   the sandboxed student process, the release's locked cells (grading helpers and visible tests,
   never a hidden test: the release holds none) in the judge; a test passes if it raised nothing.

Exit status: 0 when nothing is refused and every visible test passes, 1 otherwise.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass, field
from pathlib import Path

from autograder.records.course import Course


@dataclass
class CheckReport:
    notebook: Path
    assignment: str = ""
    problems: list[str] = field(default_factory=list)  # what grading refuses or repairs
    tests: dict[str, tuple[bool, float, str]] = field(default_factory=dict)  # grade_id -> (passed, points, message)
    ran: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems and self.ran and all(passed for passed, _, _ in self.tests.values())

    def text(self) -> str:
        lines = [f"check of {self.notebook}" + (f" ({self.assignment})" if self.assignment else "")]
        if self.problems:
            lines.append("before any test runs, grading would:")
            lines += [f"  - {p}" for p in self.problems]
        if self.ran:
            passed = sum(ok for ok, _, _ in self.tests.values())
            for gid, (ok, points, message) in self.tests.items():
                lines.append(f"  {'pass' if ok else 'FAIL'} {gid} ({points:g} point{'s' if points != 1 else ''})"
                             + (f": {message}" if message else ""))  # fmt: skip
            lines.append(
                f"visible tests: {passed} of {len(self.tests)} test cells pass. These are the visible tests only: "
                "at grading, hidden tests check the same functions on other inputs and shapes."
            )
        elif not self.problems:
            lines.append("no test ran")
        lines.append("ready to hand in" if self.ok else "not ready: fix what is listed above")
        return "\n".join(lines)


def check(course: Course, path: Path, *, assignment_id: str | None = None, sandbox: bool = True) -> CheckReport:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such notebook: {path}")
    report = CheckReport(path)
    nb = _read(path, report)
    assignment_id, release = _assignment(course, path, nb, assignment_id, report)
    report.assignment = assignment_id
    if nb is None or release is None:
        return report
    expected_name = release.name
    if path.name != expected_name:
        report.problems.append(
            f"find no notebook named {expected_name}: yours is {path.name!r}; hand it in as {expected_name}"
        )
    template = json.loads(release.read_text(encoding="utf-8"))
    cells = _structure(nb, template, report)
    if cells is None:
        return report
    _definitions(nb, template, report)
    _run_visible(course, cells, template, report, sandbox)
    return report


def _read(path: Path, report: CheckReport):
    import nbformat

    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        report.problems.append("refuse it: the file is not UTF-8 text, so not a notebook")
        return None
    try:
        nb = json.loads(text)
    except ValueError as error:
        report.problems.append(f"refuse it as a malformed notebook: not valid JSON ({error}); "
                               "open it in Jupyter, save it and check again")  # fmt: skip
        return None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        report.problems.append("refuse it as a malformed notebook: it has no list of cells")
        return None
    try:
        nbformat.validate(nbformat.from_dict(nb), version=4)
    except Exception as error:  # noqa: BLE001 - any schema error is the notebook's
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        report.problems.append(f"refuse it as a malformed notebook: {message}")
        return None
    return nb


def _assignment(course: Course, path: Path, nb, assignment_id, report: CheckReport):
    """(assignment id, release notebook) from --assignment, else the file name, else the answer
    cells' ids; (id or '', None) when none fits (the reason is in report.problems)."""
    releases = {}
    for aid in course.assignment_ids():
        found = sorted((course.release_dir / aid).glob("*.ipynb"))
        if found:
            releases[aid] = found[0]
    if assignment_id:
        course.source_notebooks(assignment_id)  # unknown: fails by name
        if assignment_id not in releases:
            raise LookupError(f"no release of {assignment_id}: run release first")
        return assignment_id, releases[assignment_id]
    by_name = {p.name: aid for aid, p in releases.items()}
    if path.name in by_name:
        return by_name[path.name], releases[by_name[path.name]]
    if nb is not None:
        ids = {_gid(c) for c in nb["cells"] if isinstance(c, dict)} - {None}
        best = max(releases, key=lambda aid: len(ids & _answer_ids(releases[aid])), default=None)
        if best and ids & _answer_ids(releases[best]):
            return best, releases[best]
    if nb is None:
        return "", None  # unreadable: that is the problem already reported
    report.problems.append(
        f"not know which assignment this is: {path.name!r} is no release's file name and holds none of their "
        "answer cells; name it as the release named it (e.g. 01-chain-rule.ipynb) or pass --assignment ID"
    )
    return "", None


def _answer_ids(release: Path) -> set[str]:
    nb = json.loads(release.read_text(encoding="utf-8"))
    return {_gid(c) for c in nb["cells"] if _meta(c).get("solution")} - {None}


def _structure(nb, template, report: CheckReport):
    """Problems with the cells grading restores; the cells to run (the release's locked cells in
    place of the student's copies), or None for another assignment's notebook."""
    known = {_gid(c): c for c in template["cells"] if _gid(c)}
    answers = {gid for gid, c in known.items() if _meta(c).get("solution")}
    mine = {}
    for cell in nb["cells"]:
        gid = _gid(cell)
        if gid in known and gid not in mine:
            mine[gid] = cell
    if answers and not answers & set(mine):
        report.problems.append(f"refuse it as the wrong notebook: none of the answer cells of {report.assignment} "
                               "is in it")  # fmt: skip
        return None
    for gid, cell in known.items():
        meta = _meta(cell)
        if not (meta.get("locked") or meta.get("grade")):
            continue
        kind = "test cell" if meta.get("grade") else "locked cell"
        if gid not in mine:
            report.problems.append(f"put back the deleted {kind} {gid} (it is graded all the same)")
        elif meta.get("locked") and _source(mine[gid]).strip() != _source(cell).strip():
            report.problems.append(f"undo your edit of the {kind} {gid}: grading runs the release's text of it")
    missing_answers = sorted(answers - set(mine))
    if missing_answers:
        report.problems.append(f"find no answer cell {', '.join(missing_answers)} (deleted? its tests fail)")
    cells = []
    for cell in nb["cells"]:  # the student's order; locked cells as released
        gid = _gid(cell)
        if gid in known and _meta(known[gid]).get("locked"):
            cells.append(known[gid])
        elif gid not in known or mine.get(gid) is cell:
            cells.append(cell)
    present = {_gid(c) for c in cells}
    cells += [c for gid, c in known.items() if _meta(c).get("locked") and gid not in present]
    return cells


def _definitions(nb, template, report: CheckReport) -> None:
    """Every function and class the release's answer cells define must still be defined."""
    defined, errors = set(), []
    for cell in nb["cells"]:
        if cell.get("cell_type") != "code" or _meta(cell).get("locked"):
            continue
        try:
            tree = ast.parse(_python(_source(cell)))
        except SyntaxError as error:
            where = _gid(cell) or "a cell of yours"
            errors.append(f"fail every test of {where}: line {error.lineno}: {error.msg}")
            continue
        defined |= {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
        defined |= {t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)}
    report.problems += errors
    for cell in template["cells"]:
        if not _meta(cell).get("solution") or cell.get("cell_type") != "code":
            continue
        try:
            tree = ast.parse(_source(cell))
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name not in defined:
                kind = "class" if isinstance(node, ast.ClassDef) else "function"
                report.problems.append(
                    f"find no {kind} {node.name} (answer cell {_gid(cell)}): renamed or deleted? the tests call "
                    f"{node.name} by that name"
                )


def _run_visible(course: Course, cells, template, report: CheckReport, sandbox: bool) -> None:
    from autograder.engine import sandbox as sandboxes
    from autograder.engine.preprocessors import imports_of, plain_python

    if sandbox:
        ok, why = sandboxes.bwrap_available()
        if not ok:
            raise RuntimeError(f"{why}; check runs the notebook in the grading sandbox (or pass --unsafe-no-sandbox)")
    config = course.nbgrader_config().SandboxExecute
    limits = sandboxes.Limits(
        **{k: config[k] for k in ("cell_timeout", "wall_time", "cpu_time", "memory_bytes", "processes") if k in config}
    )
    code = [c for c in cells if c.get("cell_type") == "code"]
    runnable, preamble, tests = [], [], {}
    for index, cell in enumerate(code):
        meta = _meta(cell)
        if meta.get("locked") and not meta.get("solution"):
            runnable.append({"index": index, "kind": "locked", "source": _source(cell)})
            if meta.get("grade"):
                tests[index] = (_gid(cell), float(meta.get("points", 0)))
            else:
                preamble += imports_of(_source(cell))
        else:
            runnable.append({"index": index, "kind": "student", "source": plain_python(_source(cell))})
    result = sandboxes.run_notebook(runnable, limits, preamble="\n".join(preamble), isolate=sandbox)
    if result.status != sandboxes.OK:
        report.problems.append(f"fail it as a whole: {result.status}: {result.detail}")
        return
    report.ran = True
    for index, (gid, points) in tests.items():
        errors = [o for o in result.outputs.get(index, []) if o.get("output_type") == "error"]
        message = ""
        if errors:
            first = (str(errors[0].get("evalue", "")).splitlines() or [""])[0]
            message = f"{errors[0].get('ename', 'Error')}: {first}".rstrip(": ")
        report.tests[gid] = (not errors, points, message)


def _python(source: str) -> str:
    from autograder.engine.preprocessors import plain_python

    return plain_python(source)


def _meta(cell) -> dict:
    meta = cell.get("metadata", {}) if isinstance(cell, dict) else {}
    return (meta.get("nbgrader") or {}) if isinstance(meta, dict) else {}


def _gid(cell):
    return _meta(cell).get("grade_id")


def _source(cell) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)
