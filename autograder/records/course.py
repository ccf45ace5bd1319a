"""Where things are: the course root, the instructor's state directory and the gradebook URL.

Defaults come from autograder/nbgrader_config.py; --root/--state/--db-url on the command line or
$AUTOGRADER_ROOT/$AUTOGRADER_STATE/$AUTOGRADER_DB_URL override them (tests grade into a temporary
state directory, a large class points the gradebook at PostgreSQL).
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.exc import SAWarning
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

# nbgrader 0.9.6 with SQLAlchemy 2 warns "Object of type <SubmittedAssignment> not in session" on
# every autograde; the grades are stored all the same (verified by the end-to-end tests).
warnings.filterwarnings("ignore", category=SAWarning, message="Object of type <Submitted")

PACKAGE_DIR = Path(__file__).resolve().parent.parent  # autograder/: nbgrader_config.py, state/
REPO_ROOT = PACKAGE_DIR.parent
STATE_SUBDIRS = {
    "submitted_directory": "submitted",
    "autograded_directory": "autograded",
    "feedback_directory": "feedback",
}


@dataclass(frozen=True)
class Course:
    root: Path  # holds solutions/ and exercises/
    state: Path  # holds submitted/, autograded/, feedback/ (and the sqlite gradebook)
    db_url: str
    extra_config: Path | None = None  # a second nbgrader config file, loaded after ours

    @classmethod
    def locate(cls, *, root=None, state=None, db_url=None, config=None) -> Course:
        root = Path(root or os.environ.get("AUTOGRADER_ROOT") or REPO_ROOT).resolve()
        state = state or os.environ.get("AUTOGRADER_STATE")
        state = Path(state).resolve() if state else root / "autograder" / "state"
        db_url = db_url or os.environ.get("AUTOGRADER_DB_URL") or f"sqlite:///{state / 'gradebook.db'}"
        config = config or os.environ.get("AUTOGRADER_CONFIG")
        if config and not Path(config).is_file():
            raise FileNotFoundError(f"no such config file: {config}")
        return cls(root=root, state=state, db_url=db_url, extra_config=Path(config).resolve() if config else None)

    @property
    def source_dir(self) -> Path:
        return self.root / "solutions"

    @property
    def release_dir(self) -> Path:
        return self.root / "exercises"

    @property
    def submitted_dir(self) -> Path:
        return self.state / "submitted"

    @property
    def autograded_dir(self) -> Path:
        return self.state / "autograded"

    @property
    def feedback_dir(self) -> Path:
        return self.state / "feedback"

    @property
    def grading_release_dir(self) -> Path:
        """A private release made at grading time: registers the source in this gradebook."""
        return self.state / "release"

    def nbgrader_config(self, *, release_dir: Path | None = None) -> Config:
        """The course's nbgrader config with every path made absolute for this course and state."""
        config = PyFileConfigLoader("nbgrader_config.py", path=str(PACKAGE_DIR)).load_config()
        if self.extra_config:  # e.g. other limits for a big class, or short ones in the tests
            config.merge(PyFileConfigLoader(self.extra_config.name, path=str(self.extra_config.parent)).load_config())
        config.CourseDirectory.root = str(self.root)
        config.CourseDirectory.release_directory = str(release_dir or self.release_dir)
        for trait, subdir in STATE_SUBDIRS.items():
            setattr(config.CourseDirectory, trait, str(self.state / subdir))
        config.CourseDirectory.db_url = self.db_url
        # We collect from files, not through nbgrader's exchange; give it a harmless home.
        config.Exchange.root = str(self.state / "exchange")
        config.CheckSubmission.release_directory = str(self.grading_release_dir)
        return config

    def api(self, *, release_dir: Path | None = None, sandbox: bool = True, quiet: bool = True):
        """An nbgrader NbGraderAPI bound to this course.

        release_dir: where generate_assignment writes (default exercises/);
        sandbox: False runs student code without bubblewrap (--unsafe-no-sandbox);
        quiet: nbgrader's log goes only to the results it returns, not to the terminal.
        """
        from nbgrader.apps import NbGraderAPI
        from nbgrader.coursedir import CourseDirectory

        # nbgrader runs the `alembic` executable of its environment: make it findable even when
        # the virtual environment is not activated (e.g. `.venv/bin/python -m autograder`).
        bin_dir = os.path.dirname(sys.executable)
        if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
            os.environ["PATH"] = os.pathsep.join([bin_dir, os.environ.get("PATH", "")])
        (self.state / "exchange").mkdir(parents=True, exist_ok=True)
        config = self.nbgrader_config(release_dir=release_dir)
        config.SandboxExecute.isolate = sandbox
        if quiet:
            config.NbGraderAPI.log_level = logging.WARNING
        api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
        if quiet:
            api.log.handlers = []
            api.log.propagate = False
        return api

    def gradebook(self):
        """nbgrader's Gradebook on this course's database (use as a context manager)."""
        from nbgrader.api import Gradebook

        self.state.mkdir(parents=True, exist_ok=True)
        return Gradebook(self.db_url, course_id=self.nbgrader_config().CourseDirectory.course_id)

    def statuses(self):
        """The submission-status table (records/gradebook.py) in this course's gradebook database."""
        from autograder.records.gradebook import StatusBook

        self.state.mkdir(parents=True, exist_ok=True)
        return StatusBook(self.db_url)

    def assignment_ids(self) -> list[str]:
        """Every assignment with a source folder, in course order (folders are NN-slug)."""
        return sorted(p.name for p in self.source_dir.iterdir() if p.is_dir() and not p.name.startswith("."))

    def source_notebooks(self, assignment_id: str) -> list[Path]:
        folder = self.source_dir / assignment_id
        if not folder.is_dir():
            raise UnknownAssignment(assignment_id, self.assignment_ids())
        return sorted(folder.glob("*.ipynb"))


class UnknownAssignment(LookupError):
    def __init__(self, assignment_id: str, known: list[str]):
        super().__init__(f"unknown assignment {assignment_id!r}; known: {', '.join(known) or 'none'}")
