"""End-to-end training throughput: the real training loop (rollouts, GAE, PPO epochs,
TensorBoard) on a throwaway output folder, timed from the first update to the last."""

from __future__ import annotations

import resource
import sys
import tempfile
from dataclasses import replace
from typing import Any

from bucket_brigade.training.config import TrainConfig
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
