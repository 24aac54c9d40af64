"""The league (``--league P``): games whose other seats a frozen snapshot of the learner
plays, drawn each update from its last ``LEAGUE_SIZE`` checkpoints (the starting weights
until the first checkpoint; a resumed run starts its league afresh from the resumed
weights)."""

from __future__ import annotations

import copy
from collections import deque

import numpy as np
import torch

from bucket_brigade.evaluation import sampled_actions
from bucket_brigade.training.config import LEAGUE_SIZE
from bucket_brigade.training.network import PolicyNetwork


class League:
    """Frozen copies of the learner, one per recent checkpoint; ``draw`` picks the one that
    plays (sampling its actions) the opponent seats of every league game until the next."""

    def __init__(self, agent: PolicyNetwork, seed: int) -> None:
        self.opponent = copy.deepcopy(agent).requires_grad_(False)
        self.snapshots: deque[dict[str, torch.Tensor]] = deque(maxlen=LEAGUE_SIZE)
        self.rng = np.random.default_rng(seed)
        self.add(agent)

    def add(self, agent: PolicyNetwork) -> None:
        self.snapshots.append({k: v.detach().clone() for k, v in agent.state_dict().items()})

    def draw(self) -> None:
        self.opponent.load_state_dict(self.snapshots[int(self.rng.integers(len(self.snapshots)))])

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        return sampled_actions(self.opponent, obs)
