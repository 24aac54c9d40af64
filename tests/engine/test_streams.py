"""The random-stream contract of docs/engine.md: which stream each draw comes from, and
how many draws each step of a game takes. Counting draws needs no access to the values:
every SplitMix64 draw adds the same constant to its stream's state."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from bucket_brigade.agents.strategies import make_seat
from bucket_brigade.engine.batch import GameBatch
from bucket_brigade.game.constants import BURNING, RUINED, SAFE
from bucket_brigade.game.rng import WORLD_STREAM, agent_stream, stream_states
from bucket_brigade.game.scenarios import get_scenario
from bucket_brigade.game.scripted import DRAWS_PER_NIGHT, NUM_PARAMS
from bucket_brigade.game.seat import Seat

CountDraws = Callable[[np.ndarray, np.ndarray], np.ndarray]

SEATS = [Seat(), make_seat("hero"), make_seat("random"), make_seat("pool:random"),
         make_seat("pool:liar,coordinator")]
RESET_DRAWS = [0, 1, 1 + NUM_PARAMS, 1 + NUM_PARAMS, 1]


def initial_streams(batch: GameBatch, seed: int) -> np.ndarray:
    streams = [WORLD_STREAM, *(agent_stream(i) for i in range(batch.num_agents))]
    return stream_states(seed, batch.num_games, streams)


def test_reset_draws(count_draws: CountDraws) -> None:
    scenario = get_scenario("hard", num_houses=7)
    batch = GameBatch(scenario, SEATS, num_games=20, seed=3)
    draws = count_draws(initial_streams(batch, 3), batch.streams)
    # Partial Fisher-Yates: one world draw per initial fire. Each scripted seat: one pool
    # draw, then ten parameters when the entry is `random`.
    assert scenario.initial_fires == 2
    np.testing.assert_array_equal(draws, [[2, *RESET_DRAWS]] * 20)


def test_scripted_agents_draw_seven_times_a_night(count_draws: CountDraws) -> None:
    batch = GameBatch(get_scenario("hard", min_nights=60), SEATS, num_games=20, seed=3)
    start = batch.streams.copy()
    rng = np.random.default_rng(3)
    for night in range(1, 16):
        batch.step(rng.integers(0, [10, 2, 2], size=(20, 1, 3)))
        draws = count_draws(start, batch.streams)[:, 1:]
        scripted = np.array([0] + [DRAWS_PER_NIGHT] * 4)
        np.testing.assert_array_equal(draws, np.broadcast_to(night * scripted, draws.shape))


def test_ending_night_adds_the_next_games_reset_draws(count_draws: CountDraws) -> None:
    scenario = get_scenario("default", initial_fire_fraction=0.0, prob_house_catches_fire=0.0,
                            min_nights=2, num_houses=5)
    batch = GameBatch(scenario, SEATS, num_games=4, seed=8)
    start = batch.streams.copy()
    no_fire = np.zeros((4, 1, 3), dtype=np.int64)
    batch.step(no_fire)
    _, _, done = batch.step(no_fire)
    assert done.all()
    draws = count_draws(start, batch.streams)
    world_draws = 2 * 5  # a spark draw for each safe house, both nights; no initial fires
    expected = [world_draws, *(2 * DRAWS_PER_NIGHT * (n > 0) + n for n in RESET_DRAWS)]
    np.testing.assert_array_equal(draws, [expected] * 4)


def expected_world_draws(before: np.ndarray, after: np.ndarray, workers: np.ndarray,
                         spread_certain: bool) -> int:
    """World draws of one night from RULES.md's phases, for spread probability 0 or 1.

    A fire that was not put out always ends the night RUINED, and one put out never
    does, so the houses at dawn tell which fires survived the extinguish phase.
    """
    num_houses = len(before)
    burning = before == BURNING
    draws = int((burning & (workers > 0)).sum())  # extinguish, where anyone works
    survived = burning & (after == RUINED)
    safe = (before == SAFE) | (burning & ~survived)
    ignited = np.zeros(num_houses, dtype=bool)
    for j in np.flatnonzero(survived):
        for neighbour in dict.fromkeys(((j - 1) % num_houses, (j + 1) % num_houses)):
            if safe[neighbour]:
                draws += 1
                ignited[neighbour] |= spread_certain
    return draws + int((safe & ~ignited).sum())  # sparks


@pytest.mark.parametrize("num_houses", [2, 3, 10])
@pytest.mark.parametrize("spread", [0.0, 1.0])
def test_world_draws_each_night(count_draws: CountDraws, num_houses: int,
                                spread: float) -> None:
    num_games, num_agents = 300, 2
    scenario = get_scenario("default", num_houses=num_houses, min_nights=50,
                            prob_fire_spreads_to_neighbor=spread,
                            prob_solo_agent_extinguishes_fire=0.5,
                            prob_house_catches_fire=0.3)
    batch = GameBatch(scenario, [Seat()] * num_agents, num_games, seed=num_houses)
    rng = np.random.default_rng(num_houses)
    for _ in range(3):
        batch.houses[:] = rng.choice(3, size=batch.houses.shape, p=[0.4, 0.4, 0.2])
        before_houses = batch.houses.copy()
        before_world = batch.streams[:, 0].copy()
        actions = rng.integers(0, [num_houses, 2, 2], size=(num_games, num_agents, 3))
        batch.step(actions)
        draws = count_draws(before_world, batch.streams[:, 0])
        for e in range(num_games):
            workers = np.zeros(num_houses, dtype=np.int64)
            for i in range(num_agents):
                workers[(i + actions[e, i, 0]) % num_houses] += actions[e, i, 1]
            assert draws[e] == expected_world_draws(before_houses[e], batch.houses[e],
                                                    workers, spread == 1.0)
