"""Every agent learns: a PettingZoo ``ParallelEnv`` over one game of the batched engine.

Agents are named ``agent_0`` .. ``agent_{N-1}``; each observes the game from
its own home (RULES.md) and acts with houses relative to its home. At the end
every agent terminates at once and ``agents`` becomes empty until ``reset()``.
Each agent's info holds its ``action_mask`` for the next night (see
:func:`~bucket_brigade.envs.masks.action_mask`), as PettingZoo's masked examples expect.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.error import ResetNeeded
from pettingzoo import ParallelEnv

from bucket_brigade.envs.gym_env import RENDER_MODES, SingleGame, check_render_mode, show
from bucket_brigade.envs.masks import action_mask
from bucket_brigade.envs.spaces import action_space, check_action, observation_space, state_space
from bucket_brigade.game.scenarios import Scenario, get_scenario
from bucket_brigade.game.seat import Seat

AgentID = str


class BucketBrigadeParallelEnv(ParallelEnv[AgentID, np.ndarray, np.ndarray]):
    """N externally controlled agents; ``state()`` is the absolute global state."""

    metadata = {"name": "bucket_brigade_v0", "render_modes": list(RENDER_MODES),  # noqa: RUF012
                "render_fps": 4, "is_parallelizable": True}

    def __init__(self, scenario: str | Scenario = "trivial_cooperation", num_agents: int = 4,
                 cheap_talk: bool = False, seed: int | None = None,
                 render_mode: str | None = None) -> None:
        self.scenario = get_scenario(scenario)
        self.scenario.check_num_agents(num_agents)
        self.render_mode = check_render_mode(render_mode)
        self.cheap_talk = bool(cheap_talk)
        self.possible_agents = [f"agent_{i}" for i in range(num_agents)]
        self.agents: list[AgentID] = []
        self.game = SingleGame(self.scenario, [Seat()] * num_agents, seed)
        # One space object per agent, so that seeding one agent's space leaves the others be.
        self.observation_spaces = {a: observation_space(self.scenario, num_agents)
                                   for a in self.possible_agents}
        self.action_spaces = {a: action_space(self.scenario, self.cheap_talk)
                              for a in self.possible_agents}
        self.state_space = state_space(self.scenario, num_agents)

    def observation_space(self, agent: AgentID) -> spaces.Box:
        return self.observation_spaces[self._known(agent)]

    def action_space(self, agent: AgentID) -> spaces.MultiDiscrete:
        return self.action_spaces[self._known(agent)]

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[dict[AgentID, np.ndarray], dict[AgentID, dict[str, Any]]]:
        """``seed`` restarts the random stream; without it the next game of the stream starts."""
        obs = self.game.reset(seed)
        self.agents = self.possible_agents[:]
        if self.render_mode == "human":
            self.render()
        return ({a: obs[i] for i, a in enumerate(self.agents)}, self._masked_infos(obs, {}))

    def step(self, actions: dict[AgentID, Any]) -> tuple[
            dict[AgentID, np.ndarray], dict[AgentID, float], dict[AgentID, bool],
            dict[AgentID, bool], dict[AgentID, dict[str, Any]]]:
        """Play one night; every live agent must act. Invalid actions change nothing."""
        if not self.agents:
            raise ResetNeeded("call reset() before step(): the game is over or not started")
        unknown = sorted(set(actions) - set(self.agents), key=str)
        if unknown:
            raise ValueError(f"action for unknown agent {unknown[0]!r}; "
                             f"agents: {', '.join(self.agents)}")
        checked = np.empty((len(self.agents), 3), dtype=np.int64)
        for i, agent in enumerate(self.agents):
            if agent not in actions:
                raise ValueError(f"no action for {agent}; every agent acts every night")
            try:
                checked[i] = check_action(actions[agent], self.scenario.num_houses,
                                          self.cheap_talk)
            except ValueError as exc:
                raise ValueError(f"{agent}: {exc}") from None
        obs, rewards, done = self.game.step(checked)
        agents = self.agents
        ends = {a: self.game.end_info(i) for i, a in enumerate(agents)} if done else {}
        result = ({a: obs[i] for i, a in enumerate(agents)},
                  {a: float(rewards[i]) for i, a in enumerate(agents)},
                  dict.fromkeys(agents, done), dict.fromkeys(agents, False),
                  self._masked_infos(obs, ends))
        if done:
            self.agents = []
        if self.render_mode == "human":
            self.render()
        return result

    def state(self) -> np.ndarray:
        """Absolute houses (H), locations (N), signals (N) and the night, as float32."""
        return self.game.snapshot().state()

    def render(self) -> str | np.ndarray | None:
        return show(self.game.snapshot(), self.scenario.name, self.render_mode)

    def _masked_infos(self, obs: np.ndarray, ends: dict[AgentID, dict[str, Any]]
                      ) -> dict[AgentID, dict[str, Any]]:
        """Each live agent's info: its end-of-game statistics if any, and its action mask."""
        masks = action_mask(obs[:, :self.scenario.num_houses], self.cheap_talk)
        return {a: {**ends.get(a, {}), "action_mask": masks[i]}
                for i, a in enumerate(self.agents)}

    def _known(self, agent: AgentID) -> AgentID:
        if agent not in self.observation_spaces:
            raise ValueError(f"unknown agent {agent!r}; agents: {', '.join(self.possible_agents)}")
        return agent


def parallel_env(scenario: str | Scenario = "trivial_cooperation", num_agents: int = 4,
                 cheap_talk: bool = False, seed: int | None = None,
                 render_mode: str | None = None) -> BucketBrigadeParallelEnv:
    """A :class:`BucketBrigadeParallelEnv` (PettingZoo's conventional constructor name)."""
    return BucketBrigadeParallelEnv(scenario, num_agents, cheap_talk, seed, render_mode)
