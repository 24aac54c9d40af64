"""The Ray backend: the sweep's trials as Ray Tune trials, on a local Ray instance or on a
cluster (``address``).

The sweep decides the trials itself (the same names, folders and skip-finished logic as
the local backend) and hands Tune one grid axis, the trial name. Each Tune trial runs
:func:`~bucket_brigade.sweep.trial.run_trial`, reports every training update's scalars to
Tune, and reports its final result last; a failed trial raises after that report so that
Tune shows it as errored too. Trials write their folders under the sweep folder, so on a
cluster that folder must be on storage every node shares.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bucket_brigade.errors import UsageError
from bucket_brigade.io import save_json
from bucket_brigade.sweep.config import TrialSpec
from bucket_brigade.sweep.local import ResultHandler
from bucket_brigade.sweep.trial import (
    FAILED,
    INTERRUPTED,
    OK,
    PENDING,
    outcome,
    result_path,
    run_trial,
)
from bucket_brigade.training.ppo import CPU_THREADS

RESULT_KEY = "sweep_result"  # the final report's full record


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise UsageError("--backend ray needs Ray: pip install 'bucket-brigade[ray]' "
                         "(or pip install 'ray[tune]')") from None
    return ray


def run_ray(specs: Sequence[TrialSpec], name: str, storage_path: str, address: str | None,
            max_parallel: int | None, gpus_per_trial: float, on_result: ResultHandler) -> bool:
    """Run ``specs`` as the Tune experiment ``name`` (its own files under ``storage_path``);
    returns True when the run was interrupted (Ctrl-C)."""
    ray = import_ray()
    from ray import tune

    by_name = {spec.name: spec for spec in specs}
    # "local" starts a new instance even where a Ray cluster was started (or left) before.
    ray.init(address=address or "local", include_dashboard=False, configure_logging=False)
    try:
        trainable = tune.with_resources(
            tune.with_parameters(_tune_trial, specs=by_name),
            {"cpu": CPU_THREADS, "gpu": gpus_per_trial})
        tuner = tune.Tuner(
            trainable,
            param_space={"trial": tune.grid_search(list(by_name))},
            tune_config=tune.TuneConfig(max_concurrent_trials=max_parallel,
                                        trial_name_creator=_trial_name,
                                        trial_dirname_creator=_trial_name),
            run_config=tune.RunConfig(name=name, storage_path=storage_path,
                                      failure_config=tune.FailureConfig(max_failures=0),
                                      verbose=0))
        records = {}
        for result in tuner.fit():
            if not result.config:  # the run was stopped before this trial started
                continue
            spec = by_name[result.config["trial"]]
            record = (result.metrics or {}).get(RESULT_KEY)
            if record is not None and not result_path(spec).exists():
                save_json(record, result_path(spec))  # it ran on a node with other storage
            elif record is None and result.error is not None:  # e.g. its worker died
                error = str(result.error).strip().splitlines()
                record = outcome(spec, FAILED, error=error[0] if error else "Ray trial error")
            elif record is None:  # stopped before its final report
                record = outcome(spec, INTERRUPTED)
            records[spec.name] = record
        outcomes = [records.get(spec.name) or outcome(spec, PENDING) for spec in specs]
        for record in outcomes:
            on_result(record)
        return any(record["status"] in (INTERRUPTED, PENDING) for record in outcomes)
    finally:
        ray.shutdown()


def _trial_name(trial: Any) -> str:
    return trial.config["trial"]


def _tune_trial(config: dict[str, Any], specs: dict[str, TrialSpec]) -> None:
    """One Tune trial: the sweep's trial with its metrics going to Tune."""
    from ray import tune

    spec = specs[config["trial"]]

    def report(step: int, scalars: dict[str, float]) -> None:
        tune.report({**scalars, "step": step})

    result = run_trial(spec, on_metrics=report)
    final = {"step": result.get("steps", 0), "status": result["status"], RESULT_KEY: result}
    if result["status"] == OK:
        final.update(final_score=result["mean_score"], final_ci95=result["ci95"])
    tune.report(final)
    if result["status"] == FAILED:
        raise RuntimeError(f"trial {spec.name} failed: {result['error']}")
