"""Running the sweep command in a test and reading what it wrote."""

from __future__ import annotations

import contextlib
import csv
import io
from pathlib import Path
from typing import Any

from bucket_brigade.cli import main
from bucket_brigade.sweep.config import SweepPlan, load_sweep

TINY_TRAINING = """
[fixed]
batch_size = 256
num_envs = 32
minibatches = 2
epochs = 1
hidden_size = 16
checkpoint_interval = 1024
eval_interval = 1024
cpu = true
"""

SMALL_SWEEP = """
[sweep]
name = "small"
steps = 2048
eval_games = 60
""" + TINY_TRAINING + """
[grid]
scenario = ["trivial_cooperation", "greedy_neighbor"]
seed = [1, 2]
"""


def plan_for(path: Path) -> SweepPlan:
    """The plan of a test's sweep file, with its output where ``run_sweep`` puts it."""
    return load_sweep(path, out=str(path.parent / "out"))


def run_sweep(path: Path, *argv: str) -> tuple[int, str]:
    """``bucket-brigade sweep PATH --out PATH/../out ARGV``: exit code and console output."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["sweep", str(path), "--out", str(path.parent / "out"), *argv])
    return code, out.getvalue()


def read_csv(path: Path) -> list[dict[str, Any]]:
    with path.open() as file:
        return list(csv.DictReader(file))
