"""The equilibrium analysis: the solver on textbook games, the empirical game on common
random numbers, and a PPO best response's gain (the command is in test_nash_cli.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from bucket_brigade.analysis.nash import (
    Contender,
    best_response_config,
    empirical_game,
    parse_strategies,
    play_profile,
    ppo_exploitability,
    regret_against,
    symmetric_equilibria,
)
from bucket_brigade.game.scenarios import get_scenario
from bucket_brigade.training.network import PolicyNetwork


def test_prisoners_dilemma_has_only_defection() -> None:
    payoffs = np.array([[3.0, 0.0], [5.0, 1.0]])  # (cooperate, defect), row player's payoff
    (only,) = symmetric_equilibria(payoffs)
    np.testing.assert_allclose(only, [0.0, 1.0])


def test_hawk_dove_mixes_at_v_over_c() -> None:
    value, cost = 2.0, 3.0  # hawks win V, fights cost C: hawk share V / C
    payoffs = np.array([[(value - cost) / 2, value], [0.0, value / 2]])
    (only,) = symmetric_equilibria(payoffs)
    np.testing.assert_allclose(only, [value / cost, 1 - value / cost])


def test_rock_paper_scissors_is_uniform() -> None:
    payoffs = np.array([[0.0, -1.0, 1.0], [1.0, 0.0, -1.0], [-1.0, 1.0, 0.0]])
    (only,) = symmetric_equilibria(payoffs)
    np.testing.assert_allclose(only, [1 / 3] * 3)
    np.testing.assert_allclose(regret_against(payoffs, only), 0.0, atol=1e-12)


def test_coordination_game_has_all_three() -> None:
    found = symmetric_equilibria(np.array([[2.0, 0.0], [0.0, 1.0]]))
    expected = [[1.0, 0.0], [0.0, 1.0], [1 / 3, 2 / 3]]
    assert len(found) == 3
    for mix in expected:
        assert any(np.allclose(mix, x) for x in found)


def test_regret_against_a_pure_profile() -> None:
    payoffs = np.array([[3.0, 0.0], [5.0, 1.0]])
    np.testing.assert_allclose(regret_against(payoffs, np.array([1.0, 0.0])), [0.0, -2.0])


def test_cells_share_their_games_and_models_fill_external_seats() -> None:
    scenario = get_scenario("greedy_neighbor")
    contenders = parse_strategies("free_rider,hero", scenario, 4)
    game = empirical_game(contenders, scenario, 4, games=64, seed=5)
    assert game.scores.shape == (2, 2, 64)
    # A cell is one fixed set of games: replaying it gives the same scores.
    again = play_profile(scenario, [contenders[0], *[contenders[1]] * 3], 64, 5)
    np.testing.assert_array_equal(again.scores[:, 0], game.scores[0, 1])
    assert game.work_rate[1, 1] > game.work_rate[0, 0]  # heroes work, free riders rest

    torch.manual_seed(0)
    network = PolicyNetwork(scenario.obs_dim(4), [10, 2], hidden_size=8)
    model = Contender("model", policy=network)
    finished = play_profile(scenario, [contenders[0], model, model, model], 16, 5)
    assert finished.done.all() and finished.scores.shape == (16, 4)


@pytest.mark.slow
def test_ppo_best_response_deserts_universal_free_riding(tmp_path: Path) -> None:
    """Among three free-riders, fires spread; a learner soon finds that working pays."""
    scenario = get_scenario("greedy_neighbor")
    (free_rider,) = parse_strategies("universal_free_rider", scenario, 4)
    reference = play_profile(scenario, [free_rider] * 4, 400, 0).scores[:, 0]
    config = best_response_config(free_rider, "greedy_neighbor", 4, 200_000, tmp_path, seed=2)
    found = ppo_exploitability(free_rider, config, reference, eval_seed=0)
    # measured: +26.8 ± 4.4 on 200 games
    assert found["ppo_exploitability"] - found["ppo_exploitability_ci95"] > 10.0
    assert found["ppo_best_response_work_rate"] > 0.15  # the free-riders work on 8%
