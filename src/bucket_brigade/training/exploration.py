"""Ways to keep a learner without the action mask from giving up WORK before it has learnt
where to work (docs/results.md, "Does the mask decide the answer?"), each a ``train``
option that is off by default:

* ``--work-bias X`` adds X to the initial logit of every WORK intent, so a fresh policy
  works with probability sigmoid(X) (against 1/2) wherever WORK is allowed.
* ``--action-mask-steps N`` is a curriculum: the mask holds for the updates that start
  before step N and is then removed for good, so the run trains, checkpoints and saves an
  unmasked policy (the mask is a buffer of the weights: every loader plays it unmasked).
* ``--anneal-ent`` decays the entropy coefficient linearly to 0 (:func:`entropy_coefficient`).
"""

from __future__ import annotations

import torch
from torch import nn

from bucket_brigade.training.config import TrainConfig
from bucket_brigade.training.network import PolicyNetwork


def policy_networks(module: nn.Module) -> list[PolicyNetwork]:
    """Every policy network in a run's module: one, one per seat, or a critic's actor."""
    return [part for part in module.modules() if isinstance(part, PolicyNetwork)]


def bias_work(module: nn.Module, offset: float) -> None:
    """Add ``offset`` to the intent head's bias of every WORK intent of every network (of
    every seat, for a stack of seats' networks, whose bias is [K, intents])."""
    with torch.no_grad():
        for network in policy_networks(module):
            network.body.intent_head.bias[..., network.intent_works] += offset


def mask_on_at(config: TrainConfig, step: int) -> bool:
    """Whether the update that starts at ``step`` trains with the action mask."""
    until = config.action_mask_steps
    return config.action_mask and (until is None or step < until)


def set_action_mask(module: nn.Module, on: bool) -> None:
    """Mask pointless actions, or not, in every network of ``module`` (inputs encoded
    before this keep the old mask's offsets: encode them again)."""
    for network in policy_networks(module):
        network.mask_pointless.fill_(on)


def entropy_coefficient(config: TrainConfig, step: int) -> float:
    """The entropy bonus's coefficient for the update that starts at ``step``."""
    if not config.anneal_ent:
        return config.ent_coef
    return config.ent_coef * max(1.0 - step / config.steps, 0.0)
