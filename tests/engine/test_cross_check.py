"""The batched engine against the reference engine, night by night and in distribution."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bucket_brigade.agents.strategies import make_seat
from bucket_brigade.engine.batch import GameBatch
from bucket_brigade.game.constants import RUINED, SAFE
from bucket_brigade.game.reference import ReferenceGame
from bucket_brigade.game.scenarios import SCENARIOS, Scenario, get_scenario
from bucket_brigade.game.scripted import ARCHETYPES, RANDOM
from bucket_brigade.game.seat import Seat

EXTERNAL = Seat()
LAYOUTS: dict[str, list[Seat]] = {
    "all_external": [EXTERNAL] * 4,
    "learner_and_archetypes": [EXTERNAL, *(make_seat(n) for n in ("firefighter", "hero",
                                                                  "liar"))],
    "random_and_pools": [EXTERNAL, make_seat("random"),
                         make_seat("pool:free_rider,coordinator,random"),
                         make_seat("universal_free_rider")],
}
# (scenario, overrides, seats): other ring sizes, N from 2 to H, external seats anywhere.
ODD_LAYOUTS = [
    ("easy", {"num_houses": 2}, [EXTERNAL, make_seat("random")]),
    ("hard", {"num_houses": 3}, [make_seat("hero"), make_seat("pool:random,liar")]),
    ("chain_reaction", {"num_houses": 5},
     [make_seat("firefighter"), EXTERNAL, make_seat("pool:hero,liar"), EXTERNAL,
      make_seat("random")]),
    ("mixed_motivation", {"num_houses": 7}, [make_seat("hero"), EXTERNAL,
                                             make_seat("coordinator")]),
    ("deceptive_calm", {"num_houses": 13, "max_nights": 30},
     [EXTERNAL, make_seat("random"), EXTERNAL, make_seat("pool:random,free_rider"),
      make_seat("universal_free_rider"), EXTERNAL]),
]


def as_obs(values: Sequence[float]) -> list[float]:
    """An observation as the batch stores it (float32), as a plain list."""
    return np.array(values, dtype=np.float32).tolist()


def assert_same_game(batch: GameBatch, e: int, game: ReferenceGame) -> None:
    """Full state of batch game e equals the reference game, random streams included."""
    assert batch.houses[e].tolist() == game.houses
    assert batch.nights[e] == game.night
    assert batch.locations[e].tolist() == game.locations
    assert batch.modes[e].tolist() == game.modes
    assert batch.signals[e].tolist() == game.signals
    assert batch.last_target[e].tolist() == game.last_targets
    assert batch.streams[e].tolist() == [game.world_rng.state,
                                         *(rng.state for rng in game.agent_rngs)]
    for i, params in enumerate(game.params):
        if params is not None:
            assert batch.params[e, i].tolist() == list(params)
    for k, agent in enumerate(batch.external_agents):
        assert batch.observations[e, k].tolist() == as_obs(game.observation(agent))


def play_both(scenario: Scenario, seats: Sequence[Seat], num_games: int, seed: int,
              nights: int) -> int:
    """Play random external actions in both engines, comparing every night; games ended."""
    batch = GameBatch(scenario, seats, num_games, seed)
    games = [ReferenceGame(scenario, seats, seed, e) for e in range(num_games)]
    external = [int(a) for a in batch.external_agents]
    rng = np.random.default_rng(seed)
    limits = [scenario.num_houses, 2, 2]
    finished = 0
    for e, game in enumerate(games):
        assert_same_game(batch, e, game)
    for _ in range(nights):
        # Independent signals, so cheap talk that differs from the mode is covered.
        actions = rng.integers(0, limits, size=(num_games, len(external), 3))
        _, rewards, done = batch.step(actions)
        for e, game in enumerate(games):
            reference_rewards = game.step(
                {a: tuple(int(v) for v in actions[e, k]) for k, a in enumerate(external)})
            assert max(abs(a - b) for a, b in zip(rewards[e], reference_rewards)) < 1e-9
            assert done[e] == game.done
            if game.done:
                finished += 1
                assert_same_finish(batch, e, game, external)
                game.reset()
            assert_same_game(batch, e, game)
    return finished


def assert_same_finish(batch: GameBatch, e: int, game: ReferenceGame,
                       external: list[int]) -> None:
    final = batch.finished
    assert final.nights[e] == game.night
    assert final.houses_saved[e] == game.houses.count(SAFE)
    assert final.houses_ruined[e] == game.houses.count(RUINED)
    for i in range(game.num_agents):
        assert final.scores[e, i] == pytest.approx(game.scores[i], abs=1e-9)
        assert final.scores[e, i] == pytest.approx(game.final_score(i), abs=1e-9)
        assert final.work_rate[e, i] == game.work_nights[i] / game.night
        assert final.honesty[e, i] == game.honest_nights[i] / game.night
    for k, agent in enumerate(external):
        assert final.observations[e, k].tolist() == as_obs(game.observation(agent))


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", SCENARIOS)
def test_engines_agree_on_every_scenario(name: str, layout: str) -> None:
    finished = play_both(SCENARIOS[name], LAYOUTS[layout], num_games=3, seed=7, nights=250)
    assert finished >= 3


@pytest.mark.parametrize(("name", "overrides", "seats"), ODD_LAYOUTS)
def test_engines_agree_on_other_sizes(name: str, overrides: dict, seats: list[Seat]) -> None:
    finished = play_both(get_scenario(name, **overrides), seats, num_games=3, seed=31,
                         nights=250)
    assert finished >= 3


seat_specs = st.sampled_from(["external", *ARCHETYPES, RANDOM, "pool:hero,random,liar"])


@st.composite
def games_to_play(draw: st.DrawFn) -> tuple[Scenario, list[Seat], int]:
    probability = st.floats(0.0, 1.0)
    num_houses = draw(st.integers(2, 12))
    num_agents = draw(st.integers(2, num_houses))
    min_nights = draw(st.integers(1, 20))
    scenario = get_scenario(
        "default",
        num_houses=num_houses,
        prob_fire_spreads_to_neighbor=draw(probability),
        prob_solo_agent_extinguishes_fire=draw(probability),
        prob_house_catches_fire=draw(st.floats(0.0, 0.3)),
        initial_fire_fraction=draw(probability),
        cost_to_work_one_night=draw(st.floats(0.0, 2.0)),
        reward_own_house_survives=draw(st.floats(0.0, 50.0)),
        penalty_own_house_burns=draw(st.floats(0.0, 50.0)),
        min_nights=min_nights,
        max_nights=draw(st.integers(min_nights, 40)),
    )
    specs = draw(st.lists(seat_specs, min_size=num_agents, max_size=num_agents))
    seats = [EXTERNAL if spec == "external" else make_seat(spec) for spec in specs]
    return scenario, seats, draw(st.integers(0, 2**64 - 1))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(games_to_play())
def test_engines_agree_on_random_games(game: tuple[Scenario, list[Seat], int]) -> None:
    scenario, seats, seed = game
    play_both(scenario, seats, num_games=2, seed=seed, nights=60)


# -- the batch on its own --------------------------------------------------------------

def run_batch(seats: Sequence[Seat], num_games: int, seed: int, nights: int,
              actions: np.ndarray) -> dict[str, np.ndarray]:
    """Every array the batch hands out, night by night, for ``actions`` [nights, E, X, 3]."""
    batch = GameBatch(SCENARIOS["hard"], seats, num_games, seed)
    record: dict[str, list[np.ndarray]] = {"obs": [batch.observations.copy()], "rewards": [],
                                            "done": [], "scores": [], "houses": []}
    for t in range(nights):
        obs, rewards, done = batch.step(actions[t, :num_games])
        record["obs"].append(obs.copy())
        record["rewards"].append(rewards.copy())
        record["done"].append(done.copy())
        record["scores"].append(np.where(done[:, None], batch.finished.scores, 0.0))
        record["houses"].append(batch.houses.copy())
    return {key: np.stack(values) for key, values in record.items()}


def test_same_seed_gives_bit_identical_games() -> None:
    seats = LAYOUTS["random_and_pools"]
    actions = np.random.default_rng(0).integers(0, [10, 2, 2], size=(200, 16, 1, 3))
    first = run_batch(seats, 16, 123, 200, actions)
    second = run_batch(seats, 16, 123, 200, actions)
    other = run_batch(seats, 16, 124, 200, actions)
    for key in first:
        np.testing.assert_array_equal(first[key], second[key])
    assert not np.array_equal(first["houses"], other["houses"])


def test_reset_with_the_same_seed_replays() -> None:
    batch = GameBatch(SCENARIOS["default"], LAYOUTS["learner_and_archetypes"], 8, seed=5)
    start = batch.observations.copy()
    rest = np.zeros((8, 1, 3), dtype=np.int64)
    first = [batch.step(rest)[1].copy() for _ in range(30)]
    np.testing.assert_array_equal(batch.reset(5), start)
    second = [batch.step(rest)[1].copy() for _ in range(30)]
    np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize("small", [1, 17])
def test_a_game_does_not_depend_on_batch_size(small: int) -> None:
    seats = LAYOUTS["random_and_pools"]
    actions = np.random.default_rng(1).integers(0, [10, 2, 2], size=(150, 64, 1, 3))
    large = run_batch(seats, 64, 99, 150, actions)
    alone = run_batch(seats, small, 99, 150, actions)
    for key in large:
        np.testing.assert_array_equal(alone[key], large[key][:, :small])


# -- distributions, independent of the shared random streams ----------------------------

def houses_saved_by_batch(scenario: Scenario, seats: Sequence[Seat], games: int,
                          seed: int) -> np.ndarray:
    """Houses saved in the first game of each of ``games`` parallel games."""
    batch = GameBatch(scenario, seats, games, seed)
    rest = np.zeros((games, 1, 3), dtype=np.int64)
    saved = np.full(games, -1)
    while (saved < 0).any():
        _, _, done = batch.step(rest)
        first = done & (saved < 0)
        saved[first] = batch.finished.houses_saved[first]
    return saved


def houses_saved_by_reference(scenario: Scenario, seats: Sequence[Seat], games: int,
                              seed: int) -> np.ndarray:
    game = ReferenceGame(scenario, seats, seed)
    saved = []
    while len(saved) < games:
        game.step({0: (0, 0, 0)})
        if game.done:
            saved.append(game.houses.count(SAFE))
            game.reset()
    return np.array(saved)


@pytest.mark.parametrize("name", ["default", "hard", "rest_trap"])
def test_houses_saved_has_the_same_distribution(name: str) -> None:
    """Different seeds in the two engines, so only the rules can make the means agree."""
    seats = LAYOUTS["random_and_pools"]
    batch = houses_saved_by_batch(SCENARIOS[name], seats, 400, seed=1001)
    reference = houses_saved_by_reference(SCENARIOS[name], seats, 400, seed=2002)
    standard_error = math.sqrt(batch.var(ddof=1) / batch.size
                               + reference.var(ddof=1) / reference.size)
    assert abs(batch.mean() - reference.mean()) < 5 * standard_error
