"""Batched learner-vs-opponents environment: the Gymnasium vector API over the engine.

Agents 0..K-1 of every game are learners (K = ``num_learners``, 1 by default);
the other agents are scripted and play inside the compiled kernel, so one
``step`` is one kernel call. With several learners the vector dimension holds
(game, learner seat) pairs, game-major: slot ``g * K + k`` is seat k of game g,
so ``num_envs`` = games x K and a policy shared by all seats (IPPO-style
parameter sharing over egocentric observations) trains on every slot as if it
were a separate environment. Alternatively the opponent seats can be driven by
an outside policy (``opponent_policy``), e.g. a frozen copy of the learner, or each draw
its player per game from a weighted population (``opponent_populations``, see
:mod:`~bucket_brigade.envs.drawn_opponents`). One learner may sit in any seat
(``learner_seat``), the opponents filling the others in order.

Games reset themselves in the same step they end (Gymnasium's ``SAME_STEP``
autoreset): the returned observation is the new game's first, and
``info["final_obs"]`` / ``info["final_info"]`` carry the ended game's last
observation and statistics, with the boolean masks ``info["_final_obs"]`` /
``info["_final_info"]``. A game's end ends all of its slots at once.
Every ``info`` holds ``action_mask`` [num_envs, sum(nvec)] for the returned observations
(see :func:`~bucket_brigade.envs.masks.action_mask`); ``action_masks()`` returns it too.
An env built without a seed draws a fresh one at its first reset without a seed, so copies
of it (pickled, as SuperSuit's wrappers make them) play different games.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from gymnasium.error import ResetNeeded
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from bucket_brigade.agents.strategies import StrategySpec, opponent_seats
from bucket_brigade.checks import check_count
from bucket_brigade.engine.batch import FinishedGames, GameBatch
from bucket_brigade.envs.drawn_opponents import DrawnOpponents, Population
from bucket_brigade.envs.masks import action_mask
from bucket_brigade.envs.spaces import action_space, full_actions, observation_space
from bucket_brigade.game.rng import check_seed
from bucket_brigade.game.scenarios import MAX_HOUSES, Scenario, get_scenario
from bucket_brigade.game.seat import Seat

LEARNER = 0
DRAWS_STREAM = 3  # derived_seed index of the opponents' draws from their populations
# Maps the opponent seats' observations [M, obs_dim] to their actions [M, 3]: (house, mode,
# signal), whether or not the learners choose their signals.
OpponentPolicy = Callable[[np.ndarray], np.ndarray]


def finished_info(finished: FinishedGames, learners: Sequence[int] = (LEARNER,),
                  ) -> dict[str, np.ndarray]:
    """End-of-game statistics per slot (the ``learners`` seats of every game, game-major):
    the seat's own score, work rate and honesty, the game's houses and nights, the team
    score (mean score of all the game's agents) and the seat number (``agent``)."""
    k = len(learners)
    seats = list(learners)
    per_game = {
        "houses_saved": finished.houses_saved,
        "houses_ruined": finished.houses_ruined,
        "nights": finished.nights,
        "team_score": finished.scores.mean(axis=1),
    }
    return {
        "score": finished.scores[:, seats].reshape(-1),
        **{key: np.repeat(values, k) for key, values in per_game.items()},
        "work_rate": finished.work_rate[:, seats].reshape(-1),
        "honesty": finished.honesty[:, seats].reshape(-1),
        "agent": np.tile(np.array(seats), len(finished.done)),
    }


class BucketBrigadeVectorEnv(VectorEnv):
    """``num_envs`` agent-slots: ``num_envs / num_learners`` games whose seats
    0..num_learners-1 learn (or one learner in seat ``learner_seat``), against
    ``num_opponents`` scripted opponents (or opponents driven by ``opponent_policy``, or
    drawn per game from ``opponent_populations``, one per opponent seat in seat order).
    ``num_threads``: the engine's Numba threads (see
    :class:`~bucket_brigade.engine.batch.GameBatch`)."""

    metadata = {"autoreset_mode": AutoresetMode.SAME_STEP}  # noqa: RUF012

    def __init__(self, num_envs: int, scenario: str | Scenario = "trivial_cooperation",
                 num_opponents: int = 3,
                 opponents: Sequence[StrategySpec | Seat] | str | None = None,
                 cheap_talk: bool = False, seed: int | None = None, num_learners: int = 1,
                 opponent_policy: OpponentPolicy | None = None,
                 num_threads: int | None = None, learner_seat: int = LEARNER,
                 opponent_populations: Sequence[Population] | None = None) -> None:
        self.scenario = get_scenario(scenario)
        num_envs = check_count("num_envs", num_envs)  # the batch checks its memory
        num_learners = check_count("num_learners", num_learners, 1, MAX_HOUSES)
        num_opponents = check_count("num_opponents", num_opponents, 0, MAX_HOUSES - 1)
        if num_envs % num_learners:
            raise ValueError(f"num_envs={num_envs} is not a multiple of num_learners="
                             f"{num_learners} (slots = games x learners)")
        learner_seat = check_count("learner_seat", learner_seat, 0, num_opponents)
        if learner_seat != LEARNER and num_learners > 1:
            raise ValueError(f"learner_seat={learner_seat}: several learners sit in seats "
                             f"0..{num_learners - 1}")
        if opponent_populations is not None and (opponent_policy is not None
                                                 or opponents is not None):
            raise ValueError("opponent_populations name the opponents; give no opponents or "
                             "opponent_policy with them")
        if opponent_populations is not None and len(opponent_populations) != num_opponents:
            raise ValueError(f"{len(opponent_populations)} opponent_populations for "
                             f"{num_opponents} opponent seats")
        self.num_learners = num_learners
        self.opponent_policy = opponent_policy
        if opponent_policy is not None or opponent_populations is not None:
            others = [Seat()] * num_opponents
        elif num_opponents == 0 and num_learners > 1:
            others = []
        else:
            others = opponent_seats(num_opponents, opponents, self.scenario.name,
                                    planners=False)
        seats = [*others[:learner_seat], *[Seat()] * num_learners, *others[learner_seat:]]
        self.learner_seats = np.arange(learner_seat, learner_seat + num_learners)
        opponent_agents = [i for i in range(len(seats)) if i not in self.learner_seats]
        self.opponents = None if opponent_populations is None else \
            DrawnOpponents(opponent_agents, opponent_populations)
        self.cheap_talk = bool(cheap_talk)
        self.num_games = num_envs // num_learners
        self.games = GameBatch(self.scenario, seats, self.num_games,
                               seed=fresh_seed() if seed is None else seed,
                               num_threads=num_threads)
        # Where the learners' and the driven opponents' rows sit among the external seats.
        external = self.games.external_agents.tolist()
        self._learner_columns = np.array([external.index(i) for i in self.learner_seats])
        self._opponent_columns = np.array([external.index(i) for i in opponent_agents
                                           if i in external], dtype=np.int64)
        self.num_envs = num_envs
        self.num_agents = len(seats)
        self.single_observation_space = observation_space(self.scenario, self.num_agents)
        self.single_action_space = action_space(self.scenario, self.cheap_talk)
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self._truncations = np.zeros(num_envs, dtype=np.bool_)
        self._seeded = seed is not None
        if self.opponents is not None and seed is not None:  # the games are reset: draw
            self.opponents.seed(derived_seed(seed, DRAWS_STREAM))
            self._drawn(self.games.observations)
        self._mask: np.ndarray | None = None
        self._played = False
        self._was_reset = False  # Gymnasium's rule: reset() comes before the first step()

    def reset(self, *, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        """Restart from ``seed``; without one, start the next game of every stream.

        Games not played yet are kept, so ``make_vec_env(seed=s).reset()`` equals
        ``reset(seed=s)`` and game e then follows ``ReferenceGame(seed=s, game_index=e)``.
        """
        if seed is not None:  # checked, and a NumPy integer made an int, before Gymnasium
            seed = check_seed(seed)  # seeds (which words it differently, and refuses NumPy's)
        super().reset(seed=seed)
        if seed is not None or not self._seeded:
            seed = fresh_seed() if seed is None else seed
            self.action_space.seed(seed)
            if self.opponents is not None:
                self.opponents.seed(derived_seed(seed, DRAWS_STREAM))
            obs = self._drawn(self.games.reset(seed))
            self._seeded = True
        elif self._played:
            obs = self._drawn(self.games.restart())
        else:
            obs = self.games.observations
        self._played = False
        self._was_reset = True
        slots = self._slots(obs).copy()
        return slots, {"action_mask": self._masks_for(slots)}

    def action_masks(self) -> np.ndarray:
        """The allowed actions after the last observations: bool [num_envs, sum(nvec)]."""
        if self._mask is None:
            raise ResetNeeded("call reset() before action_masks()")
        return self._mask.copy()

    def _masks_for(self, slots: np.ndarray) -> np.ndarray:
        self._mask = action_mask(slots[:, :self.scenario.num_houses], self.cheap_talk)
        return self._mask

    def restart_games(self, games: np.ndarray) -> np.ndarray:
        """Abandon the games where ``games`` [num_games] is true and start their streams'
        next ones (to stagger game starts); returns every slot's current observation."""
        return self._slots(self._drawn(self.games.restart(games), games)).copy()

    def _drawn(self, obs: np.ndarray, starting: np.ndarray | None = None) -> np.ndarray:
        """Draw the opponents of the games that start (all when None); returns ``obs``."""
        if self.opponents is not None:
            self.opponents.draw(self.games, starting)
        return obs

    def states(self) -> np.ndarray:
        """Each slot's game in the global state of PettingZoo's ``state()`` (RULES.md):
        absolute houses, locations, signals and the night, float32 [num_envs, H + 2N + 1],
        the same row for every learner slot of a game (a centralised critic's input)."""
        games = self.games
        state = np.concatenate([games.houses, games.locations, games.signals,
                                games.nights[:, None]], axis=1).astype(np.float32)
        return np.repeat(state, self.num_learners, axis=0)

    def _slots(self, per_external: np.ndarray) -> np.ndarray:
        """The learners' rows of a [games, external seats, ...] array, one row per slot."""
        return self._rows(per_external, self._learner_columns)

    def _rows(self, array: np.ndarray, columns: np.ndarray) -> np.ndarray:
        return array[:, columns].reshape(self.num_envs, *array.shape[2:])

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                 np.ndarray, dict[str, Any]]:
        if not self._was_reset:
            raise ResetNeeded("call reset() before step()")
        width = 3 if self.cheap_talk else 2
        actions = np.asarray(actions)
        if actions.shape != (self.num_envs, width):
            raise ValueError(f"actions have shape {actions.shape}, "
                             f"expected {(self.num_envs, width)}")
        learner_actions = full_actions(
            actions.reshape(self.num_games, self.num_learners, width), self.cheap_talk)
        # Not converted: the batch refuses fractions and NaN instead of truncating.
        actions = np.zeros((self.num_games, len(self.games.external_agents), 3),
                           dtype=np.result_type(learner_actions, np.int64))
        actions[:, self._learner_columns] = learner_actions
        if self.opponent_policy is not None:
            seen = self.games.observations[:, self._opponent_columns]
            chosen = np.asarray(self.opponent_policy(seen.reshape(-1, seen.shape[-1])))
            expected = (seen.shape[0] * seen.shape[1], 3)
            if chosen.shape != expected:
                raise ValueError(f"opponent_policy gave actions of shape {chosen.shape}, "
                                 f"expected {expected}")
            actions = actions.astype(np.result_type(actions, chosen))
            actions[:, self._opponent_columns] = chosen.reshape(self.num_games, -1, 3)
        elif self.opponents is not None:
            actions[:, self._opponent_columns] = self.opponents.act(self.games,
                                                                    self._opponent_columns)
        checked = self.games.check_actions(actions)
        obs, rewards, done = self.games.step(checked)
        if done.any():
            self._drawn(obs, done)
        self._played = True
        slots = self._slots(obs).copy()
        infos: dict[str, Any] = {"action_mask": self._masks_for(slots)}
        if done.any():
            mask = np.repeat(done, self.num_learners)
            final = self.games.finished
            stats = finished_info(final, self.learner_seats.tolist())
            infos |= {
                "final_obs": self._slots(final.observations).copy(),
                "_final_obs": mask,
                "final_info": {**stats, **{f"_{k}": mask for k in stats}},
                "_final_info": mask,
            }
        return (slots, self._rows(rewards, self.learner_seats).astype(np.float32),
                np.repeat(done, self.num_learners), self._truncations.copy(), infos)


class ConcatVectorEnv(VectorEnv):
    """Vector envs with the same spaces side by side, as one: their slots in order (e.g.
    self-play games next to games against a frozen snapshot)."""

    metadata = {"autoreset_mode": AutoresetMode.SAME_STEP}  # noqa: RUF012

    def __init__(self, envs: Sequence[BucketBrigadeVectorEnv]) -> None:
        if not envs:
            raise ValueError("ConcatVectorEnv needs at least one env")
        first = envs[0]
        for env in envs[1:]:
            if (env.single_observation_space != first.single_observation_space
                    or env.single_action_space != first.single_action_space):
                raise ValueError("ConcatVectorEnv needs envs with the same spaces")
        self.envs = list(envs)
        self.num_envs = sum(env.num_envs for env in envs)
        self.single_observation_space = first.single_observation_space
        self.single_action_space = first.single_action_space
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._bounds = np.cumsum([0, *(env.num_envs for env in envs)])

    def reset(self, *, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        """Reset every part; with ``seed``, the first part gets it and the others seeds
        derived from it, so that no two parts play the same worlds."""
        if seed is not None:  # a NumPy integer made an int: Gymnasium refuses those
            seed = check_seed(seed)
        super().reset(seed=seed)
        parts = [env.reset(seed=None if seed is None else derived_seed(seed, i))
                 for i, env in enumerate(self.envs)]
        return (np.concatenate([obs for obs, _ in parts]),
                {"action_mask": np.concatenate([info["action_mask"] for _, info in parts])})

    def action_masks(self) -> np.ndarray:
        """The allowed actions after the last observations: bool [num_envs, sum(nvec)]."""
        return np.concatenate([env.action_masks() for env in self.envs])

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                 np.ndarray, dict[str, Any]]:
        actions = np.asarray(actions)
        if len(actions) != self.num_envs:
            raise ValueError(f"actions have {len(actions)} rows, expected {self.num_envs}")
        results = [env.step(actions[start:stop]) for env, start, stop
                   in zip(self.envs, self._bounds[:-1], self._bounds[1:])]
        obs, rewards, terminated, truncated = (np.concatenate([r[i] for r in results])
                                               for i in range(4))
        infos = [r[4] for r in results]
        masks = {"action_mask": np.concatenate([info["action_mask"] for info in infos])}
        if not terminated.any():
            return obs, rewards, terminated, truncated, masks
        sample = next(info for info in infos if "final_info" in info)

        def merged(pick: Callable[[dict[str, Any]], np.ndarray]) -> np.ndarray:
            like = pick(sample)
            return np.concatenate([
                pick(info) if "final_info" in info
                else np.zeros((env.num_envs, *like.shape[1:]), like.dtype)
                for env, info in zip(self.envs, infos)])

        final_info = {key: merged(lambda info, key=key: info["final_info"][key])
                      for key in sample["final_info"]}
        return obs, rewards, terminated, truncated, {
            **masks, "final_obs": merged(lambda info: info["final_obs"]),
            "_final_obs": terminated.copy(), "final_info": final_info,
            "_final_info": terminated.copy()}


def make_vec_env(num_envs: int, scenario: str | Scenario = "trivial_cooperation",
                 num_opponents: int = 3,
                 opponents: Sequence[StrategySpec | Seat] | str | None = None,
                 cheap_talk: bool = False, seed: int | None = None, num_learners: int = 1,
                 opponent_policy: OpponentPolicy | None = None,
                 num_threads: int | None = None, learner_seat: int = LEARNER,
                 opponent_populations: Sequence[Population] | None = None,
                 ) -> BucketBrigadeVectorEnv:
    """A batched learners-vs-opponents env (see :class:`BucketBrigadeVectorEnv`). Without
    ``opponents`` the scripted seats cycle over the default pool, random, random,
    firefighter, coordinator (three opponents: random, random, firefighter)."""
    return BucketBrigadeVectorEnv(num_envs, scenario, num_opponents, opponents, cheap_talk, seed,
                                  num_learners, opponent_policy, num_threads, learner_seat,
                                  opponent_populations)


def derived_seed(seed: int, index: int) -> int:
    """``seed`` itself for index 0, else an unrelated 63-bit seed drawn from (seed, index)."""
    if index == 0:
        return int(seed)
    state = np.random.SeedSequence([int(seed), index]).generate_state(1, dtype=np.uint64)[0]
    return int(state >> np.uint64(1))


def fresh_seed() -> int:
    """A random 63-bit seed for an environment built without one."""
    return int(np.random.SeedSequence().generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))
