"""nbconvert preprocessors the course adds to nbgrader's feedback step."""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat
from nbconvert.preprocessors import Preprocessor
from nbgrader.preprocessors import ClearHiddenTests
from traitlets import Bool, Float, Integer, Unicode


class RedactTracebacks(Preprocessor):
    """Feedback: a test cell shows its one-line diagnostic, nothing else of what it printed.

    ClearHiddenTests removes the hidden tests' source from the feedback, but the traceback of a
    failing hidden assert quotes the hidden lines, and a student's function called by a test
    could print the test's source. The student keeps what the test says
    ("AssertionError: dx is off: did you accumulate both paths with +=?"), not its code.
    """

    enabled = Bool(True)  # nbconvert skips preprocessors that are not enabled

    def preprocess_cell(self, cell, resources, index):
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade") and cell.cell_type == "code":
            kept = []
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    message = f"{output.get('ename', 'Error')}: {output.get('evalue', '')}".rstrip(": ")
                    output["traceback"] = [message]
                    kept.append(output)
            cell.outputs = kept
        return cell, resources


class ScrubHiddenText(Preprocessor):
    """Feedback: replace any hidden-test line that shows up in any output by "[hidden test]".

    Student code runs in the same process as the tests, so it can read a hidden test while it
    runs and print it later from a cell of its own. Runs before ClearHiddenTests, while the
    hidden regions are still in the notebook.
    """

    enabled = Bool(True)
    begin, end, min_length = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS", 8

    def preprocess(self, nb, resources):
        hidden = set()
        for cell in nb.cells:
            if not _locked(cell):  # a student's text that looks like a marker is only text
                continue
            inside = False
            for line in cell.source.splitlines():
                if self.begin in line or self.end in line:
                    inside = self.begin in line
                elif inside and len(line.strip()) >= self.min_length:
                    hidden.add(line.strip())
        if hidden:
            for cell in nb.cells:
                for output in cell.get("outputs", []):
                    _scrub(output, sorted(hidden, key=len, reverse=True))
        return nb, resources


class ClearLockedHiddenTests(ClearHiddenTests):
    """nbgrader's ClearHiddenTests, on the locked cells only (the instructor's, restored from the
    source). A student's cell that holds "### BEGIN HIDDEN TESTS" (unmatched, or in an answer) is
    the student's text: nbgrader would raise on it and stop feedback for the whole class."""

    def preprocess_cell(self, cell, resources, index):
        if not _locked(cell):
            return cell, resources
        return super().preprocess_cell(cell, resources, index)


def _locked(cell) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return bool(meta.get("locked") or meta.get("grade")) and not meta.get("solution")


def _scrub(node, hidden):
    """Replace hidden lines inside every string of an output (streams, data, tracebacks)."""
    if isinstance(node, dict):
        for key, value in node.items():
            node[key] = _scrub(value, hidden)
        return node
    if isinstance(node, list):
        return [_scrub(item, hidden) for item in node]
    if isinstance(node, str):
        for line in hidden:
            if line in node:
                node = node.replace(line, "[hidden test]")
    return node


class SubmissionFailed(Exception):
    """A submission that cannot be graded fairly; the message is the reason shown to instructors.

    Raised inside nbgrader's autograde; nbgrader then records no grade for the submission and
    our grade step stores status `failed` with this reason.
    """

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


class CheckSubmission(Preprocessor):
    """Before nbgrader's OverwriteCells: make the submission's structure the release's again.

    - A notebook with none of this assignment's answer cells is another notebook: fail it.
    - Every locked cell of the release (test cells, helper cells) that is missing is put back
      where it was, and reported; OverwriteCells then restores its full source, hidden tests
      included. A deleted test cell is therefore graded, never silently skipped.
    - The nbgrader metadata of every known cell is the release's (a student cannot turn a test
      cell into an ungraded one); cells the student added lose any nbgrader metadata.
    - Cells added above a locked helper cell (the exercises' grading helpers) move below it, so
      that no student code runs before the helpers take their references.
    """

    enabled = Bool(True)
    release_directory = Unicode("", help="absolute path of exercises/").tag(config=True)

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        template = _release_notebook(Path(self.release_directory) / info["assignment"] / f"{info['notebook']}.ipynb")
        expected = [(_grade_id(c), c) for c in template.cells]
        known = {gid: c for gid, c in expected if gid}
        answer_ids = {gid for gid, c in expected if gid and c.metadata["nbgrader"].get("solution")}

        submitted, extras_before, seen, trailing, edited = {}, {}, set(), [], []
        for cell in nb.cells:
            gid = _grade_id(cell)
            if gid in known and gid not in seen:
                seen.add(gid)
                expected_meta = known[gid].metadata["nbgrader"]
                if expected_meta.get("locked") and cell.source != known[gid].source:
                    edited.append(gid)  # OverwriteCells puts the source back
                cell.metadata["nbgrader"] = copy.deepcopy(expected_meta)
                submitted[gid], extras_before[gid], trailing = cell, trailing, []
            else:
                cell.metadata.pop("nbgrader", None)  # an added (or duplicated) cell grades nothing
                trailing.append(cell)
        if answer_ids and not answer_ids & seen:
            raise SubmissionFailed(
                "wrong notebook",
                f"none of the answer cells of {info['assignment']}/{info['notebook']} is in it",
            )

        cells, restored = [], []
        for gid, template_cell in expected:
            if gid is None:
                continue  # unlocked markdown etc.: the student's copy (if any) travels as an extra
            if gid in submitted:
                meta = template_cell.metadata["nbgrader"]
                if template_cell.cell_type == "code" and meta.get("locked") and not meta.get("grade"):
                    # the grading helpers run before any student code: cells added above them move below
                    cells += [submitted[gid]] + extras_before[gid]
                else:
                    cells += extras_before[gid] + [submitted[gid]]
            elif template_cell.metadata["nbgrader"].get("locked") or template_cell.metadata["nbgrader"].get("grade"):
                cells.append(copy.deepcopy(template_cell))
                restored.append(gid)
        nb.cells = cells + trailing
        resources["restored"], resources["edited"] = restored, edited
        if restored:
            self.log.warning("RESTORED deleted cells: %s", ", ".join(restored))
        if edited:
            self.log.warning("RESTORED edited locked cells: %s", ", ".join(edited))
        return nb, resources


_templates: dict[Path, tuple[int, object]] = {}


def _release_notebook(path: Path):
    """The release notebook (read once per change of the file; callers must not modify it)."""
    mtime = path.stat().st_mtime_ns
    if path not in _templates or _templates[path][0] != mtime:
        _templates[path] = (mtime, nbformat.read(path, as_version=4))
    return _templates[path][1]


def _grade_id(cell):
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


class SandboxExecute(Preprocessor):
    """nbgrader's Execute, replaced: the student's cells and the locked cells run in two processes.

    No Jupyter kernel is started. The student's cells (answer cells and any other unlocked code)
    run in a sandboxed student process; the locked cells (grading helpers, visible and hidden
    tests) run in a sandboxed judge process that reaches the student's definitions through
    proxies (engine/sandbox.py, sandboxed/judge*.py, sandboxed/student*.py). Only the judge's outputs are scored:
    a test cell shows an error output if and only if it raised. A notebook that runs past its
    wall-time limit fails as a whole (SubmissionFailed); a cell that hangs fails alone.
    """

    enabled = Bool(True)
    isolate = Bool(True, help="run inside bubblewrap; False only with --unsafe-no-sandbox").tag(config=True)
    cell_timeout = Float(30.0, help="seconds per cell").tag(config=True)
    wall_time = Float(120.0, help="seconds per notebook").tag(config=True)
    cpu_time = Integer(120, help="CPU seconds per student process").tag(config=True)
    memory_bytes = Integer(2 * 1024**3, help="address space per student process").tag(config=True)
    judge_memory_bytes = Integer(1536 * 1024**2, help="address space of the judge (the tests' process)").tag(
        config=True
    )
    processes = Integer(64, help="processes and threads of the student at once").tag(config=True)

    def preprocess(self, nb, resources):
        from autograder.engine import sandbox

        limits = sandbox.Limits(
            cell_timeout=self.cell_timeout,
            wall_time=self.wall_time,
            cpu_time=self.cpu_time,
            memory_bytes=self.memory_bytes,
            judge_memory_bytes=self.judge_memory_bytes,
            processes=self.processes,
        )
        code_cells = [cell for cell in nb.cells if cell.cell_type == "code"]
        cells, preamble = [], []
        for index, cell in enumerate(code_cells):
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("locked") and not meta.get("solution"):
                cells.append({"index": index, "kind": "locked", "source": cell.source})
                if not meta.get("grade"):
                    preamble += imports_of(cell.source)
            else:
                cells.append({"index": index, "kind": "student", "source": plain_python(cell.source)})
        result = sandbox.run_notebook(cells, limits, preamble="\n".join(preamble), isolate=self.isolate)
        resources["sandbox"] = result
        if result.status != sandbox.OK:
            raise SubmissionFailed(result.status, result.detail)
        for number, cell in enumerate(code_cells, start=1):
            cell.outputs = [nbformat.from_dict(output) for output in result.outputs.get(number - 1, [])]
            cell.execution_count = number
        return nb, resources


def imports_of(source: str) -> list[str]:
    """The import statements of a locked helper cell: the modules student code may use without importing."""
    import ast

    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    return [ast.unparse(node) for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]


_transformer = []


def plain_python(source: str) -> str:
    """A student cell with IPython syntax (%magics, !commands) turned into plain Python calls."""
    if not any(mark in source for mark in "%!?"):
        return source  # plain Python already (most cells): the transformer costs ~4 ms a cell
    if not _transformer:
        from IPython.core.inputtransformer2 import TransformerManager

        _transformer.append(TransformerManager())
    try:
        return _transformer[0].transform_cell(source)
    except Exception:  # noqa: BLE001 - the student process reports the syntax error itself
        return source
