"""The manual-reset vector env: the caller resets ended slots itself, and sees the same games,
final observations, rewards and statistics as the autoresetting vector env it wraps."""

from __future__ import annotations

import re

import numpy as np
import pytest
from gymnasium.error import ResetNeeded
from gymnasium.vector import AutoresetMode

from bucket_brigade.envs import ManualResetVectorEnv, make_vec_env

from .conftest import first_fire_action


def fire_actions(obs: np.ndarray) -> np.ndarray:
    return np.stack([first_fire_action(row) for row in obs])


@pytest.mark.parametrize("num_learners", [1, 2])
def test_the_same_games_as_the_autoresetting_env(num_learners: int) -> None:
    """Each slot's final observation, rewards, ends and statistics, and the next game's first
    observation after the caller's reset, equal the wrapped env's on the same seed."""
    reference = make_vec_env(8, "greedy_neighbor", seed=5, num_learners=num_learners,
                             num_opponents=2)
    manual = ManualResetVectorEnv(make_vec_env(8, "greedy_neighbor", seed=5,
                                               num_learners=num_learners, num_opponents=2))
    assert manual.metadata["autoreset_mode"] == AutoresetMode.DISABLED
    expected, _ = reference.reset()
    obs, info = manual.reset()
    np.testing.assert_array_equal(obs, expected)
    ended_games = 0
    for _ in range(120):
        actions = fire_actions(obs)
        expected, rewards, terminated, _, infos = reference.step(actions)
        obs, got_rewards, got_terminated, truncated, info = manual.step(actions)
        np.testing.assert_array_equal(got_rewards, rewards)
        np.testing.assert_array_equal(got_terminated, terminated)
        assert not truncated.any()
        if terminated.any():
            ended_games += int(terminated.sum())
            np.testing.assert_array_equal(obs[terminated], infos["final_obs"][terminated])
            np.testing.assert_array_equal(info["_score"], terminated)
            np.testing.assert_array_equal(info["score"][terminated],
                                          infos["final_info"]["score"][terminated])
            obs, info = manual.reset(options={"reset_mask": terminated})
        np.testing.assert_array_equal(obs, expected)
        np.testing.assert_array_equal(info["action_mask"], manual.action_masks())
    assert ended_games > 8  # every slot went through games of its stream


def test_stepping_before_resetting_an_ended_slot_is_refused() -> None:
    env = ManualResetVectorEnv(make_vec_env(4, "greedy_neighbor", seed=1))
    with pytest.raises(ResetNeeded, match="reset"):
        env.step(np.zeros((4, 2), dtype=np.int64))
    obs, _ = env.reset()
    terminated = np.zeros(4, dtype=bool)
    while not terminated.any():
        obs, _, terminated, _, _ = env.step(fire_actions(obs))
    ended = np.flatnonzero(terminated).tolist()
    with pytest.raises(ResetNeeded, match=re.escape(f"slots {ended} ended their game")):
        env.step(fire_actions(obs))
    env.reset(options={"reset_mask": terminated})
    env.step(fire_actions(obs))


def test_resetting_a_game_still_on_starts_its_streams_next_game() -> None:
    reference = make_vec_env(4, "hard", seed=3)
    manual = ManualResetVectorEnv(make_vec_env(4, "hard", seed=3))
    reference.reset()
    manual.reset()
    actions = np.zeros((4, 2), dtype=np.int64)
    reference.step(actions)
    before, *_ = manual.step(actions)
    chosen = np.array([False, True, False, True])
    expected = reference.restart_games(chosen)
    obs, _ = manual.reset(options={"reset_mask": chosen})
    np.testing.assert_array_equal(obs[chosen], expected[chosen])
    np.testing.assert_array_equal(obs[~chosen], before[~chosen])


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"options": {"reset_mask": np.ones(3, dtype=bool)}}, r"shape \(4,\), got bool \(3,\)"),
    ({"options": {"reset_mask": np.ones(4)}}, "must be a bool array"),
    ({"options": {"reset_mask": np.ones(4, dtype=bool)}, "seed": 2}, "seed=2 restarts"),
    ({"options": {"reset_mask": np.array([True, False, False, False])}},
     "some of a game's 2 learner slots but not all"),
])
def test_bad_resets_are_refused_with_the_bad_value(kwargs: dict, message: str) -> None:
    env = ManualResetVectorEnv(make_vec_env(4, seed=0, num_learners=2))
    env.reset()
    with pytest.raises(ValueError, match=message):
        env.reset(**kwargs)
