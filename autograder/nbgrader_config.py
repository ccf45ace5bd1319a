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
c.Execute.timeout = 30  # seconds per cell
c.Execute.allow_errors = True  # a failing test cell loses its points; it does not stop grading

# Feedback: never show the hidden tests to students, neither their source nor the lines a
# traceback quotes; the test's own message stays.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbgrader.preprocessors.ClearHiddenTests",
    "autograder.preprocessors.RedactTracebacks",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
