"""The engine's threads belong to whoever builds it: no process-wide setting changes."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numba
import numpy as np
import pytest

from bucket_brigade.agents.strategies import opponent_seats
from bucket_brigade.engine.batch import PARALLEL_MIN_GAMES, GameBatch
from bucket_brigade.game.scenarios import SCENARIOS
from bucket_brigade.game.seat import Seat

GAMES = PARALLEL_MIN_GAMES * 2  # large enough for the engine to run in parallel by default


def play(batch: GameBatch, nights: int = 30) -> np.ndarray:
    actions = np.zeros((batch.num_games, 1, 3), dtype=np.int64)
    for _ in range(nights):
        batch.step(actions)
    return batch.scores.copy()


def seats() -> list[Seat]:
    return [Seat(), *opponent_seats(3, "random")]


def test_the_callers_numba_setting_survives_and_is_used(kernel_threads) -> None:
    seen = kernel_threads
    before = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        play(GameBatch(SCENARIOS["default"], seats(), GAMES, seed=3), nights=3)
        assert numba.get_num_threads() == 1
    finally:
        numba.set_num_threads(before)
    assert seen == [1, 1, 1]


def test_an_explicit_thread_count_is_used_and_then_given_back(kernel_threads) -> None:
    seen = kernel_threads
    before = numba.get_num_threads()
    play(GameBatch(SCENARIOS["default"], seats(), GAMES, seed=3, num_threads=1), nights=2)
    assert seen == [1, 1]
    assert numba.get_num_threads() == before


def test_small_batches_run_on_one_thread(kernel_threads) -> None:
    seen = kernel_threads
    play(GameBatch(SCENARIOS["default"], seats(), 8, seed=3), nights=2)
    assert seen == [1, 1]


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="needs two Numba threads")
def test_results_do_not_depend_on_the_thread_count() -> None:
    one = play(GameBatch(SCENARIOS["chain_reaction"], seats(), GAMES, seed=9, num_threads=1))
    two = play(GameBatch(SCENARIOS["chain_reaction"], seats(), GAMES, seed=9, num_threads=2))
    np.testing.assert_array_equal(one, two)


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, 10_000])
def test_a_bad_thread_count_is_refused(bad) -> None:
    with pytest.raises(ValueError, match=f"num_threads={bad!r}"):
        GameBatch(SCENARIOS["default"], seats(), 4, num_threads=bad)


def test_building_and_stepping_envs_leaves_torch_threads_alone() -> None:
    """In a fresh process, since the threading layer is chosen once per process."""
    pytest.importorskip("torch")
    script = textwrap.dedent("""
        import torch
        torch.set_num_threads(1)
        from bucket_brigade.envs import make_env, make_vec_env
        env = make_env("greedy_neighbor", seed=0)
        env.reset(seed=0)
        env.step(env.action_space.sample())
        vec = make_vec_env(1024, "greedy_neighbor", seed=0)
        vec.reset(seed=0)
        vec.step(vec.action_space.sample())
        print(torch.get_num_threads())
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True, timeout=300)
    assert out.stdout.strip() == "1"
