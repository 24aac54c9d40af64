"""The local backend end to end: a 2 scenarios x 2 seeds sweep of tiny trainings in worker
processes, its table and run folders, a failing trial, and a rerun that skips what is done."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from bucket_brigade.cli import main
from bucket_brigade.sweep.trial import (
    FAILED,
    INTERRUPTED,
    OK,
    load_result,
    result_path,
    run_paths,
    run_trial,
)

from .helpers import plan_for, read_csv, run_sweep


def test_every_trial_trains_and_is_evaluated(small_sweep: tuple[Path, int, str]) -> None:
    path, code, output = small_sweep
    sweep_dir = path.parent / "out" / "small"
    rows = read_csv(sweep_dir / "results.csv")
    assert code == 0, output
    assert [(r["scenario"], r["seed"]) for r in rows] == [
        ("trivial_cooperation", "1"), ("trivial_cooperation", "2"),
        ("greedy_neighbor", "1"), ("greedy_neighbor", "2")]
    for row in rows:
        assert row["status"] == OK and row["error"] == ""
        assert float(row["ci95"]) > 0 and int(row["eval_games"]) == 60
        assert int(row["steps"]) == 2048 and float(row["steps_per_sec"]) > 0
        assert float(row["wall_seconds"]) > 0
    best = read_csv(sweep_dir / "best.csv")
    assert {b["scenario"] for b in best} == {"trivial_cooperation", "greedy_neighbor"}
    assert all(b["seeds"] == "2" for b in best)
    scores = {(r["scenario"], r["seed"]): float(r["mean_score"]) for r in rows}
    for b in best:
        mean = (scores[(b["scenario"], "1")] + scores[(b["scenario"], "2")]) / 2
        assert float(b["mean_score"]) == pytest.approx(mean)
    assert (sweep_dir / "results.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Sweep small: 4 trials (4 ok)" in output
    assert "Best configuration per scenario" in output


def test_each_trial_prints_its_start_its_evaluations_and_its_end_as_it_runs(
        small_sweep: tuple[Path, int, str]) -> None:
    path, _, output = small_sweep
    lines = output.splitlines()
    for spec in plan_for(path).trials:
        started = [k for k, line in enumerate(lines) if line.startswith(f"  started {spec.name}: ")]
        evaluated = [k for k, line in enumerate(lines)
                     if line.startswith(f"  {spec.name} at step 1,024: eval/mean_score ")]
        ended = [k for k, line in enumerate(lines)
                 if re.fullmatch(rf"\[[1-4]/4\] {spec.name}: ok \d+\.\d\d ± \d+\.\d\d \(\d+ s\)",
                                 line)]
        assert len(started) == len(evaluated) == len(ended) == 1, output
        assert started[0] < evaluated[0] < ended[0], output
        assert lines[started[0]].endswith(" s)")


def test_each_trial_has_its_own_run_checkpoints_and_model(
        small_sweep: tuple[Path, int, str]) -> None:
    path, _, _ = small_sweep
    plan = plan_for(path)
    assert json.loads((plan.sweep_dir / "sweep.json").read_text())["trials"][0]["name"] \
        == plan.trials[0].name
    for spec in plan.trials:
        paths = run_paths(spec)
        assert list(paths.run_dir.glob("events.out.tfevents.*"))
        saved = json.loads(paths.config_path.read_text())
        assert saved["run_name"] == spec.name and saved["scenario"] == spec.scenario
        assert sorted(p.name for p in paths.checkpoint_dir.iterdir()) == [
            "checkpoint_step_1024.pt", "checkpoint_step_2048.pt"]
        assert paths.model_path.is_file()
        result = load_result(spec)
        assert result["status"] == OK and result["trial"] == spec.name
        assert result["config"] == spec.config and result["resumed_from"] == 0


def test_a_rerun_skips_the_finished_trials(small_sweep: tuple[Path, int, str]) -> None:
    path, _, _ = small_sweep
    plan = plan_for(path)
    before = {spec.name: result_path(spec).stat().st_mtime_ns for spec in plan.trials}
    code, output = run_sweep(path)
    assert code == 0
    assert "4 already finished, 0 to run" in output
    assert {spec.name: result_path(spec).stat().st_mtime_ns for spec in plan.trials} == before
    assert len(read_csv(plan.sweep_dir / "results.csv")) == 4


def test_a_failing_trial_is_recorded_and_the_others_finish(sweep_file: Any,
                                                           tiny_training: str) -> None:
    path = sweep_file("""
[sweep]
name = "failing"
steps = 1024
eval_games = 20
""" + tiny_training + """
[grid]
seed = [1, 2]
""")
    plan = plan_for(path)
    failed, finished = (next(spec for spec in plan.trials if spec.seed == seed)
                        for seed in (2, 1))
    # A damaged checkpoint to resume from fails its trial when it starts.
    damaged = run_paths(failed).checkpoint_path(512)
    damaged.parent.mkdir(parents=True)
    damaged.write_bytes(b"not a checkpoint")
    code, output = run_sweep(path, "--max-parallel", "2")
    rows = {int(r["seed"]): r for r in read_csv(path.parent / "out" / "failing" /
                                                "results.csv")}
    assert code == 1, output
    assert rows[1]["status"] == OK and rows[1]["mean_score"]
    assert rows[2]["status"] == FAILED and rows[2]["mean_score"] == ""
    assert "is not a PyTorch file" in rows[2]["error"] and "\n" not in rows[2]["error"]
    recorded = load_result(failed)
    assert recorded["status"] == FAILED and "Traceback" in recorded["traceback"]

    # A rerun keeps the finished trial and tries the failed one again.
    finished_at = result_path(finished).stat().st_mtime_ns
    code, output = run_sweep(path, "--max-parallel", "1")
    assert code == 1 and "1 already finished, 1 to run" in output
    assert result_path(finished).stat().st_mtime_ns == finished_at
    assert load_result(failed)["status"] == FAILED


def test_run_trial_records_an_exception_without_raising(
        sweep_file: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import bucket_brigade.training.ppo as ppo

    def broken(*args: Any, **kwargs: Any) -> None:
        raise MemoryError("out of memory\nsecond line")

    monkeypatch.setattr(ppo, "train", broken)
    spec = plan_for(sweep_file("[grid]\nseed = [3]\n")).trials[0]
    result = run_trial(spec)
    assert result["status"] == FAILED and result["error"] == "MemoryError: out of memory"
    assert load_result(spec) == result


def test_a_stopped_trial_writes_no_result(sweep_file: Any,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import bucket_brigade.training.ppo as ppo

    class Stopped:
        stopped_by, step = 2, 512

    monkeypatch.setattr(ppo, "train", lambda *args, **kwargs: Stopped())
    spec = plan_for(sweep_file("[grid]\nseed = [3]\n")).trials[0]
    assert run_trial(spec)["status"] == INTERRUPTED
    assert load_result(spec) is None


def test_the_ray_backend_without_ray_says_how_to_install_it(
        sweep_file: Any, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(__import__("sys").modules, "ray", None)  # import ray fails
    path = sweep_file("[grid]\nseed = [1]\n")
    code = main(["sweep", str(path), "--backend", "ray", "--out", str(path.parent / "out")])
    assert code == 2
    assert "pip install 'bucket-brigade[ray]'" in capsys.readouterr().err


def test_training_metrics_reach_the_callback_and_a_trial_resumes_its_checkpoint(
        sweep_file: Any, tiny_training: str) -> None:
    from dataclasses import replace

    from bucket_brigade.training.ppo import train

    path = sweep_file("[sweep]\nsteps = 1024\neval_games = 10\n" + tiny_training)
    spec = plan_for(path).trials[0]
    train(replace(spec.train_config(), steps=512))  # as if stopped after two updates
    reported: list[tuple[int, dict[str, float]]] = []
    result = run_trial(spec, on_metrics=lambda step, scalars: reported.append((step, scalars)))
    assert result["status"] == OK and result["resumed_from"] == 512 and result["steps"] == 1024
    assert [step for step, _ in reported] == [768, 1024]
    assert {"losses/policy_loss", "train/steps_per_sec", "charts/learning_rate"} \
        <= reported[-1][1].keys()


def test_ctrl_c_stops_the_sweep_and_keeps_a_checkpoint(tmp_path: Path,
                                                       tiny_training: str) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    path = tmp_path / "long.toml"
    path.write_text("[sweep]\nname = 'long'\nsteps = 10_000_000\n" + tiny_training
                    + "[grid]\nseed = [1, 2]\n")
    sweep_dir = tmp_path / "out" / "long"
    log = (tmp_path / "log.txt").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "bucket_brigade.cli", "sweep", str(path), "--out",
         str(tmp_path / "out"), "--max-parallel", "1"], stdout=log, stderr=subprocess.STDOUT)
    try:
        while not list(sweep_dir.glob("checkpoints/*/checkpoint_step_*.pt")):
            assert process.poll() is None, (tmp_path / "log.txt").read_text()
            time.sleep(0.2)  # polling for the first checkpoint, not a deadline
        os.kill(process.pid, signal.SIGINT)
        code = process.wait()
    finally:
        if process.poll() is None:
            process.kill()
        log.close()
    output = (tmp_path / "log.txt").read_text()
    assert code == 130, output
    rows = read_csv(sweep_dir / "results.csv")
    assert [r["status"] for r in rows] == [INTERRUPTED, "pending"], output
    plan = plan_for(path)
    assert load_result(plan.trials[0]) is None
    assert list(run_paths(plan.trials[0]).checkpoint_dir.glob("checkpoint_step_*.pt"))
    assert "run the same command again" in output
