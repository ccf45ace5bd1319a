"""The course's grader: a thin command line over nbgrader.

    python -m autograder release [ID ...]          regenerate exercises/ from solutions/
    python -m autograder roster import FILE.csv    the class list from the LMS's gradebook export
    python -m autograder collect ID SOURCE         one notebook per student of an LMS download
    python -m autograder grade ID [--student S]    autograde with the hidden tests
    python -m autograder adjust ID STUDENT ...     a test cell's or a submission's score by hand
    python -m autograder export [--out FILE.csv]   one row per student and assignment (late policy)
    python -m autograder feedback ID [--zip F]     per-student HTML feedback, and its hand-out
    python -m autograder report ID                 summary and plot

Each command is one named step in its own module; nbgrader does the work (NbGraderAPI,
Gradebook). What we add is bookkeeping nbgrader lacks: a status per submission (graded,
failed and why, missing), so a failure is never mistaken for a real zero.
"""
