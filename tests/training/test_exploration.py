"""``train --work-bias``, ``--action-mask-steps`` and ``--anneal-ent``: the initial WORK
bias, the mask's curriculum (switch, re-encoding, resume, the saved policy) and the entropy
schedule."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from bucket_brigade.game.constants import BURNING
from bucket_brigade.training import ppo
from bucket_brigade.training.checkpoint import load_checkpoint
from bucket_brigade.training.exploration import bias_work, entropy_coefficient, mask_on_at
from bucket_brigade.training.models import load_policy
from bucket_brigade.training.network import PolicyNetwork
from bucket_brigade.training.ppo import train

HOUSES, OBS_DIM = 10, 36  # greedy_neighbor with 4 agents
INDEPENDENT = {"self_play": True, "sharing": "independent"}  # a stack of 4 seats' networks


def fire_observation() -> np.ndarray:
    """One observation in which house 0 (the agent's home) burns."""
    obs = np.zeros((1, OBS_DIM), dtype=np.float32)
    obs[0, 0] = BURNING
    return obs


def work_probability(network: PolicyNetwork) -> float:
    with torch.no_grad():
        intent = network(fire_observation()).intent.exp()[0]
    return float(intent[network.intent_works].sum())


@pytest.mark.parametrize("policy", ["structured", "mlp"])
@pytest.mark.parametrize("dims", [[HOUSES, 2], [HOUSES, 2, 2]])
def test_the_bias_moves_every_work_logit_against_every_rest_logit(policy, dims) -> None:
    torch.manual_seed(0)
    network = PolicyNetwork(OBS_DIM, dims, hidden_size=16, policy=policy, action_mask=False)
    before = network(fire_observation()).intent[0]
    bias_work(nn.ModuleList([network]), 2.0)  # found inside any module
    after = network(fire_observation()).intent[0]
    works = network.intent_works
    gap = (after[works][:, None] - after[~works]) - (before[works][:, None] - before[~works])
    torch.testing.assert_close(gap, torch.full_like(gap, 2.0))


@pytest.mark.parametrize("learners", [{}, INDEPENDENT])
def test_a_biased_run_starts_out_working(tiny_config, learners) -> None:
    """After the first update, an unmasked learner with --work-bias 3 works where a fire
    burns with about sigmoid(3) = 0.95, one without it with about 1/2 (seat 0's network
    of independent learners alike)."""
    seen = []

    def first_update(step: int, network: PolicyNetwork) -> bool:
        seen.append(work_probability(network))
        return True

    for bias in (0.0, 3.0):
        train(tiny_config(action_mask=False, work_bias=bias, run_name=f"bias{bias}",
                          **learners), until=first_update)
    unbiased, biased = seen
    assert biased > 0.9 and 0.4 < unbiased < 0.6


def test_mask_on_at_the_steps_before_the_switch_only(tiny_config) -> None:
    config = tiny_config(action_mask_steps=200)
    assert [mask_on_at(config, step) for step in (0, 128, 199, 200, 384)] == \
        [True, True, True, False, False]
    assert mask_on_at(tiny_config(), 10**9) and not mask_on_at(tiny_config(action_mask=False), 0)


def test_the_curriculum_switches_at_the_first_update_from_its_step(tiny_config, tmp_path,
                                                                   monkeypatch) -> None:
    """Updates start at steps 0, 128, 256 and 384 (8 nights each); the mask holds for the
    two that start before step 200. Every rollout step's inputs carry the mask's offsets
    exactly while the network masks: the step after the switch is encoded afresh."""
    rollout = []
    sample = PolicyNetwork.sample

    def recording_sample(self, inputs, generator=None):
        offsets = inputs[:, :self._offset_count]
        rollout.append((self.action_mask, bool((offsets != 0).any())))
        return sample(self, inputs, generator)

    monkeypatch.setattr(PolicyNetwork, "sample", recording_sample)
    charted = {}
    result = train(tiny_config(action_mask_steps=200),
                   on_metrics=lambda step, scalars: charted.update(
                       {step: scalars["charts/action_mask"]}))
    assert rollout == [(True, True)] * 16 + [(False, False)] * 16
    assert charted == {128: 1.0, 256: 1.0, 384: 0.0, 512: 0.0}
    assert not load_policy(result.model_path).network.action_mask  # an unmasked policy
    config_json = json.loads((tmp_path / "runs" / "tiny" / "config.json").read_text())
    assert config_json["action_mask_steps"] == 200 and not config_json["network"]["action_mask"]
    checkpoints = tmp_path / "checkpoints" / "tiny"
    assert load_checkpoint(checkpoints / "checkpoint_step_256.pt")["network"]["action_mask"]
    assert not load_checkpoint(checkpoints / "checkpoint_step_512.pt")["network"]["action_mask"]


@pytest.mark.parametrize("learners", [{}, INDEPENDENT])
@pytest.mark.parametrize(("resume_at", "expected"), [
    (128, {256: 1.0, 384: 0.0, 512: 0.0}),  # before the switch: it still comes
    (384, {512: 0.0}),  # after it: the mask stays off
])
def test_a_resumed_run_keeps_the_masks_schedule(tiny_config, tmp_path, resume_at,
                                                expected, learners) -> None:
    config = tiny_config(action_mask_steps=200, checkpoint_interval=128, **learners)
    train(config)
    checkpoint = load_checkpoint(tmp_path / "checkpoints" / "tiny" /
                                 f"checkpoint_step_{resume_at}.pt")
    charted = {}
    result = train(config, checkpoint, on_metrics=lambda step, scalars: charted.update(
        {step: scalars["charts/action_mask"]}))
    assert charted == expected
    assert not load_policy(result.model_path).network.action_mask


def test_the_entropy_coefficient_decays_linearly_to_zero(tiny_config, monkeypatch) -> None:
    assert [entropy_coefficient(tiny_config(ent_coef=0.2), s) for s in (0, 256)] == [0.2, 0.2]
    used = []
    update = ppo.ppo_update

    def recording_update(*args, ent_coef=None):
        used.append(ent_coef)
        return update(*args, ent_coef=ent_coef)

    monkeypatch.setattr(ppo, "ppo_update", recording_update)
    charted = []
    train(tiny_config(ent_coef=0.2, anneal_ent=True),
          on_metrics=lambda step, scalars: charted.append(scalars["charts/ent_coef"]))
    assert used == charted == pytest.approx([0.2, 0.15, 0.1, 0.05])
