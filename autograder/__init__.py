"""The course's grader: a thin command line over nbgrader.

    python -m autograder release [ID ...]          regenerate exercises/ from solutions/
    python -m autograder collect ID SOURCE         import <student>.ipynb files (folder or zip)
    python -m autograder grade ID [--student S]    autograde with the hidden tests
    python -m autograder export --out FILE.csv     one row per student and assignment
    python -m autograder feedback ID               per-student HTML feedback

Each command is one named step in its own module; nbgrader does the work (NbGraderAPI,
Gradebook). What we add is bookkeeping nbgrader lacks: a status per submission (graded,
failed and why, missing), so a failure is never mistaken for a real zero.
"""
