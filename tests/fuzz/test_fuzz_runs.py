"""Fuzzing what training runs and sweeps read: sweep files, and checkpoints damaged in
random ways given to ``train --resume``. Every run must end with exit 0, or exit 2 and one
line; never a traceback. A fast sample runs by default, ``-m slow`` many more."""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bucket_brigade.cli import main
from bucket_brigade.sweep.config import RAY_KEYS, SWEEP_KEYS, SWEEPABLE
from bucket_brigade.training.checkpoint import CHECKPOINT_KEYS

from .runner import check_cli, toml_value
from .strategies import TEXT, VALUES

FAST = settings(max_examples=15, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow,
                                       HealthCheck.function_scoped_fixture])
LONG = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.too_slow,
                                       HealthCheck.function_scoped_fixture])
TINY = ["--steps", "128", "--num-envs", "16", "--batch-size", "128", "--hidden-size", "16",
        "--checkpoint-interval", "128", "--eval-interval", "128", "--cpu",
        "--scenario", "greedy_neighbor", "--opponent-policies", "random", "--run-name", "r"]

# -- sweep files -------------------------------------------------------------------------
SWEEP_TABLE_KEYS = {"sweep": st.sampled_from(SWEEP_KEYS), "fixed": st.sampled_from(SWEEPABLE),
                    "grid": st.sampled_from(SWEEPABLE), "random": st.sampled_from(
                        [*SWEEPABLE, "samples"]), "ray": st.sampled_from(RAY_KEYS)}
sweep_files = st.dictionaries(
    st.one_of(st.sampled_from(list(SWEEP_TABLE_KEYS)), st.text(max_size=6)),
    st.one_of(VALUES, st.dictionaries(st.one_of(*SWEEP_TABLE_KEYS.values(), TEXT), VALUES,
                                      max_size=4)),
    max_size=5)


def toml_file(data: dict[str, Any]) -> str:
    """Top-level tables as [table] sections, anything else as a key = value line first."""
    plain = {k: v for k, v in data.items() if not isinstance(v, dict)}
    text = "".join(f"{toml_value(k)} = {toml_value(v)}\n" for k, v in plain.items())
    for key, table in data.items():
        if isinstance(table, dict):
            text += f"[{toml_value(key)}]\n" + "".join(
                f"{toml_value(k)} = {toml_value(v)}\n" for k, v in table.items())
    return text


def _sweep(data: dict[str, Any]) -> None:
    """The sweep command on the file; trials are planned and reported, not trained."""
    def prepare(work: Path) -> None:
        (work / "sweep.toml").write_text(toml_file(data))

    with mock.patch("bucket_brigade.sweep.cli._run_backend",
                    lambda args, plan, todo, *rest: (False, todo)):
        check_cli(["sweep", "sweep.toml", "--out", "out"], prepare=prepare)


@FAST
@given(sweep_files)
def test_sweep_files(data) -> None:
    _sweep(data)


@pytest.mark.slow
@LONG
@given(sweep_files)
def test_sweep_files_long(data) -> None:
    _sweep(data)


# -- checkpoints -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("run")
    assert main(["train", "--out-dir", str(out), *TINY]) == 0
    return torch.load(out / "checkpoints" / "r" / "checkpoint_step_128.pt", weights_only=True)


TENSORS = st.builds(lambda shape, fill: torch.full(shape, fill),
                    st.lists(st.integers(0, 4), max_size=3).map(tuple),
                    st.sampled_from([0.0, 1.0, math.nan, math.inf]))
ANY = st.one_of(st.none(), VALUES, TENSORS,
                st.dictionaries(st.text(max_size=5), st.one_of(VALUES, TENSORS), max_size=3))
# (entry, key inside it or None, new value or None to delete it)
DAMAGE = st.lists(st.tuples(st.sampled_from(CHECKPOINT_KEYS), st.one_of(st.none(),
                                                                         st.text(max_size=20)),
                            ANY), min_size=1, max_size=3)


def damage(checkpoint: dict[str, Any], changes: list[tuple[str, str | None, Any]],
           pick: int) -> dict[str, Any]:
    damaged = copy.deepcopy(checkpoint)
    for entry, key, value in changes:
        target = damaged.get(entry)
        if key is not None and isinstance(target, dict) and target:
            key = key if key in target else sorted(target, key=str)[pick % len(target)]
            target[key] = value
        elif value is None:
            damaged.pop(entry, None)
        else:
            damaged[entry] = value
    return damaged


def _resume(checkpoint: dict[str, Any], changes: list[Any], pick: int) -> None:
    def prepare(work: Path) -> None:
        path = work / "checkpoints" / "r" / "checkpoint_step_128.pt"
        path.parent.mkdir(parents=True)
        torch.save(damage(checkpoint, changes, pick), path)

    check_cli(["train", "--resume", "checkpoints/r/checkpoint_step_128.pt", "--steps", "256"],
              seconds=120, prepare=prepare)


@FAST
@given(DAMAGE, st.integers(0, 50))
def test_damaged_checkpoints(checkpoint, changes, pick) -> None:
    _resume(checkpoint, changes, pick)


@pytest.mark.slow
@LONG
@given(DAMAGE, st.integers(0, 50))
def test_damaged_checkpoints_long(checkpoint, changes, pick) -> None:
    _resume(checkpoint, changes, pick)
