"""PSRO: with an oracle that knows the best response among the archetypes, the population's
meta-equilibrium becomes less exploitable; the command writes every iteration."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bucket_brigade.analysis.contenders import parse_strategies
from bucket_brigade.analysis.psro import psro
from bucket_brigade.cli import main
from bucket_brigade.game.scenarios import get_scenario
from bucket_brigade.game.scripted import ARCHETYPES


def test_psro_reduces_exploitability_with_a_known_best_response() -> None:
    scenario = get_scenario("greedy_neighbor")
    candidates = parse_strategies(",".join(ARCHETYPES), scenario, 4)

    def best_archetype(play, seed: int):
        return max(candidates, key=lambda c: play(c, 100, seed).mean())

    (free_rider,) = parse_strategies("universal_free_rider", scenario, 4)
    history = psro([free_rider], scenario, 4, iterations=3, games=60, fresh_games=200,
                   seed=0, oracle=best_archetype)
    first, last = history[0], history[-1]
    assert first.population == ["universal_free_rider"]
    assert first.exploitability.mean - first.exploitability.ci95 > 10.0  # working pays
    assert last.exploitability.mean < first.exploitability.mean / 2
    assert len(last.population) == len(history)  # one strategy added per iteration before
    assert last.meta_equilibrium.sum() == pytest.approx(1.0)


def test_psro_command_writes_each_iteration(tmp_path: Path, capsys) -> None:
    code = main(["psro", "--scenario", "greedy_neighbor", "--population",
                 "universal_free_rider", "--iterations", "2", "--games", "20",
                 "--br-generations", "1", "--br-popsize", "2", "--br-games", "10",
                 "--out-dir", str(tmp_path)])
    assert code == 0
    assert "iteration 1: meta-equilibrium universal_free_rider 1.000" in capsys.readouterr().out
    summary = json.loads((tmp_path / "psro.json").read_text())
    (first, *_) = summary["iterations"]
    assert first["meta_equilibrium"] == {"universal_free_rider": 1.0}
    assert len(first["best_response"]) == 10 and first["exploitability_ci95"] > 0


def test_a_population_too_large_is_refused(tmp_path: Path, capsys) -> None:
    code = main(["psro", "--population", "archetypes,random", "--iterations", "7",
                 "--out-dir", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and "past 12 strategies" in err and err.count("\n") == 1
    assert not (tmp_path / "out").exists()
