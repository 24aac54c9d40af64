"""One learner against scripted opponents, one game at a time: a ``gymnasium.Env``.

The game runs on the batched engine as a batch of one, so it is bit-identical
to game 0 of :func:`~bucket_brigade.envs.vector.make_vec_env` with the same
seed and opponents, episode after episode.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, Literal

import gymnasium as gym
import numpy as np
from gymnasium.error import ResetNeeded

from bucket_brigade.agents.strategies import StrategySpec, opponent_seats
from bucket_brigade.engine.batch import GameBatch
from bucket_brigade.envs.masks import action_mask
from bucket_brigade.envs.render import Snapshot, render_rgb, render_text
from bucket_brigade.envs.spaces import action_space, check_action, observation_space
from bucket_brigade.envs.vector import LEARNER, fresh_seed
from bucket_brigade.game.rng import check_seed
from bucket_brigade.game.scenarios import Scenario, get_scenario
from bucket_brigade.game.seat import Seat

ENV_ID = "BucketBrigade-v0"
RENDER_MODES = ("ansi", "human", "rgb_array")

Phase = Literal["unreset", "fresh", "playing", "over"]


class SingleGame:
    """One game on the batched engine, shared by the single-game adapters.

    The engine starts the next game the moment one ends. This keeps the ended
    game's final view until ``reset()``, and lets ``reset()`` without a seed
    start the next game of the random stream, neither replaying nor skipping one.
    Agent 0 must be external: its observation is the absolute view rendered.
    Built without a seed, it draws a fresh one at its first reset without a seed too,
    so that copies of it (pickled, as SuperSuit's vector wrappers make them) differ.
    """

    def __init__(self, scenario: Scenario, seats: Sequence[Seat], seed: int | None) -> None:
        if not seats[0].external:
            raise ValueError("agent 0 must be an external seat")
        self.batch = GameBatch(scenario, seats, 1, seed=fresh_seed() if seed is None else seed)
        self.seeded = seed is not None
        self.phase: Phase = "unreset"

    def reset(self, seed: int | None) -> np.ndarray:
        """Observations [n_external, obs_dim] of a fresh game."""
        if seed is not None:
            self.batch.reset(seed)
            self.seeded = True
        elif not self.seeded:
            self.batch.reset(fresh_seed())
            self.seeded = True
        elif self.phase == "playing":
            self.batch.restart()
        self.phase = "fresh"
        return self.batch.observations[0].copy()

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
        """Play one night with validated actions [n_external, 3]; the ended game's last
        observations are returned on its final night."""
        if self.phase in ("unreset", "over"):
            raise ResetNeeded("call reset() before step(): the game is over or not started")
        obs, rewards, done = self.batch.step(actions[None])
        self.phase = "over" if done[0] else "playing"
        if done[0]:
            obs = self.batch.finished.observations
        return obs[0].copy(), rewards[0].copy(), bool(done[0])

    def end_info(self, agent: int) -> dict[str, Any]:
        """End-of-game statistics of ``agent`` (valid once the game is over)."""
        f = self.batch.finished
        return {
            "score": float(f.scores[0, agent]),
            "houses_saved": int(f.houses_saved[0]),
            "houses_ruined": int(f.houses_ruined[0]),
            "nights": int(f.nights[0]),
            "work_rate": float(f.work_rate[0, agent]),
            "honesty": float(f.honesty[0, agent]),
        }

    def snapshot(self) -> Snapshot:
        """What a spectator sees now: the final night of an ended game, else the current one."""
        batch = self.batch
        if self.phase == "over":
            f = batch.finished
            return Snapshot.from_observation(f.observations[0, 0], batch.num_houses,
                                             f.nights[0], f.scores[0])
        return Snapshot.from_observation(batch.observations[0, 0], batch.num_houses,
                                         batch.nights[0], batch.scores[0])


def check_render_mode(render_mode: str | None) -> str | None:
    """Refuse a mode the envs cannot draw (Gymnasium's rule: accept the declared ones)."""
    if render_mode is not None and render_mode not in RENDER_MODES:
        raise ValueError(f"unknown render_mode {render_mode!r}; valid modes: "
                         f"{', '.join(RENDER_MODES)} (or None)")
    return render_mode


def show(snapshot: Snapshot, title: str, render_mode: str | None) -> str | np.ndarray | None:
    """Return the text for "ansi", print it for "human", return an RGB frame for "rgb_array"."""
    if render_mode == "rgb_array":
        return render_rgb(snapshot)
    text = render_text(snapshot, title=title)
    if render_mode == "human":
        print(text + "\n")
        return None
    return text if render_mode == "ansi" else None


class BucketBrigadeEnv(gym.Env[np.ndarray, np.ndarray]):
    """Agent 0 learns; agents 1.. are scripted opponents (see ``agents.strategies``).

    ``opponents`` (a list or a comma list of strategies) is cycled over the
    ``num_opponents`` seats; by default the pool is random, random, firefighter,
    coordinator, so the default three opponents are random, random and firefighter.

    A game ends with ``terminated=True`` (never ``truncated``: both endings of
    RULES.md are terminal); its final ``info`` holds the learner's score,
    houses_saved, houses_ruined, nights, work_rate and honesty, and the episode's
    rewards sum to that score. Every ``info`` holds ``action_mask`` (see
    :func:`~bucket_brigade.envs.masks.action_mask`), which ``action_masks()`` returns too,
    as sb3-contrib's ``MaskablePPO`` reads it.
    """

    metadata = {"render_modes": list(RENDER_MODES), "render_fps": 4}  # noqa: RUF012

    def __init__(self, scenario: str | Scenario = "trivial_cooperation", num_opponents: int = 3,
                 opponents: Sequence[StrategySpec | Seat] | str | None = None,
                 cheap_talk: bool = False, seed: int | None = None,
                 render_mode: str | None = None) -> None:
        self.scenario = get_scenario(scenario)
        self.render_mode = check_render_mode(render_mode)
        self.cheap_talk = bool(cheap_talk)
        seats = [Seat(), *opponent_seats(num_opponents, opponents, self.scenario.name,
                                         planners=False)]
        self.num_agents = len(seats)
        self.game = SingleGame(self.scenario, seats, seed)
        self.observation_space = observation_space(self.scenario, self.num_agents)
        self.action_space = action_space(self.scenario, self.cheap_talk)
        self._mask: np.ndarray | None = None

    def reset(self, *, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        """``seed`` restarts the random stream; without it the next game of the stream starts."""
        if seed is not None:  # checked, and a NumPy integer made an int, before Gymnasium
            seed = check_seed(seed)  # seeds (which words it differently, and refuses NumPy's)
        super().reset(seed=seed)
        obs = self.game.reset(seed)[LEARNER]
        self._mask = action_mask(obs[:self.scenario.num_houses], self.cheap_talk)
        if self.render_mode == "human":
            self.render()
        return obs, {"action_mask": self._mask}

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        checked = check_action(action, self.scenario.num_houses, self.cheap_talk)
        obs, rewards, done = self.game.step(checked[None])
        info = self.game.end_info(LEARNER) if done else {}
        self._mask = action_mask(obs[LEARNER, :self.scenario.num_houses], self.cheap_talk)
        info["action_mask"] = self._mask
        if self.render_mode == "human":
            self.render()
        return obs[LEARNER], float(rewards[LEARNER]), done, False, info

    def action_masks(self) -> np.ndarray:
        """The allowed actions after the last observation: bool [sum(nvec)], one block per
        action dimension."""
        if self._mask is None:
            raise ResetNeeded("call reset() before action_masks()")
        return self._mask.copy()

    def render(self) -> str | np.ndarray | None:
        return show(self.game.snapshot(), self.scenario.name, self.render_mode)


def make_env(scenario: str | Scenario = "trivial_cooperation", num_opponents: int = 3,
             opponents: Sequence[StrategySpec | Seat] | str | None = None,
             cheap_talk: bool = False, seed: int | None = None,
             render_mode: str | None = None) -> BucketBrigadeEnv:
    """A :class:`BucketBrigadeEnv` without wrappers, carrying its spec (so that
    ``env.spec.make()`` rebuilds it) as ``gymnasium.make(ENV_ID, ...).unwrapped`` would.

    Without ``opponents`` the learner plays against random, random and firefighter (the
    default pool, random, random, firefighter, coordinator, cycled over ``num_opponents``
    seats); name them, e.g. ``opponents="random"``, to choose."""
    kwargs = {"scenario": scenario, "num_opponents": num_opponents, "opponents": opponents,
              "cheap_talk": cheap_talk, "seed": seed, "render_mode": render_mode}
    env = BucketBrigadeEnv(**kwargs)
    env.spec = dataclasses.replace(gym.spec(ENV_ID), kwargs=kwargs, order_enforce=False,
                                   disable_env_checker=True)
    return env
