"""Opponent seats whose player is drawn per game from a weighted population.

A meta-strategy of an empirical game (PSRO's meta-equilibrium) is a mix over strategies
and trained models, every other agent drawing from it independently. Here each opponent
seat draws, whenever one of its games starts, one player of its own population: a
scripted strategy (played outside the kernel by its compiled rule, from the seat's own
random stream, exactly as a scripted seat of the kernel) or a policy (observations to actions). The
draws come from one generator seeded by the environment's seed; a seat keeps its player
for the whole game. Each night every policy acts once, on the observations of all the
(game, seat) pairs that drew it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from bucket_brigade.engine import kernel
from bucket_brigade.engine.batch import GameBatch
from bucket_brigade.game.rng import next_uniforms
from bucket_brigade.game.scripted import NUM_PARAMS
from bucket_brigade.game.seat import Seat

# Maps observations [M, obs_dim] to actions [M, 3]: (house relative to home, mode, signal).
Policy = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Population:
    """Who may play one seat, and how likely each is: scripted seats (a pool entry drawn
    uniformly, ``None`` being fresh uniform parameters) and policies."""

    players: tuple[Seat | Policy, ...]
    weights: tuple[float, ...]

    def __post_init__(self) -> None:
        weights = np.asarray(self.weights, dtype=np.float64)
        if len(self.players) == 0 or weights.shape != (len(self.players),):
            raise ValueError(f"a population needs one weight per player: {len(self.players)} "
                             f"players, weights {self.weights!r}")
        if not (np.isfinite(weights).all() and (weights >= 0).all() and weights.sum() > 0):
            raise ValueError(f"weights {self.weights!r} must be >= 0 with a positive sum")
        for player in self.players:
            if isinstance(player, Seat) and player.external:
                raise ValueError("a population's scripted player needs a strategy, not an "
                                 "empty seat")

    @property
    def probabilities(self) -> np.ndarray:
        weights = np.asarray(self.weights, dtype=np.float64)
        return weights / weights.sum()


class DrawnOpponents:
    """The players of ``agents`` (their seat numbers), drawn per game from ``populations``
    (one per agent) and acting in a :class:`GameBatch` where those seats are external. The
draws of players come from a generator that :meth:`seed` restarts."""

    def __init__(self, agents: Sequence[int], populations: Sequence[Population]) -> None:
        if len(agents) != len(populations):
            raise ValueError(f"{len(populations)} populations for {len(agents)} seats")
        self.agents = list(agents)
        self.populations = list(populations)
        # Every distinct policy, once: games that drew it in any seat share its call.
        self._policies: list[Policy] = []
        self._player_policy: list[np.ndarray] = []  # per seat: player -> policy index or -1
        for population in self.populations:
            index = []
            for player in population.players:
                if isinstance(player, Seat):
                    index.append(-1)
                    continue
                known = next((k for k, p in enumerate(self._policies) if p is player), None)
                if known is None:
                    self._policies.append(player)
                    known = len(self._policies) - 1
                index.append(known)
            self._player_policy.append(np.array(index, dtype=np.int64))
        self.drawn = np.zeros((0, len(self.agents)), dtype=np.int64)
        self._rng = np.random.default_rng(0)

    def seed(self, seed: int) -> None:
        """Restart the draws: the same seed draws the same players in the same games."""
        self._rng = np.random.default_rng(seed)

    def draw(self, games: GameBatch, starting: np.ndarray | None = None) -> None:
        """Draw every seat's player for the games that start (``starting`` [E], all when
        None). A scripted player's pool entry and (for ``random``) parameters come from the
        seat's own stream, as the kernel draws a scripted seat's: a population of one
        scripted player plays exactly the games of that scripted seat."""
        if len(self.drawn) != games.num_games:
            self.drawn = np.zeros((games.num_games, len(self.agents)), dtype=np.int64)
        rows = np.arange(games.num_games) if starting is None else np.flatnonzero(starting)
        for column, (agent, population) in enumerate(zip(self.agents, self.populations)):
            picks = self._rng.choice(len(population.players), size=len(rows),
                                     p=population.probabilities)
            self.drawn[rows, column] = picks
            for k, player in enumerate(population.players):
                if isinstance(player, Seat):
                    self._draw_strategy(games, agent, player, rows[picks == k])

    @staticmethod
    def _draw_strategy(games: GameBatch, agent: int, seat: Seat, rows: np.ndarray) -> None:
        """Set ``agent``'s parameters in games ``rows`` as the kernel's reset would."""
        stream = 1 + agent  # the batch's stream column of the agent
        states = games.streams[rows, stream]
        entries = (next_uniforms(states, 1)[:, 0] * len(seat.pool)).astype(np.int64)
        for index, entry in enumerate(seat.pool):
            chosen = entries == index
            if entry is None:
                sub = states[chosen]
                games.params[rows[chosen], agent] = next_uniforms(sub, NUM_PARAMS)
                states[chosen] = sub
            else:
                games.params[rows[chosen], agent] = entry
        games.streams[rows, stream] = states

    def act(self, games: GameBatch, columns: Sequence[int]) -> np.ndarray:
        """Every seat's action in every game [E, seats, 3] (house relative to the seat's
        home); ``columns[j]`` is seat j's column in the batch's external observations."""
        actions = np.zeros((games.num_games, len(self.agents), 3), dtype=np.int64)
        scripted_out = np.zeros((games.num_games, 3), dtype=np.int64)
        wanted: list[list[tuple[np.ndarray, int]]] = [[] for _ in self._policies]
        for j, agent in enumerate(self.agents):
            policy_of_game = self._player_policy[j][self.drawn[:, j]]
            scripted = policy_of_game < 0
            if scripted.any():
                kernel.scripted_seat_actions(agent, games.houses, games.locations,
                                             games.signals, games.last_target, games.params,
                                             games.streams, np.zeros(games.houses.shape),
                                             scripted_out)
                actions[scripted, j, 0] = (scripted_out[scripted, 0] - agent) \
                    % games.num_houses
                actions[scripted, j, 1:] = scripted_out[scripted, 1:]
            for k in np.unique(policy_of_game[~scripted]).tolist():
                wanted[k].append((np.flatnonzero(policy_of_game == k), j))
        for policy, pairs in zip(self._policies, wanted):
            if not pairs:
                continue
            obs = np.concatenate([games.observations[rows, columns[j]] for rows, j in pairs])
            chosen = np.asarray(policy(obs))
            start = 0
            for rows, j in pairs:
                actions[rows, j] = chosen[start:start + len(rows)]
                start += len(rows)
        return actions
