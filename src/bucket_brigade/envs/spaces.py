"""Observation and action spaces of one agent (RULES.md), shared by every adapter."""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from bucket_brigade.game.scenarios import Scenario


def observation_space(scenario: Scenario, num_agents: int) -> spaces.Box:
    """Egocentric observation with exact per-entry bounds (the scenario part is constant)."""
    h, n = scenario.num_houses, num_agents
    info = np.array(scenario.info_vector(n), dtype=np.float32)
    low = np.concatenate([np.zeros(h + 4 * n, dtype=np.float32), info])
    high = np.concatenate([
        np.full(h, 2, dtype=np.float32),  # house states
        np.ones(n, dtype=np.float32),  # signals
        np.full(n, h - 1, dtype=np.float32),  # relative locations
        np.tile(np.array([h - 1, 1], dtype=np.float32), n),  # (relative house, mode)
        info,
    ])
    return spaces.Box(low=low, high=high, dtype=np.float32)


def action_space(scenario: Scenario, cheap_talk: bool) -> spaces.MultiDiscrete:
    """(house relative to home, mode) or, with cheap talk, (house, mode, signal)."""
    nvec = [scenario.num_houses, 2, 2] if cheap_talk else [scenario.num_houses, 2]
    return spaces.MultiDiscrete(nvec)


def full_actions(actions: np.ndarray, cheap_talk: bool) -> np.ndarray:
    """Append the signal column (= mode) when agents cannot choose their signal."""
    if cheap_talk:
        return actions
    return np.concatenate([actions, actions[..., 1:2]], axis=-1)
