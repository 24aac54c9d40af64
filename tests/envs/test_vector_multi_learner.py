"""The vector env with several learner seats per game (slots = games x learners), with
opponents driven by an outside policy, and several envs side by side."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from bucket_brigade.agents.strategies import opponent_seats
from bucket_brigade.envs.pettingzoo_env import parallel_env
from bucket_brigade.envs.vector import ConcatVectorEnv, make_vec_env
from bucket_brigade.game.reference import ReferenceGame
from bucket_brigade.game.scenarios import get_scenario
from bucket_brigade.game.seat import Seat

Policy = Callable[..., np.ndarray]


def slot_actions(policy: Policy, obs: np.ndarray) -> np.ndarray:
    return np.stack([policy(o) for o in obs])


def test_slots_are_games_times_learners(fire_policy: Policy) -> None:
    env = make_vec_env(8, "default", num_opponents=2, num_learners=2, seed=0)
    obs, _ = env.reset()
    assert env.num_games == 4 and env.num_agents == 4
    assert obs.shape == (8, 36) and env.action_space.shape == (8, 2)
    obs, rewards, terminated, truncated, _ = env.step(slot_actions(fire_policy, obs))
    assert rewards.shape == terminated.shape == truncated.shape == (8,)
    with pytest.raises(ValueError, match="not a multiple of num_learners=3"):
        make_vec_env(8, "default", num_learners=3)


def test_slots_follow_the_reference_games(fire_policy: Policy) -> None:
    scenario = get_scenario("hard")
    seats = [Seat(), Seat(), *opponent_seats(2)]
    env = make_vec_env(6, scenario, num_opponents=2, num_learners=2, seed=11)
    obs, _ = env.reset()
    games = [ReferenceGame(scenario, seats, seed=11, game_index=g) for g in range(3)]
    while not all(game.done for game in games):
        actions = slot_actions(fire_policy, obs)
        obs, rewards, terminated, _, info = env.step(actions)
        for g, game in enumerate(games):
            if game.done:
                continue
            chosen = {k: (*actions[2 * g + k].tolist(), int(actions[2 * g + k][1]))
                      for k in range(2)}
            expected = game.step(chosen)
            for k in range(2):
                slot = 2 * g + k
                assert rewards[slot] == pytest.approx(expected[k], abs=1e-4)
                assert terminated[slot] == game.done
                seen = info["final_obs"][slot] if game.done else obs[slot]
                assert seen.tolist() == pytest.approx(game.observation(k))


def test_self_play_returns_add_up_and_games_end_together(fire_policy: Policy) -> None:
    env = make_vec_env(8, "greedy_neighbor", num_opponents=0, num_learners=4, seed=3)
    obs, _ = env.reset()
    returns = np.zeros(8)
    checked = 0
    while checked < 8:
        obs, rewards, terminated, _, info = env.step(slot_actions(fire_policy, obs))
        returns += rewards
        per_game = terminated.reshape(2, 4)
        assert (per_game == per_game[:, :1]).all()  # a game's end ends all its slots
        if terminated.any():
            final = info["final_info"]
            np.testing.assert_array_equal(final["_score"], terminated)
            for slot in np.flatnonzero(terminated):
                assert final["score"][slot] == pytest.approx(returns[slot], abs=1e-3)
                assert final["agent"][slot] == slot % 4
                game = slice(slot - slot % 4, slot - slot % 4 + 4)
                assert final["team_score"][slot] == pytest.approx(final["score"][game].mean())
            returns[terminated] = 0.0
            checked += int(terminated.sum())


def test_one_learner_is_the_usual_env(fire_policy: Policy) -> None:
    usual = make_vec_env(4, "default", seed=2)
    explicit = make_vec_env(4, "default", seed=2, num_learners=1)
    obs, _ = usual.reset()
    np.testing.assert_array_equal(obs, explicit.reset()[0])
    for _ in range(40):
        actions = slot_actions(fire_policy, obs)
        first, second = usual.step(actions), explicit.step(actions)
        for a, b in zip(first[:4], second[:4], strict=True):
            np.testing.assert_array_equal(a, b)
        obs = first[0]


def test_opponent_policy_drives_the_other_seats() -> None:
    calls = []

    def work_at_home(seen: np.ndarray) -> np.ndarray:
        calls.append(seen.shape)
        return np.tile([0, 1, 0], (len(seen), 1))  # work, signal REST

    env = make_vec_env(3, "default", num_opponents=3, opponent_policy=work_at_home, seed=1)
    env.reset()
    obs, *_ = env.step(np.zeros((3, 2), dtype=np.int64))
    assert calls == [(9, 36)]
    # Last actions, relative to agent 0's home: agent k worked at its own home, house k.
    last_actions = obs[:, 18:26].reshape(3, 4, 2)
    assert last_actions[:, 1:].tolist() == [[[1, 1], [2, 1], [3, 1]]] * 3
    assert (obs[:, 11:14] == 0).all()  # their own signals, although the learner has none


@pytest.mark.parametrize(("action", "match"), [
    ([0.5, 1, 0], r"action value 0\.5 is not an integer"),
    ([np.nan, 1, 0], r"action value nan is not an integer"),
    ([1e300, 1, 0], r"house=1e\+300 at index \(0, 1\) is out of range"),
])
def test_bad_actions_of_an_opponent_policy_are_refused_not_truncated(action, match) -> None:
    env = make_vec_env(3, "default", num_opponents=3, seed=1,
                       opponent_policy=lambda seen: np.tile(action, (len(seen), 1)))
    env.reset()
    with pytest.raises(ValueError, match=match):
        env.step(np.zeros((3, 2), dtype=np.int64))


def test_an_opponent_policy_of_the_wrong_shape_is_named() -> None:
    env = make_vec_env(3, "default", num_opponents=3, seed=1,
                       opponent_policy=lambda seen: np.zeros((len(seen), 2)))
    env.reset()
    with pytest.raises(ValueError, match=r"opponent_policy gave actions of shape \(9, 2\), "
                                         r"expected \(9, 3\)"):
        env.step(np.zeros((3, 2), dtype=np.int64))


def test_concatenated_envs_merge_their_slots(fire_policy: Policy) -> None:
    envs = ConcatVectorEnv([make_vec_env(4, "hard", num_opponents=1, num_learners=2),
                            make_vec_env(2, "hard", num_opponents=2)])
    obs, _ = envs.reset(seed=4)
    assert obs.shape == (6, 32) and envs.num_envs == 6
    assert not np.array_equal(obs[4], obs[0])  # the parts play different worlds
    ended = np.zeros(6, dtype=bool)
    while not ended.all():
        obs, _, terminated, _, info = envs.step(slot_actions(fire_policy, obs))
        if terminated.any():
            final = info["final_info"]
            np.testing.assert_array_equal(final["_score"], terminated)
            assert final["score"].shape == (6,) and info["final_obs"].shape == (6, 32)
            ended |= terminated
    with pytest.raises(ValueError, match="same spaces"):
        ConcatVectorEnv([make_vec_env(2, "hard"), make_vec_env(2, "hard", cheap_talk=True)])


def test_states_are_the_pettingzoo_global_state_of_each_slots_game() -> None:
    env = make_vec_env(8, "greedy_neighbor", num_opponents=0, num_learners=4, seed=5)
    single = parallel_env("greedy_neighbor", num_agents=4, seed=5)  # plays game 0
    env.reset()
    single.reset(seed=5)
    rng = np.random.default_rng(0)
    nights = 0
    while single.agents:
        states = env.states()
        assert states.shape == (8, 10 + 2 * 4 + 1) and states.dtype == np.float32
        np.testing.assert_array_equal(states[:4], np.tile(single.state(), (4, 1)))
        np.testing.assert_array_equal(states[4:], np.tile(states[4], (4, 1)))
        actions = rng.integers(0, [10, 2], (8, 2))
        env.step(actions)
        single.step({agent: actions[k] for k, agent in enumerate(single.possible_agents)})
        nights += 1
    assert nights >= get_scenario("greedy_neighbor").min_nights
