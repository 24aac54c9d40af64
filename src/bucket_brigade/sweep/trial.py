"""One trial of a sweep: train, evaluate the final policy, record the result.

The same function runs in a local worker process and in a Ray Tune trial. The trainer
writes its usual runs/{trial}/, checkpoints/{trial}/ and model_{trial}.pt under the sweep
folder; the trial adds runs/{trial}/result.json, written atomically. A result with status
"ok" marks the trial done; a trial that failed or was stopped part-way starts again from
its latest checkpoint when the sweep is run again.
"""

from __future__ import annotations

import json
import shutil
import time
import traceback
from pathlib import Path
from typing import Any

from bucket_brigade.io import read_input_text, save_json
from bucket_brigade.sweep.config import TrialSpec
from bucket_brigade.training.bookkeeping import check_resumable, claim_run
from bucket_brigade.training.checkpoint import RunPaths, load_checkpoint
from bucket_brigade.training.monitor import MetricsCallback

OK, FAILED, INTERRUPTED, PENDING = "ok", "failed", "interrupted", "pending"
STOPPED = "stopped"  # ended early by a Ray Tune scheduler (ASHA): done, not to be resumed
RESULT_FILE = "result.json"


def run_paths(spec: TrialSpec) -> RunPaths:
    return RunPaths(Path(spec.sweep_dir), spec.name)


def result_path(spec: TrialSpec) -> Path:
    return run_paths(spec).run_dir / RESULT_FILE


def load_result(spec: TrialSpec) -> dict[str, Any] | None:
    """The recorded result of a trial, or None if it has none or a damaged one (see
    :func:`damaged_result`): such a trial counts as not finished."""
    try:
        result = json.loads(read_input_text(result_path(spec), "trial result"))
    except (OSError, ValueError):  # a UsageError too: not a regular file, not UTF-8
        return None
    return result if isinstance(result, dict) and isinstance(result.get("status"), str) \
        else None


def damaged_result(spec: TrialSpec) -> bool:
    """The trial has a result.json that cannot be read as a result."""
    return result_path(spec).exists() and load_result(spec) is None


def is_finished(spec: TrialSpec) -> bool:
    result = load_result(spec)
    return result is not None and result.get("status") in (OK, STOPPED)


def outcome(spec: TrialSpec, status: str, **fields: Any) -> dict[str, Any]:
    """A result record: the trial's identity, its status, then whatever else is known."""
    return {"trial": spec.name, "status": status, "scenario": spec.scenario,
            "seed": spec.seed, "params": spec.params, **fields}


def run_trial(spec: TrialSpec, on_metrics: MetricsCallback | None = None) -> dict[str, Any]:
    """Train and evaluate one trial. Never raises for a failed trial: the error is recorded
    in its result.json (status "failed") and returned, so the other trials go on."""
    started = time.perf_counter()
    result_path(spec).unlink(missing_ok=True)  # a failed attempt's record is now stale
    try:
        result = _train_and_evaluate(spec, on_metrics, started)
    except Exception as exc:
        message = str(exc).strip().splitlines()
        result = outcome(spec, FAILED,
                         error=f"{type(exc).__name__}: {message[0] if message else ''}".strip(),
                         traceback=traceback.format_exc(),
                         wall_seconds=time.perf_counter() - started)
    if result["status"] != INTERRUPTED:
        save_json(result, result_path(spec))
    return result


def _train_and_evaluate(spec: TrialSpec, on_metrics: MetricsCallback | None,
                        started: float) -> dict[str, Any]:
    from bucket_brigade.training.models import (
        compare_run_with_archetypes,
        evaluate_run,
        save_comparison,
    )
    from bucket_brigade.training.ppo import train

    config = spec.train_config()
    paths = run_paths(spec)
    with claim_run(paths):
        checkpoint = latest_checkpoint(paths)
        if checkpoint is None:  # clear what an attempt that died before its first checkpoint left
            for path in paths.existing():
                shutil.rmtree(path) if path.is_dir() else path.unlink()
        else:
            check_resumable(checkpoint, paths.checkpoint_path(int(checkpoint["step"])), config)
        trained = train(config, checkpoint, on_metrics=on_metrics)
    if trained.stopped_by is not None:
        return outcome(spec, INTERRUPTED, steps=trained.step,
                       wall_seconds=time.perf_counter() - started)
    seating = (config.resolved_scenario, *config.evaluation_seating)
    if spec.compare:  # the learner's row of the comparison is evaluate_run's result
        rows = compare_run_with_archetypes(trained.model_path, *seating,
                                           games=spec.eval_games, seed=spec.eval_seed)
        save_comparison(rows, paths.run_dir, *seating, games=spec.eval_games,
                        seed=spec.eval_seed)
        learner = rows[0]
    else:
        learner = evaluate_run(trained.model_path, *seating, games=spec.eval_games,
                               seed=spec.eval_seed).summary()
    resumed_from = int(checkpoint["step"]) if checkpoint else 0
    trained_now = trained.step > resumed_from  # else the speed was measured in a past attempt
    return outcome(
        spec, OK, error="", mean_score=learner["mean_score"], ci95=learner["ci95"],
        houses_saved=learner["houses_saved"], work_rate=learner["work_rate"],
        eval_games=spec.eval_games, eval_seed=spec.eval_seed, steps=trained.step,
        resumed_from=resumed_from,
        steps_per_sec=trained.steps_per_sec if trained_now else None,
        train_seconds=trained.seconds,
        wall_seconds=time.perf_counter() - started, device=trained.device,
        model=str(trained.model_path), config=spec.config)


def latest_checkpoint(paths: RunPaths) -> dict[str, Any] | None:
    """The checkpoint with the most steps in the run's folder, loaded; None if there is none."""
    latest = paths.latest_checkpoint()
    return load_checkpoint(latest) if latest is not None else None
