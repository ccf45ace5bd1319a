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

import importlib.util as _importlib_util
import sys as _sys


def _import_lightly() -> None:
    """Skip imports that cost every command 1-3 s and serve nothing the autograder runs.

    - `nbgrader/__init__.py` imports its Jupyter server extensions (jupyter_server, tornado), and
      `nbgrader.utils` imports `setuptools.archive_util`, whose package imports all of setuptools
      and pkg_resources: both packages are registered without running their `__init__`, so their
      modules (`nbgrader.apps`, `nbgrader.api`, `setuptools.archive_util`) import as usual.
    - jsonschema imports rfc3987_syntax, which compiles 38 grammars, for the "iri" string format
      that no notebook schema uses: jsonschema skips that format when the import fails.
    """
    for name in ("nbgrader", "setuptools"):
        spec = _importlib_util.find_spec(name) if name not in _sys.modules else None
        if spec is not None:
            _sys.modules[name] = _importlib_util.module_from_spec(spec)  # __path__ set, __init__ not run
    if "nbgrader" in _sys.modules and not hasattr(_sys.modules["nbgrader"], "__version__"):
        from nbgrader._version import __version__

        _sys.modules["nbgrader"].__version__ = __version__
    _sys.modules.setdefault("rfc3987_syntax", None)


_import_lightly()
