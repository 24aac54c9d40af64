"""Action masks: the rule itself, its agreement with the engine, and where each env puts it."""

from __future__ import annotations

import numpy as np
import pytest

from bucket_brigade.agents.strategies import opponent_seats
from bucket_brigade.engine.batch import GameBatch
from bucket_brigade.envs import make_env, make_vec_env, parallel_env
from bucket_brigade.envs.masks import action_mask
from bucket_brigade.game.constants import BURNING, REST, RUINED, SAFE, WORK
from bucket_brigade.game.scenarios import get_scenario
from bucket_brigade.game.seat import Seat


def test_no_fire_forbids_work_and_nothing_else() -> None:
    mask = action_mask(np.array([SAFE, RUINED, SAFE, SAFE]), cheap_talk=False)
    np.testing.assert_array_equal(mask, [True] * 4 + [True, False])


def test_a_fire_leaves_only_burning_houses_without_cheap_talk() -> None:
    mask = action_mask(np.array([SAFE, BURNING, RUINED, BURNING]), cheap_talk=False)
    np.testing.assert_array_equal(mask, [False, True, False, True, True, True])


def test_cheap_talk_leaves_house_and_signal_free() -> None:
    fire = action_mask(np.array([SAFE, BURNING, RUINED]), cheap_talk=True)
    np.testing.assert_array_equal(fire, [True] * 3 + [True, True] + [True, True])
    calm = action_mask(np.array([SAFE, SAFE, RUINED]), cheap_talk=True)
    np.testing.assert_array_equal(calm, [True] * 3 + [True, False] + [True, True])


def test_batched_houses_give_one_mask_per_row() -> None:
    houses = np.array([[SAFE, SAFE], [BURNING, SAFE]])
    np.testing.assert_array_equal(action_mask(houses, cheap_talk=False),
                                  [[True, True, True, False], [True, False, True, True]])


GAMES = 100


def twin_batches(scenario_name: str, seed: int, nights: int) -> tuple[GameBatch, GameBatch]:
    """Two batches on the same random numbers, played ``nights`` nights alike (the learner
    works at the first burning house, else rests at home), ready to diverge."""
    scenario = get_scenario(scenario_name)
    seats = [Seat(), *opponent_seats(3, "random", scenario.name)]
    twins = GameBatch(scenario, seats, GAMES, seed=seed), GameBatch(scenario, seats, GAMES,
                                                                     seed=seed)
    for _ in range(nights):
        houses = twins[0].observations[:, 0, :scenario.num_houses]
        burning = houses == BURNING
        mode = burning.any(axis=1).astype(np.int64)
        actions = np.stack([burning.argmax(axis=1), mode, mode], axis=1)[:, None, :]
        for batch in twins:
            batch.step(actions)
    return twins


def forbidden_house(houses: np.ndarray) -> np.ndarray:
    """Per game, a house that is not burning (relative to the learner's home)."""
    return (houses != BURNING).argmax(axis=1)


@pytest.mark.parametrize("scenario_name", ["greedy_neighbor", "mixed_motivation"])
@pytest.mark.parametrize("nights", [0, 1, 4])
def test_forbidden_work_only_costs_the_worker(scenario_name: str, nights: int) -> None:
    """WORK at a house that is not burning (what the mask forbids) against REST there: the
    same next world and everyone else's reward; the worker's reward is lower by exactly
    its work cost plus the rest reward it forwent."""
    scenario = get_scenario(scenario_name)
    working, resting = twin_batches(scenario_name, seed=nights + 11, nights=nights)
    houses = working.observations[:, 0, :scenario.num_houses]
    masks = action_mask(houses, cheap_talk=False)
    house = forbidden_house(houses)
    has_choice = (houses != BURNING).any(axis=1)
    assert has_choice.all()
    assert not masks[~(houses == BURNING).any(axis=1), scenario.num_houses + WORK].any()
    rows = np.arange(GAMES)
    forbidden = ~masks[rows, house] | ~masks[rows, scenario.num_houses + WORK]
    assert forbidden.all()  # a house that is not burning is never allowed with WORK
    work = np.stack([house, np.full(GAMES, WORK), np.full(GAMES, WORK)], axis=1)[:, None]
    rest = np.stack([house, np.full(GAMES, REST), np.full(GAMES, REST)], axis=1)[:, None]
    _, work_rewards, work_done = (a.copy() for a in working.step(work))
    _, rest_rewards, rest_done = (a.copy() for a in resting.step(rest))
    np.testing.assert_array_equal(working.houses, resting.houses)
    np.testing.assert_array_equal(work_done, rest_done)
    np.testing.assert_array_equal(work_rewards[:, 1:], rest_rewards[:, 1:])
    price = scenario.cost_to_work_one_night + scenario.reward_rest
    np.testing.assert_allclose(rest_rewards[:, 0] - work_rewards[:, 0], price)


@pytest.mark.parametrize("nights", [0, 1, 4])
def test_forbidden_house_while_resting_changes_nothing(nights: int) -> None:
    """While a house burns, REST at a house that is not burning (forbidden) against REST
    at home: the identical next world and identical rewards for everyone."""
    scenario = get_scenario("hard")
    elsewhere, home = twin_batches("hard", seed=nights + 21, nights=nights)
    houses = elsewhere.observations[:, 0, :scenario.num_houses]
    fire = (houses == BURNING).any(axis=1)
    assert fire.sum() >= 10
    house = forbidden_house(houses)
    assert not action_mask(houses, cheap_talk=False)[fire, house[fire]].any()
    zeros = np.zeros(GAMES, dtype=np.int64)
    away = np.stack([house, zeros, zeros], axis=1)[:, None]
    _, away_rewards, away_done = (a.copy() for a in elsewhere.step(away))
    _, home_rewards, home_done = (a.copy() for a in home.step(np.zeros((GAMES, 1, 3),
                                                                        dtype=np.int64)))
    np.testing.assert_array_equal(elsewhere.houses, home.houses)
    np.testing.assert_array_equal(away_done, home_done)
    np.testing.assert_array_equal(away_rewards, home_rewards)


def test_gym_env_gives_the_mask_in_info_and_action_masks() -> None:
    env = make_env("default", seed=3)
    with pytest.raises(Exception, match=r"reset\(\) before action_masks"):
        env.action_masks()
    obs, info = env.reset()
    for _ in range(30):
        expected = action_mask(obs[:10], cheap_talk=False)
        np.testing.assert_array_equal(info["action_mask"], expected)
        np.testing.assert_array_equal(env.action_masks(), expected)
        allowed = [np.flatnonzero(block)[-1] for block in np.split(expected, [10])]
        obs, _, done, _, info = env.step(np.array(allowed))
        if done:
            obs, info = env.reset()
    talk = make_env("default", cheap_talk=True, seed=3)
    assert talk.reset()[1]["action_mask"].shape == (14,)


def test_vector_env_batches_the_masks() -> None:
    env = make_vec_env(6, "default", seed=5)
    obs, info = env.reset()
    for _ in range(20):
        assert info["action_mask"].shape == (6, 12)
        np.testing.assert_array_equal(info["action_mask"], action_mask(obs[:, :10], False))
        np.testing.assert_array_equal(env.action_masks(), info["action_mask"])
        obs, _, _, _, info = env.step(env.action_space.sample())


def test_pettingzoo_env_gives_each_agent_its_mask() -> None:
    env = parallel_env("default", num_agents=4, seed=7)
    obs, infos = env.reset()
    while env.agents:
        for agent in env.agents:
            np.testing.assert_array_equal(infos[agent]["action_mask"],
                                          action_mask(obs[agent][:10], False))
        actions = {a: env.action_space(a).sample() for a in env.agents}
        obs, _, _, _, infos = env.step(actions)
    assert "score" in next(iter(infos.values()))
