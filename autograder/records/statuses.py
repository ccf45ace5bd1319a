"""The names of a submission's statuses and of a whole-submission adjustment: what every layer may say.

The table that stores them is `records.gradebook.StatusBook`; these names alone are what the
engine needs (an `Outcome` is graded or failed), without the tables' writer.
"""

COLLECTED, GRADED, FAILED = "collected", "graded", "failed"
MISSING = "missing"  # never stored: a student with no submission for an assignment
WHOLE = ""  # the `cell` of an adjustment that replaces a submission's total score
