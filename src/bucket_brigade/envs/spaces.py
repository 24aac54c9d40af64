"""Observation and action spaces of one agent (RULES.md), shared by every adapter."""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from bucket_brigade.engine.batch import check_actions
from bucket_brigade.game.constants import HOUSE_STATES, WORK
from bucket_brigade.game.scenarios import Scenario


def observation_space(scenario: Scenario, num_agents: int) -> spaces.Box:
    """Egocentric observation with exact bounds for the game part.

    The scenario part is constant within an environment; it gets the nominal range
    [0, 1], widened where needed to hold this scenario's value (a Box whose low
    equals its high is rejected by Gymnasium's checker).
    """
    layout = scenario.observation_layout(num_agents)
    info = np.array(scenario.info_vector(num_agents), dtype=np.float32)
    last_house = scenario.num_houses - 1
    low = np.zeros(layout.obs_dim, dtype=np.float32)
    high = np.zeros(layout.obs_dim, dtype=np.float32)
    high[layout.houses] = HOUSE_STATES - 1
    high[layout.signals] = WORK
    high[layout.locations] = last_house
    high[layout.last_houses] = last_house
    high[layout.last_modes] = WORK
    low[layout.scenario_info] = np.minimum(info, 0)
    high[layout.scenario_info] = np.maximum(info, 1)
    return spaces.Box(low=low, high=high, dtype=np.float32)


def state_space(scenario: Scenario, num_agents: int) -> spaces.Box:
    """The global state of RULES.md: absolute houses, locations, signals, then the night."""
    h, n = scenario.num_houses, num_agents
    high = np.concatenate([
        np.full(h, 2, dtype=np.float32),  # house states
        np.full(n, h - 1, dtype=np.float32),  # absolute locations
        np.ones(n, dtype=np.float32),  # signals
        np.array([scenario.max_nights], dtype=np.float32),  # night
    ])
    return spaces.Box(low=np.zeros_like(high), high=high, dtype=np.float32)


def action_space(scenario: Scenario, cheap_talk: bool) -> spaces.MultiDiscrete:
    """(house relative to home, mode) or, with cheap talk, (house, mode, signal)."""
    nvec = [scenario.num_houses, 2, 2] if cheap_talk else [scenario.num_houses, 2]
    return spaces.MultiDiscrete(nvec)


def full_actions(actions: np.ndarray, cheap_talk: bool) -> np.ndarray:
    """Append the signal column (= mode) when agents cannot choose their signal."""
    if cheap_talk:
        return actions
    return np.concatenate([actions, actions[..., 1:2]], axis=-1)


def check_action(action: object, num_houses: int, cheap_talk: bool) -> np.ndarray:
    """Validate one agent's action; returns int64 (house, mode, signal).

    Raises ValueError naming the offending value (wrong shape, out of range,
    non-integer, NaN), so a caller can refuse it before touching any state.
    """
    try:
        array = np.asarray(action)
    except ValueError:
        raise ValueError(f"action {action!r} is not an array of integers") from None
    width = 3 if cheap_talk else 2
    if array.shape != (width,):
        fields = "(house, mode, signal)" if cheap_talk else "(house, mode)"
        raise ValueError(f"action {action!r} has shape {array.shape}, expected ({width},) "
                         f"= {fields}")
    return check_actions(full_actions(array, cheap_talk), (), num_houses)
