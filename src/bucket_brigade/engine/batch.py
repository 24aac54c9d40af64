"""The batched engine: E games of N agents in flat arrays, advanced one night per call."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bucket_brigade.engine import kernel
from bucket_brigade.game.reference import Seat
from bucket_brigade.game.rng import WORLD_STREAM, agent_stream, stream_states
from bucket_brigade.game.scenarios import Scenario
from bucket_brigade.game.scripted import NUM_PARAMS

ACTION_FIELDS = ("house", "mode", "signal")


@dataclass
class FinishedGames:
    """Statistics of the games that ended this night; rows where ``done`` is False are stale."""

    done: np.ndarray  # bool [E]
    observations: np.ndarray  # float32 [E, n_external, obs_dim], terminal observations
    scores: np.ndarray  # float64 [E, N]
    work_rate: np.ndarray  # float64 [E, N], fraction of nights worked
    honesty: np.ndarray  # float64 [E, N], fraction of nights with signal == mode
    houses_saved: np.ndarray  # int32 [E]
    houses_ruined: np.ndarray  # int32 [E]
    nights: np.ndarray  # int32 [E]


class GameBatch:
    """E independent games; ``seats[i]`` says who plays agent i in every game.

    External seats (``Seat()``) take actions from :meth:`step`; scripted seats
    play inside the kernel. Game e of a batch seeded with s is the same game
    whatever E is, and the same as ``ReferenceGame(..., seed=s, game_index=e)``.
    """

    def __init__(self, scenario: Scenario, seats: Sequence[Seat], num_games: int,
                 seed: int = 0) -> None:
        if isinstance(num_games, bool) or not isinstance(num_games, int) or num_games < 1:
            raise ValueError(f"num_games={num_games!r} must be an integer >= 1")
        scenario.check_num_agents(len(seats))
        self.scenario = scenario
        self.seats = tuple(seats)
        self.num_games = num_games
        self.num_agents = n = len(seats)
        self.num_houses = h = scenario.num_houses
        self.external_agents = np.array([i for i, s in enumerate(seats) if s.external],
                                        dtype=np.int64)
        self.obs_dim = scenario.obs_dim(n)
        self._external_slot = np.full(n, -1, dtype=np.int64)
        self._external_slot[self.external_agents] = np.arange(len(self.external_agents))
        pool_width = max([len(s.pool) for s in seats] + [1])
        self._pool_params = np.zeros((n, pool_width, NUM_PARAMS))
        self._pool_random = np.zeros((n, pool_width), dtype=np.bool_)
        self._pool_size = np.array([len(s.pool) for s in seats], dtype=np.int64)
        for i, seat in enumerate(seats):
            for k, entry in enumerate(seat.pool):
                if entry is None:
                    self._pool_random[i, k] = True
                else:
                    self._pool_params[i, k] = entry
        self._sc = np.zeros(kernel.NUM_SC)
        self._sc[kernel.SC_SPREAD] = scenario.prob_fire_spreads_to_neighbor
        self._sc[kernel.SC_EXTINGUISH] = scenario.prob_solo_agent_extinguishes_fire
        self._sc[kernel.SC_SPARK] = scenario.prob_house_catches_fire
        self._sc[kernel.SC_TEAM_REWARD] = scenario.team_reward_house_survives
        self._sc[kernel.SC_TEAM_PENALTY] = scenario.team_penalty_house_burns
        self._sc[kernel.SC_WORK_COST] = scenario.cost_to_work_one_night
        self._sc[kernel.SC_REST_REWARD] = scenario.reward_rest
        self._sc[kernel.SC_OWN_REWARD] = scenario.reward_own_house_survives
        self._sc[kernel.SC_OWN_PENALTY] = scenario.penalty_own_house_burns
        self._info = np.array(scenario.info_vector(n), dtype=np.float32)

        e, x = num_games, len(self.external_agents)
        self.houses = np.zeros((e, h), dtype=np.int8)
        self.nights = np.zeros(e, dtype=np.int64)
        self.locations = np.zeros((e, n), dtype=np.int64)
        self.modes = np.zeros((e, n), dtype=np.int8)
        self.signals = np.zeros((e, n), dtype=np.int8)
        self.last_target = np.zeros((e, n), dtype=np.int64)
        self.potentials = np.zeros((e, n))
        self.scores = np.zeros((e, n))
        self.work_nights = np.zeros((e, n), dtype=np.int64)
        self.honest_nights = np.zeros((e, n), dtype=np.int64)
        self.params = np.zeros((e, n, NUM_PARAMS))
        self._scratch = np.zeros((e, h), dtype=np.int64)
        self._score_buf = np.zeros((e, h))
        self._chosen = np.zeros((e, n, 3), dtype=np.int64)
        self.observations = np.zeros((e, x, self.obs_dim), dtype=np.float32)
        self.rewards = np.zeros((e, n))
        self.finished = FinishedGames(
            done=np.zeros(e, dtype=np.bool_),
            observations=np.zeros((e, x, self.obs_dim), dtype=np.float32),
            scores=np.zeros((e, n)),
            work_rate=np.zeros((e, n)),
            honesty=np.zeros((e, n)),
            houses_saved=np.zeros(e, dtype=np.int64),
            houses_ruined=np.zeros(e, dtype=np.int64),
            nights=np.zeros(e, dtype=np.int64),
        )
        self.reset(seed)

    def reset(self, seed: int) -> np.ndarray:
        """Restart every game from ``seed``; returns the external agents' observations."""
        self.seed = int(seed)
        # Column 0 is the world's stream, column 1 + i agent i's.
        self.streams = stream_states(
            self.seed, self.num_games,
            [WORLD_STREAM, *(agent_stream(i) for i in range(self.num_agents))])
        kernel.reset_games(*self._state(), self.external_agents, self.observations,
                           self._scratch)
        return self.observations

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Play one night of every game.

        ``actions`` is an integer array [E, n_external, 3] of (house relative to the
        agent's home, mode, signal), assumed valid (see :func:`check_actions`).
        Returns (observations [E, n_external, obs_dim], rewards [E, N], done [E]);
        see :attr:`finished` for the games that ended. Arrays are reused between calls.
        """
        f = self.finished
        kernel.step_games(*self._state(), self.external_agents, self.observations,
                          self._scratch, self._sc, self.scenario.min_nights,
                          self.scenario.max_nights, self._external_slot, actions,
                          self._chosen, self._score_buf, self.rewards, f.done,
                          f.observations, f.scores, f.work_rate, f.honesty, f.houses_saved,
                          f.houses_ruined, f.nights)
        return self.observations, self.rewards, f.done

    def _state(self) -> tuple:
        return (self.houses, self.nights, self.locations, self.modes, self.signals,
                self.last_target, self.potentials, self.scores, self.work_nights,
                self.honest_nights, self.params, self.streams,
                self._pool_params, self._pool_random, self._pool_size,
                self.scenario.initial_fires, self._info)

    def check_actions(self, actions: np.ndarray) -> np.ndarray:
        """Validate external actions; returns them as int64 [E, n_external, 3].

        Raises ValueError naming the first offending value; nothing is changed.
        """
        return check_actions(actions, (self.num_games, len(self.external_agents)),
                             self.num_houses)


def check_actions(actions: np.ndarray, leading_shape: tuple[int, ...],
                  num_houses: int) -> np.ndarray:
    """Validate an action array of shape leading_shape + (3,) and return it as int64."""
    array = np.asarray(actions)
    expected = (*leading_shape, 3)
    if array.shape != expected:
        raise ValueError(f"actions have shape {array.shape}, expected {expected}")
    if array.dtype.kind not in "iub":
        if array.dtype.kind != "f":
            raise ValueError(f"actions have dtype {array.dtype}, expected integers")
        bad = ~np.isfinite(array) | (array != np.round(array))
        if bad.any():
            raise ValueError(f"action value {array[bad].flat[0]!r} is not an integer")
    array = array.astype(np.int64, copy=False)
    limits = np.array([num_houses, 2, 2])
    bad = (array < 0) | (array >= limits)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        field = ACTION_FIELDS[index[-1]]
        raise ValueError(
            f"action {field}={array[index]} at index {index[:-1]} is out of range "
            f"0..{limits[index[-1]] - 1}"
        )
    return array
