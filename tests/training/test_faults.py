"""kill -9 at random (seeded) points of a real training run, then resume, in a loop.

What is guaranteed (docs/guarantees.md, "Runs"): the run ends with its final model, every
checkpoint and model file is whole, the next start removes the temporary files a kill
left, and TensorBoard holds each update's step exactly once, as an uninterrupted run
does (a resumed run purges the events logged after its checkpoint). The weights are not
those of an uninterrupted run: a resumed run plays fresh games (the env's seed moves on
with the step count), so only the steps are compared, not the values.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bucket_brigade.io import TEMP_FILE
from bucket_brigade.training.models import load_policy
from bucket_brigade.viz.plots import load_run

from .test_cli import TINY

ROOT = Path(__file__).resolve().parents[2]
BATCH = 128  # TINY's --batch-size
STEPS = 64 * BATCH
CHECKPOINT_INTERVAL = 4 * BATCH


def checkpoints(out: Path) -> list[Path]:
    return sorted((out / "checkpoints" / "r").glob("checkpoint_step_*.pt"),
                  key=lambda path: int(path.stem.rpartition("_")[2]))


def start(out: Path) -> subprocess.Popen:
    """The run: from its latest checkpoint if it has one, else from scratch (replacing
    what an attempt killed before its first checkpoint left)."""
    saved = checkpoints(out)
    where = ["--resume", str(saved[-1])] if saved else \
        [*TINY, "--run-name", "r", "--overwrite"]
    return subprocess.Popen(
        [sys.executable, "-m", "bucket_brigade.cli", "train", "--out-dir", str(out), *where,
         "--steps", str(STEPS), "--checkpoint-interval", str(CHECKPOINT_INTERVAL)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")})


def kill_at_a_random_point(out: Path, rng: random.Random) -> bool:
    """Start the run, SIGKILL it shortly after a random checkpoint; False if it finished
    first (or had no checkpoint left to come)."""
    done = len(checkpoints(out))
    if done + 1 >= STEPS // CHECKPOINT_INTERVAL:
        return False  # no checkpoint left to kill after
    target = rng.randrange(done + 1, STEPS // CHECKPOINT_INTERVAL)
    process = start(out)
    deadline = time.monotonic() + 180
    while len(checkpoints(out)) < target and process.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    time.sleep(rng.uniform(0, 0.2))
    if process.poll() is not None:
        assert process.returncode == 0, process.stderr.read()
        return False
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    return True


def kill_and_resume(out: Path, kills: int, seed: int) -> None:
    rng = random.Random(seed)
    killed = sum(kill_at_a_random_point(out, rng) for _ in range(kills))
    process = start(out)
    _, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    assert killed, "the run finished before any kill: make it longer"

    load_policy(out / "model_r.pt")  # whole, and a policy
    for path in checkpoints(out):
        load_policy(path)
    leftovers = [p for p in out.rglob(".*") if TEMP_FILE.fullmatch(p.name)]
    assert not leftovers
    logged = load_run(out / "runs" / "r", "r").curves["charts/learning_rate"].steps
    assert logged.tolist() == list(range(BATCH, STEPS + 1, BATCH))


def test_killed_and_resumed_twice_ends_like_an_uninterrupted_run(tmp_path) -> None:
    kill_and_resume(tmp_path, kills=2, seed=0)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(5))
def test_killed_and_resumed_many_times(tmp_path, seed) -> None:
    kill_and_resume(tmp_path, kills=8, seed=seed)
