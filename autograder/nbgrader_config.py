"""nbgrader settings of the course (paths are relative to the repository root).

`python -m autograder` loads this file and then points the instructor's state (submissions,
autograded copies, feedback, gradebook) at --state / $AUTOGRADER_STATE and the gradebook at
--db-url / $AUTOGRADER_DB_URL when those are given.
"""

c = get_config()  # noqa: F821 (injected by traitlets' config loader)

c.CourseDirectory.course_id = "backprop-course"
c.CourseDirectory.source_directory = "solutions"  # instructor notebooks: solutions + hidden tests
c.CourseDirectory.release_directory = "exercises"  # what students get: generated, never edited

# Instructor state: kept out of git (see .gitignore).
c.CourseDirectory.submitted_directory = "autograder/state/submitted"
c.CourseDirectory.autograded_directory = "autograder/state/autograded"
c.CourseDirectory.feedback_directory = "autograder/state/feedback"
c.CourseDirectory.db_url = "sqlite:///autograder/state/gradebook.db"

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.enforce_metadata = True
# Grading (autograder/engine/autograde.py) follows nbgrader's autograde with two steps of ours
# (autograder/engine/preprocessors.py): CheckSubmission puts deleted locked cells back and fails another
# assignment's notebook; SandboxExecute runs the code in two bubblewrap-sandboxed processes instead
# of a Jupyter kernel, with these limits. nbgrader's own options (IgnorePattern, LimitOutput,
# AssignLatePenalties.plugin_class, ...) apply as in nbgrader.
c.SandboxExecute.cell_timeout = 30  # seconds per cell (the test cell fails, grading goes on)
c.SandboxExecute.wall_time = 120  # seconds per notebook (the submission fails: timeout)
c.SandboxExecute.cpu_time = 120  # CPU seconds per notebook
c.SandboxExecute.memory_bytes = 2 * 1024**3  # address space per process
c.SandboxExecute.processes = 64  # processes and threads at once

# Feedback: never show the hidden tests to students, neither their source nor the lines a
# traceback quotes; the test's own message stays. `python -m autograder feedback` builds its own
# self-contained pages (autograder/steps/feedback.py) and applies the same three filters in this order;
# this list serves whoever runs nbgrader's generate_feedback directly.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "autograder.engine.preprocessors.ScrubHiddenText",
    "nbgrader.preprocessors.ClearHiddenTests",
    "autograder.engine.preprocessors.RedactTracebacks",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
