"""The batched env for learning libraries that reset each sub-env themselves when its game
ends (Tianshou's collectors, EnvPool-style loops): Gymnasium's manual-reset convention
(``AutoresetMode.DISABLED``) over one :class:`~bucket_brigade.envs.vector.BucketBrigadeVectorEnv`.

Such libraries usually build their own vector env from copies of ``make_env`` (Tianshou's
``DummyVectorEnv``), which steps the games one by one in Python; this one steps every game
in one kernel call, as ``make_vec_env`` does.

A slot whose game ends shows that game's final observation in ``step``'s result, and its
end-of-game statistics in the info (``score``, ``houses_saved``, ... with their ``_score``,
... masks, Gymnasium's layout for vector infos). The caller then resets it with
``reset(options={"reset_mask": mask})``, which returns the next game's first observation
for the masked slots (the engine started that game when the last one ended, so a reset
costs nothing; a slot whose game is still on has its game abandoned and the next one
started). Every slot steps together, so ended slots must be reset before the next step.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium.error import ResetNeeded
from gymnasium.vector import AutoresetMode, VectorEnv

from bucket_brigade.envs.masks import action_mask
from bucket_brigade.envs.vector import BucketBrigadeVectorEnv


class ManualResetVectorEnv(VectorEnv):
    """``env``'s slots, each reset by the caller when its game ends (see the module notes)."""

    metadata = {"autoreset_mode": AutoresetMode.DISABLED}  # noqa: RUF012

    def __init__(self, env: BucketBrigadeVectorEnv) -> None:
        self.env = env
        self.num_envs = env.num_envs
        self.single_observation_space = env.single_observation_space
        self.single_action_space = env.single_action_space
        self.observation_space = env.observation_space
        self.action_space = env.action_space
        self._engine_obs: np.ndarray | None = None  # where each slot's game is in the engine
        self._shown_obs: np.ndarray | None = None  # what the caller was last shown per slot
        self._ended = np.zeros(self.num_envs, dtype=np.bool_)  # ended and not reset yet
        self._mask: np.ndarray | None = None

    def reset(self, *, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        """Without ``options["reset_mask"]``, every slot as the wrapped env's ``reset``;
        with it (bool [num_envs]), only the masked slots start a new game."""
        reset_mask = None if options is None else options.get("reset_mask")
        if reset_mask is None or self._shown_obs is None:
            obs, _ = self.env.reset(seed=seed)
            self._engine_obs, self._ended[:] = obs, False
            return self._show(obs.copy())
        if seed is not None:
            raise ValueError(f"seed={seed} restarts every game's stream: reset without "
                             "reset_mask to use it")
        reset_mask = self._checked_mask(reset_mask)
        still_on = reset_mask & ~self._ended
        if still_on.any():
            self._engine_obs = self.env.restart_games(self._games_of(still_on))
        self._ended &= ~reset_mask
        return self._show(np.where(reset_mask[:, None], self._engine_obs, self._shown_obs))

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                 np.ndarray, dict[str, Any]]:
        if self._shown_obs is None:
            raise ResetNeeded("call reset() before step()")
        if self._ended.any():
            raise ResetNeeded(f"slots {np.flatnonzero(self._ended).tolist()} ended their game; "
                              "reset them (reset(options={'reset_mask': mask})) before step()")
        obs, rewards, terminated, truncated, infos = self.env.step(actions)
        self._engine_obs = obs
        shown = obs.copy()
        if "final_obs" in infos:
            ended = infos["_final_obs"]
            shown[ended] = infos["final_obs"][ended]
            self._ended = terminated | truncated
        obs_out, info_out = self._show(shown)
        return obs_out, rewards, terminated, truncated, info_out | infos.get("final_info", {})

    def action_masks(self) -> np.ndarray:
        """The allowed actions after the last observations shown: bool [num_envs, sum(nvec)]."""
        if self._mask is None:
            raise ResetNeeded("call reset() before action_masks()")
        return self._mask.copy()

    def _show(self, obs: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
        self._shown_obs = obs
        self._mask = action_mask(obs[:, :self.env.scenario.num_houses], self.env.cheap_talk)
        return obs.copy(), {"action_mask": self._mask.copy()}

    def _checked_mask(self, reset_mask: Any) -> np.ndarray:
        mask = np.asarray(reset_mask)
        if mask.dtype != np.bool_ or mask.shape != (self.num_envs,):
            raise ValueError(f"reset_mask must be a bool array of shape ({self.num_envs},), "
                             f"got {mask.dtype} {mask.shape}")
        return mask

    def _games_of(self, slots: np.ndarray) -> np.ndarray:
        """The games whose slots are all in ``slots`` [num_envs] (a game restarts whole)."""
        per_game = slots.reshape(self.env.num_games, self.env.num_learners)
        if (per_game.any(axis=1) != per_game.all(axis=1)).any():
            raise ValueError(f"reset_mask resets some of a game's {self.env.num_learners} "
                             "learner slots but not all: a game that is still on restarts whole")
        return per_game.all(axis=1)
