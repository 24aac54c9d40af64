"""experiments/generalization.py: a paired learner-minus-baseline table over held-out cells."""

from __future__ import annotations

import importlib.util
import re
from dataclasses import replace
from pathlib import Path

import pytest

from bucket_brigade.training import train
from bucket_brigade.training.config import TrainConfig

SCRIPT = Path(__file__).parents[2] / "experiments" / "generalization.py"


def _script():
    spec = importlib.util.spec_from_file_location("generalization", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_one_row_per_held_out_cell(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = replace(TrainConfig(), steps=256, scenario="greedy_neighbor",
                     opponent_policies="random", run_name="tiny", out_dir=str(tmp_path),
                     num_envs=16, batch_size=128, hidden_size=16, cpu=True)
    model = train(config).model_path
    code = _script().main([str(model), str(model), "--opponent-sets", "firefighter;hero,liar",
                           "--scenarios", "easy,hard", "--games", "50"])
    lines = capsys.readouterr().out.splitlines()
    assert code == 0 and lines[0] == "| cell | model_tiny | model_tiny |"
    assert [line.split(" | ")[0] for line in lines[2:]] == [
        "| training scenario vs firefighter", "| training scenario vs hero,liar",
        "| easy vs random", "| hard vs random"]
    for line in lines[2:]:
        cells = [text.strip() for text in line.strip("|").split(" | ")[1:]]
        assert len(cells) == 2 and cells[0] == cells[1]  # same model, same games
        assert re.fullmatch(r"[+-]\d+\.\d\d ± \d+\.\d\d [WTL]", cells[0])


def test_a_missing_model_is_one_line_and_exit_2(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert _script().main([str(tmp_path / "nothing.pt")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("generalization: error: ") and err.count("\n") == 1
