"""Which actions are pointless under RULES.md: the one rule every action mask follows.

Libraries that mask actions (sb3-contrib's ``MaskablePPO``, PettingZoo's masked examples,
the project's own trainer with ``--action-mask``) read the same flat boolean layout for a
MultiDiscrete space: one block per action dimension, concatenated, True = allowed.
"""

from __future__ import annotations

import numpy as np

from bucket_brigade.game.constants import BURNING


def action_mask(observation_houses: np.ndarray, cheap_talk: bool) -> np.ndarray:
    """Allowed actions for egocentric house states [..., H] -> bool [..., H + 2 (+ 2)].

    Blocks: house (H, relative to home as the observation lists them), mode (REST, WORK)
    and, with cheap talk, signal (REST, WORK). Excluded, and why (RULES.md):

    - mode WORK while no house burns: working at a house that is not burning has no
      effect and still costs ``cost_to_work_one_night`` (and forgoes ``reward_rest``);
    - while some house burns and the agent cannot signal separately (no cheap talk),
      every house that is not burning: WORK there has no effect, and REST there changes
      nothing that REST at a burning house would not (the signal is REST either way).

    Everything else stays allowed: with no fire every house is allowed (all are
    equivalent), and with cheap talk the house and the signal are always free, because a
    resting agent that signals WORK may stand anywhere (a deceptive signal is a choice).
    The per-dimension form cannot forbid combinations, so WORK at a safe house while
    another house burns remains possible; a policy learns that one from its cost.
    """
    houses = np.asarray(observation_houses)
    burning = houses == BURNING
    any_burning = burning.any(axis=-1, keepdims=True)
    house_block = np.ones_like(burning) if cheap_talk else burning | ~any_burning
    mode_block = np.concatenate([np.ones_like(any_burning), any_burning], axis=-1)
    blocks = [house_block, mode_block]
    if cheap_talk:
        blocks.append(np.ones_like(mode_block))
    return np.concatenate(blocks, axis=-1)

