"""Learner minus a baseline over several training seeds.

A learning claim carries two kinds of noise: the games, which the paired CI of one run's
evaluation covers, and the training seed, which it does not. This reads the
``evaluation.json`` that ``train --eval-games`` writes into each run's folder, groups the
runs whose settings differ only in their seed (and bookkeeping such as the run's name),
and puts each seed's paired difference next to the across-seed mean, spread and
interquartile mean (IQM, the mean of the middle half: robust to one odd seed, as
recommended by Agarwal et al. 2021, "Deep RL at the edge of the statistical precipice"),
each with a percentile-bootstrap 95% CI over the seeds (SciPy's bootstrap; with one
scenario per group, the stratified bootstrap of that paper is this plain one).
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import scipy.stats

from bucket_brigade.errors import UsageError
from bucket_brigade.io import read_input_text
from bucket_brigade.training.models import EVALUATION_FILE

CONFIG_FILE = "config.json"
# config.json keys that name or place a run, or set how fast it ran, not what it learned.
BOOKKEEPING_KEYS = frozenset({"seed", "run_name", "out_dir", "checkpoint_interval",
                              "eval_interval", "cpu", "threads"})
# Settings that follow from the others: they group runs but would only repeat a label.
DERIVED_KEYS = frozenset({"scenario", "network", "num_agents", "num_learners"})
IQM_TRIM = 0.25  # cut a quarter from each end
BOOTSTRAP_RESAMPLES = 10_000
VERDICTS = ("beats", "ties", "loses")


@dataclass(frozen=True)
class SeedRun:
    """One training run's learning check: its seed, its settings and, per baseline, the
    learner's mean paired advantage over it with that difference's 95% CI half-width."""

    run: str
    folder: str
    seed: int
    scenario: str
    config: dict[str, Any]  # the run's config.json
    settings: dict[str, Any]  # what defines it: config less bookkeeping, plus its games
    differences: dict[str, tuple[float, float]]
    fresh: bool = False  # the differences come from games of this seed's own


@dataclass(frozen=True)
class AcrossSeeds:
    """Learner minus ``baseline`` over the seeds of one group of runs."""

    baseline: str
    runs: list[SeedRun]
    mean: float
    mean_ci: tuple[float, float] | None  # None for a single seed
    sd: float | None
    low: float
    high: float
    iqm: float
    iqm_ci: tuple[float, float] | None

    def per_seed(self) -> list[tuple[SeedRun, float, float]]:
        return [(run, *run.differences[self.baseline]) for run in self.runs]

    @property
    def shared_games(self) -> bool:
        """Every seed played the same games (the runs' own evaluations)."""
        return not any(run.fresh for run in self.runs)

    @property
    def game_ci(self) -> float:
        """The per-seed paired CIs' mean half-width. When every seed played the same games,
        this noise is shared by all of them: it is in no CI over seeds, however many seeds
        there are; only more games, or each seed's own (:func:`on_fresh_games`), help."""
        return statistics.fmean(ci for _, _, ci in self.per_seed())

    def verdicts(self) -> dict[str, int]:
        """How many seeds beat, tie and lose to the baseline by their own paired CI."""
        counts = dict.fromkeys(VERDICTS, 0)
        for _, diff, ci in self.per_seed():
            counts[verdict(diff, ci)] += 1
        return counts


def verdict(difference: float, ci95: float) -> str:
    """"beats" where the paired CI lies above 0, "loses" where below, else "ties"."""
    return VERDICTS[0] if difference - ci95 > 0 else VERDICTS[2] if difference + ci95 < 0 \
        else VERDICTS[1]


def read_run(run_dir: str | Path) -> SeedRun:
    """The learning check recorded in ``run_dir`` (runs/RUN of a ``train --eval-games``
    run); a UsageError naming the folder when it has none."""
    run_dir = Path(run_dir)
    if not (run_dir / EVALUATION_FILE).is_file():
        raise UsageError(f"run folder {str(run_dir)!r} has no {EVALUATION_FILE}: train it "
                         f"with --eval-games N (or pass runs/RUN folders of such runs)")
    try:
        evaluation = json.loads(read_input_text(run_dir / EVALUATION_FILE, "evaluation"))
        config = json.loads(read_input_text(run_dir / CONFIG_FILE, "run config"))
        differences = {row["name"]: (float(row["learner_minus"]),
                                     float(row["learner_minus_ci95"]))
                       for row in evaluation["rows"] if row["name"] != "learner"}
        settings = {key: value for key, value in config.items()
                    if key not in BOOKKEEPING_KEYS}
        settings.update(eval_games=evaluation["games"], eval_seed=evaluation["seed"])
        return SeedRun(run=run_dir.name, folder=str(run_dir), seed=int(config["seed"]),
                       scenario=str(config["scenario"]), config=config, settings=settings,
                       differences=differences)
    except (ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"run folder {str(run_dir)!r}: unreadable {EVALUATION_FILE} or "
                         f"{CONFIG_FILE} ({type(exc).__name__}: {exc})") from None


def group_runs(runs: Sequence[SeedRun]) -> dict[str, list[SeedRun]]:
    """Runs with equal settings, each group named by its scenario and the settings that
    tell it from the other groups, its runs in seed order; a UsageError for two runs of one
    group with the same seed (the same run twice)."""
    groups: dict[str, list[SeedRun]] = {}
    for run in runs:
        groups.setdefault(json.dumps(run.settings, sort_keys=True), []).append(run)
    varying = sorted({key for run in runs for key in run.settings
                      if run.settings.get(key) != runs[0].settings.get(key)} - DERIVED_KEYS)
    named = {}
    for members in groups.values():
        members.sort(key=lambda run: run.seed)
        seeds = [run.seed for run in members]
        if len(set(seeds)) < len(seeds):
            twice = sorted({seed for seed in seeds if seeds.count(seed) > 1})
            raise UsageError(f"runs {', '.join(r.run for r in members if r.seed in twice)} "
                             f"have the same settings and seed {twice[0]}: pass each once")
        first = members[0]
        named[", ".join([first.scenario, *(f"{key}={first.settings.get(key)}"
                                           for key in varying)])] = members
    return named


def check_baseline(runs: Sequence[SeedRun], baseline: str) -> None:
    """Refuse a baseline that the runs' evaluations did not play, naming those they did."""
    choices = sorted(set.intersection(*(set(run.differences) for run in runs)))
    if baseline not in choices:
        raise UsageError(f"unknown baseline {baseline!r}; choose from: {', '.join(choices)}")


def on_fresh_games(run: SeedRun, baseline: str, games: int, games_seed: int) -> SeedRun:
    """The run's model and ``baseline`` in seat 0 of ``games`` games of this seed's own
    (seeded ``games_seed + run.seed``), paired. Seeds then play different games, so the
    spread over seeds and the CIs over seeds hold the games' noise as well as training's."""
    from bucket_brigade.evaluation import evaluate, paired_difference
    from bucket_brigade.training.checkpoint import RunPaths
    from bucket_brigade.training.config import TrainConfig
    from bucket_brigade.training.models import evaluate_run

    folder = Path(run.folder)
    config = TrainConfig.from_dict(run.config)
    seed = games_seed + run.seed
    seating = (config.resolved_scenario, *config.evaluation_seating)
    learner = evaluate_run(RunPaths(folder.parent.parent, folder.name).model_path, *seating,
                           games=games, seed=seed)
    other = evaluate(baseline, *seating, games=games, seed=seed)
    settings = {**run.settings, "eval_games": games, "eval_seed": games_seed}
    return replace(run, settings=settings, fresh=True,
                   differences={baseline: paired_difference(learner, other)})


def across_seeds(runs: Sequence[SeedRun], baseline: str, bootstrap_seed: int = 0,
                 resamples: int = BOOTSTRAP_RESAMPLES) -> AcrossSeeds:
    """Learner minus ``baseline`` over ``runs`` (one group, one run per seed): mean, sample
    standard deviation, range and IQM of the per-seed differences, the mean's and the IQM's
    CIs from the same seeded bootstrap over seeds."""
    check_baseline(runs, baseline)
    values = np.array([run.differences[baseline][0] for run in runs])
    mean_ci = iqm_ci = None
    if len(values) > 1:
        mean_ci = _bootstrap_ci(values, np.mean, bootstrap_seed, resamples)
        iqm_ci = _bootstrap_ci(values, interquartile_mean, bootstrap_seed, resamples)
    return AcrossSeeds(baseline=baseline, runs=list(runs), mean=float(values.mean()),
                       mean_ci=mean_ci,
                       sd=statistics.stdev(values) if len(values) > 1 else None,
                       low=float(values.min()), high=float(values.max()),
                       iqm=float(interquartile_mean(values)), iqm_ci=iqm_ci)


def interquartile_mean(values: np.ndarray, axis: int = -1) -> np.ndarray:
    """The mean of the middle half of ``values`` along ``axis`` (a quarter cut from each
    end, rounding the cut down: with 5 seeds, the mean of the middle 3)."""
    return scipy.stats.trim_mean(values, IQM_TRIM, axis=axis)


def _bootstrap_ci(values: np.ndarray, statistic: Any, seed: int,
                  resamples: int) -> tuple[float, float]:
    if np.all(values == values[0]):  # every resample is the same: no spread to estimate
        return float(values[0]), float(values[0])
    result = scipy.stats.bootstrap((values,), statistic, n_resamples=resamples,
                                   method="percentile", rng=np.random.default_rng(seed))
    return float(result.confidence_interval.low), float(result.confidence_interval.high)
