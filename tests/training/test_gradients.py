"""FlatGradients: the same numbers as zero_grad() and clip_grad_norm_, bit for bit, and
no silent loss of gradients."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from bucket_brigade.envs.vector import make_vec_env
from bucket_brigade.training.gradients import FlatGradients
from bucket_brigade.training.network import PolicyNetwork

OBS_DIM = 36  # 10 houses, 4 agents


def network() -> PolicyNetwork:
    torch.manual_seed(0)
    return PolicyNetwork(OBS_DIM, [10, 2])


def observations(seed: int) -> torch.Tensor:
    """64 observations of games a few nights in (random actions)."""
    env = make_vec_env(64, "chain_reaction", seed=seed)
    env.reset()
    env.action_space.seed(seed)
    for _ in range(3):
        obs = env.step(env.action_space.sample())[0]
    return torch.from_numpy(obs)


def loss(net: PolicyNetwork, seed: int) -> torch.Tensor:
    """A loss that reads every output, and so every parameter, with a large gradient."""
    intent, house, value = net(observations(seed))
    return 50 * (-(intent.exp() * intent).sum() + (house.clamp_min(-20) ** 2).mean()
                 + ((value - 1.0) ** 2).mean())


@pytest.mark.parametrize("max_norm", [0.5, 1e6])  # clipping, and a norm below the limit
def test_training_steps_equal_zero_grad_and_clip_grad_norm_bit_for_bit(max_norm: float) -> None:
    flat_net, plain_net = network(), network()
    flat_adam = torch.optim.Adam(flat_net.parameters(), lr=3e-3)
    plain_adam = torch.optim.Adam(plain_net.parameters(), lr=3e-3)
    gradients = FlatGradients(flat_net)
    for seed in range(4):
        gradients.zero_()
        loss(flat_net, seed).backward()
        ours = gradients.clip_norm_(max_norm)
        flat_adam.step()

        plain_adam.zero_grad()
        loss(plain_net, seed).backward()
        theirs = nn.utils.clip_grad_norm_(plain_net.parameters(), max_norm, foreach=True)
        plain_adam.step()

        assert torch.equal(ours, theirs)
        assert (ours > max_norm) == (max_norm == 0.5)
        for a, b in zip(flat_net.parameters(), plain_net.parameters()):
            assert torch.equal(a.grad, b.grad)
            assert torch.equal(a, b)
    assert flat_adam.state_dict()["state"].keys() == plain_adam.state_dict()["state"].keys()


def test_gradients_are_views_of_the_flat_tensor() -> None:
    net = network()
    gradients = FlatGradients(net)
    assert gradients.flat.shape == (sum(p.numel() for p in net.parameters()),)
    loss(net, 0).backward()
    assert gradients.flat.abs().sum() > 0
    assert torch.equal(gradients.flat, torch.cat([p.grad.reshape(-1) for p in net.parameters()]))
    gradients.zero_()
    assert all(bool((p.grad == 0).all()) for p in net.parameters())


@pytest.mark.parametrize("cut_off", ["optimizer", "module"])
def test_refuses_gradients_cut_off_by_zero_grad(cut_off: str) -> None:
    net = network()
    gradients = FlatGradients(net)
    if cut_off == "optimizer":
        torch.optim.Adam(net.parameters()).zero_grad()
    else:
        net.zero_grad()
    loss(net, 0).backward()
    with pytest.raises(RuntimeError, match="zero_"):
        gradients.clip_norm_(0.5)
    with pytest.raises(RuntimeError, match="zero_"):
        gradients.zero_()


def test_refuses_a_module_without_trainable_parameters() -> None:
    with pytest.raises(ValueError, match="parameters"):
        FlatGradients(nn.ReLU())
