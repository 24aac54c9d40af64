"""One seed rule for every environment, at construction and at reset: an integer in
[0, 2**64), else a TypeError or ValueError that names the value. Never a silent rounding."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from gymnasium.error import ResetNeeded

from bucket_brigade.envs import make_env, make_vec_env, parallel_env
from bucket_brigade.envs.vector import ConcatVectorEnv

MAKERS: dict[str, Callable[..., Any]] = {
    "gym": lambda **kw: make_env("default", **kw),
    "vector": lambda **kw: make_vec_env(2, "default", **kw),
    "concat": lambda **kw: ConcatVectorEnv([make_vec_env(2, "default", **kw)]),
    "pettingzoo": lambda **kw: parallel_env("default", **kw),
}
BAD_SEEDS = [(1.5, TypeError, r"seed=1\.5"), (-1, ValueError, r"seed=-1"),
             (2**64, ValueError, r"seed=18446744073709551616"), (True, TypeError, r"seed=True"),
             ("3", TypeError, r"seed='3'")]


@pytest.mark.parametrize("kind", [k for k in MAKERS if k != "concat"])
@pytest.mark.parametrize(("seed", "error", "match"), BAD_SEEDS)
def test_bad_seed_at_construction(kind: str, seed: object, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        MAKERS[kind](seed=seed)


@pytest.mark.parametrize("kind", MAKERS)
@pytest.mark.parametrize(("seed", "error", "match"), BAD_SEEDS)
def test_bad_seed_at_reset(kind: str, seed: object, error: type, match: str) -> None:
    env = MAKERS[kind]()
    with pytest.raises(error, match=match):
        env.reset(seed=seed)


@pytest.mark.parametrize("kind", MAKERS)
def test_the_largest_seed_and_numpy_integers_are_seeds(kind: str) -> None:
    first = MAKERS[kind]().reset(seed=2**64 - 1)[0]
    second = MAKERS[kind](seed=np.uint64(2**64 - 1)).reset()[0]
    if isinstance(first, dict):
        first, second = first["agent_0"], second["agent_0"]
    np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize("kind", MAKERS)
@pytest.mark.parametrize("numpy_type", [np.int8, np.int32, np.int64, np.uint32, np.uint64])
def test_numpy_integer_seeds_at_reset_are_seeds(kind: str, numpy_type: type) -> None:
    first = MAKERS[kind]().reset(seed=numpy_type(7))[0]
    second = MAKERS[kind]().reset(seed=7)[0]
    if isinstance(first, dict):
        first, second = first["agent_0"], second["agent_0"]
    np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize("kind", ["vector", "concat"])
def test_vector_env_step_before_reset_is_refused(kind: str) -> None:
    env = MAKERS[kind](seed=0)
    with pytest.raises(ResetNeeded, match=r"call reset\(\) before step\(\)"):
        env.step(env.action_space.sample())
    env.reset()
    env.step(env.action_space.sample())  # and after a reset it plays


def _trajectory(env: Any, nights: int = 24) -> bytes:
    """Observations of the first nights with every learner resting at home. Enough nights
    that two different games all but never look alike: over 6 nights, a quiet game without
    sparks looks the same in every copy (about 1 in 30 runs of the test saw such a pair)."""
    seen = [env.reset()[0]]
    for _ in range(nights):
        if isinstance(seen[0], dict):
            seen.append(env.step({a: np.zeros(2, dtype=np.int64) for a in env.agents})[0]
                        if env.agents else env.reset()[0])
            continue
        obs, _, terminated, truncated, _ = env.step(np.zeros(env.action_space.shape,
                                                             dtype=np.int64))
        ended = np.any(terminated) or np.any(truncated)
        seen.append(env.reset()[0] if ended and np.ndim(terminated) == 0 else obs)
    return b"".join(np.asarray(list(o.values()) if isinstance(o, dict) else o).tobytes()
                    for o in seen)


@pytest.mark.parametrize("kind", MAKERS)
def test_copies_of_an_unseeded_env_play_different_games(kind: str) -> None:
    """SuperSuit's vector wrappers copy an env by pickling it: copies of an env made without
    a seed must not share its random stream (nor replay one another's games)."""
    original = MAKERS[kind]()
    copies = [pickle.loads(pickle.dumps(original)) for _ in range(8)]
    assert len({_trajectory(env) for env in copies}) == 8


@pytest.mark.parametrize("kind", MAKERS)
def test_copies_of_a_seeded_env_replay_its_games(kind: str) -> None:
    original = MAKERS[kind](seed=5)
    copy = pickle.loads(pickle.dumps(original))
    assert _trajectory(original) == _trajectory(copy)
