"""Scripted agents: targeting rules with chosen draws, the kernel twin, archetype behaviour."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pytest

from bucket_brigade.agents.strategies import make_seat
from bucket_brigade.engine import kernel
from bucket_brigade.engine.batch import GameBatch
from bucket_brigade.game.constants import BURNING, REST, SAFE, WORK
from bucket_brigade.game.rng import SplitMix64
from bucket_brigade.game.scenarios import get_scenario
from bucket_brigade.game.scripted import (
    ARCHETYPES,
    DRAWS_PER_NIGHT,
    EXPLORATION,
    HONESTY,
    NUM_PARAMS,
    OWN_PRIORITY,
    PARAM_NAMES,
    REST_BIAS,
    RISK_AVERSION,
    WORK_TENDENCY,
    scripted_action,
)


class Draws:
    """Stands in for an agent's stream: the seven draws of one night, chosen by the test."""

    def __init__(self, work: float = 0.0, tie: float = 0.0, fatigue: float = 0.99,
                 explore: float = 0.99, house: float = 0.0, mode: float = 0.0,
                 honest: float = 0.0) -> None:
        self.values = [work, tie, fatigue, explore, house, mode, honest]
        assert len(self.values) == DRAWS_PER_NIGHT

    def uniform(self) -> float:
        return self.values.pop(0)


def make_params(**values: float) -> list[float]:
    """A parameter vector that always works when there is fire, plus the given values."""
    params = [0.0] * NUM_PARAMS
    params[HONESTY] = 1.0
    params[WORK_TENDENCY] = 1.0
    for name, value in values.items():
        params[PARAM_NAMES.index(name)] = value
    return params


def fires(num_houses: int, *burning: int) -> list[int]:
    houses = [SAFE] * num_houses
    for j in burning:
        houses[j] = BURNING
    return houses


def act(params: Sequence[float], houses: Sequence[int], draws: Draws, *, agent: int = 0,
        num_agents: int = 2, last_signals: Sequence[int] | None = None,
        last_locations: Sequence[int] | None = None,
        last_target: int = -1) -> tuple[int, int, int]:
    signals = [REST] * num_agents if last_signals is None else last_signals
    locations = list(range(num_agents)) if last_locations is None else last_locations
    action = scripted_action(agent, params, houses, signals, locations, last_target,
                             draws)  # type: ignore[arg-type]
    assert draws.values == []  # all seven draws are taken, whatever the decision
    return action


# -- the decision, step by step ------------------------------------------------------------

def test_no_fire_rests_at_home_without_exploring() -> None:
    params = make_params(exploration=1.0, honesty=0.5)
    assert act(params, fires(10), Draws(explore=0.0, house=0.7, mode=0.9), agent=1) == \
        (1, REST, REST)
    # The honesty draw still applies: a dishonest agent claims to work.
    assert act(params, fires(10), Draws(honest=0.6), agent=1) == (1, REST, WORK)


def test_work_intent() -> None:
    params = make_params(work_tendency=0.3, risk_aversion=0.4, own_priority=0.2,
                         rest_bias=0.5)
    houses = fires(10, 2, 5)  # b = 0.2; house 2 is agent 0's (N = 2)
    intent = (0.3 + 0.4 * 0.2 + 0.5 * 0.2) * 0.5
    assert act(params, houses, Draws(work=intent - 1e-6))[1] == WORK
    assert act(params, houses, Draws(work=intent + 1e-6)) == (0, REST, REST)
    # Without an owned fire the own_priority term disappears.
    houses = fires(10, 3, 5)
    intent = (0.3 + 0.4 * 0.2) * 0.5
    assert act(params, houses, Draws(work=intent - 1e-6))[1] == WORK
    assert act(params, houses, Draws(work=intent + 1e-6))[1] == REST


def test_intent_is_clipped() -> None:
    params = make_params(work_tendency=1.0, risk_aversion=1.0, own_priority=1.0)
    assert act(params, fires(10, 0, 1, 2), Draws(work=0.999999))[1] == WORK
    assert act(make_params(rest_bias=1.0), fires(10, 4), Draws(work=0.0))[1] == REST


def test_target_is_the_nearest_fire_by_ring_distance() -> None:
    assert act(make_params(), fires(10, 3, 8), Draws()) == (8, WORK, WORK)  # 2 vs 3 away


def test_target_prefers_owned_houses() -> None:
    houses = fires(10, 3, 4)  # agent 0 of 2 owns the even houses
    assert act(make_params(), houses, Draws())[0] == 3
    assert act(make_params(own_priority=1.0), houses, Draws())[0] == 4


def test_target_neighbor_help() -> None:
    houses = fires(10, 2, 4)  # N = 5: agent 0 owns 0 and 5; house 4 is next to 5
    assert act(make_params(), houses, Draws(), num_agents=5)[0] == 2
    assert act(make_params(neighbor_help=0.5), houses, Draws(), num_agents=5)[0] == 4


def test_target_altruism() -> None:
    houses = fires(10, 2, 5)  # N = 5: house 5 is agent 0's, house 2 is not
    assert act(make_params(own_priority=0.5), houses, Draws(), num_agents=5)[0] == 5
    assert act(make_params(own_priority=0.5, altruism=1.0), houses, Draws(),
               num_agents=5)[0] == 2


def test_ties_are_broken_by_the_tie_draw_in_house_order() -> None:
    houses = fires(10, 1, 9)  # both one house from home, neither owned, both next to owned
    assert act(make_params(), houses, Draws(tie=0.49))[0] == 1
    assert act(make_params(), houses, Draws(tie=0.5))[0] == 9
    three = fires(10, 1, 5, 9)  # house 5 is farther: only 1 and 9 tie, split in thirds no more
    assert act(make_params(), three, Draws(tie=0.999))[0] == 9


def test_scores_within_tolerance_count_as_ties() -> None:
    houses = fires(10, 1, 2)  # house 1 scores 1/2; owned house 2 scores 1/3 + own_priority
    near = make_params(own_priority=0.5 - 1 / 3 + 5e-10)
    assert act(near, houses, Draws(tie=0.0))[0] == 1
    assert act(near, houses, Draws(tie=0.9))[0] == 2
    clear = make_params(own_priority=0.5 - 1 / 3 + 2e-9)
    assert act(clear, houses, Draws(tie=0.0))[0] == 2


def test_coordination_avoids_houses_others_claimed() -> None:
    houses = fires(10, 1, 9)
    params = make_params(coordination=1.0)
    # Agent 1 said WORK at house 1 last night: that house loses 0.5.
    assert act(params, houses, Draws(tie=0.0), last_signals=[REST, WORK],
               last_locations=[0, 1])[0] == 9
    # Standing there while signalling REST, or claiming it oneself, does not count.
    assert act(params, houses, Draws(tie=0.0), last_signals=[REST, REST],
               last_locations=[0, 1])[0] == 1
    assert act(params, houses, Draws(tie=0.0), last_signals=[WORK, REST],
               last_locations=[1, 0])[0] == 1
    # Each claimant costs 0.5 x coordination: two of them outweigh being much closer.
    params = make_params(coordination=0.6)
    assert act(params, fires(10, 1, 4), Draws(), num_agents=3, last_signals=[REST, WORK, WORK],
               last_locations=[0, 1, 1])[0] == 4


def test_fatigue_memory_keeps_last_target_while_it_burns() -> None:
    params = make_params(fatigue_memory=0.5)
    houses = fires(10, 1, 4)
    assert act(params, houses, Draws(fatigue=0.4), last_target=4)[0] == 4
    assert act(params, houses, Draws(fatigue=0.6), last_target=4)[0] == 1
    assert act(params, houses, Draws(fatigue=0.0), last_target=6)[0] == 1  # not burning
    assert act(params, houses, Draws(fatigue=0.0), last_target=-1)[0] == 1  # rested


def test_exploration_replaces_house_and_mode() -> None:
    params = make_params(exploration=0.3)
    houses = fires(10, 1)
    assert act(params, houses, Draws(explore=0.29, house=0.75, mode=0.2)) == (7, REST, REST)
    assert act(params, houses, Draws(explore=0.29, house=0.0, mode=0.5)) == \
        (0, WORK, WORK)
    assert act(params, houses, Draws(explore=0.31, house=0.75, mode=0.2)) == (1, WORK, WORK)
    rester = make_params(work_tendency=0.0, exploration=0.3)
    assert act(rester, houses, Draws(explore=0.1, house=0.35, mode=0.7)) == (3, WORK, WORK)


def test_honesty_decides_whether_the_signal_is_the_mode() -> None:
    params = make_params(honesty=0.3)
    houses = fires(10, 1)
    assert act(params, houses, Draws(honest=0.29)) == (1, WORK, WORK)
    assert act(params, houses, Draws(honest=0.31)) == (1, WORK, REST)


# -- the kernel's twin takes the same decisions from the same draws -----------------------

def test_kernel_and_reference_decide_identically() -> None:
    rng = np.random.default_rng(2024)
    archetypes = list(ARCHETYPES.values())
    for case in range(3000):
        num_houses = int(rng.integers(2, 13))
        num_agents = int(rng.integers(2, num_houses + 1))
        agent = int(rng.integers(num_agents))
        houses = rng.choice(3, size=num_houses, p=[0.45, 0.4, 0.15]).astype(np.int8)
        locations = rng.integers(0, num_houses, size=num_agents)
        signals = rng.integers(0, 2, size=num_agents).astype(np.int8)
        last_target = rng.integers(-1, num_houses, size=num_agents)
        params = archetypes[case % len(archetypes)] if case % 3 else rng.random(NUM_PARAMS)
        state = int(rng.integers(0, 2**63))
        streams = np.zeros((1, 1 + num_agents), dtype=np.uint64)
        streams[0, 1 + agent] = state
        all_params = np.zeros((1, num_agents, NUM_PARAMS))
        all_params[0, agent] = params
        compiled = kernel._scripted_action(
            0, agent, houses[None], locations[None], signals[None], last_target[None],
            all_params, streams, np.zeros((1, num_houses)), num_houses, num_agents)
        python_rng = SplitMix64(state)
        plain = scripted_action(agent, list(params), houses.tolist(), signals.tolist(),
                                locations.tolist(), int(last_target[agent]), python_rng)
        assert tuple(int(v) for v in compiled) == plain, case
        assert int(streams[0, 1 + agent]) == python_rng.state


# -- archetypes in the batched engine ------------------------------------------------------

@pytest.fixture(scope="module")
def archetype_nights() -> dict[str, np.ndarray]:
    """Per night of 300 games x 150 nights: the houses before it and each seat's choices.

    A game's last night is left out: the game restarts inside the same kernel call,
    so by then ``modes`` and ``signals`` already hold the new game's start.
    """
    seats = [make_seat(name) for name in ("hero", "free_rider", "liar", "coordinator")]
    batch = GameBatch(get_scenario("default"), seats, num_games=300, seed=99)
    no_actions = np.zeros((300, 0, 3), dtype=np.int64)
    record: dict[str, list[np.ndarray]] = {"houses": [], "locations": [], "modes": [],
                                            "signals": []}
    for _ in range(150):
        houses = batch.houses.copy()
        _, _, done = batch.step(no_actions)
        played = ~done
        record["houses"].append(houses[played])
        for key in ("locations", "modes", "signals"):
            record[key].append(getattr(batch, key)[played])
    return {key: np.concatenate(values) for key, values in record.items()}


def test_hero_works_on_every_night_with_fire(archetype_nights: dict[str, np.ndarray]) -> None:
    fire = (archetype_nights["houses"] == BURNING).any(axis=1)
    modes = archetype_nights["modes"][:, 0]
    assert fire.sum() > 10_000
    assert np.all(modes[fire] == WORK)
    assert np.all(modes[~fire] == REST)
    assert np.all(archetype_nights["locations"][~fire, 0] == 0)
    # Heroes work where the fire is (exploration is 0).
    houses = archetype_nights["houses"][fire]
    targets = archetype_nights["locations"][fire, 0]
    assert np.all(houses[np.arange(len(targets)), targets] == BURNING)


def test_free_rider_rarely_works(archetype_nights: dict[str, np.ndarray]) -> None:
    houses = archetype_nights["houses"]
    fire = (houses == BURNING).any(axis=1)
    worked = archetype_nights["modes"][fire, 1] == WORK
    assert worked.mean() < 0.10
    # Sharper: the count matches RULES.md's probability, night by night.
    p = ARCHETYPES["free_rider"]
    own_fire = (houses[fire][:, 1::4] == BURNING).any(axis=1)  # agent 1 of 4 owns 1, 5, 9
    burning = (houses[fire] == BURNING).mean(axis=1)
    intent = np.clip((p[WORK_TENDENCY] + p[RISK_AVERSION] * burning
                      + 0.5 * p[OWN_PRIORITY] * own_fire) * (1 - p[REST_BIAS]), 0, 1)
    chance = p[EXPLORATION] * 0.5 + (1 - p[EXPLORATION]) * intent
    sigma = math.sqrt(float((chance * (1 - chance)).sum()))
    assert abs(worked.sum() - chance.sum()) < 5 * sigma


def test_liar_signal_differs_from_its_mode(archetype_nights: dict[str, np.ndarray]) -> None:
    lies = archetype_nights["signals"][:, 2] != archetype_nights["modes"][:, 2]
    assert lies.mean() >= 0.80
    n = lies.size
    assert abs(lies.mean() - 0.9) < 5 * math.sqrt(0.9 * 0.1 / n)
