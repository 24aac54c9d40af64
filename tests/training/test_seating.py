"""Staggered game starts: each game advanced by its own seeded number of nights."""

from __future__ import annotations

import numpy as np

from bucket_brigade.envs.vector import ConcatVectorEnv, make_vec_env
from bucket_brigade.training.seating import STAGGER_GAME_LENGTHS, stagger_game_starts


def _staggered(seed: int) -> tuple[np.ndarray, np.ndarray]:
    env = make_vec_env(512, "greedy_neighbor", 3, "random", seed=7)
    env.reset(seed=7)
    obs = stagger_game_starts(env, seed)
    return obs, env.games.nights.copy()


def test_games_start_on_every_night_of_a_game() -> None:
    obs, nights = _staggered(seed=1)
    min_nights = 12  # greedy_neighbor's
    counts = np.bincount(nights, minlength=min_nights)[:min_nights]
    assert counts.min() > 512 / min_nights / 2, counts  # about uniform over 0..11
    assert nights.max() <= STAGGER_GAME_LENGTHS * min_nights
    assert obs.shape == (512, 36)


def test_staggering_is_seeded() -> None:
    first, again, other = _staggered(1), _staggered(1), _staggered(2)
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    assert not np.array_equal(first[1], other[1])


def test_the_returned_observations_are_the_games_current_ones() -> None:
    parts = [make_vec_env(64, "default", 3, "random", seed=s) for s in (3, 4)]
    env = ConcatVectorEnv(parts)
    env.reset(seed=3)
    obs = stagger_game_starts(env, 5)
    current = np.concatenate([part.games.observations[:, 0] for part in parts])
    np.testing.assert_array_equal(obs, current)
    next_obs = env.step(np.zeros((128, 2), dtype=np.int64))[0]
    assert next_obs.shape == obs.shape
