"""Sweep files: a TOML grid, with optional random search, over the trainer's settings.

    [sweep]   name, out, steps, eval_games, eval_seed, sample_seed, gpus_per_trial, compare
    [fixed]   TrainConfig field = value, shared by every trial
    [grid]    TrainConfig field = [values]; every combination of the lists is a trial
    [random]  samples = K; field = {low, high, log = true} or {choices = [...]}
    [ray]     scheduler, search, metric, mode, grace_period, reduction_factor (Ray only)

Random sample k draws one value per ``[random]`` field and uses it at every grid point,
so the grid's axes (scenarios, seeds) compare the same K random configurations. A trial
is named after its scenario, seed and a hash of everything that defines it (training
settings and evaluation), so editing the file never mistakes an old result for a new one.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import sys
from dataclasses import dataclass, fields, replace
from pathlib import Path
from types import UnionType
from typing import Any, get_args, get_type_hints

import numpy as np

from bucket_brigade.errors import UsageError
from bucket_brigade.io import read_input_text
from bucket_brigade.names import check_path_name
from bucket_brigade.training.config import DEFAULT_EVAL_SEED, SWEEP_TRIAL_THREADS, TrainConfig

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

DEFAULT_OUT = "experiments/sweeps"
DEFAULT_EVAL_GAMES = 1000
MAX_TRIALS = 10_000  # grid points x [random] samples in one sweep (checked before expanding)
TABLES = ("sweep", "fixed", "grid", "random", "ray")
SWEEP_KEYS = ("name", "out", "steps", "eval_games", "eval_seed", "sample_seed",
              "gpus_per_trial", "compare")
SAMPLES_KEY = "samples"
RANGE_KEYS = ("low", "high", "log", "choices")
# Each trial's run name and output folder are the sweep's to choose.
SWEEP_OWNED = {"run_name": "the sweep names every trial",
               "out_dir": "set [sweep] out or --out instead",
               "threads": "a sweep runs each trial on one thread, one trial per core"}
# Settings added after sweeps were named: in a trial's name only when not at this default,
# so that the trials of an earlier sweep keep their names (and their finished results).
NAMED_WHEN_SET = {"learner_seat": 0, "anneal_ent": False, "work_bias": 0.0,
                  "action_mask_steps": None}
TYPE_WORDS = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}
# [ray]: how Ray Tune chooses and stops trials. "grid" runs the file's own trials;
# a search algorithm proposes [random] samples trials itself, from the [random] ranges.
SCHEDULERS = ("fifo", "asha")
SEARCHERS = ("grid", "optuna")
MODES = ("max", "min")
RAY_KEYS = ("scheduler", "search", "metric", "mode", "grace_period", "reduction_factor")


def _field_types() -> dict[str, type]:
    """TrainConfig field -> the one type a sweep file may give it (``str | None`` -> str)."""
    types = {}
    for name, hint in get_type_hints(TrainConfig).items():
        if isinstance(hint, UnionType):
            hint = next(arg for arg in get_args(hint) if arg is not type(None))
        types[name] = hint
    return types


FIELD_TYPES = _field_types()
SWEEPABLE = tuple(f.name for f in fields(TrainConfig) if f.name not in SWEEP_OWNED)


@dataclass(frozen=True)
class TrialSpec:
    """One training run of a sweep and how its final policy is evaluated; plain data, so it
    travels to worker processes and Ray trials."""

    name: str
    sweep_dir: str
    config: dict[str, Any]  # TrainConfig.to_dict(), run_name and out_dir included
    params: dict[str, Any]  # the values this trial takes from [grid] and [random]
    eval_games: int
    eval_seed: int
    compare: bool = False  # also play every archetype on the evaluation games: evaluation.json

    def train_config(self) -> TrainConfig:
        return TrainConfig.from_dict(self.config)

    @property
    def scenario(self) -> str:
        return self.config["scenario"]

    @property
    def seed(self) -> int:
        return self.config["seed"]


@dataclass(frozen=True)
class RaySettings:
    """The [ray] table: Tune's scheduler and search algorithm, and the metric they follow
    (any scalar a trial reports; the trainer's evaluation score by default)."""

    scheduler: str = "fifo"
    search: str = "grid"
    metric: str = "eval/mean_score"
    mode: str = "max"
    grace_period: int = 1  # environment steps a trial trains before ASHA may stop it
    reduction_factor: int = 4  # ASHA keeps the best 1/reduction_factor at each rung


@dataclass(frozen=True)
class SweepPlan:
    name: str
    sweep_dir: Path
    trials: tuple[TrialSpec, ...]
    swept: tuple[str, ...]  # fields that vary between trials, in file order
    gpus_per_trial: float
    duplicates: int  # random draws that repeated an earlier trial and were dropped
    ray: RaySettings = RaySettings()
    samples: int = 1  # [random] samples: with a search algorithm, the trials it proposes
    ranges: tuple[tuple[str, dict[str, Any]], ...] = ()  # [random] field -> checked range
    fixed: tuple[tuple[str, Any], ...] = ()  # [fixed], [sweep] steps included
    settings: tuple[tuple[str, Any], ...] = ()  # the checked [sweep] table

    def make_trial(self, params: dict[str, Any]) -> TrialSpec:
        """The trial with these swept values (a search algorithm's proposal, say)."""
        return _trial(dict(self.fixed), params, self.sweep_dir, dict(self.settings))


def load_sweep(path: str | Path, out: str | None = None) -> SweepPlan:
    """Read and check a sweep file; ``out`` replaces its ``[sweep] out``."""
    path = Path(path)
    try:
        data = tomllib.loads(read_input_text(path, "sweep file"))
    except (tomllib.TOMLDecodeError, RecursionError) as exc:
        raise UsageError(f"sweep file {str(path)!r} is not valid TOML: {exc}") from None
    return build_plan(data, default_name=path.stem, out=out)


def build_plan(data: dict[str, Any], default_name: str, out: str | None = None) -> SweepPlan:
    """Expand a parsed sweep file into its trials, refusing anything that could not run."""
    for table in data:
        if table not in TABLES:
            raise UsageError(f"unknown table [{table}]; valid tables: "
                             f"{', '.join(f'[{t}]' for t in TABLES)}")
    tables = {name: _table(data, name) for name in TABLES}
    settings = _sweep_settings(tables["sweep"], default_name, out)
    fixed = {key: _coerce(f"[fixed] {key}", key, value)
             for key, value in _train_fields("[fixed]", tables["fixed"]).items()}
    if "steps" in settings:
        if "steps" in fixed:
            raise UsageError("steps is set in both [sweep] and [fixed]; give it once")
        fixed["steps"] = settings["steps"]
    grid = {key: _grid_values(key, value)
            for key, value in _train_fields("[grid]", tables["grid"]).items()}
    random_table = dict(tables["random"])
    samples = random_table.pop(SAMPLES_KEY, 1)
    if isinstance(samples, bool) or not isinstance(samples, int) \
            or not 1 <= samples <= MAX_TRIALS:
        raise UsageError(f"[random] samples = {samples!r} must be an integer from 1 to "
                         f"{MAX_TRIALS:,}")
    ranges = {key: _range(key, value)
              for key, value in _train_fields("[random]", random_table).items()}
    if SAMPLES_KEY in tables["random"] and not ranges:
        raise UsageError(f"[random] samples = {samples} needs at least one field to sample")
    clashes = sorted(grid.keys() & fixed.keys() | ranges.keys() & (grid.keys() | fixed.keys()))
    if clashes:
        where = [f"[{t}]" for t, keys in (("fixed", fixed), ("grid", grid), ("random", ranges))
                 if clashes[0] in keys]
        raise UsageError(f"{clashes[0]} is set in both {' and '.join(where)}; give each field "
                         "in one table")

    ray = _ray_settings(tables["ray"], settings.get("steps", fixed.get("steps")))
    sweep_dir = Path(settings["out"]).resolve() / settings["name"]
    extras = {"ray": ray, "samples": samples, "ranges": tuple(ranges.items()),
              "fixed": tuple(fixed.items()), "settings": tuple(settings.items())}
    if ray.search != "grid":  # the search algorithm proposes the trials as the sweep runs
        if grid:
            raise UsageError(f"[grid] {next(iter(grid))} cannot be used with [ray] search = "
                             f"{ray.search!r}, which proposes every trial from [random]: "
                             "give it in [fixed], or as [random] {choices = [...]}")
        if not ranges:
            raise UsageError(f"[ray] search = {ray.search!r} needs [random] ranges to search")
        return SweepPlan(name=settings["name"], sweep_dir=sweep_dir, trials=(),
                         swept=tuple(ranges), gpus_per_trial=settings["gpus_per_trial"],
                         duplicates=0, **extras)
    planned = math.prod(len(values) for values in grid.values()) * samples
    if planned > MAX_TRIALS:
        sizes = " x ".join([*(str(len(v)) for v in grid.values()), f"{samples} samples"])
        raise UsageError(f"the sweep has {planned:,} trials ({sizes}); at most {MAX_TRIALS:,} "
                         "are allowed in one sweep: split it into several files")
    if not (grid or ranges or fixed):
        raise UsageError("the sweep file sets nothing to train: give [fixed] settings "
                         "(or [sweep] steps), [grid] lists or [random] ranges")
    trials: dict[str, TrialSpec] = {}
    duplicates = 0
    draws = [_draw(ranges, settings["sample_seed"], k) for k in range(samples)]
    for point in itertools.product(*grid.values()):
        for draw in draws:
            params = {**dict(zip(grid, point)), **draw}
            trial = _trial(fixed, params, sweep_dir, settings)
            if trial.name in trials:
                duplicates += 1
            trials.setdefault(trial.name, trial)
    return SweepPlan(name=settings["name"], sweep_dir=sweep_dir, trials=tuple(trials.values()),
                     swept=(*grid, *ranges), gpus_per_trial=settings["gpus_per_trial"],
                     duplicates=duplicates, **extras)


def _table(data: dict[str, Any], name: str) -> dict[str, Any]:
    table = data.get(name, {})
    if not isinstance(table, dict):
        raise UsageError(f"{name} = {table!r} must be a table: write it as [{name}]")
    return table


def _sweep_settings(table: dict[str, Any], default_name: str, out: str | None,
                    ) -> dict[str, Any]:
    for key in table:
        if key not in SWEEP_KEYS:
            raise UsageError(f"[sweep] unknown key {key!r}; valid keys: {', '.join(SWEEP_KEYS)}")
    settings = {"name": default_name, "out": DEFAULT_OUT, "eval_games": DEFAULT_EVAL_GAMES,
                "eval_seed": DEFAULT_EVAL_SEED, "sample_seed": 0, "gpus_per_trial": 0.0,
                "compare": False, **table}
    if out is not None:
        settings["out"] = out
    for key in ("name", "out"):
        if not isinstance(settings[key], str) or not settings[key]:
            raise UsageError(f"[sweep] {key} = {settings[key]!r} must be a non-empty string")
    check_path_name("[sweep] name", settings["name"])
    for key, least in (("steps", 1), ("eval_games", 1), ("eval_seed", 0), ("sample_seed", 0)):
        value = settings.get(key, least)
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise UsageError(f"[sweep] {key} = {value!r} must be an integer >= {least}")
    if not isinstance(settings["compare"], bool):
        raise UsageError(f"[sweep] compare = {settings['compare']!r} must be true or false")
    gpus = settings["gpus_per_trial"]
    if isinstance(gpus, bool) or not isinstance(gpus, int | float) \
            or not 0 <= gpus < math.inf:
        raise UsageError(f"[sweep] gpus_per_trial = {gpus!r} must be a number >= 0 "
                         "(a fraction shares one GPU between trials)")
    settings["gpus_per_trial"] = float(gpus)
    return settings


def _ray_settings(table: dict[str, Any], steps: int | None) -> RaySettings:
    """The checked [ray] table; ASHA's grace period defaults to steps / reduction_factor²."""
    for key in table:
        if key not in RAY_KEYS:
            raise UsageError(f"[ray] unknown key {key!r}; valid keys: {', '.join(RAY_KEYS)}")
    for key, choices in (("scheduler", SCHEDULERS), ("search", SEARCHERS), ("mode", MODES)):
        if key in table and table[key] not in choices:
            raise UsageError(f"[ray] {key} = {table[key]!r}; valid choices: "
                             f"{', '.join(choices)}")
    metric = table.get("metric", RaySettings.metric)
    if not isinstance(metric, str) or not metric:
        raise UsageError(f"[ray] metric = {metric!r} must be the name of a reported scalar, "
                         "e.g. eval/mean_score or final_score")
    for key, least in (("grace_period", 1), ("reduction_factor", 2)):
        value = table.get(key, least)
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise UsageError(f"[ray] {key} = {value!r} must be an integer >= {least}")
    reduction = table.get("reduction_factor", RaySettings.reduction_factor)
    total = steps if steps is not None else TrainConfig().steps
    grace = table.get("grace_period", max(1, total // reduction ** 2))
    return RaySettings(**{**table, "metric": metric, "grace_period": grace,
                          "reduction_factor": reduction})


def _train_fields(where: str, table: dict[str, Any]) -> dict[str, Any]:
    """``table`` after checking that every key is a TrainConfig field a sweep may set."""
    for key in table:
        if key in SWEEP_OWNED:
            raise UsageError(f"{where} {key} cannot be set: {SWEEP_OWNED[key]}")
        if key not in FIELD_TYPES:
            raise UsageError(f"{where} unknown TrainConfig field {key!r}; valid fields: "
                             f"{', '.join(SWEEPABLE)}")
    return table


def _coerce(label: str, key: str, value: Any) -> Any:
    """``value`` as field ``key``'s type (an integer is a fine float), or a one-line error
    that shows it as ``label = value``."""
    kind = FIELD_TYPES[key]
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind is float and isinstance(value, float) and not math.isfinite(value):
        raise UsageError(f"{label} = {value!r} must be a finite number")
    if isinstance(value, kind) and (kind is bool or not isinstance(value, bool)):
        return value
    raise UsageError(f"{label} = {value!r} must be {TYPE_WORDS[kind]}")


def _grid_values(key: str, values: Any) -> list[Any]:
    if not isinstance(values, list) or not values:
        raise UsageError(f"[grid] {key} = {values!r} must be a non-empty list of values "
                         "(a single value belongs in [fixed])")
    if len(values) > MAX_TRIALS:
        raise UsageError(f"[grid] {key} lists {len(values):,} values; at most {MAX_TRIALS:,} "
                         "trials are allowed in one sweep")
    values = [_coerce(f"[grid] {key}", key, value) for value in values]
    for i, value in enumerate(values):
        if value in values[:i]:
            raise UsageError(f"[grid] {key} lists {value!r} twice")
    return values


def _range(key: str, spec: Any) -> dict[str, Any]:
    """A checked ``{low, high, log}`` or ``{choices}`` specification."""
    where = f"[random] {key}"
    if not isinstance(spec, dict):
        raise UsageError(f"{where} = {spec!r} must be {{low = ..., high = ...}} (optionally "
                         "log = true) or {choices = [...]}")
    for name in spec:
        if name not in RANGE_KEYS:
            raise UsageError(f"{where} has unknown key {name!r}; valid keys: "
                             f"{', '.join(RANGE_KEYS)}")
    if "choices" in spec:
        if len(spec) > 1:
            raise UsageError(f"{where} gives both choices and a range; use one of them")
        choices = spec["choices"]
        if not isinstance(choices, list) or not choices:
            raise UsageError(f"{where}.choices = {choices!r} must be a non-empty list")
        return {"choices": [_coerce(f"{where}.choices", key, choice) for choice in choices]}
    kind = FIELD_TYPES[key]
    if kind not in (int, float):
        raise UsageError(f"{where} is {TYPE_WORDS[kind]}: give {{choices = [...]}}, not a range")
    if "low" not in spec or "high" not in spec:
        raise UsageError(f"{where} needs both low and high (or choices)")
    low, high = (_coerce(f"{where}.{bound}", key, spec[bound]) for bound in ("low", "high"))
    log = spec.get("log", False)
    if not isinstance(log, bool):
        raise UsageError(f"{where}.log = {log!r} must be true or false")
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise UsageError(f"{where} low = {low!r}, high = {high!r}: need finite low < high")
    if log and low <= 0:
        raise UsageError(f"{where}.low = {low!r} must be > 0 with log = true")
    return {"low": low, "high": high, "log": log, "kind": kind}


def _draw(ranges: dict[str, dict[str, Any]], sample_seed: int, sample: int) -> dict[str, Any]:
    """Random sample ``sample``: one value per range, from its own seeded generator so the
    draw stays the same whatever the grid holds."""
    rng = np.random.default_rng([sample_seed, sample])
    values = {}
    for key, spec in ranges.items():
        if "choices" in spec:
            values[key] = spec["choices"][int(rng.integers(len(spec["choices"])))]
            continue
        low, high, kind = spec["low"], spec["high"], spec["kind"]
        # An integer range [low, high] is the real range [low - 1/2, high + 1/2], rounded.
        lo, hi = (low - 0.5, high + 0.5) if kind is int else (low, high)
        value = math.exp(rng.uniform(math.log(lo), math.log(hi))) if spec["log"] \
            else rng.uniform(lo, hi)
        value = round(value) if kind is int else float(f"{value:.4g}")  # 4 digits: readable
        values[key] = min(max(value, low), high)
    return values


def _trial(fixed: dict[str, Any], params: dict[str, Any], sweep_dir: Path,
           settings: dict[str, Any]) -> TrialSpec:
    config = replace(TrainConfig(), **fixed, **params)
    identity = {key: value for key, value in config.to_dict().items() if key not in SWEEP_OWNED
                and not (key in NAMED_WHEN_SET and value == NAMED_WHEN_SET[key])}
    identity.update(eval_games=settings["eval_games"], eval_seed=settings["eval_seed"])
    if settings["compare"]:  # only then: the names of a sweep without it stay as they were
        identity["compare"] = True
    digest = hashlib.sha1(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:8]
    name = check_path_name("trial name", f"{Path(config.scenario).stem}_seed{config.seed}_{digest}")
    config = replace(config, run_name=name, out_dir=str(sweep_dir), threads=SWEEP_TRIAL_THREADS)
    try:
        config.validate()
    except ValueError as exc:
        raise UsageError(f"trial {_shown(params)}: {exc}") from None
    if not config.judged_against_scripted():
        raise UsageError(f"trial {_shown(params)}: a sweep judges each trial in seat 0 against "
                         "scripted opponents; opponents that are models or a mix (mix:...), "
                         "or a learner_seat other than 0, are judged by bucket-brigade nash "
                         "or exploit")
    return TrialSpec(name=name, sweep_dir=str(sweep_dir), config=config.to_dict(),
                     params=params, eval_games=settings["eval_games"],
                     eval_seed=settings["eval_seed"], compare=settings["compare"])


def _shown(params: dict[str, Any]) -> str:
    return ", ".join(f"{key}={value!r}" for key, value in params.items()) or "every trial"
