"""The reference engine: one game at a time, in plain Python, to be read next to RULES.md.

It is slow on purpose. The compiled batched engine must agree with it draw for
draw: given the same seed and the same learner actions, both produce the same
trajectory (``tests/engine/test_cross_check.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from bucket_brigade.checks import check_count
from bucket_brigade.game.constants import BURNING, REST, RUINED, SAFE, WORK
from bucket_brigade.game.rng import (
    MASK64,
    WORLD_STREAM,
    SplitMix64,
    agent_stream,
    check_seed,
    stream_state,
)
from bucket_brigade.game.scenarios import Scenario
from bucket_brigade.game.scripted import NUM_PARAMS, scripted_action
from bucket_brigade.game.seat import Seat


@dataclass
class ReferenceGame:
    """Game number ``game_index`` of a batch seeded with ``seed``, played alone."""

    scenario: Scenario
    seats: Sequence[Seat]
    seed: int = 0
    game_index: int = 0
    houses: list[int] = field(init=False)
    night: int = field(init=False)

    def __post_init__(self) -> None:
        self.seed = check_seed(self.seed)  # never wrapped: 2**64 is not seed 0
        self.game_index = check_count("game_index", self.game_index, 0, MASK64)
        self.num_agents = len(self.seats)
        self.scenario.check_num_agents(self.num_agents)
        self.world_rng = SplitMix64(stream_state(self.seed, self.game_index, WORLD_STREAM))
        self.agent_rngs = [SplitMix64(stream_state(self.seed, self.game_index, agent_stream(i)))
                           for i in range(self.num_agents)]
        self.reset()

    # -- reset -------------------------------------------------------------------------
    def reset(self) -> None:
        """Start the next game of this stream: pick strategies, light the first fires."""
        sc, num_houses = self.scenario, self.scenario.num_houses
        self.params: list[tuple[float, ...] | None] = []
        for seat, rng in zip(self.seats, self.agent_rngs):
            if seat.external:
                self.params.append(None)
                continue
            entry = seat.pool[int(rng.uniform() * len(seat.pool))]
            if entry is None:
                entry = tuple(rng.uniform() for _ in range(NUM_PARAMS))
            self.params.append(entry)
        order = list(range(num_houses))
        for i in range(sc.initial_fires):  # partial Fisher-Yates: distinct, uniform
            j = i + int(self.world_rng.uniform() * (num_houses - i))
            order[i], order[j] = order[j], order[i]
        self.houses = [SAFE] * num_houses
        for j in order[: sc.initial_fires]:
            self.houses[j] = BURNING
        self.night = 0
        # Before the first night every agent counts as having rested at home, honestly.
        self.locations = list(range(self.num_agents))
        self.modes = [REST] * self.num_agents
        self.signals = [REST] * self.num_agents
        self.last_targets = [-1] * self.num_agents
        self.potentials = [0.0] * self.num_agents
        self.scores = [0.0] * self.num_agents
        self.work_nights = [0] * self.num_agents
        self.honest_nights = [0] * self.num_agents
        self.done = False

    # -- one night ---------------------------------------------------------------------
    def step(self, external_actions: dict[int, tuple[int, int, int]]) -> list[float]:
        """Play one night. ``external_actions[i]`` = (house relative to home, mode, signal)."""
        sc, num_houses, num_agents = self.scenario, self.scenario.num_houses, self.num_agents
        actions = []
        for i in range(num_agents):
            if self.params[i] is None:
                rel_house, mode, signal = external_actions[i]
                actions.append(((i + rel_house) % num_houses, mode, signal))
            else:
                actions.append(scripted_action(i, self.params[i], self.houses, self.signals,
                                               self.locations, self.last_targets[i],
                                               self.agent_rngs[i]))
        # 1. Publish.
        self.locations = [a[0] for a in actions]
        self.modes = [a[1] for a in actions]
        self.signals = [a[2] for a in actions]
        self.last_targets = [h if m == WORK else -1 for h, m, _ in actions]
        # 2. Extinguish.
        burning_at_dusk = [h == BURNING for h in self.houses]
        for j in range(num_houses):
            workers = sum(1 for h, m, _ in actions if h == j and m == WORK)
            if burning_at_dusk[j] and workers > 0:
                p_out = 1.0 - (1.0 - sc.prob_solo_agent_extinguishes_fire) ** workers
                if self.world_rng.uniform() < p_out:
                    self.houses[j] = SAFE
        # 3. Spread, from fires still burning, to SAFE neighbours (burning from tomorrow).
        ignited = [False] * num_houses
        for j in range(num_houses):
            if self.houses[j] != BURNING:
                continue
            for neighbour in _neighbours(j, num_houses):
                if self.houses[neighbour] == SAFE and \
                        self.world_rng.uniform() < sc.prob_fire_spreads_to_neighbor:
                    ignited[neighbour] = True
        # 4. Burn-out: every fire not put out tonight ruins its house.
        for j in range(num_houses):
            if self.houses[j] == BURNING:
                self.houses[j] = RUINED
        # 5. Sparks.
        for j in range(num_houses):
            if self.houses[j] == SAFE and not ignited[j] and \
                    self.world_rng.uniform() < sc.prob_house_catches_fire:
                ignited[j] = True
        for j in range(num_houses):
            if ignited[j]:
                self.houses[j] = BURNING
        # 6. Rewards: work/rest term plus the change of the potential.
        rewards = []
        for i, (_, mode, signal) in enumerate(actions):
            effort = -sc.cost_to_work_one_night if mode == WORK else sc.reward_rest
            potential = self.potential(i)
            rewards.append(effort + potential - self.potentials[i])
            self.potentials[i] = potential
            self.scores[i] += rewards[i]
            self.work_nights[i] += mode == WORK
            self.honest_nights[i] += signal == mode
        self.night += 1
        # 7. End.
        any_fire = BURNING in self.houses
        self.done = (self.night >= sc.min_nights and not any_fire) or self.night >= sc.max_nights
        return rewards

    def potential(self, agent: int) -> float:
        """Φ_i(s): team and own-house terms of the score, evaluated on the current houses."""
        sc, num_houses = self.scenario, self.scenario.num_houses
        owned = [self.houses[j] for j in range(agent, num_houses, self.num_agents)]
        return (
            sc.team_reward_house_survives * self.houses.count(SAFE) / num_houses
            - sc.team_penalty_house_burns * self.houses.count(RUINED) / num_houses
            + sc.reward_own_house_survives * owned.count(SAFE) / len(owned)
            - sc.penalty_own_house_burns * owned.count(RUINED) / len(owned)
        )

    def final_score(self, agent: int) -> float:
        """The score formula of RULES.md, computed directly (not from the rewards)."""
        sc = self.scenario
        effort = (self.night - self.work_nights[agent]) * sc.reward_rest \
            - self.work_nights[agent] * sc.cost_to_work_one_night
        return effort + self.potential(agent)

    # -- what agents see ----------------------------------------------------------------
    def observation(self, agent: int) -> list[float]:
        """Agent ``agent``'s egocentric observation (RULES.md table), as a list."""
        num_houses, num_agents = self.scenario.num_houses, self.num_agents
        others = [(agent + k) % num_agents for k in range(num_agents)]
        relative = [(self.locations[a] - agent) % num_houses for a in others]
        obs: list[float] = [self.houses[(agent + m) % num_houses] for m in range(num_houses)]
        obs += [self.signals[a] for a in others]
        obs += relative
        for a, rel in zip(others, relative):
            obs += [rel, self.modes[a]]
        obs += self.scenario.info_vector(num_agents)
        return obs


def _neighbours(house: int, num_houses: int) -> list[int]:
    left, right = (house - 1) % num_houses, (house + 1) % num_houses
    return [left] if left == right else [left, right]
