"""The batched learner-vs-opponents vector env: SAME_STEP autoreset, seeding, agreement."""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pytest

from bucket_brigade.agents.strategies import opponent_seats
from bucket_brigade.envs import BucketBrigadeVectorEnv, make_env, make_vec_env
from bucket_brigade.game.reference import ReferenceGame
from bucket_brigade.game.scenarios import get_scenario
from bucket_brigade.game.seat import Seat

Policy = Callable[..., np.ndarray]
NUM_ENVS = 4


def batch_actions(policy: Policy, obs: np.ndarray, cheap_talk: bool = False) -> np.ndarray:
    return np.stack([policy(o, cheap_talk) for o in obs])


def test_spaces_and_shapes() -> None:
    env = make_vec_env(NUM_ENVS, "default", seed=0)
    obs, info = env.reset()
    assert obs.shape == (NUM_ENVS, 36) and obs.dtype == np.float32 and set(info) == {"action_mask"}
    assert env.action_space.shape == (NUM_ENVS, 2)
    assert obs in env.observation_space
    obs, rewards, terminated, truncated, _ = env.step(env.action_space.sample())
    assert rewards.shape == terminated.shape == truncated.shape == (NUM_ENVS,)
    assert not truncated.any()


def test_same_step_autoreset_masks_and_returns(fire_policy: Policy) -> None:
    env = make_vec_env(NUM_ENVS, "hard", seed=7)
    obs, _ = env.reset()
    returns = np.zeros(NUM_ENVS)
    finished = 0
    while finished < 2 * NUM_ENVS:
        obs, rewards, terminated, _, info = env.step(batch_actions(fire_policy, obs))
        returns += rewards
        if not terminated.any():
            assert set(info) == {"action_mask"}
            continue
        for key in ("_final_obs", "_final_info"):
            np.testing.assert_array_equal(info[key], terminated)
        final = info["final_info"]
        np.testing.assert_array_equal(final["_score"], terminated)
        for e in np.flatnonzero(terminated):
            assert final["score"][e] == pytest.approx(returns[e], abs=1e-3)
            # The returned observation already belongs to the next game: night 0, all at home.
            assert obs[e][10:14].tolist() == [0, 0, 0, 0]  # signals
            assert obs[e][14:18].tolist() == [0, 1, 2, 3]  # locations relative to agent 0
            ended_houses = info["final_obs"][e][:10]
            assert final["houses_saved"][e] == np.count_nonzero(ended_houses == 0)
            assert final["houses_ruined"][e] == np.count_nonzero(ended_houses == 2)
            returns[e] = 0.0
            finished += 1


def test_reset_seed_determinism_and_reset_without_seed(fire_policy: Policy) -> None:
    def trajectory(env: BucketBrigadeVectorEnv, seed: int | None, nights: int = 30) -> list:
        obs, _ = env.reset(seed=seed)
        out = [obs]
        for _ in range(nights):
            obs, rewards, *_ = env.step(batch_actions(fire_policy, obs))
            out += [obs, rewards]
        return out

    env = make_vec_env(NUM_ENVS, "default", seed=5)
    fresh = trajectory(env, None)
    again = trajectory(env, 5)
    for a, b in zip(fresh, again, strict=True):
        np.testing.assert_array_equal(a, b)
    following = env.reset()[0]  # after playing, the next game of every stream starts
    assert not np.array_equal(following, fresh[0])
    np.testing.assert_array_equal(env.reset()[0], following)  # an unplayed game is kept


def test_game_e_is_the_reference_game_e(fire_policy: Policy) -> None:
    scenario = get_scenario("default")
    seats = [Seat(), *opponent_seats(3)]
    env = make_vec_env(NUM_ENVS, scenario, seed=9)
    obs, _ = env.reset()
    games = [ReferenceGame(scenario, seats, seed=9, game_index=e) for e in range(NUM_ENVS)]
    while not all(game.done for game in games):
        actions = batch_actions(fire_policy, obs)
        obs, rewards, terminated, _, info = env.step(actions)
        for e, game in enumerate(games):
            if game.done:
                continue
            house, mode = actions[e].tolist()
            assert rewards[e] == pytest.approx(game.step({0: (house, mode, mode)})[0], abs=1e-4)
            assert terminated[e] == game.done
            seen = info["final_obs"][e] if game.done else obs[e]
            assert seen.tolist() == pytest.approx(game.observation(0))


def test_game_zero_agrees_with_the_single_env(fire_policy: Policy) -> None:
    vec = make_vec_env(2, "easy", opponents="free_rider,random", seed=31)
    single = make_env("easy", opponents="free_rider,random", seed=31)
    vec_obs, _ = vec.reset()
    obs, _ = single.reset()
    for _ in range(3):
        while True:
            action = fire_policy(obs)
            obs, reward, terminated, _, info = single.step(action)
            vec_obs, vec_rewards, vec_done, _, vec_info = vec.step(
                np.stack([action, fire_policy(vec_obs[1])]))
            assert vec_rewards[0] == np.float32(reward) and vec_done[0] == terminated
            if terminated:
                np.testing.assert_array_equal(vec_info["final_obs"][0], obs)
                assert vec_info["final_info"]["score"][0] == info["score"]
                obs, _ = single.reset()
            np.testing.assert_array_equal(vec_obs[0], obs)
            if terminated:
                break


def test_cheap_talk_widens_actions_and_signals_are_seen(fire_policy: Policy) -> None:
    env = make_vec_env(2, "default", cheap_talk=True, seed=1)
    assert env.action_space.shape == (2, 3)
    obs, _ = env.reset()
    with pytest.raises(ValueError, match=r"shape \(2, 2\)"):
        env.step(np.zeros((2, 2), dtype=np.int64))
    lie = np.array([[0, 1, 0], [0, 0, 1]])  # work but signal rest; rest but signal work
    obs, *_ = env.step(lie)
    assert obs[:, 10].tolist() == [0, 1]  # agent 0's own published signal
    assert obs[:, 18].tolist() == [0, 0]  # its house, relative to home
    assert obs[:, 19].tolist() == [1, 0]  # its mode


@pytest.mark.parametrize(("actions", "message"), [
    (np.array([[0, 0], [10, 0]]), "house=10 at index"),
    (np.array([[0, 0], [0, 3]]), "mode=3"),
    (np.array([[0, 0], [np.nan, 0]]), "nan"),
    (np.zeros((3, 2), dtype=np.int64), r"shape \(3, 2\)"),
])
def test_invalid_actions_are_refused_and_change_nothing(actions: np.ndarray,
                                                        message: str) -> None:
    env, twin = make_vec_env(2, "default", seed=4), make_vec_env(2, "default", seed=4)
    env.reset()
    twin.reset()
    with pytest.raises(ValueError, match=message):
        env.step(actions)
    valid = np.array([[1, 1], [0, 1]])
    for a, b in zip(env.step(valid), twin.step(valid), strict=True):
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"num_envs": "4"}, "num_envs='4' must be an integer >= 1"),
    ({"num_envs": 4.0}, "num_envs=4.0 must be an integer >= 1"),
    ({"num_envs": 0}, "num_envs=0 must be an integer >= 1"),
    ({"num_envs": 4, "num_learners": True}, "num_learners=True must be an integer"),
    ({"num_envs": 4, "num_opponents": 1000}, "num_opponents=1000 must be an integer from 0 to"),
    ({"num_envs": 4, "num_opponents": 1000, "opponent_policy": lambda seen: seen},
     "num_opponents=1000 must be an integer from 0 to 999"),
])
def test_counts_of_the_wrong_type_or_size_are_refused_before_building(kwargs, message) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        make_vec_env(scenario="default", **kwargs)


def test_numpy_counts_are_counts() -> None:
    env = make_vec_env(np.int64(4), "default", num_opponents=np.int32(2), seed=0)
    assert env.num_envs == 4 and env.num_agents == 3
