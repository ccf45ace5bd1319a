"""nbconvert preprocessors the course adds to nbgrader's feedback step."""

from __future__ import annotations

from nbconvert.preprocessors import Preprocessor
from traitlets import Bool


class RedactTracebacks(Preprocessor):
    """Replace the traceback of every failed test cell by its one-line diagnostic.

    ClearHiddenTests removes the hidden tests' source from the feedback, but the traceback of a
    failing hidden assert still quotes the hidden lines. The student keeps what a test says
    ("AssertionError: dx is off: did you accumulate both paths with +=?"), not its code.
    """

    enabled = Bool(True)  # nbconvert skips preprocessors that are not enabled

    def preprocess_cell(self, cell, resources, index):
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade"):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    message = f"{output.get('ename', 'Error')}: {output.get('evalue', '')}".rstrip(": ")
                    output["traceback"] = [message]
        return cell, resources
