"""The generator's array form agrees with its pure-Python twin."""

from __future__ import annotations

import numpy as np

from bucket_brigade.game.rng import SplitMix64, next_uniforms, stream_state


def test_next_uniforms_are_splitmix64s_draws_and_advance_the_states() -> None:
    starts = [stream_state(7, game, 3) for game in range(5)]
    states = np.array(starts, dtype=np.uint64)
    draws = next_uniforms(states, 4)
    for row, start in enumerate(starts):
        twin = SplitMix64(start)
        assert draws[row].tolist() == [twin.uniform() for _ in range(4)]
        assert int(states[row]) == twin.state
