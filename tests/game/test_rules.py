"""Each phase of a night, as RULES.md states it, on hand-built states.

Most tests drive the batched engine (many games at once make the statistics
cheap); the cross-check proves the reference engine plays the same games.
Probabilities are checked with binomial bounds of 5 standard deviations.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from itertools import combinations

import numpy as np
import pytest
from scipy import stats

from bucket_brigade.engine import kernel
from bucket_brigade.engine.batch import GameBatch
from bucket_brigade.game.constants import BURNING, REST, RUINED, SAFE, WORK
from bucket_brigade.game.observation import ObservationLayout
from bucket_brigade.game.reference import ReferenceGame
from bucket_brigade.game.scenarios import SCENARIOS, Scenario, get_scenario
from bucket_brigade.game.seat import Seat

SIGMAS = 5.0
# Isolate phases: no sparks, no spread, no initial fires, no early end.
QUIET = {"prob_house_catches_fire": 0.0, "prob_fire_spreads_to_neighbor": 0.0,
         "initial_fire_fraction": 0.0, "min_nights": 50}

BatchFactory = Callable[..., GameBatch]


def actions_for(batch: GameBatch, choices: dict[int, tuple[int, int, int]]) -> np.ndarray:
    """Actions of an all-external batch from absolute (house, mode, signal); others rest home."""
    actions = np.zeros((batch.num_games, batch.num_agents, 3), dtype=np.int64)
    for agent, (house, mode, signal) in choices.items():
        actions[:, agent] = ((house - agent) % batch.num_houses, mode, signal)
    return actions


def assert_rate(hits: np.ndarray, probability: float) -> None:
    """The mean of Bernoulli outcomes is within SIGMAS binomial standard errors."""
    n = hits.size
    sigma = math.sqrt(probability * (1 - probability) / n)
    assert abs(hits.mean() - probability) <= SIGMAS * sigma + 1e-12, (hits.mean(), probability)


# -- 2. extinguish ---------------------------------------------------------------------

def test_extinguish_probability_for_zero_to_three_workers(external_batch: BatchFactory) -> None:
    kappa = 0.3
    batch = external_batch(num_agents=3, num_games=8000, seed=11, **QUIET,
                           prob_solo_agent_extinguishes_fire=kappa)
    for workers in range(4):
        batch.houses[:] = SAFE
        batch.houses[:, 4] = BURNING
        batch.step(actions_for(batch, {i: (4, WORK, WORK) for i in range(workers)}))
        put_out = batch.houses[:, 4] == SAFE
        assert np.all(put_out | (batch.houses[:, 4] == RUINED))
        assert np.all(np.delete(batch.houses, 4, axis=1) == SAFE)
        if workers == 0:
            assert not put_out.any()
        else:
            assert_rate(put_out, 1 - (1 - kappa) ** workers)


def test_resting_at_a_burning_house_does_not_fight_it(external_batch: BatchFactory) -> None:
    batch = external_batch(num_agents=3, num_games=50, seed=3, **QUIET,
                           prob_solo_agent_extinguishes_fire=1.0)
    batch.houses[:, 6] = BURNING
    batch.step(actions_for(batch, {0: (6, REST, WORK), 1: (6, REST, WORK)}))
    assert np.all(batch.houses[:, 6] == RUINED)


def test_working_where_nothing_burns_has_no_effect_but_costs(
        external_batch: BatchFactory) -> None:
    overrides = {"min_nights": 50, "prob_house_catches_fire": 0.3}
    idle = external_batch(num_agents=3, num_games=200, seed=5, **overrides)
    busy = external_batch(num_agents=3, num_games=200, seed=5, **overrides)
    for batch in (idle, busy):
        batch.houses[:] = SAFE
        batch.houses[:, 2] = BURNING
        batch.houses[:, 8] = RUINED
    idle.step(actions_for(idle, {}))
    # Agent 0 works at a SAFE house, agent 1 at a RUINED one; agent 2 rests.
    busy.step(actions_for(busy, {0: (7, WORK, WORK), 1: (8, WORK, WORK)}))
    np.testing.assert_array_equal(busy.houses, idle.houses)
    np.testing.assert_array_equal(busy.streams, idle.streams)  # not a single extra draw
    scenario = busy.scenario
    lost = scenario.cost_to_work_one_night + scenario.reward_rest
    np.testing.assert_allclose(busy.rewards[:, :2], idle.rewards[:, :2] - lost, atol=1e-12)
    np.testing.assert_array_equal(busy.rewards[:, 2], idle.rewards[:, 2])


# -- 3. spread -------------------------------------------------------------------------

def test_spread_probability_to_each_neighbour(external_batch: BatchFactory) -> None:
    beta = 0.3
    batch = external_batch(num_agents=2, num_games=8000, seed=21,
                           **{**QUIET, "prob_fire_spreads_to_neighbor": beta})
    batch.houses[:, 5] = BURNING
    batch.step(actions_for(batch, {}))
    left, right = batch.houses[:, 4] == BURNING, batch.houses[:, 6] == BURNING
    assert_rate(left, beta)
    assert_rate(right, beta)
    assert_rate(left & right, beta * beta)  # independent draws
    assert np.all(batch.houses[:, 5] == RUINED)
    assert np.all(batch.houses[:, [0, 1, 2, 3, 7, 8, 9]] == SAFE)  # no chain in one night


def test_new_fires_burn_from_the_next_night(external_batch: BatchFactory) -> None:
    batch = external_batch(num_agents=2, num_games=4, seed=1,
                           **{**QUIET, "prob_fire_spreads_to_neighbor": 1.0})
    batch.houses[:, 5] = BURNING
    rest = actions_for(batch, {})
    batch.step(rest)
    np.testing.assert_array_equal(batch.houses[0], [0, 0, 0, 0, 1, 2, 1, 0, 0, 0])
    batch.step(rest)
    np.testing.assert_array_equal(batch.houses[0], [0, 0, 0, 1, 2, 2, 2, 1, 0, 0])
    assert np.all(batch.houses == batch.houses[0])


def test_only_fires_not_put_out_spread(external_batch: BatchFactory) -> None:
    batch = external_batch(num_agents=2, num_games=20, seed=2,
                           **{**QUIET, "prob_fire_spreads_to_neighbor": 1.0,
                              "prob_solo_agent_extinguishes_fire": 1.0})
    batch.houses[:, 5] = BURNING
    batch.step(actions_for(batch, {0: (5, WORK, WORK)}))
    assert np.all(batch.houses == SAFE)


def test_spread_reaches_only_safe_neighbours_after_extinguishing(
        external_batch: BatchFactory) -> None:
    batch = external_batch(num_agents=2, num_games=20, seed=2,
                           **{**QUIET, "prob_fire_spreads_to_neighbor": 1.0,
                              "prob_solo_agent_extinguishes_fire": 1.0})
    # 4 and 5 burn; 4 is put out and then caught again from 5; 6 is ruined already.
    batch.houses[:, 4] = BURNING
    batch.houses[:, 5] = BURNING
    batch.houses[:, 6] = RUINED
    batch.step(actions_for(batch, {0: (4, WORK, WORK)}))
    np.testing.assert_array_equal(batch.houses[0], [0, 0, 0, 0, 1, 2, 2, 0, 0, 0])
    assert np.all(batch.houses == batch.houses[0])


@pytest.mark.parametrize(("num_houses", "neighbours"), [(2, [1]), (3, [1, 2])])
def test_small_rings(external_batch: BatchFactory, num_houses: int,
                     neighbours: list[int]) -> None:
    """On H = 2 both sides are the same house: one neighbour, one draw, probability beta."""
    beta = 0.5
    batch = external_batch(num_agents=2, num_games=8000, seed=8, num_houses=num_houses,
                           **{**QUIET, "prob_fire_spreads_to_neighbor": beta})
    batch.houses[:, 0] = BURNING
    batch.step(actions_for(batch, {}))
    for house in neighbours:
        assert_rate(batch.houses[:, house] == BURNING, beta)


# -- 4. burn-out -----------------------------------------------------------------------

def test_ruined_is_permanent(external_batch: BatchFactory) -> None:
    batch = external_batch(num_agents=3, num_games=30, seed=4, min_nights=50,
                           prob_house_catches_fire=1.0, prob_fire_spreads_to_neighbor=1.0,
                           prob_solo_agent_extinguishes_fire=1.0)
    batch.houses[:] = SAFE
    batch.houses[:, :4] = RUINED
    for _ in range(5):
        # Everyone works at a ruined house, which must not bring it back.
        batch.step(actions_for(batch, {0: (0, WORK, WORK), 1: (1, WORK, WORK),
                                       2: (3, WORK, WORK)}))
        assert np.all(batch.houses[:, :4] == RUINED)
    assert np.all(batch.houses == RUINED)  # sparks, then burn-out, took all the rest


def test_fire_not_put_out_ruins_its_house(external_batch: BatchFactory) -> None:
    batch = external_batch(num_agents=2, num_games=10, seed=4, **QUIET,
                           prob_solo_agent_extinguishes_fire=0.0)
    batch.houses[:, [1, 2, 9]] = BURNING
    batch.step(actions_for(batch, {0: (1, WORK, WORK), 1: (2, WORK, WORK)}))
    assert np.all(batch.houses[:, [1, 2, 9]] == RUINED)


# -- 5. sparks and reset -----------------------------------------------------------------

def test_spark_probability(external_batch: BatchFactory) -> None:
    spark = 0.2
    batch = external_batch(num_agents=2, num_games=5000, seed=9,
                           **{**QUIET, "prob_house_catches_fire": spark})
    batch.houses[:, 0] = RUINED
    batch.step(actions_for(batch, {}))
    assert np.all(batch.houses[:, 0] == RUINED)
    assert_rate(batch.houses[:, 1:] == BURNING, spark)


def test_a_house_put_out_tonight_can_spark(external_batch: BatchFactory) -> None:
    batch = external_batch(num_agents=2, num_games=10, seed=9,
                           **{**QUIET, "prob_house_catches_fire": 1.0,
                              "prob_solo_agent_extinguishes_fire": 1.0})
    batch.houses[:, 3] = BURNING
    batch.step(actions_for(batch, {1: (3, WORK, WORK)}))
    assert np.all(batch.houses == BURNING)


def test_sparks_skip_houses_just_ignited(external_batch: BatchFactory,
                                         count_draws: Callable) -> None:
    """Only the world's draw count can tell: no spark draw for a house spread just lit."""
    batch = external_batch(num_agents=2, num_games=3, seed=9,
                           **{**QUIET, "prob_fire_spreads_to_neighbor": 1.0,
                              "prob_house_catches_fire": 0.5})
    batch.houses[:, 5] = BURNING
    before = batch.streams[:, 0].copy()
    batch.step(actions_for(batch, {}))
    # 2 spread draws (houses 4, 6), then sparks for the 7 houses neither ruined nor lit.
    np.testing.assert_array_equal(count_draws(before, batch.streams[:, 0]), 2 + 7)


@pytest.mark.parametrize(("num_houses", "fraction", "fires"),
                         [(10, 0.2, 2), (7, 0.5, 4), (5, 0.5, 2), (9, 0.0, 0), (6, 1.0, 6)])
def test_reset_lights_rounded_number_of_distinct_houses(
        external_batch: BatchFactory, num_houses: int, fraction: float, fires: int) -> None:
    batch = external_batch(num_agents=2, num_games=50, seed=1, num_houses=num_houses,
                           initial_fire_fraction=fraction)
    assert fires == round(fraction * num_houses)  # Python rounds half to even: 2.5 -> 2
    assert np.all((batch.houses == BURNING).sum(axis=1) == fires)
    assert np.all(np.isin(batch.houses, [SAFE, BURNING]))
    game = ReferenceGame(batch.scenario, [Seat()] * 2, seed=1)
    assert game.houses.count(BURNING) == fires


def test_reset_fires_are_uniform(external_batch: BatchFactory) -> None:
    batch = external_batch(num_agents=2, num_games=12000, seed=77, initial_fire_fraction=0.3)
    burning = batch.houses == BURNING
    per_house = burning.sum(axis=0)
    assert stats.chisquare(per_house).pvalue > 1e-6
    subsets = Counter(tuple(np.flatnonzero(row)) for row in burning)
    counts = [subsets[c] for c in combinations(range(10), 3)]
    assert sum(counts) == batch.num_games
    assert stats.chisquare(counts).pvalue > 1e-6


# -- 7. end ----------------------------------------------------------------------------

def test_game_ends_at_min_nights_without_fire(external_batch: BatchFactory) -> None:
    batch = external_batch(num_agents=2, num_games=4, **{**QUIET, "min_nights": 3,
                                                        "max_nights": 10})
    rest = actions_for(batch, {})
    done = [bool(batch.step(rest)[2].all()) for _ in range(3)]
    assert done == [False, False, True]
    assert np.all(batch.finished.nights == 3)
    assert np.all(batch.nights == 0)  # restarted in the same call


def test_fire_keeps_the_game_going_until_max_nights(external_batch: BatchFactory) -> None:
    batch = external_batch(num_agents=2, num_games=4, **{**QUIET, "min_nights": 2,
                                                        "max_nights": 5,
                                                        "prob_house_catches_fire": 1.0})
    rest = actions_for(batch, {})
    done = []
    for _ in range(5):
        batch.houses[:] = SAFE  # every house sparks tonight, so fire remains at dawn
        done.append(bool(batch.step(rest)[2].all()))
    assert done == [False, False, False, False, True]
    assert np.all(batch.finished.nights == 5)
    assert np.all(batch.finished.houses_saved == 0)
    assert np.all(batch.finished.houses_ruined == 0)  # all burning at the end


def test_reference_game_ends_by_the_same_rule() -> None:
    scenario = get_scenario("default", **{**QUIET, "min_nights": 2, "max_nights": 4,
                                          "prob_house_catches_fire": 1.0})
    game = ReferenceGame(scenario, [Seat(), Seat()], seed=3)
    flags = []
    for _ in range(4):
        game.houses = [SAFE] * 10
        game.step({0: (0, REST, REST), 1: (0, REST, REST)})
        flags.append(game.done)
    assert flags == [False, False, False, True]
    quiet = ReferenceGame(get_scenario("default", **{**QUIET, "min_nights": 2}),
                          [Seat(), Seat()], seed=3)
    quiet.step({0: (0, REST, REST), 1: (0, REST, REST)})
    assert not quiet.done
    quiet.step({0: (0, REST, REST), 1: (0, REST, REST)})
    assert quiet.done


# -- 6. rewards and score ----------------------------------------------------------------

def potential(scenario: Scenario, houses: Sequence[int], agent: int, num_agents: int) -> float:
    """Φ_i(s) written straight from RULES.md."""
    h = scenario.num_houses
    owned = [houses[j] for j in range(h) if j % num_agents == agent]
    return (scenario.team_reward_house_survives * list(houses).count(SAFE) / h
            - scenario.team_penalty_house_burns * list(houses).count(RUINED) / h
            + scenario.reward_own_house_survives * owned.count(SAFE) / len(owned)
            - scenario.penalty_own_house_burns * owned.count(RUINED) / len(owned))


def score(scenario: Scenario, houses: Sequence[int], agent: int, num_agents: int,
          nights: int, worked: int) -> float:
    """The RULES.md score formula: effort terms plus the end-of-game team and own terms."""
    effort = (nights - worked) * scenario.reward_rest - worked * scenario.cost_to_work_one_night
    return effort + potential(scenario, houses, agent, num_agents)


def houses_from_observation(obs: np.ndarray, agent: int, num_houses: int) -> list[int]:
    """Absolute house states from agent ``agent``'s egocentric observation."""
    houses = [0] * num_houses
    for m in range(num_houses):
        houses[(agent + m) % num_houses] = int(obs[m])
    return houses


@pytest.mark.parametrize("name", SCENARIOS)
@pytest.mark.parametrize(("num_houses", "num_agents"), [(10, 4), (7, 3)])
def test_batch_rewards_sum_to_the_score(name: str, num_houses: int, num_agents: int,
                                        external_batch: BatchFactory) -> None:
    num_games = 12
    batch = external_batch(num_agents=num_agents, num_games=num_games, seed=13,
                           scenario=name, num_houses=num_houses, max_nights=40)
    rng = np.random.default_rng(13)
    totals = np.zeros((num_games, num_agents))
    worked = np.zeros((num_games, num_agents), dtype=np.int64)
    finished_games = 0
    for _ in range(90):
        actions = rng.integers(0, [num_houses, 2, 2], size=(num_games, num_agents, 3))
        _, rewards, done = batch.step(actions)
        totals += rewards
        worked += actions[:, :, 1]
        for e in np.flatnonzero(done):
            finished_games += 1
            final = batch.finished
            np.testing.assert_allclose(final.scores[e], totals[e], rtol=0, atol=1e-9)
            for i in range(num_agents):
                houses = houses_from_observation(final.observations[e, i], i, num_houses)
                expected = score(batch.scenario, houses, i, num_agents, int(final.nights[e]),
                                 int(worked[e, i]))
                assert totals[e, i] == pytest.approx(expected, abs=1e-9)
                assert final.work_rate[e, i] == worked[e, i] / final.nights[e]
            totals[e] = 0.0
            worked[e] = 0
    assert finished_games >= num_games


@pytest.mark.parametrize("name", SCENARIOS)
def test_reference_rewards_sum_to_the_score(name: str) -> None:
    scenario = get_scenario(name, num_houses=7)
    num_agents = 3
    rng = np.random.default_rng(17)
    for game_index in range(3):
        game = ReferenceGame(scenario, [Seat()] * num_agents, seed=17, game_index=game_index)
        totals = np.zeros(num_agents)
        worked = np.zeros(num_agents, dtype=np.int64)
        while not game.done:
            actions = {i: tuple(int(v) for v in rng.integers(0, [7, 2, 2]))
                       for i in range(num_agents)}
            totals += game.step(actions)
            worked += [actions[i][1] for i in range(num_agents)]
        for i in range(num_agents):
            expected = score(scenario, game.houses, i, num_agents, game.night, int(worked[i]))
            assert totals[i] == pytest.approx(expected, abs=1e-9)
            assert game.final_score(i) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("name", ["default", "mixed_motivation"])
def test_first_night_reward_includes_the_whole_potential(
        name: str, external_batch: BatchFactory) -> None:
    batch = external_batch(num_agents=4, num_games=20, seed=6, scenario=name)
    _, rewards, done = batch.step(actions_for(batch, {2: (0, WORK, REST)}))
    assert not done.any()
    scenario = batch.scenario
    for e in range(batch.num_games):
        for i in range(4):
            effort = -scenario.cost_to_work_one_night if i == 2 else scenario.reward_rest
            expected = effort + potential(scenario, batch.houses[e], i, 4)
            assert rewards[e, i] == pytest.approx(expected, abs=1e-12)


def test_mixed_motivation_own_house_terms(external_batch: BatchFactory) -> None:
    """A ruin costs its owner L/H + P_own/owned; a ruin elsewhere costs only L/H."""
    batch = external_batch(num_agents=4, num_games=1, scenario="mixed_motivation", **QUIET)
    rest = actions_for(batch, {})
    batch.step(rest)  # night 1: everything safe, the potential is collected in full
    batch.houses[0, 1] = BURNING  # house 1 belongs to agent 1 (which owns houses 1, 5, 9)
    _, rewards, _ = batch.step(rest)
    # From all safe to house 1 ruined: the team loses (A + L)/H, agent 1 also (B + P)/3.
    team = -(100 + 100) / 10
    np.testing.assert_allclose(rewards[0], [0.5 + team, 0.5 + team - (30 + 30) / 3,
                                            0.5 + team, 0.5 + team], atol=1e-12)


# -- observations ----------------------------------------------------------------------

def expected_observation(scenario: Scenario, agent: int, houses: Sequence[int],
                         locations: Sequence[int], modes: Sequence[int],
                         signals: Sequence[int]) -> np.ndarray:
    """RULES.md's egocentric observation, built independently of both engines."""
    h, n = scenario.num_houses, len(locations)
    order = [(agent + k) % n for k in range(n)]
    relative = [(locations[a] - agent) % h for a in order]
    parts: list[float] = [houses[(agent + m) % h] for m in range(h)]
    parts += [signals[a] for a in order]
    parts += relative
    for a, rel in zip(order, relative):
        parts += [rel, modes[a]]
    parts += scenario.info_vector(n)
    return np.array(parts, dtype=np.float32)


def test_observation_literal_example() -> None:
    scenario = get_scenario("default", num_houses=5)
    houses, locations, modes, signals = [0, 1, 2, 0, 1], [4, 0, 2], [0, 1, 1], [1, 0, 1]
    info = scenario.info_vector(3)
    # Agent 2: houses 2,3,4,0,1; agents 2,0,1; locations relative to house 2.
    literal = [2, 0, 1, 0, 1, 1, 1, 0, 0, 2, 3, 0, 1, 2, 0, 3, 1, *info]
    np.testing.assert_array_equal(
        expected_observation(scenario, 2, houses, locations, modes, signals),
        np.array(literal, dtype=np.float32))
    game = ReferenceGame(scenario, [Seat()] * 3)
    game.houses, game.locations, game.modes, game.signals = houses, locations, modes, signals
    np.testing.assert_array_equal(np.array(game.observation(2), dtype=np.float32),
                                  np.array(literal, dtype=np.float32))
    out = np.zeros(len(literal), dtype=np.float32)
    kernel._write_obs(0, 2, np.array([houses], dtype=np.int8), np.array([locations]),
                      np.array([modes], dtype=np.int8), np.array([signals], dtype=np.int8),
                      np.array(info, dtype=np.float32),
                      ObservationLayout(5, 3).offsets, out)
    np.testing.assert_array_equal(out, np.array(literal, dtype=np.float32))


def test_first_observation_shows_everyone_resting_at_home(
        external_batch: BatchFactory) -> None:
    batch = external_batch(num_agents=3, num_games=5, seed=2, num_houses=7)
    for e in range(batch.num_games):
        for i in range(3):
            expected = expected_observation(batch.scenario, i, batch.houses[e], [0, 1, 2],
                                            [REST] * 3, [REST] * 3)
            np.testing.assert_array_equal(batch.observations[e, i], expected)
    # Agent 2 lists agents 2, 0, 1, whose homes are 0, 5, 6 houses from its own.
    np.testing.assert_array_equal(batch.observations[0, 2, 7 + 3:7 + 6], [0, 5, 6])


def test_observation_after_a_night_for_every_agent(external_batch: BatchFactory) -> None:
    batch = external_batch(num_agents=3, num_games=6, seed=12, num_houses=7,
                           prob_house_catches_fire=0.2)
    choices = {0: (5, WORK, REST), 1: (3, REST, WORK), 2: (2, WORK, WORK)}
    batch.step(actions_for(batch, choices))
    locations = [5, 3, 2]
    modes = [WORK, REST, WORK]
    signals = [REST, WORK, WORK]
    for e in range(batch.num_games):
        for i in range(3):
            expected = expected_observation(batch.scenario, i, batch.houses[e], locations,
                                            modes, signals)
            np.testing.assert_array_equal(batch.observations[e, i], expected)

    game = ReferenceGame(batch.scenario, [Seat()] * 3, seed=12)
    game.step({i: ((house - i) % 7, mode, signal)
               for i, (house, mode, signal) in choices.items()})
    for i in range(3):
        expected = expected_observation(batch.scenario, i, game.houses, locations, modes,
                                        signals)
        np.testing.assert_array_equal(np.array(game.observation(i), dtype=np.float32),
                                      expected)


def test_relative_action_house_is_counted_from_home(external_batch: BatchFactory) -> None:
    batch = external_batch(num_agents=3, num_games=4, num_houses=7, **QUIET,
                           prob_solo_agent_extinguishes_fire=1.0)
    batch.houses[:, 1] = BURNING
    actions = np.zeros((4, 3, 3), dtype=np.int64)
    actions[:, 2] = (6, WORK, WORK)  # agent 2, six houses on: absolute (2 + 6) mod 7 = 1
    batch.step(actions)
    assert np.all(batch.locations[:, 2] == 1)
    assert np.all(batch.houses[:, 1] == SAFE)
    game = ReferenceGame(batch.scenario, [Seat()] * 3)
    game.houses[1] = BURNING
    game.step({0: (0, REST, REST), 1: (0, REST, REST), 2: (6, WORK, WORK)})
    assert game.locations[2] == 1
    assert game.houses[1] == SAFE
