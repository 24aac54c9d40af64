"""The compiled encoding of observations (``training.encoding``) is exactly the PyTorch
encoding it replaces on the CPU, bit for bit, for every kind of network and layout."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bucket_brigade.envs.vector import make_vec_env
from bucket_brigade.game.constants import HOUSE_STATES
from bucket_brigade.game.observation import SCENARIO_INFO_SIZE, ObservationLayout
from bucket_brigade.training import PolicyNetwork
from bucket_brigade.training.network import POLICIES


def assert_bitwise_equal(compiled: torch.Tensor, reference: torch.Tensor) -> None:
    """Equal values, dtype and signs of zero (the mask's offsets are 0 x -1e9 = -0.0)."""
    assert compiled.dtype == reference.dtype == torch.float32
    assert torch.equal(compiled, reference)
    assert torch.equal(torch.signbit(compiled), torch.signbit(reference))


def random_observations(layout: ObservationLayout, count: int, seed: int) -> torch.Tensor:
    """Observations with every entry drawn from its valid values (the scenario's reals at
    random): combinations that real games reach rarely, such as several agents at one house."""
    rng = np.random.default_rng(seed)
    obs = np.zeros((count, layout.obs_dim), dtype=np.float32)
    houses, agents = layout.num_houses, layout.num_agents
    obs[:, layout.houses] = rng.integers(0, HOUSE_STATES, (count, houses))
    obs[:, layout.signals] = rng.integers(0, 2, (count, agents))
    last_houses = rng.integers(0, houses, (count, agents))
    obs[:, layout.locations] = last_houses
    obs[:, layout.last_houses] = last_houses
    obs[:, layout.last_modes] = rng.integers(0, 2, (count, agents))
    obs[:, layout.scenario_info] = rng.normal(size=(count, SCENARIO_INFO_SIZE))
    return torch.from_numpy(obs)


@pytest.mark.parametrize("mask", [True, False])
@pytest.mark.parametrize("cheap_talk", [False, True])
@pytest.mark.parametrize("policy", POLICIES)
def test_compiled_encoding_is_the_pytorch_encoding_on_real_games(
        policy: str, cheap_talk: bool, mask: bool) -> None:
    env = make_vec_env(64, "chain_reaction", opponents="random", seed=4, cheap_talk=cheap_talk)
    obs, _ = env.reset()
    network = PolicyNetwork(obs.shape[1], [10, 2, 2] if cheap_talk else [10, 2],
                            policy=policy, action_mask=mask)
    for _ in range(12):
        tensor = torch.from_numpy(obs)
        assert_bitwise_equal(network.encode(tensor), network.encode_tensors(tensor))
        obs = env.step(network.sample_action(obs))[0]


@pytest.mark.parametrize(("houses", "agents"), [(10, 4), (8, 4), (10, 3), (6, 2), (12, 5)])
def test_compiled_encoding_is_the_pytorch_encoding_on_every_layout(houses: int,
                                                                 agents: int) -> None:
    layout = ObservationLayout(houses, agents)
    obs = random_observations(layout, 256, seed=houses * agents)
    for action_dims in ([houses, 2], [houses, 2, 2]):
        for mask in (True, False):
            network = PolicyNetwork(layout.obs_dim, action_dims, action_mask=mask)
            assert_bitwise_equal(network.encode(obs), network.encode_tensors(obs))


def test_encoding_takes_observations_of_any_float_dtype() -> None:
    layout = ObservationLayout(10, 4)
    obs = random_observations(layout, 16, seed=0)
    network = PolicyNetwork(layout.obs_dim, [10, 2])
    assert_bitwise_equal(network.encode(obs.double()), network.encode_tensors(obs))
