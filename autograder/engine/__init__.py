"""The engine: grade one notebook in two sandboxed processes, the student's and the judge's.

Its public surface, all that the steps above use:

    grade_notebook(autograder, assignment_id, student) -> Outcome   one submission, graded or failed
    Autograder(course, sandbox=True)     nbgrader's autograde for one worker (engine/autograde.py)
    Ungradable                           why a submission gets no grade
    bwrap_available(), use_cpu(i)        the sandbox's preconditions and a worker's CPU
    run_notebook(cells, limits), Limits  the two processes on plain cells (engine/sandbox.py)
    feedback preprocessors               ClearLockedHiddenTests, RedactTracebacks, ScrubHiddenText
    plain_python(source), imports_of(source)   a cell as the student's process receives it

Below it: `sandbox.py` (the grader's side: bubblewrap, zygotes, the two processes' channel),
`sandboxed/` (what runs inside: the judge, the student, the wire format), `preprocessors.py`
(nbgrader's steps of ours), `grading_helpers.py` (the helpers cell of every notebook). The engine
reads records (paths, status names) and never writes our tables: the steps do.
"""

from autograder.engine.submission import Outcome, grade_notebook

_LAZY = {  # heavy imports (nbgrader, nbconvert), made on first use
    "Autograder": "autograder.engine.autograde",
    "Ungradable": "autograder.engine.autograde",
    "bwrap_available": "autograder.engine.sandbox",
    "use_cpu": "autograder.engine.sandbox",
    "run_notebook": "autograder.engine.sandbox",
    "Limits": "autograder.engine.sandbox",
    "ClearLockedHiddenTests": "autograder.engine.preprocessors",
    "RedactTracebacks": "autograder.engine.preprocessors",
    "ScrubHiddenText": "autograder.engine.preprocessors",
    "plain_python": "autograder.engine.preprocessors",
    "imports_of": "autograder.engine.preprocessors",
}

__all__ = ["Outcome", "grade_notebook", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'autograder.engine' has no attribute {name!r}")
