"""Best responses: CMA-ES and PPO oracles in one seat or against a symmetric profile, judged
on fresh games."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bucket_brigade.analysis.contenders import Contender, parse_strategies, play_profile
from bucket_brigade.analysis.empirical_game import focal_scores
from bucket_brigade.analysis.nash import (
    Gain,
    best_response_config,
    cmaes_best_response,
    deviation_from_symmetric,
    deviation_in_seat,
    judge,
    mix_best_response_config,
    nash_conv,
    ppo_best_response,
    scripted,
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


def test_ppo_trains_in_the_deviating_seat_against_each_seat_or_a_mix(tmp_path: Path) -> None:
    scenario = get_scenario("greedy_neighbor")
    hero, free_rider = parse_strategies("hero,free_rider", scenario, 4)
    config = best_response_config([hero, free_rider, hero], "greedy_neighbor", 1000, tmp_path,
                                  "br seat 2", seed=2, learner_seat=2)
    assert config.opponent_policies == "hero,free_rider,hero" and config.run_name == "br_seat_2"
    assert config.learner_seat == 2 and config.opponent_agents == [0, 1, 3]
    tuned = scripted([0.25] * 10)
    config = mix_best_response_config([hero, tuned, free_rider], np.array([0.75, 0.25, 0.0]),
                                      4, "greedy_neighbor", 1000, tmp_path, "br 1", seed=2)
    assert config.opponent_policies == f"mix:hero=0.75,{','.join(['0.25'] * 10)}=0.25"
    assert config.opponents == 3 and config.learner_seat == 0
    with pytest.raises(UsageError, match="needs a model file for 'unsaved'"):
        best_response_config([hero, Contender("unsaved"), hero], "greedy_neighbor", 1000,
                             tmp_path, "br", 2)


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


def test_nash_conv_counts_a_seat_where_nothing_better_was_found_as_zero() -> None:
    """A seat's regret is never negative: a response that scored below the seat's own
    player cannot cancel another seat's gain."""
    found = Gain(np.array([3.0, 1.0, 2.0]))
    worse = Gain(np.array([-4.0, -5.0, -3.0]))
    np.testing.assert_array_equal(nash_conv([found, worse], 2).per_game, found.per_game)
    assert nash_conv([worse], 4).mean == 0.0  # a symmetric profile's one response
    np.testing.assert_array_equal(nash_conv([found], 4).per_game, 4 * found.per_game)
