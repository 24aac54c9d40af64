"""experiments/seat_scores.py: a self-play model in every seat, each seat by its network."""

from __future__ import annotations

import importlib.util
from dataclasses import replace
from pathlib import Path

import pytest

from bucket_brigade.training import train
from bucket_brigade.training.config import TrainConfig

SCRIPT = Path(__file__).parents[2] / "experiments" / "seat_scores.py"


def _script():
    spec = importlib.util.spec_from_file_location("seat_scores", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("sharing", ["shared", "independent"])
def test_every_seat_is_scored(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                              sharing: str) -> None:
    config = replace(TrainConfig(), steps=256, scenario="greedy_neighbor", self_play=True,
                     sharing=sharing, run_name="sp", out_dir=str(tmp_path), num_envs=64,
                     batch_size=128, hidden_size=16, cpu=True)
    model = str(train(config).model_path)
    figures = _script().seat_scores(model, "greedy_neighbor", games=40)
    assert len(figures["seat_scores"]) == len(figures["seat_work_rates"]) == 4
    assert figures["team_score"] == pytest.approx(sum(figures["seat_scores"]) / 4)
    assert figures["team_ci95"] > 0
    assert all(0 <= rate <= 1 for rate in figures["seat_work_rates"])
    assert _script().main([model, "greedy_neighbor", "--games", "10"]) == 0
    assert "team score " in capsys.readouterr().out
    (tmp_path / "big.toml").write_text('base = "greedy_neighbor"\nname = "big"\n'
                                       'num_houses = 12\n')
    assert _script().main([model, str(tmp_path / "big.toml")]) == 2  # another size
    assert capsys.readouterr().err.startswith("seat_scores: error: ")

