"""The batched engine: E games of N agents in flat arrays, advanced one night per call."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields

import numba
import numpy as np

from bucket_brigade._numba_cache import use_workqueue_threads
from bucket_brigade.checks import check_count
from bucket_brigade.engine import kernel
from bucket_brigade.errors import UsageError
from bucket_brigade.game.rng import WORLD_STREAM, agent_stream, check_seed, stream_states
from bucket_brigade.game.scenarios import Scenario
from bucket_brigade.game.scripted import NUM_PARAMS
from bucket_brigade.game.seat import Seat

use_workqueue_threads()

ACTION_FIELDS = ("house", "mode", "signal")
# Below this many games one thread is faster: waking idle threads costs more than the games.
PARALLEL_MIN_GAMES = 256


@contextmanager
def numba_threads(count: int) -> Iterator[None]:
    """Run the enclosed kernel calls on ``count`` Numba threads, then give the calling
    thread back the count it had: the engine never leaves a setting changed."""
    previous = numba.get_num_threads()
    if count == previous:
        yield
        return
    numba.set_num_threads(count)
    try:
        yield
    finally:
        numba.set_num_threads(previous)


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

    @classmethod
    def empty(cls, num_games: int, num_external: int, obs_dim: int,
              num_agents: int) -> FinishedGames:
        e, n = num_games, num_agents
        return cls(
            done=np.zeros(e, dtype=np.bool_),
            observations=np.zeros((e, num_external, obs_dim), dtype=np.float32),
            scores=np.zeros((e, n)),
            work_rate=np.zeros((e, n)),
            honesty=np.zeros((e, n)),
            houses_saved=np.zeros(e, dtype=np.int64),
            houses_ruined=np.zeros(e, dtype=np.int64),
            nights=np.zeros(e, dtype=np.int64),
        )

    def copy_rows(self, source: FinishedGames, rows: np.ndarray) -> None:
        """Copy the given games' statistics from ``source`` into this record."""
        for f in fields(self):
            getattr(self, f.name)[rows] = getattr(source, f.name)[rows]


def batch_bytes(num_games: int, scenario: Scenario, seats: Sequence[Seat]) -> int:
    """About how many bytes a batch's arrays take (within 5% of their sum for 10 to 1000
    houses): per house, per agent, and the external agents' observations."""
    agents, external = len(seats), sum(s.external for s in seats)
    return num_games * (17 * scenario.num_houses + 202 * agents
                        + 8 * external * scenario.obs_dim(agents) + 64)


def check_batch_memory(num_games: int, scenario: Scenario, seats: Sequence[Seat],
                       extra_bytes_per_game: int = 0) -> None:
    """Refuse a batch larger than this machine's memory before allocating any of it;
    ``extra_bytes_per_game``: what the caller allocates per game besides the batch."""
    try:
        memory = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # not a POSIX system: nothing to go by
        return
    needed = batch_bytes(num_games, scenario, seats) + num_games * extra_bytes_per_game
    if needed > memory:
        raise UsageError(f"{num_games:,} games of this size need about {needed / 2**30:,.1f} "
                         f"GiB, more than this machine's {memory / 2**30:,.1f} GiB of memory; "
                         "play fewer games")


class GameBatch:
    """E independent games; ``seats[i]`` says who plays agent i in every game.

    External seats (``Seat()``) take actions from :meth:`step`; scripted seats
    play inside the kernel. Game e of a batch seeded with s is the same game
    whatever E is, and the same as ``ReferenceGame(..., seed=s, game_index=e)``.

    ``num_threads`` is how many Numba threads the kernels use; by default the calling
    thread's Numba setting (``numba.get_num_threads()`` at each call), or one thread for
    batches under ``PARALLEL_MIN_GAMES`` games. The results do not depend on it.
    """

    def __init__(self, scenario: Scenario, seats: Sequence[Seat], num_games: int,
                 seed: int = 0, num_threads: int | None = None) -> None:
        num_games = check_count("num_games", num_games)  # then its memory, below
        if num_threads is not None:  # at most this machine's Numba threads
            num_threads = check_count("num_threads", num_threads, 1,
                                      numba.config.NUMBA_NUM_THREADS)
        check_seed(seed)
        scenario.check_num_agents(len(seats))
        check_batch_memory(num_games, scenario, seats)
        self.scenario = scenario
        self.seats = tuple(seats)
        self.num_games = num_games
        self.num_agents = n = len(seats)
        self.num_houses = h = scenario.num_houses
        self.external_agents = np.array([i for i, s in enumerate(seats) if s.external],
                                        dtype=np.int64)
        self.observation_layout = scenario.observation_layout(n)
        self.obs_dim = self.observation_layout.obs_dim
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
        self.finished = FinishedGames.empty(e, x, self.obs_dim, n)
        self.num_threads = num_threads
        self.reset(seed)

    def reset(self, seed: int) -> np.ndarray:
        """Restart every game from ``seed``; returns the external agents' observations."""
        self.seed = check_seed(seed)
        # Column 0 is the world's stream, column 1 + i agent i's.
        self.streams = stream_states(
            self.seed, self.num_games,
            [WORLD_STREAM, *(agent_stream(i) for i in range(self.num_agents))])
        return self.restart()

    def restart(self, games: np.ndarray | None = None) -> np.ndarray:
        """Abandon the current games (or those where the boolean array ``games`` [E] is true)
        and start each stream's next one, without reseeding."""
        chosen = np.ones(self.num_games, dtype=np.bool_) if games is None \
            else np.asarray(games, dtype=np.bool_)
        if chosen.shape != (self.num_games,):
            raise ValueError(f"games has shape {chosen.shape}, expected ({self.num_games},)")
        with numba_threads(self._threads()):
            kernel.reset_games(*self._state(), self.external_agents, self.observations,
                               self._scratch, chosen)
        return self.observations

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Play one night of every game.

        ``actions`` is an integer array [E, n_external, 3] of (house relative to the
        agent's home, mode, signal), assumed valid (see :func:`check_actions`).
        Returns (observations [E, n_external, obs_dim], rewards [E, N], done [E]);
        see :attr:`finished` for the games that ended. Arrays are reused between calls.
        """
        f = self.finished
        with numba_threads(self._threads()):
            kernel.step_games(*self._state(), self.external_agents, self.observations,
                              self._scratch, self._sc, self.scenario.min_nights,
                              self.scenario.max_nights, self._external_slot, actions,
                              self._chosen, self._score_buf, self.rewards, f.done,
                              f.observations, f.scores, f.work_rate, f.honesty,
                              f.houses_saved, f.houses_ruined, f.nights)
        return self.observations, self.rewards, f.done

    def refresh_observations(self) -> np.ndarray:
        """Rewrite the external agents' observations from the current state, after it was
        set from outside (as a planner does for its continuations); returns them."""
        with numba_threads(self._threads()):
            kernel.write_observations(self.houses, self.locations, self.modes, self.signals,
                                      self._info, self.observation_layout.offsets,
                                      self.external_agents, self.observations)
        return self.observations

    def play_out(self, policy: Callable[[np.ndarray], np.ndarray] | None = None
                 ) -> FinishedGames:
        """Play from the current state until every game has ended once.

        ``policy`` maps observations [E, n_external, obs_dim] to valid actions
        [E, n_external, 3]; it may be omitted when every seat is scripted. Returns
        each game's statistics at its first ending (games that end early keep
        playing their next game meanwhile, which is simply ignored).
        """
        if policy is None and len(self.external_agents):
            raise ValueError("play_out needs a policy: this batch has external seats")
        result = FinishedGames.empty(self.num_games, len(self.external_agents), self.obs_dim,
                                     self.num_agents)
        no_actions = np.zeros((self.num_games, 0, 3), dtype=np.int64)
        while not result.done.all():
            self.step(no_actions if policy is None else policy(self.observations))
            fresh = self.finished.done & ~result.done
            if fresh.any():
                result.copy_rows(self.finished, fresh)
        return result

    def _threads(self) -> int:
        if self.num_threads is not None:
            return self.num_threads
        return numba.get_num_threads() if self.num_games >= PARALLEL_MIN_GAMES else 1

    def _state(self) -> tuple:
        return (self.houses, self.nights, self.locations, self.modes, self.signals,
                self.last_target, self.potentials, self.scores, self.work_nights,
                self.honest_nights, self.params, self.streams,
                self._pool_params, self._pool_random, self._pool_size,
                self.scenario.initial_fires, self._info, self.observation_layout.offsets)

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
            raise ValueError(f"action value {array[bad].flat[0].item()!r} is not an integer")
    # The range is checked on the values as given, before the conversion to int64 (which
    # would wrap 1e300 or 2**64 - 1 into other numbers).
    limits = np.array([num_houses, 2, 2])
    bad = (array < 0) | (array >= limits)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        field = ACTION_FIELDS[index[-1]]
        where = f" at index {index[:-1]}" if index[:-1] else ""
        raise ValueError(f"action {field}={array[index].item()!r}{where} is out of range "
                         f"0..{limits[index[-1]] - 1}")
    return array.astype(np.int64, copy=False)
