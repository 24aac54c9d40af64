"""FlatAdam: the same steps as torch.optim.Adam over the parameters one by one, the same
state dict (in both directions), and no silent loss of gradients."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from bucket_brigade.envs.vector import make_vec_env
from bucket_brigade.training.network import PolicyNetwork
from bucket_brigade.training.optimizer import FlatAdam

SETTINGS = {"lr": 3e-3, "eps": 1e-5}
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


def train_steps(net: PolicyNetwork, optimizer: torch.optim.Optimizer, steps: range) -> None:
    """A few gradient steps on a loss that reads every output (and so every parameter)."""
    for seed in steps:
        intent, house, value = net(observations(seed))
        loss = -(intent.exp() * intent).sum() + (house.clamp_min(-20) ** 2).mean() \
            + ((value - 1.0) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def test_steps_match_adam_over_the_parameters_one_by_one() -> None:
    flat_net, plain_net = network(), network()
    train_steps(flat_net, FlatAdam(flat_net, **SETTINGS), range(6))
    train_steps(plain_net, torch.optim.Adam(plain_net.parameters(), **SETTINGS), range(6))
    for (name, ours), theirs in zip(flat_net.named_parameters(), plain_net.parameters()):
        assert not torch.equal(ours, network().get_parameter(name)), name  # it learned
        torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-6)


def test_parameters_and_gradients_are_views_of_the_flat_tensors() -> None:
    net = network()
    optimizer = FlatAdam(net, **SETTINGS)
    train_steps(net, optimizer, range(1))
    total = sum(p.numel() for p in net.parameters())
    assert optimizer.flat.shape == optimizer.gradients.shape == (total,)
    assert torch.equal(optimizer.flat.detach(),
                       torch.cat([p.detach().reshape(-1) for p in net.parameters()]))
    assert torch.equal(optimizer.gradients,
                       torch.cat([p.grad.reshape(-1) for p in net.parameters()]))
    optimizer.zero_grad()
    assert all(bool((p.grad == 0).all()) for p in net.parameters())


def test_state_dict_is_adams_and_loads_both_ways() -> None:
    flat_net, plain_net = network(), network()
    flat_opt = FlatAdam(flat_net, **SETTINGS)
    plain_opt = torch.optim.Adam(plain_net.parameters(), **SETTINGS)
    train_steps(flat_net, flat_opt, range(3))
    train_steps(plain_net, plain_opt, range(3))
    ours, theirs = flat_opt.state_dict(), plain_opt.state_dict()
    assert ours["param_groups"] == theirs["param_groups"]
    assert ours["state"].keys() == theirs["state"].keys()
    for index, state in theirs["state"].items():
        assert ours["state"][index].keys() == state.keys()
        for key, value in state.items():
            assert ours["state"][index][key].shape == value.shape
            torch.testing.assert_close(ours["state"][index][key], value, rtol=1e-4, atol=1e-8)

    # Adam's state into FlatAdam, and FlatAdam's into Adam: both carry on as the original.
    resumed_flat_net, resumed_plain_net = copy.deepcopy(plain_net), copy.deepcopy(flat_net)
    resumed_flat = FlatAdam(resumed_flat_net, **SETTINGS)
    resumed_flat.load_state_dict(theirs)
    resumed_plain = torch.optim.Adam(resumed_plain_net.parameters(), **SETTINGS)
    resumed_plain.load_state_dict(ours)
    for net, optimizer in ((plain_net, plain_opt), (resumed_flat_net, resumed_flat),
                           (flat_net, flat_opt), (resumed_plain_net, resumed_plain)):
        train_steps(net, optimizer, range(3, 5))
    for a, b in zip(plain_net.parameters(), resumed_flat_net.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    for a, b in zip(flat_net.parameters(), resumed_plain_net.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_state_dict_before_any_step_round_trips() -> None:
    net = network()
    optimizer = FlatAdam(net, **SETTINGS)
    state = optimizer.state_dict()
    assert state["state"] == {}
    assert state == torch.optim.Adam(network().parameters(), **SETTINGS).state_dict()
    FlatAdam(network(), **SETTINGS).load_state_dict(state)


def test_refuses_a_state_of_another_network() -> None:
    small = nn.Linear(3, 2)
    other = torch.optim.Adam(small.parameters(), **SETTINGS)
    small(torch.ones(1, 3)).sum().backward()
    other.step()
    with pytest.raises(ValueError, match="parameters"):
        FlatAdam(network(), **SETTINGS).load_state_dict(other.state_dict())


def test_step_refuses_gradients_cut_off_by_module_zero_grad() -> None:
    net = network()
    optimizer = FlatAdam(net, **SETTINGS)
    net.zero_grad()  # sets every parameter's grad to None
    net(observations(0)).value.sum().backward()
    with pytest.raises(RuntimeError, match="zero_grad"):
        optimizer.step()


def test_refuses_a_module_without_parameters() -> None:
    with pytest.raises(ValueError, match="parameters"):
        FlatAdam(nn.ReLU(), **SETTINGS)
