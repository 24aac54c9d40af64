"""PSRO: with an oracle that knows the best response among the archetypes, and with PPO
best responses, the population's meta-equilibrium becomes less exploitable; the table
grows by the new strategy's cells only; the command writes every iteration."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bucket_brigade.analysis.contenders import parse_strategies
from bucket_brigade.analysis.empirical_game import play_table
from bucket_brigade.analysis.nash import mix_best_response_config, ppo_best_response
from bucket_brigade.analysis.psro import Target, grown_game, psro
from bucket_brigade.cli import main
from bucket_brigade.game.scenarios import get_scenario
from bucket_brigade.game.scripted import ARCHETYPES
from bucket_brigade.sweep.jobs import job_runner


def test_psro_reduces_exploitability_with_a_known_best_response() -> None:
    scenario = get_scenario("greedy_neighbor")
    candidates = parse_strategies(",".join(ARCHETYPES), scenario, 4)

    def best_archetype(target: Target, seed: int):
        return max(candidates, key=lambda c: target.play(c, 100, seed).mean())

    (free_rider,) = parse_strategies("universal_free_rider", scenario, 4)
    history = psro([free_rider], scenario, 4, iterations=3, games=60, fresh_games=200,
                   seed=0, oracle=best_archetype)
    first, last = history[0], history[-1]
    assert first.population == ["universal_free_rider"]
    assert first.exploitability.mean - first.exploitability.ci95 > 10.0  # working pays
    assert last.exploitability.mean < first.exploitability.mean / 2
    assert len(last.population) == len(history)  # one strategy added per iteration before
    assert last.meta_equilibrium.sum() == pytest.approx(1.0)


@pytest.mark.slow
def test_psro_with_ppo_best_responses_reduces_exploitability(tmp_path: Path) -> None:
    """Against universal free-riders the best response is to work (fires spread among
    them); once it is in the population, little is left to gain."""
    scenario = get_scenario("greedy_neighbor")

    def ppo(target: Target, seed: int):
        return ppo_best_response(mix_best_response_config(
            target.population, target.mix, 4, "greedy_neighbor", 200_000, tmp_path,
            f"br_{target.iteration}", seed))

    (free_rider,) = parse_strategies("universal_free_rider", scenario, 4)
    history = psro([free_rider], scenario, 4, iterations=2, games=100, fresh_games=400,
                   seed=0, oracle=ppo)
    first, last = history[0], history[-1]
    assert first.exploitability.mean - first.exploitability.ci95 > 10.0
    assert len(history) == 2 and last.exploitability.mean < first.exploitability.mean / 2


@pytest.mark.parametrize("backend", ["serial", "local"])
def test_the_table_grows_by_the_new_strategys_cells_only(backend: str) -> None:
    """Only the new strategy's cells are played, in chunks on the local backend's worker
    processes: the table is the whole table's either way."""
    scenario = get_scenario("greedy_neighbor")
    players = parse_strategies("hero,free_rider,coordinator", scenario, 4)
    cells: dict = {}
    with job_runner(backend, workers=None if backend == "serial" else 2) as runner:
        grown_game(players[:2], cells, scenario, 4, 6, seed=3, runner=runner)
        first_cells = dict(cells)
        game = grown_game(players, cells, scenario, 4, 6, seed=3, runner=runner)
    assert all(cells[key] == value for key, value in first_cells.items())
    assert len(cells) == 3 * 10 and len(first_cells) == 2 * 4
    np.testing.assert_allclose(game.payoffs, play_table(players, scenario, 4, 6, 3).game().payoffs)


@pytest.mark.parametrize("backend", ["serial", "local"])
def test_psro_command_trains_ppo_best_responses_against_the_meta_equilibrium(
        tmp_path: Path, capsys, backend: str) -> None:
    """Among free riders even 4,096 steps find a gain; the second response then trains
    against agents drawing from a mix that holds the first one's model file. On the local
    backend the best responses train in a worker process, the tables' cells in chunks."""
    code = main(["psro", "--scenario", "greedy_neighbor", "--population",
                 "universal_free_rider", "--agents", "3", "--iterations", "2", "--games", "20",
                 "--fresh-games", "200", "--oracle", "ppo", "--ppo-steps", "4096",
                 "--out-dir", str(tmp_path), "--backend", backend])
    assert code == 0
    assert "PPO (4,096 steps) best responses" in capsys.readouterr().out
    summary = json.loads((tmp_path / "psro.json").read_text())
    assert summary["oracle"] == "ppo" and summary["ppo_steps"] == 4096
    first, second = summary["iterations"]
    runs = tmp_path / "best_response"
    assert first["best_response"] == str(runs / "model_br_1.pt")
    assert second["population"] == ["universal_free_rider", "best response 1"]
    files = {"universal_free_rider": "universal_free_rider",
             "best response 1": str(runs / "model_br_1.pt")}
    for k, step in enumerate(summary["iterations"], start=1):
        config = json.loads((runs / "runs" / f"br_{k}" / "config.json").read_text())
        mix = ",".join(f"{files[name]}={weight!r}"
                       for name, weight in step["meta_equilibrium"].items())
        assert config["opponent_policies"] == f"mix:{mix}" and config["opponents"] == 2


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
