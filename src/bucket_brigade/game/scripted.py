"""Scripted agents: the 10-parameter heuristic policy of RULES.md ("Scripted agents").

This module holds the parameter layout, the archetypes and a plain-Python
version of the policy that the reference engine uses. The compiled engine has
its own copy of the same decision in ``bucket_brigade.engine.kernel``; tests
check that both take identical decisions from identical draws.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bucket_brigade.game.constants import BURNING, REST, WORK
from bucket_brigade.game.rng import SplitMix64

PARAM_NAMES = (
    "honesty",
    "work_tendency",
    "neighbor_help",
    "own_priority",
    "risk_aversion",
    "coordination",
    "exploration",
    "fatigue_memory",
    "rest_bias",
    "altruism",
)
NUM_PARAMS = len(PARAM_NAMES)
(HONESTY, WORK_TENDENCY, NEIGHBOR_HELP, OWN_PRIORITY, RISK_AVERSION, COORDINATION,
 EXPLORATION, FATIGUE_MEMORY, REST_BIAS, ALTRUISM) = range(NUM_PARAMS)

# Draws one scripted agent takes each night, always all of them, in this order:
# work intent, target tie-break, fatigue memory, exploration, random house,
# random mode, honesty.
DRAWS_PER_NIGHT = 7
TIE_TOLERANCE = 1e-9

ARCHETYPES: dict[str, np.ndarray] = {
    name: np.array(values, dtype=np.float64)
    for name, values in {
        "firefighter": (1.0, 0.9, 0.5, 0.8, 0.5, 0.7, 0.1, 0.0, 0.0, 0.8),
        "free_rider": (0.7, 0.2, 0.0, 0.9, 0.0, 0.0, 0.1, 0.0, 0.9, 0.0),
        "hero": (1.0, 1.0, 1.0, 0.5, 0.1, 0.5, 0.0, 0.9, 0.0, 1.0),
        "coordinator": (0.9, 0.6, 0.7, 0.6, 0.8, 1.0, 0.05, 0.0, 0.2, 0.6),
        "liar": (0.1, 0.7, 0.0, 0.9, 0.2, 0.8, 0.3, 0.0, 0.4, 0.2),
        "universal_free_rider": (0.306, 0.064, 0.015, 0.907, 0.948, 0.557, 0.598, 0.795,
                                 1.0, 0.85),
    }.items()
}
RANDOM = "random"


def ring_distance(a: int, b: int, num_houses: int) -> int:
    d = abs(a - b)
    return min(d, num_houses - d)


def target_score(house: int, agent: int, params: Sequence[float], num_houses: int,
                 num_agents: int, last_signals: Sequence[int],
                 last_locations: Sequence[int]) -> float:
    """How much a scripted agent wants to work at a burning house (RULES.md step 3)."""
    owned = house % num_agents == agent
    left, right = (house - 1) % num_houses, (house + 1) % num_houses
    next_to_owned = left % num_agents == agent or right % num_agents == agent
    crowd = sum(
        1
        for other in range(num_agents)
        if other != agent and last_signals[other] == WORK and last_locations[other] == house
    )
    return (
        1.0 / (1.0 + ring_distance(house, agent, num_houses))
        + params[OWN_PRIORITY] * owned
        + params[NEIGHBOR_HELP] * next_to_owned
        + 0.5 * params[ALTRUISM] * (not owned)
        - 0.5 * params[COORDINATION] * crowd
    )


def scripted_action(agent: int, params: Sequence[float], houses: Sequence[int],
                    last_signals: Sequence[int], last_locations: Sequence[int],
                    last_target: int, rng: SplitMix64) -> tuple[int, int, int]:
    """One night's (house, mode, signal) of a scripted agent, in absolute houses.

    ``last_target`` is the house it worked at last night, or -1 if it rested.
    """
    num_houses, num_agents = len(houses), len(last_signals)
    (u_work, u_tie, u_fatigue, u_explore, u_house, u_mode,
     u_honest) = (rng.uniform() for _ in range(DRAWS_PER_NIGHT))
    burning = [j for j in range(num_houses) if houses[j] == BURNING]
    house, mode = agent, REST
    if burning:
        fraction_burning = len(burning) / num_houses
        own_fire = any(j % num_agents == agent for j in burning)
        intent = (params[WORK_TENDENCY] + params[RISK_AVERSION] * fraction_burning
                  + 0.5 * params[OWN_PRIORITY] * own_fire) * (1.0 - params[REST_BIAS])
        if u_work < min(max(intent, 0.0), 1.0):
            mode = WORK
            if u_fatigue < params[FATIGUE_MEMORY] and last_target >= 0 \
                    and houses[last_target] == BURNING:
                house = last_target
            else:
                scores = [target_score(j, agent, params, num_houses, num_agents,
                                       last_signals, last_locations) for j in burning]
                best = max(scores)
                ties = [j for j, s in zip(burning, scores) if s >= best - TIE_TOLERANCE]
                house = ties[int(u_tie * len(ties))]
        if u_explore < params[EXPLORATION]:
            house = int(u_house * num_houses)
            mode = int(u_mode * 2)
    signal = mode if u_honest < params[HONESTY] else 1 - mode
    return house, mode, signal
