"""Sweep files written for the tests: tiny trainings that finish in a few seconds."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from .helpers import SMALL_SWEEP, TINY_TRAINING, run_sweep


@pytest.fixture(scope="session")
def tiny_training() -> str:
    """A [fixed] table of training settings small enough for a test."""
    return TINY_TRAINING


@pytest.fixture
def sweep_file(tmp_path: Path) -> Callable[[str], Path]:
    """Write a sweep file with the given text; its output goes under tmp_path/out."""

    def write(text: str, name: str = "sweep.toml") -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    return write


@pytest.fixture(scope="session")
def small_sweep(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, str]:
    """The 2 scenarios x 2 seeds sweep on the local backend: its file, exit code, output."""
    path = tmp_path_factory.mktemp("sweep") / "small.toml"
    path.write_text(SMALL_SWEEP)
    code, output = run_sweep(path, "--max-parallel", "2")
    return path, code, output
