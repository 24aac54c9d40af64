"""Tiny training runs: a few hundred learner steps on 16 games, into a temporary folder."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bucket_brigade.training.config import TrainConfig


@pytest.fixture
def tiny_config(tmp_path: Path) -> Callable[..., TrainConfig]:
    """A valid, fast configuration writing under ``tmp_path``; keywords override fields."""

    def build(**overrides: Any) -> TrainConfig:
        base = replace(TrainConfig(), steps=512, scenario="greedy_neighbor",
                       opponent_policies="random", run_name="tiny", out_dir=str(tmp_path),
                       seed=3, num_envs=16, batch_size=128, minibatches=2, hidden_size=16,
                       checkpoint_interval=256, eval_interval=128, cpu=True)
        return replace(base, **overrides)

    return build
