"""kill -9 of a real sweep process at random (seeded) points, then the same command again,
in a loop: the sweep ends with every trial finished, no worker outlives a killed sweep,
no temporary file survives the next start, and each trial's TensorBoard holds each
update's step once (docs/guarantees.md, "Runs")."""

from __future__ import annotations

import random
import signal
import time
from pathlib import Path

import pytest

from bucket_brigade.io import TEMP_FILE
from bucket_brigade.sweep.trial import OK, load_result
from bucket_brigade.viz.plots import load_run

from .helpers import plan_for
from .test_safety import alive, children, start_sweep

BATCH, STEPS = 256, 16 * 256  # TINY_TRAINING's batch_size; steps per trial


def kill_at_a_random_point(path: Path, rng: random.Random) -> set[int]:
    """Start the sweep, SIGKILL it after a random number of new checkpoints; the pids of
    the workers it had then."""
    folder = path.parent / "out" / "sweep"
    saved = len(list(folder.glob("checkpoints/*/checkpoint_step_*.pt")))
    target = saved + rng.randint(1, 4)
    process = start_sweep(path, "--max-parallel", "2")
    while len(list(folder.glob("checkpoints/*/checkpoint_step_*.pt"))) < target \
            and process.poll() is None:
        time.sleep(0.01)  # polling for the checkpoints, not a deadline
    # A moment later: any state the sweep is in then (a trial mid-update, mid-write, or
    # every trial done) must be resumable, so the end does not depend on the delay.
    time.sleep(rng.uniform(0, 0.2))
    workers = children(process.pid)
    process.send_signal(signal.SIGKILL)
    process.wait()
    return workers


def kill_and_rerun(path: Path, kills: int, seed: int) -> None:
    rng = random.Random(seed)
    workers = set().union(*(kill_at_a_random_point(path, rng) for _ in range(kills)))
    process = start_sweep(path, "--max-parallel", "2")
    assert process.wait() == 0
    assert not any(alive(pid) for pid in workers)

    plan = plan_for(path)
    assert all(load_result(spec)["status"] == OK for spec in plan.trials)
    assert not [p for p in plan.sweep_dir.rglob(".*") if TEMP_FILE.fullmatch(p.name)]
    for spec in plan.trials:
        run = load_run(plan.sweep_dir / "runs" / spec.name, spec.name)
        assert run.curves["charts/learning_rate"].steps.tolist() == \
            list(range(BATCH, STEPS + 1, BATCH))


def sweep(sweep_file, tiny_training: str) -> Path:
    return sweep_file(f"[sweep]\nname = 'sweep'\nsteps = {STEPS}\neval_games = 4\n"
                      + tiny_training.replace("checkpoint_interval = 1024",
                                              f"checkpoint_interval = {2 * BATCH}")
                      + "[grid]\nseed = [1, 2]\n")


def test_a_sweep_killed_twice_finishes_on_the_next_run(sweep_file, tiny_training) -> None:
    kill_and_rerun(sweep(sweep_file, tiny_training), kills=2, seed=0)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(3))
def test_a_sweep_killed_many_times(sweep_file, tiny_training, seed) -> None:
    kill_and_rerun(sweep(sweep_file, tiny_training), kills=6, seed=seed)
