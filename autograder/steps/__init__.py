"""Steps: one module per command of `python -m autograder` (release, roster, collect, grade,
adjust, export, feedback, report, explain, similarity, check; `cluster` is grade's Dask path).

Each takes a `records.course.Course`; grading goes through the engine's public surface."""
