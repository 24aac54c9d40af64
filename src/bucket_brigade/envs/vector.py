"""Batched learner-vs-opponents environment: the Gymnasium vector API over the engine.

Agent 0 of every game is the learner; agents 1..N-1 are scripted and play
inside the compiled kernel, so one ``step`` is one kernel call. Games reset
themselves in the same step they end (Gymnasium's ``SAME_STEP`` autoreset):
the returned observation is the new game's first, and ``info["final_obs"]`` /
``info["final_info"]`` carry the ended game's last observation and statistics,
with the boolean masks ``info["_final_obs"]`` / ``info["_final_info"]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from bucket_brigade.agents.strategies import StrategySpec, opponent_seats
from bucket_brigade.engine.batch import FinishedGames, GameBatch
from bucket_brigade.envs.spaces import action_space, full_actions, observation_space
from bucket_brigade.game.reference import Seat
from bucket_brigade.game.scenarios import Scenario, get_scenario

LEARNER = 0


def finished_info(finished: FinishedGames, agent: int) -> dict[str, np.ndarray]:
    """Per-game end-of-game statistics of ``agent``, as arrays over the batch."""
    return {
        "score": finished.scores[:, agent].copy(),
        "houses_saved": finished.houses_saved.copy(),
        "houses_ruined": finished.houses_ruined.copy(),
        "nights": finished.nights.copy(),
        "work_rate": finished.work_rate[:, agent].copy(),
        "honesty": finished.honesty[:, agent].copy(),
    }


class BucketBrigadeVectorEnv(VectorEnv):
    """``num_envs`` games of one learner (agent 0) against scripted opponents."""

    metadata = {"autoreset_mode": AutoresetMode.SAME_STEP}  # noqa: RUF012

    def __init__(self, num_envs: int, scenario: str | Scenario = "trivial_cooperation",
                 num_opponents: int = 3,
                 opponents: Sequence[StrategySpec | Seat] | str | None = None,
                 cheap_talk: bool = False, seed: int | None = None) -> None:
        self.scenario = get_scenario(scenario)
        seats = [Seat(), *opponent_seats(num_opponents, opponents, self.scenario.name)]
        self.cheap_talk = bool(cheap_talk)
        self.games = GameBatch(self.scenario, seats, num_envs,
                               seed=fresh_seed() if seed is None else int(seed))
        self.num_envs = num_envs
        self.num_agents = len(seats)
        self.single_observation_space = observation_space(self.scenario, self.num_agents)
        self.single_action_space = action_space(self.scenario, self.cheap_talk)
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self._truncations = np.zeros(num_envs, dtype=np.bool_)
        self._played = False

    def reset(self, *, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        """Restart from ``seed``; without one, start the next game of every stream.

        Games not played yet are kept, so ``make_vec_env(seed=s).reset()`` equals
        ``reset(seed=s)`` and game e then follows ``ReferenceGame(seed=s, game_index=e)``.
        """
        super().reset(seed=seed)
        if seed is not None:
            self.action_space.seed(seed)
            obs = self.games.reset(int(seed))
        elif self._played:
            obs = self.games.restart()
        else:
            obs = self.games.observations
        self._played = False
        return obs[:, LEARNER].copy(), {}

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                 np.ndarray, dict[str, Any]]:
        width = 3 if self.cheap_talk else 2
        actions = np.asarray(actions)
        if actions.shape != (self.num_envs, width):
            raise ValueError(f"actions have shape {actions.shape}, "
                             f"expected {(self.num_envs, width)}")
        checked = self.games.check_actions(full_actions(actions, self.cheap_talk)[:, None, :])
        obs, rewards, done = self.games.step(checked)
        self._played = True
        infos: dict[str, Any] = {}
        if done.any():
            mask = done.copy()
            final = self.games.finished
            infos = {
                "final_obs": final.observations[:, LEARNER].copy(),
                "_final_obs": mask,
                "final_info": {**finished_info(final, LEARNER),
                               **{f"_{k}": mask for k in finished_info(final, LEARNER)}},
                "_final_info": mask,
            }
        return (obs[:, LEARNER].copy(), rewards[:, LEARNER].astype(np.float32),
                done.copy(), self._truncations.copy(), infos)


def make_vec_env(num_envs: int, scenario: str | Scenario = "trivial_cooperation",
                 num_opponents: int = 3,
                 opponents: Sequence[StrategySpec | Seat] | str | None = None,
                 cheap_talk: bool = False, seed: int | None = None) -> BucketBrigadeVectorEnv:
    """A batched learner-vs-opponents env (see :class:`BucketBrigadeVectorEnv`)."""
    return BucketBrigadeVectorEnv(num_envs, scenario, num_opponents, opponents, cheap_talk, seed)


def fresh_seed() -> int:
    """A random 63-bit seed for an environment built without one."""
    return int(np.random.SeedSequence().generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))
