"""experiments/work_rates.py: a self-play policy's work rate on fire nights, by case."""

from __future__ import annotations

import importlib.util
from dataclasses import replace
from pathlib import Path

import pytest

from bucket_brigade.training import train
from bucket_brigade.training.config import TrainConfig

SCRIPT = Path(__file__).parents[2] / "experiments" / "work_rates.py"


def _script():
    spec = importlib.util.spec_from_file_location("work_rates", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_cases_split_the_fire_nights(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    config = replace(TrainConfig(), steps=256, scenario="hard", self_play=True,
                     cheap_talk=True, run_name="sp", out_dir=str(tmp_path), num_envs=64,
                     batch_size=128, hidden_size=16, cpu=True)
    model = str(train(config).model_path)
    rates = _script().work_rates(model, "hard", games=50, nights=20)
    seen = {case: count for case, (_, count) in rates.items()}
    assert seen["own house burns"] + seen["own houses safe"] == seen["every fire night"] > 0
    assert seen["one fire"] + seen["several fires"] == seen["every fire night"]
    assert all(0 <= rate <= 1 for rate, _ in rates.values())
    assert _script().main([model, "hard", "--games", "10", "--nights", "5"]) == 0
    assert "every fire night: " in capsys.readouterr().out


def test_a_scenario_of_another_size_is_refused(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    config = replace(TrainConfig(), steps=128, scenario="hard", self_play=True,
                     run_name="sp", out_dir=str(tmp_path), num_envs=64, batch_size=128,
                     hidden_size=16, cpu=True)
    model = str(train(config).model_path)
    (tmp_path / "big.toml").write_text('base = "hard"\nname = "big"\nnum_houses = 12\n')
    assert _script().main([model, str(tmp_path / "big.toml")]) == 2
    assert capsys.readouterr().err.startswith("work_rates: error: ")
