"""--policy and --action-mask: stored with the run, so that every loader rebuilds the same
network, and refused when unknown."""

from __future__ import annotations

import json

import pytest
import torch

from bucket_brigade.errors import UsageError
from bucket_brigade.training.models import load_policy
from bucket_brigade.training.ppo import train


@pytest.mark.parametrize(("policy", "mask"), [("mlp", False), ("structured", False)])
def test_the_network_kind_travels_with_the_run(tiny_config, tmp_path, policy: str,
                                               mask: bool) -> None:
    config = tiny_config(policy=policy, action_mask=mask, steps=128, cheap_talk=True)
    train(config)
    expected = {"obs_dim": 36, "action_dims": [10, 2, 2], "hidden_size": 16,
                "policy": policy, "action_mask": mask}
    assert json.loads((tmp_path / "runs" / "tiny" / "config.json").read_text())["network"] \
        == expected
    checkpoint = torch.load(tmp_path / "checkpoints" / "tiny" / "checkpoint_step_128.pt",
                            weights_only=True)
    assert checkpoint["network"] == expected
    # The weights-only final model is recognised from its keys, mask included.
    model = tmp_path / "model_tiny.pt"
    (tmp_path / "runs" / "tiny" / "config.json").unlink()
    assert load_policy(model).network.config == expected
    assert load_policy(tmp_path / "checkpoints" / "tiny" / "checkpoint_step_128.pt"
                       ).network.config == expected


def test_an_unknown_policy_is_refused(tiny_config) -> None:
    with pytest.raises(UsageError, match="--policy 'cnn' is not one of structured, mlp"):
        tiny_config(policy="cnn").validate()
