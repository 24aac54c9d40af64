"""Shared helpers for the environment tests: a deterministic policy and game drivers."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

NUM_HOUSES = 10


def first_fire_action(obs: np.ndarray, cheap_talk: bool = False) -> np.ndarray:
    """Work at the first burning house seen from home, else rest at home; with cheap talk,
    signal the opposite of the mode (so signals are visibly chosen)."""
    burning = np.flatnonzero(obs[:NUM_HOUSES] == 1)
    house, mode = (int(burning[0]), 1) if burning.size else (0, 0)
    return np.array([house, mode, 1 - mode] if cheap_talk else [house, mode])


@pytest.fixture
def fire_policy() -> Callable[..., np.ndarray]:
    return first_fire_action


def same_info(first: dict, second: dict) -> bool:
    """Info dicts equal key by key, arrays (action masks) included; nested dicts too."""
    return first.keys() == second.keys() and all(
        same_info(first[k], second[k]) if isinstance(first[k], dict)
        else np.array_equal(first[k], second[k]) for k in first)
