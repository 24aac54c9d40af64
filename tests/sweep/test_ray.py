"""The Ray backend on a local Ray instance: the small sweep gives the same trials, folders and
scores as the local backend and reports training metrics to Tune; a search algorithm and a
scheduler from the sweep file's [ray] table run, with progress shown while trials train."""

from __future__ import annotations

import csv
import shutil
import tempfile
from pathlib import Path

import pytest

from bucket_brigade.sweep.config import RaySettings
from bucket_brigade.sweep.ray_backend import _record
from bucket_brigade.sweep.trial import (
    INTERRUPTED,
    OK,
    STOPPED,
    is_finished,
    load_result,
    run_paths,
)

from .helpers import SMALL_SWEEP, TINY_TRAINING, plan_for, read_csv, run_sweep

pytest.importorskip("ray", reason="Ray is not installed (pip install 'bucket-brigade[ray]')")


@pytest.mark.slow  # the local sweep, then the same on Ray
def test_the_small_sweep_on_ray_matches_the_local_backend(
        tmp_path: Path, small_sweep: tuple[Path, int, str]) -> None:
    path = tmp_path / "small.toml"
    path.write_text(SMALL_SWEEP)
    code, output = run_sweep(path, "--backend", "ray", "--max-parallel", "2")
    assert code == 0, output
    sweep_dir = tmp_path / "out" / "small"
    rows = read_csv(sweep_dir / "results.csv")
    local_path, _, _ = small_sweep
    local_rows = read_csv(local_path.parent / "out" / "small" / "results.csv")
    # The same trials, trained and evaluated from the same seeds on the CPU: the same scores.
    assert [r["trial"] for r in rows] == [r["trial"] for r in local_rows]
    assert all(r["status"] == OK for r in rows)
    assert [float(r["mean_score"]) for r in rows] == pytest.approx(
        [float(r["mean_score"]) for r in local_rows], rel=1e-9)
    assert (sweep_dir / "results.png").is_file() and (sweep_dir / "best.csv").is_file()

    for spec in plan_for(path).trials:
        paths = run_paths(spec)
        assert list(paths.run_dir.glob("events.out.tfevents.*")) and paths.model_path.is_file()
        assert load_result(spec)["status"] == OK
        progress = next((sweep_dir / "ray").glob(f"tune_*/{spec.name}/progress.csv"))
        with progress.open() as file:
            reports = list(csv.DictReader(file))
        # Every update's scalars, the last update's with the final record.
        assert [int(r["step"]) for r in reports] == list(range(256, 2049, 256))
        assert float(reports[0]["train/steps_per_sec"]) > 0

    code, output = run_sweep(path, "--backend", "ray")
    assert code == 0 and "4 already finished, 0 to run" in output


SEARCH_SWEEP = """
[sweep]
name = "search"
steps = 1024
eval_games = 40
""" + TINY_TRAINING.replace("eval_interval = 1024", "eval_interval = 256") + """
scenario = "greedy_neighbor"

[random]
samples = 2
lr = { low = 1e-4, high = 3e-2, log = true }

[ray]
search = "optuna"
scheduler = "asha"
grace_period = 256
reduction_factor = 2
"""


def test_optuna_proposes_asha_may_stop_and_progress_shows_while_trials_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("optuna", reason="Optuna is not installed")
    path = tmp_path / "search.toml"
    path.write_text(SEARCH_SWEEP)
    # Ray's files go to the temporary folder (short-named: Ray's socket paths must be short).
    temp_root = Path(tempfile.mkdtemp(prefix="bbt-"))
    monkeypatch.setenv("TMPDIR", str(temp_root))
    monkeypatch.delenv("RAY_TMPDIR", raising=False)
    monkeypatch.setattr(tempfile, "tempdir", str(temp_root))
    try:
        code, output = run_sweep(path, "--backend", "ray", "--max-parallel", "2")
        left_behind = sorted(p.name for p in temp_root.iterdir()
                             if not p.name.startswith("torchinductor_"))  # torch's cache
    finally:
        shutil.rmtree(temp_root, ignore_errors=True)
    assert code == 0, output
    assert left_behind == [], "Ray left its files behind"
    assert "2 trials proposed by optuna on ray, ASHA on eval/mean_score" in output
    rows = read_csv(tmp_path / "out" / "search" / "results.csv")
    assert len(rows) == 2 and len({r["trial"] for r in rows}) == 2
    lines = output.splitlines()
    for row in rows:
        assert row["status"] in (OK, STOPPED), row
        assert 1e-4 <= float(row["lr"]) <= 3e-2
        # The trial's start and evaluations were shown before its result line.
        started = next(k for k, line in enumerate(lines)
                       if line.startswith(f"  started {row['trial']}: lr="))
        progress = [k for k, line in enumerate(lines) if f"{row['trial']} at step" in line]
        ended = next(k for k, line in enumerate(lines) if f"] {row['trial']}: " in line)
        assert progress and started < progress[0] < ended, output
    assert sum(line.startswith("[") and "/2] " in line for line in lines) == 2


def test_a_trial_the_scheduler_stopped_stays_stopped_an_interrupted_one_resumes(
        tmp_path: Path) -> None:
    path = tmp_path / "small.toml"
    path.write_text(SMALL_SWEEP)
    first, second = plan_for(path).trials[:2]
    last = {"step": 512, "eval/mean_score": 50.25}
    asha = RaySettings(scheduler="asha")
    stopped = _record(first, last, None, asha, stopped=True)
    assert stopped["status"] == STOPPED and stopped["steps"] == 512
    assert stopped["error"] == "by ASHA at step 512 (eval/mean_score 50.25)"
    assert load_result(first) == stopped and is_finished(first)  # a rerun leaves it be
    interrupted = _record(second, last, None, asha, stopped=False)
    assert interrupted["status"] == INTERRUPTED and not is_finished(second)
