"""`grade --shard auto` takes its shard from a SLURM array job or a Kubernetes indexed Job."""

from __future__ import annotations

import pytest

from autograder.cli import _shard


@pytest.mark.parametrize(
    ("env", "text", "expected"),
    [
        ({"SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_COUNT": "8"}, "auto", (3, 8)),
        ({"SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_COUNT": "4"}, "auto", (1, 4)),
        ({"JOB_COMPLETION_INDEX": "9"}, "auto/10", (10, 10)),
        ({}, "2/5", (2, 5)),
    ],
)
def test_shard_comes_from_the_schedulers_environment(monkeypatch, env, text, expected):
    for name in ("SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_COUNT", "JOB_COMPLETION_INDEX"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert _shard(text) == expected


@pytest.mark.parametrize(("env", "text"), [({}, "auto"), ({"JOB_COMPLETION_INDEX": "0"}, "auto")])
def test_shard_auto_without_what_it_needs_is_a_clear_error(monkeypatch, env, text):
    import argparse

    for name in ("SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_COUNT", "JOB_COMPLETION_INDEX"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(argparse.ArgumentTypeError, match="auto"):
        _shard(text)
