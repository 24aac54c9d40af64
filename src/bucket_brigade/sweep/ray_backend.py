"""The Ray backend: the sweep's trials as Ray Tune trials, on a local Ray instance or on a
cluster (``address``).

With ``[ray] search = "grid"`` (the default) the sweep decides the trials itself (the same
names, folders and skip-finished logic as the local backend) and hands Tune one grid
axis, the trial name. With a search algorithm (``search = "optuna"``) Tune proposes
``[random] samples`` trials from the ``[random]`` ranges, each named as the sweep would
name it. Either way a scheduler (``scheduler = "asha"``) may stop trials early on a metric
they report while they train.

Each Tune trial runs :func:`~bucket_brigade.sweep.trial.run_trial`, reports every
training update's scalars to Tune, and reports its final result last; a failed trial
raises after that report so that Tune shows it as errored too. A callback hands each
trial's result to the sweep as the trial ends. Trials write their folders under the
sweep folder, so on a cluster that folder must be on storage every node shares.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from bucket_brigade.errors import UsageError
from bucket_brigade.io import save_json
from bucket_brigade.sweep.config import RaySettings, SweepPlan, TrialSpec
from bucket_brigade.sweep.progress import PROGRESS_KEY, ResultHandler, SweepProgress
from bucket_brigade.sweep.trial import (
    FAILED,
    INTERRUPTED,
    OK,
    PENDING,
    STOPPED,
    load_result,
    outcome,
    result_path,
    run_trial,
)
from bucket_brigade.training.config import SWEEP_TRIAL_THREADS, TrainConfig

RESULT_KEY = "sweep_result"  # the final report's full record
# The running sweep's handlers, which hold a console (unpicklable): Tune pickles its
# callbacks with the experiment's state, so the callback keeps only the key to these.
_listeners: dict[str, tuple[Callable[[dict[str, Any]], TrialSpec],
                            ResultHandler, SweepProgress]] = {}
_scheduler_stops: dict[str, set[str]] = {}  # experiment -> ids of trials its scheduler stopped


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise UsageError("--backend ray needs Ray: pip install 'bucket-brigade[ray]' "
                         "(or pip install 'ray[tune]')") from None
    return ray


def check_ray_settings(settings: RaySettings) -> None:
    """Fail before anything runs when the chosen search algorithm is not installed."""
    if settings.search == "optuna":
        try:
            import optuna  # noqa: F401
        except ImportError:
            raise UsageError("[ray] search = 'optuna' needs Optuna: pip install optuna") \
                from None


def run_ray(plan: SweepPlan, specs: Sequence[TrialSpec], name: str, storage_path: str,
            address: str | None, max_parallel: int | None,
            progress: SweepProgress) -> tuple[bool, list[TrialSpec]]:
    """Run ``specs`` (or, with a search algorithm, the trials it proposes) as the Tune
    experiment ``name`` (its own files under ``storage_path``). Returns whether the run
    was interrupted (Ctrl-C), and the trials that were run."""
    ray = import_ray()
    from ray import tune

    settings = plan.ray
    by_name = {spec.name: spec for spec in specs}
    ran: dict[str, TrialSpec] = dict(by_name)
    records: dict[str, dict[str, Any]] = {}

    def spec_for(config: dict[str, Any]) -> TrialSpec:
        spec = by_name.get(config["trial"]) if "trial" in config else plan.make_trial(config)
        ran.setdefault(spec.name, spec)
        return spec

    def report(record: dict[str, Any]) -> None:
        records[record["trial"]] = record
        progress.trial_ended(record)

    # The metric arrives with the trainer's evaluations, not with every update's report.
    with ray_instance(ray, address), _environment(TUNE_DISABLE_STRICT_METRIC_CHECKING="1"):
        _listeners[name] = (spec_for, report, progress)
        _scheduler_stops[name] = set()
        try:
            trainable = tune.with_resources(
                tune.with_parameters(_tune_trial, plan=plan, specs=by_name),
                {"cpu": SWEEP_TRIAL_THREADS, "gpu": plan.gpus_per_trial})
            search = settings.search != "grid"
            tuner = tune.Tuner(
                trainable,
                param_space=(_search_space(plan) if search
                             else {"trial": tune.grid_search(list(by_name))}),
                tune_config=tune.TuneConfig(
                    max_concurrent_trials=max_parallel,
                    num_samples=plan.samples if search else 1,
                    search_alg=_search_algorithm(plan) if search else None,
                    scheduler=_scheduler(plan, specs, name),
                    trial_name_creator=lambda trial: spec_for(trial.config).name,
                    trial_dirname_creator=lambda trial: spec_for(trial.config).name),
                run_config=tune.RunConfig(
                    name=name, storage_path=storage_path,
                    failure_config=tune.FailureConfig(max_failures=0), verbose=0,
                    callbacks=[_make_callback_class()(name, settings)]))
            for result in tuner.fit():
                if not result.config:  # the run was stopped before this trial started
                    continue
                spec = spec_for(result.config)
                if spec.name not in records:  # ended without the callback hearing of it
                    report(_record(spec, result.metrics or {}, result.error, settings,
                                   stopped=False))
            for spec in specs:
                if spec.name not in records:
                    report(outcome(spec, PENDING))
            interrupted = any(record["status"] in (INTERRUPTED, PENDING)
                              for record in records.values())
            return interrupted, list(ran.values())
        finally:
            _listeners.pop(name, None)
            _scheduler_stops.pop(name, None)


@contextmanager
def ray_instance(ray: Any, address: str | None) -> Iterator[None]:
    """Ray, joined at ``address`` or started on this machine. One started here keeps its
    files (sessions, logs, sockets, Tune's lock files) in a temporary folder that goes when
    the sweep ends, rather than leaving them in /tmp/ray; the folder is short-named, as
    Ray's socket paths must stay short."""
    temp_dir = None if address else tempfile.mkdtemp(prefix="bb-ray-")
    try:
        with _environment(RAY_TMPDIR=temp_dir):
            # "local" starts a new instance even where a Ray cluster was started (or left).
            ray.init(address=address or "local", include_dashboard=False,
                     configure_logging=False)
            try:
                yield
            finally:
                ray.shutdown()
    finally:
        if temp_dir is not None:
            shutil.rmtree(temp_dir, ignore_errors=True)


@contextmanager
def _environment(**values: str | None) -> Iterator[None]:
    """Set the environment variables whose value is not None, and restore them after."""
    previous = {key: os.environ.get(key) for key, value in values.items() if value is not None}
    os.environ.update({key: values[key] for key in previous})
    try:
        yield
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _record(spec: TrialSpec, last: dict[str, Any], error: Any, settings: RaySettings,
            stopped: bool) -> dict[str, Any]:
    """A trial's result record from its last report to Tune; ``stopped``: by the
    scheduler (rather than by Ctrl-C)."""
    record = last.get(RESULT_KEY)
    if record is not None:
        if not result_path(spec).exists():
            save_json(record, result_path(spec))  # it ran on a node with other storage
        return record
    if error is not None:  # e.g. its worker died
        lines = str(error).strip().splitlines()
        return outcome(spec, FAILED, error=lines[0] if lines else "Ray trial error")
    if stopped:
        step = int(last.get("step", 0))
        record = outcome(spec, STOPPED, steps=step,
                         error=f"by {settings.scheduler.upper()} at step {step:,} "
                               f"({settings.metric} {last[settings.metric]:.4g})")
        save_json(record, result_path(spec))  # a rerun leaves it stopped
        return record
    return outcome(spec, INTERRUPTED)  # stopped before its final report


def _search_space(plan: SweepPlan) -> dict[str, Any]:
    """The [random] ranges as Tune's search space."""
    from ray import tune

    space = {}
    for key, spec in plan.ranges:
        if "choices" in spec:
            space[key] = tune.choice(spec["choices"])
        elif spec["kind"] is int:  # Tune's integer ranges exclude the upper bound
            sampler = tune.lograndint if spec["log"] else tune.randint
            space[key] = sampler(spec["low"], spec["high"] + 1)
        else:
            sampler = tune.loguniform if spec["log"] else tune.uniform
            space[key] = sampler(spec["low"], spec["high"])
    return space


def _search_algorithm(plan: SweepPlan) -> Any:
    from ray.tune.search.optuna import OptunaSearch

    class EvaluationOptunaSearch(OptunaSearch):
        """Optuna hears only the reports that carry the metric (the evaluations)."""

        def on_trial_result(self, trial_id: str, result: dict[str, Any]) -> None:
            if self.metric in result:
                super().on_trial_result(trial_id, result)

    return EvaluationOptunaSearch(metric=plan.ray.metric, mode=plan.ray.mode,
                                  seed=dict(plan.settings)["sample_seed"])


def _scheduler(plan: SweepPlan, specs: Sequence[TrialSpec], key: str) -> Any:
    if plan.ray.scheduler == "fifo":
        return None
    from ray.tune.schedulers import ASHAScheduler

    class NotingASHAScheduler(ASHAScheduler):
        """ASHA that notes the trials it stops, so they are told from interrupted ones."""

        def on_trial_result(self, tune_controller: Any, trial: Any,
                            result: dict[str, Any]) -> str:
            decision = super().on_trial_result(tune_controller, trial, result)
            if decision == self.STOP:
                _note_scheduler_stop(key, trial.trial_id)
            return decision

    steps = [spec.config["steps"] for spec in specs] or \
        [dict(plan.fixed).get("steps", TrainConfig().steps)]
    # stop_last_trials=False: a trial that reaches max_t still makes its final evaluation.
    return NotingASHAScheduler(
        time_attr="step", metric=plan.ray.metric, mode=plan.ray.mode, max_t=max(steps),
        grace_period=plan.ray.grace_period, reduction_factor=plan.ray.reduction_factor,
        stop_last_trials=False)


def _note_scheduler_stop(key: str, trial_id: str) -> None:
    _scheduler_stops[key].add(trial_id)


def _make_callback_class() -> type:
    """Tune's Callback is only importable with Ray installed: build the class on demand.
    Its methods only pass Tune's news on to the module's functions, so that pickling the
    class (Tune does, with the experiment's state) does not take the sweep's console."""
    from ray.tune import Callback

    class SweepCallback(Callback):
        """Hands the sweep each trial's start, its evaluations, and its result as it ends."""

        def __init__(self, key: str, settings: RaySettings) -> None:
            self.key, self.settings = key, settings

        def on_trial_start(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
            _on_trial_start(self.key, trial)

        def on_trial_result(self, iteration: int, trials: list, trial: Any,
                            result: dict, **info: Any) -> None:
            _on_trial_event(self.key, self.settings, trial, result)

        def on_trial_complete(self, iteration: int, trials: list, trial: Any,
                              **info: Any) -> None:
            _on_trial_event(self.key, self.settings, trial, None)

        def on_trial_error(self, iteration: int, trials: list, trial: Any,
                           **info: Any) -> None:
            _on_trial_event(self.key, self.settings, trial, None, failed=True)

    return SweepCallback


def _on_trial_start(key: str, trial: Any) -> None:
    spec_for, _, progress = _listeners[key]
    progress.trial_started(spec_for(trial.config))


def _on_trial_event(key: str, settings: RaySettings, trial: Any,
                    result: dict[str, Any] | None, failed: bool = False) -> None:
    """A Tune trial reported ``result``, or (``result`` None) ended."""
    spec_for, report, progress = _listeners[key]
    spec = spec_for(trial.config)
    if result is not None:
        if PROGRESS_KEY in result and RESULT_KEY not in result:
            progress.trial_evaluated(spec.name, int(result["step"]), result)
        return
    last = trial.last_result or {}
    error = (trial.get_pickled_error() or "Ray trial error") \
        if failed and RESULT_KEY not in last else None
    report(_record(spec, last, error, settings,
                   stopped=trial.trial_id in _scheduler_stops[key]))


def _tune_trial(config: dict[str, Any], plan: SweepPlan, specs: dict[str, TrialSpec]) -> None:
    """One Tune trial: the sweep's trial with its metrics going to Tune."""
    from ray import tune

    spec = specs[config["trial"]] if "trial" in config else plan.make_trial(config)
    last: dict[str, float] = {}

    def report(step: int, scalars: dict[str, float]) -> None:
        last.update(scalars)
        # The last update's scalars go with the final report: a scheduler that stopped the
        # trial there would save no training, only lose the final evaluation.
        if step < spec.config["steps"]:
            tune.report({**scalars, "step": step})

    finished = load_result(spec)
    result = finished if finished and finished["status"] in (OK, STOPPED) \
        else run_trial(spec, on_metrics=report)
    # The last of every scalar comes along, so that the metric a search algorithm or a
    # scheduler follows is in the trial's last result too.
    final = {**last, "step": result.get("steps", 0), "status": result["status"],
             RESULT_KEY: result}
    if result["status"] == OK:
        final.update(final_score=result["mean_score"], final_ci95=result["ci95"])
    tune.report(final)
    if result["status"] == FAILED:
        raise RuntimeError(f"trial {spec.name} failed: {result['error']}")
