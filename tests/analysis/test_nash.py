"""Best responses: CMA-ES and PPO oracles in one seat or against a symmetric profile, judged
on fresh games."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bucket_brigade.analysis.contenders import parse_strategies, play_profile
from bucket_brigade.analysis.empirical_game import focal_scores
from bucket_brigade.analysis.nash import (
    best_response_config,
    cmaes_best_response,
    deviation_from_symmetric,
    deviation_in_seat,
    judge,
    ppo_best_response,
)
from bucket_brigade.errors import UsageError
from bucket_brigade.game.scenarios import get_scenario


def test_a_seat_deviation_replaces_only_that_seat() -> None:
    scenario = get_scenario("greedy_neighbor")
    hero, free_rider, coordinator = parse_strategies("hero,free_rider,coordinator", scenario, 4)
    profile = [hero, free_rider, coordinator, hero]
    play = deviation_in_seat(scenario, profile, 2)
    scores = play(free_rider, 20, 3)
    expected = play_profile(scenario, [hero, free_rider, free_rider, hero], 20, 3)
    np.testing.assert_array_equal(scores, expected.scores[:, 2])
    # The incumbent itself gains exactly nothing, game by game.
    assert judge(play, coordinator, coordinator, 20, 3).per_game.tolist() == [0.0] * 20


def test_symmetric_deviation_plays_every_seat() -> None:
    scenario = get_scenario("greedy_neighbor")
    hero, free_rider = parse_strategies("hero,free_rider", scenario, 4)
    play = deviation_from_symmetric(scenario, hero, 4)
    expected, _, _ = focal_scores(scenario, free_rider, [hero] * 3, 12, 5)
    np.testing.assert_array_equal(play(free_rider, 12, 5), expected)


def test_cmaes_finds_the_deviation_from_universal_free_riding() -> None:
    """Among three free-riders fires spread; a deviator that works gains (as PPO finds)."""
    scenario = get_scenario("greedy_neighbor")
    (free_rider,) = parse_strategies("universal_free_rider", scenario, 4)
    play = deviation_from_symmetric(scenario, free_rider, 4)
    responder = cmaes_best_response(play, scenario, 4, generations=3, popsize=6, games=100,
                                    seed=1)
    gain = judge(play, free_rider, responder, 400, seed=99)
    assert gain.mean - gain.ci95 > 5.0


def test_ppo_needs_opponents_the_trainer_can_seat(tmp_path: Path) -> None:
    scenario = get_scenario("greedy_neighbor")
    hero, free_rider = parse_strategies("hero,free_rider", scenario, 4)
    config = best_response_config([hero, free_rider, hero], "greedy_neighbor", 1000, tmp_path,
                                  "br seat 0", seed=2)
    assert config.opponent_policies == "hero,free_rider,hero" and config.run_name == "br_seat_0"
    model = hero.__class__("model", source="model_x.pt")
    with pytest.raises(UsageError, match="scripted strategies or one trained policy"):
        best_response_config([hero, model, hero], "greedy_neighbor", 1000, tmp_path, "br", 2)


@pytest.mark.slow
def test_ppo_best_response_deserts_universal_free_riding(tmp_path: Path) -> None:
    scenario = get_scenario("greedy_neighbor")
    (free_rider,) = parse_strategies("universal_free_rider", scenario, 4)
    config = best_response_config([free_rider] * 3, "greedy_neighbor", 200_000, tmp_path,
                                  "br", seed=2)
    responder = ppo_best_response(config)
    gain = judge(deviation_from_symmetric(scenario, free_rider, 4), free_rider, responder, 400,
                 seed=0)
    assert gain.mean - gain.ci95 > 10.0
