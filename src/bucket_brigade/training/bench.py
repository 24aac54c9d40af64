"""End-to-end training figures on a throwaway output folder: throughput of the real
training loop (rollouts, GAE, PPO epochs, TensorBoard), timed from the first update to
the last, and the time it takes to reach a policy that beats a scripted strategy."""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from dataclasses import replace
from typing import Any

from bucket_brigade.evaluation import evaluate, paired_difference
from bucket_brigade.training.config import DEFAULT_EVAL_SEED, TrainConfig
from bucket_brigade.training.network import PolicyNetwork
from bucket_brigade.training.ppo import train


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (ru_maxrss is KiB on Linux, B on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def benchmark_training(steps: int = 1_000_000, scenario: str = "trivial_cooperation",
                       cpu: bool = False, **overrides: Any) -> dict[str, Any]:
    """Train for ``steps`` learner steps with the default settings (or ``overrides`` of any
    :class:`TrainConfig` field) and report learner steps per second and peak memory.

    ``cpu_steps_per_sec`` divides by the process's CPU time instead of the wall clock,
    which tells how much other work on a shared machine slowed the run down.
    """
    with tempfile.TemporaryDirectory(prefix="bb-bench-") as out_dir:
        config = replace(TrainConfig(), steps=steps, scenario=scenario, cpu=cpu,
                         run_name="bench", out_dir=out_dir,
                         checkpoint_interval=max(steps, 1), **overrides)
        result = train(config)
    trained = result.step  # whole updates: at least ``steps``
    settings = {k: v for k, v in config.to_dict().items() if k not in ("out_dir", "run_name")}
    return {
        "steps": trained,
        "wall_seconds": result.seconds,
        "steps_per_sec": result.steps_per_sec,
        "cpu_seconds": result.cpu_seconds,
        "cpu_steps_per_sec": trained / result.cpu_seconds if result.cpu_seconds > 0
        else float("nan"),
        "peak_rss_mb": peak_rss_mb(),
        "device": result.device,
        "settings": settings,
    }


def time_to_quality(scenario: str = "greedy_neighbor", opponents: str = "random",
                    baseline: str = "hero", max_steps: int = 5_000_000,
                    eval_games: int = 1000, eval_every: int = 100_000,
                    eval_seed: int = DEFAULT_EVAL_SEED, margin: float = 0.0,
                    cpu: bool = False, **overrides: Any) -> dict[str, Any]:
    """Train (default settings, or ``overrides``) until the greedy policy beats
    ``baseline`` by more than ``margin``: in seat 0 of the same ``eval_games`` games
    against ``opponents``, the learner's mean score minus the baseline's, with its 95%
    confidence interval above ``margin``.

    The check runs after the first update past every ``eval_every`` steps, and the
    seconds reported are the training's own: the checks' time is counted apart
    (``eval_seconds``). A run that never gets there stops at ``max_steps`` with
    ``reached`` False; ``checks`` lists every check as (step, seconds, difference, ci95).
    """
    games_of_baseline = evaluate(baseline, scenario, opponents, games=eval_games,
                                 seed=eval_seed)
    checks: list[tuple[int, float, float, float]] = []
    start = time.perf_counter()
    eval_seconds = 0.0

    def beats_baseline(step: int, network: PolicyNetwork) -> bool:
        nonlocal eval_seconds
        if checks and step - checks[-1][0] < eval_every and step < max_steps:
            return False
        check_start = time.perf_counter()
        games = evaluate(network, scenario, opponents, games=eval_games, seed=eval_seed)
        difference, ci95 = paired_difference(games, games_of_baseline)
        eval_seconds += time.perf_counter() - check_start
        checks.append((step, time.perf_counter() - start - eval_seconds, difference, ci95))
        return difference - ci95 > margin

    with tempfile.TemporaryDirectory(prefix="bb-bench-") as out_dir:
        config = replace(TrainConfig(), steps=max_steps, scenario=scenario,
                         opponent_policies=opponents, cpu=cpu, run_name="bench",
                         out_dir=out_dir, checkpoint_interval=max(max_steps, 1), **overrides)
        result = train(config, until=beats_baseline)
    step, seconds, difference, ci95 = checks[-1]
    return {
        "reached": difference - ci95 > margin,
        "seconds": seconds,
        "steps": step,
        "difference": difference,
        "ci95": ci95,
        "baseline": baseline,
        "margin": margin,
        "eval_seconds": eval_seconds,
        "device": result.device,
        "checks": [[s, round(t, 2), round(d, 3), round(c, 3)] for s, t, d, c in checks],
        "settings": {k: v for k, v in config.to_dict().items()
                     if k not in ("out_dir", "run_name")},
    }
