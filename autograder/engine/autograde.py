"""Step `grade`, one submission: what `nbgrader autograde` does, in one pass over one gradebook session.

nbgrader's autograde opens nine database connections and runs about a hundred queries and a commit
per cell for every submission (0.25 s of its 0.40 s here, measured). A worker of ours reads the
assignment's cells from the gradebook once and then, for each student, runs these named steps,
writing the same gradebook rows and files nbgrader writes:

1. record    the student and the submission (its timestamp.txt) in the gradebook;
2. sanitize  nbgrader's ClearOutput and DeduplicateIds, the source's kernelspec, our CheckSubmission
             (deleted locked cells come back, another assignment's notebook fails), and the locked
             cells' source put back (hidden tests included), as nbgrader's OverwriteCells;
3. execute   our SandboxExecute: the student's cells and the judge's in two sandboxed processes;
4. tidy      nbgrader's IgnorePattern, ClearMetadataPreprocessor and LimitOutput, as configured;
5. score     each grade cell's auto score (nbgrader's determine_grade), "No response." comments
             on untouched answers, the late penalty of the configured plugin;
6. store     the autograded notebook, read-only, beside the submission's other files; one commit.

A submission that cannot be graded raises `Ungradable` with the reason an instructor reads; the
gradebook then keeps no new scores for it and its autograded folder is removed.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbformat.warnings import MissingIDFieldWarning
from nbgrader import utils
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import AssignLatePenalties, ClearOutput, DeduplicateIds, IgnorePattern, LimitOutput
from traitlets.log import get_logger

from autograder.engine.preprocessors import CheckSubmission, SandboxExecute, SubmissionFailed
from autograder.engine.scoring import Scoring, UnreadableTimestamp
from autograder.records.course import Course


class Ungradable(Exception):
    """The reason a submission gets no grade (shown to instructors as its status)."""


@dataclass(frozen=True)
class SourceCell:
    """A cell of the instructor's notebook as the gradebook stores it."""

    name: str
    cell_type: str
    locked: bool
    checksum: str | None
    source: str
    max_score: float | None  # grade cells only


@dataclass
class Notebook:
    """What grading one notebook of an assignment needs from the gradebook, read once."""

    name: str
    kernelspec: dict | None
    cells: dict[str, SourceCell] = field(default_factory=dict)


@dataclass
class Graded:
    """One graded submission: what CheckSubmission restored, and the sandbox's timing."""

    restored: list[str] = field(default_factory=list)
    edited: list[str] = field(default_factory=list)
    timing: dict = field(default_factory=dict)

    @property
    def note(self) -> str:
        notes = []
        if self.restored:
            notes.append(f"deleted cells restored: {', '.join(self.restored)}")
        if self.edited:
            notes.append(f"edited locked cells restored: {', '.join(self.edited)}")
        return "; ".join(notes)


class Autograder:
    """Grades submissions in this process; one per worker process (it holds a gradebook session)."""

    def __init__(self, course: Course, *, sandbox: bool = True):
        self.course = course
        config = course.nbgrader_config()
        config.SandboxExecute.isolate = sandbox
        self.config = config
        self.ignore = list(CourseDirectory(config=config).ignore)
        self.sanitize = [ClearOutput(config=config), DeduplicateIds(config=config)]
        self.check = CheckSubmission(config=config)
        self.execute = SandboxExecute(config=config)
        self.tidy = [IgnorePattern(config=config), ClearMetadataPreprocessor(config=config), LimitOutput(config=config)]
        penalties = AssignLatePenalties(config=config)
        penalties.init_plugin()
        self.late_plugin = penalties.plugin_inst
        self.gradebook = course.gradebook().__enter__()
        self.scoring = Scoring(self.gradebook, self.late_plugin)
        self._notebooks: dict[str, list[Notebook]] = {}

    def close(self) -> None:
        self.gradebook.close()

    # -- the assignment, read once ----------------------------------------------------------------

    def notebooks(self, assignment_id: str) -> list[Notebook]:
        if assignment_id not in self._notebooks:
            assignment = self.gradebook.find_assignment(assignment_id)
            notebooks = []
            for notebook in assignment.notebooks:
                scores = {cell.name: float(cell.max_score) for cell in notebook.grade_cells}
                scores.update({cell.name: float(cell.max_score) for cell in notebook.task_cells})
                model = Notebook(notebook.name, json.loads(notebook.kernelspec) if notebook.kernelspec else None)
                for cell in notebook.source_cells:
                    model.cells[cell.name] = SourceCell(
                        cell.name, cell.cell_type, bool(cell.locked), cell.checksum, cell.source, scores.get(cell.name)
                    )
                notebooks.append(model)
            self.gradebook.db.commit()  # end the read transaction: other workers write between students
            self._notebooks[assignment_id] = notebooks
        return self._notebooks[assignment_id]

    def forget(self, assignment_id: str) -> None:
        """Read the assignment again next time (after a release changed it)."""
        self._notebooks.pop(assignment_id, None)

    # -- one submission ---------------------------------------------------------------------------

    def grade(self, assignment_id: str, student: str) -> Graded:
        """Grade one collected submission; raises Ungradable with the reason if it cannot be graded."""
        notebooks = self.notebooks(assignment_id)
        submitted = self.course.submitted_dir / student / assignment_id
        destination = self.course.autograded_dir / student / assignment_id
        try:
            submission = self.scoring.record(assignment_id, student, submitted)
        except UnreadableTimestamp as error:
            raise Ungradable(str(error)) from error
        if destination.exists():
            _remove(destination)
        graded = Graded()
        try:
            self._copy_other_files(assignment_id, submitted, destination)
            for notebook in notebooks:
                path = submitted / f"{notebook.name}.ipynb"
                if path.exists():
                    self._grade_notebook(notebook, assignment_id, student, path, destination, graded)
                else:  # as nbgrader: a notebook not handed in scores zero
                    self.scoring.score_missing(notebook, assignment_id, student)
            self.scoring.late_penalties(notebooks, assignment_id, student, submission)
            self.gradebook.db.commit()
            _read_only(destination)
        except BaseException:
            self.gradebook.db.rollback()
            if destination.exists():
                _remove(destination)
            raise
        return graded

    def _copy_other_files(self, assignment_id, submitted: Path, destination: Path) -> None:
        """The submission's other files, then the source folder's (which win), as nbgrader copies them."""
        destination.mkdir(parents=True, exist_ok=True)
        source = self.course.source_dir / assignment_id
        for folder in (submitted, source):
            for name in utils.find_all_files(str(folder), self.ignore + ["*.ipynb"]):
                target = destination / Path(name).relative_to(folder)
                target.parent.mkdir(parents=True, exist_ok=True)
                if target.exists():
                    target.unlink()
                shutil.copy(name, target)

    def _grade_notebook(self, notebook: Notebook, assignment_id, student, path: Path, destination: Path, graded):
        resources = {
            "unique_key": notebook.name,
            "output_files_dir": f"{notebook.name}_files",
            "nbgrader": {
                "student": student,
                "assignment": assignment_id,
                "notebook": notebook.name,
                "db_url": self.course.db_url,
            },
        }
        nb, invalid = _read(path)
        _encodable(nb)  # a lone surrogate in a student's cell breaks checksums and the written notebook
        # Step 2: sanitize
        try:
            for step in self.sanitize:
                nb, resources = step(nb, resources)
            if invalid:  # outputs an LMS or an editor mangled are cleared now: is the rest a notebook?
                nbformat.validate(nb)
        except Exception as error:  # noqa: BLE001 - the structure is the student's file, not ours
            raise Ungradable("malformed notebook: not a valid Jupyter notebook") from error
        if notebook.kernelspec:
            nb.metadata["kernelspec"] = notebook.kernelspec
        try:
            nb, resources = self.check(nb, resources)
        except SubmissionFailed as failure:
            raise Ungradable(str(failure)) from failure
        graded.restored += resources.get("restored", [])
        graded.edited += resources.get("edited", [])
        for cell in nb.cells:
            _overwrite(cell, notebook)
        # Step 3: execute
        try:
            nb, resources = self.execute(nb, resources)
        except SubmissionFailed as failure:
            raise Ungradable(str(failure)) from failure
        run = resources["sandbox"]
        graded.timing = {"sandbox": run.seconds, **run.phases}
        # Step 4: tidy
        for step in self.tidy:
            nb, resources = step(nb, resources)
        # Step 5: score
        self.scoring.score(nb, notebook, assignment_id, student)
        # Step 6: store (the commit comes after every notebook of the assignment)
        # (compact JSON: nbformat's indented writer took a third of this process's time per submission)
        text = json.dumps(_encodable(nb), ensure_ascii=False, sort_keys=True)
        (destination / f"{notebook.name}.ipynb").write_text(text + "\n", encoding="utf-8")


def _encodable(node):
    """`node` (a notebook) with every string made encodable as UTF-8, in place: a lone surrogate
    (`print("\\ud800")`, invalid UTF-8 decoded with surrogateescape) becomes the text `\\ud800`."""
    if isinstance(node, dict):
        for key, value in node.items():
            node[key] = _encodable(value)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            node[i] = _encodable(value)
    elif isinstance(node, str) and not node.isascii():
        try:
            node.encode("utf-8")
        except UnicodeEncodeError:
            return node.encode("utf-8", "backslashreplace").decode("utf-8")
    return node


def _read(path: Path):
    """(notebook, whether nbformat found it invalid); Ungradable if it is not a notebook at all."""
    invalid = {}
    try:
        with warnings.catch_warnings(), _quiet(get_logger()):
            warnings.simplefilter("ignore", MissingIDFieldWarning)  # nbformat 4.4 has no cell ids: they are added
            nb = nbformat.reads(path.read_text(encoding="utf-8"), as_version=4, capture_validation_error=invalid)
    except Exception as error:  # noqa: BLE001 - any unreadable file is the student's, not ours
        raise Ungradable("malformed notebook") from error
    if not isinstance(nb.get("cells"), list):
        raise Ungradable("malformed notebook: not a valid Jupyter notebook")
    return nb, bool(invalid)


@contextlib.contextmanager
def _quiet(*loggers):
    """nbformat logs "Notebook JSON is invalid" with the whole schema error: the reason says it once."""
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def _overwrite(cell, notebook: Notebook) -> None:
    """A cell the instructor's notebook knows gets its type, lock, points and (if locked) source back."""
    grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
    if grade_id is None:
        return
    source = notebook.cells.get(grade_id)
    if source is None:  # as nbgrader: a cell the gradebook does not know grades nothing
        del cell.metadata.nbgrader["grade_id"]
        return
    if cell.cell_type != source.cell_type:
        _change_type(cell, source.cell_type)
    cell.metadata.nbgrader["locked"] = source.locked
    if utils.is_grade(cell) and source.max_score is not None:
        cell.metadata.nbgrader["points"] = source.max_score
    cell.metadata.nbgrader["checksum"] = source.checksum
    if source.locked and utils.compute_checksum(cell) != source.checksum:
        cell.source = source.source
        if utils.compute_checksum(cell) != source.checksum:
            raise RuntimeError(f"inconsistent checksums for cell {grade_id}")


def _change_type(cell, cell_type: str) -> None:
    cell.cell_type = cell_type
    if cell_type == "code":
        cell.outputs, cell.execution_count = [], None
    else:
        cell.pop("outputs", None)
        cell.pop("execution_count", None)


def _read_only(folder: Path) -> None:
    """As nbgrader: autograded files are read-only (0444)."""
    for path in folder.rglob("*"):
        if path.is_file():
            path.chmod(0o444)


def _remove(folder: Path) -> None:
    shutil.rmtree(folder)
