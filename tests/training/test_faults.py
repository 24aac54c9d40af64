"""kill -9 a real training run at seeded points, then start it again, in a loop.

What is guaranteed (docs/guarantees.md, "Runs"): the run ends with its final model, every
checkpoint and model file is whole, the next start removes the temporary files a kill
left, and TensorBoard holds each update's step exactly once, as an uninterrupted run
does (a resumed run purges the events logged after its checkpoint). The weights are not
those of an uninterrupted run: a resumed run plays fresh games (the env's seed moves on
with the step count), so only the steps are compared, not the values.

The kills land at exact points, not after a delay: the run (``paused_train.py``) stops
for good at a seeded file write, before or after the file is put in place, and says so;
only then is it killed. So the points do not depend on the machine's speed, and every
point a kill can leave a run in is reachable: mid-write (a temporary file left), between
checkpoints, after the last checkpoint and before or after the final model.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from bucket_brigade.io import TEMP_FILE
from bucket_brigade.training.checkpoint import RunPaths
from bucket_brigade.training.models import load_policy
from bucket_brigade.viz.plots import load_run

from .test_cli import TINY

ROOT = Path(__file__).resolve().parents[2]
PAUSED_TRAIN = Path(__file__).with_name("paused_train.py")
BATCH = 128  # TINY's --batch-size
STEPS = 64 * BATCH
CHECKPOINT_INTERVAL = 4 * BATCH
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "src")}


def paths(out: Path) -> RunPaths:
    return RunPaths(out, "r")


def train_args(out: Path) -> list[str]:
    """The run: from its latest checkpoint if it has one, else from scratch (replacing
    what an attempt killed before its first checkpoint left)."""
    latest = paths(out).latest_checkpoint()
    where = ["--resume", str(latest)] if latest else [*TINY, "--run-name", "r", "--overwrite"]
    return [*where, "--steps", str(STEPS), "--checkpoint-interval", str(CHECKPOINT_INTERVAL)]


def files_left_to_write(out: Path) -> int:
    """What a start of the run writes under ``out``: config.json, its checkpoints, the model."""
    latest = paths(out).latest_checkpoint()
    step = int(latest.stem.rpartition("_")[2]) if latest else 0
    return 1 + (STEPS - step) // CHECKPOINT_INTERVAL + 1


def start_and_kill(out: Path, write: int, when: str, log: Path) -> None:
    """Start the run, let it pause at its ``write``-th file (``when``: before or after the
    file is in place), and SIGKILL it there."""
    announce, announced = os.pipe()
    with log.open("ab") as stderr:
        process = subprocess.Popen(
            [sys.executable, str(PAUSED_TRAIN), str(announced), str(write), when, str(out),
             *train_args(out)],
            stdout=subprocess.DEVNULL, stderr=stderr, pass_fds=(announced,), env=ENV)
    os.close(announced)
    try:
        with os.fdopen(announce, "rb") as pauses:
            paused = pauses.readline()  # the pause, or the end of the process
        assert paused == b"paused\n", \
            f"the run ended (exit {process.wait()}) before its write {write}: {log.read_text()}"
    finally:
        process.kill()
        process.wait()


def finish(out: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bucket_brigade.cli", "train", "--out-dir", str(out),
         *train_args(out)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env=ENV)
    assert done.returncode == 0, done.stderr


def check_finished_run(out: Path) -> None:
    load_policy(out / "model_r.pt")  # whole, and a policy
    for path in (out / "checkpoints" / "r").iterdir():
        load_policy(path)
    leftovers = [p for p in out.rglob(".*") if TEMP_FILE.fullmatch(p.name)]
    assert not leftovers
    logged = load_run(out / "runs" / "r", "r").curves["charts/learning_rate"].steps
    assert logged.tolist() == list(range(BATCH, STEPS + 1, BATCH))


def kill_and_resume(tmp_path: Path, kills: int, seed: int) -> None:
    rng = random.Random(seed)
    out = tmp_path / "out"
    for _ in range(kills):
        start_and_kill(out, rng.randint(1, files_left_to_write(out)),
                       rng.choice(["before", "after"]), tmp_path / "stderr.log")
    finish(out)
    check_finished_run(out)


def test_killed_and_resumed_twice_ends_like_an_uninterrupted_run(tmp_path) -> None:
    kill_and_resume(tmp_path, kills=2, seed=0)


@pytest.mark.parametrize("when", ["before", "after"])
def test_killed_at_its_final_model_the_run_still_finishes(tmp_path, when) -> None:
    """After its last checkpoint the run has nothing left to train: resuming that
    checkpoint writes the final model from it."""
    out = tmp_path / "out"
    start_and_kill(out, files_left_to_write(out), when, tmp_path / "stderr.log")
    assert paths(out).latest_checkpoint() == paths(out).checkpoint_path(STEPS)
    (out / "model_r.pt").unlink(missing_ok=True)
    finish(out)
    check_finished_run(out)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(5))
def test_killed_and_resumed_many_times(tmp_path, seed) -> None:
    kill_and_resume(tmp_path, kills=8, seed=seed)
