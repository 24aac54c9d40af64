"""The centralised critic reads the global state (and the seat it values) only, and the
actor its own observation only."""

from __future__ import annotations

import numpy as np
import torch

from bucket_brigade.envs.vector import make_vec_env
from bucket_brigade.game.scenarios import get_scenario
from bucket_brigade.training.critic import CentralCritic, CentralCriticPolicy
from bucket_brigade.training.network import PolicyNetwork

SCENARIO = get_scenario("greedy_neighbor")


def policy() -> CentralCriticPolicy:
    torch.manual_seed(0)
    actor = PolicyNetwork(SCENARIO.obs_dim(4), [SCENARIO.num_houses, 2], hidden_size=16)
    critic = CentralCritic(SCENARIO.num_houses, 4, 4, SCENARIO.max_nights, hidden=16)
    return CentralCriticPolicy(actor, critic)


def games(seed: int, nights: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Observations and global states of 8 self-play games' 32 slots after some nights."""
    env = make_vec_env(32, SCENARIO, num_opponents=0, num_learners=4, seed=seed)
    obs, _ = env.reset()
    rng = np.random.default_rng(seed)
    for _ in range(nights):
        obs, *_ = env.step(rng.integers(0, [SCENARIO.num_houses, 2], (32, 2)))
    return torch.from_numpy(obs), torch.from_numpy(env.states())


def test_the_critic_reads_the_state_and_the_actor_the_observation() -> None:
    agent = policy()
    seats = torch.arange(32) % 4
    obs_a, states_a = games(seed=1, nights=3)
    obs_b, states_b = games(seed=2, nights=5)
    assert not torch.equal(obs_a, obs_b) and not torch.equal(states_a, states_b)
    with torch.no_grad():
        base = agent.encode(obs_a, seats, states_a)
        other_state = agent.encode(obs_a, seats, states_b)
        other_obs = agent.encode(obs_b, seats, states_a)
        actions = agent.act(base)[0]

        def scored(inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            _, log_prob, _, value = agent.act(inputs, actions)
            return log_prob, value

        log_prob, value = scored(base)
        # Another state, same observations: the same policy, other values.
        assert torch.equal(scored(other_state)[0], log_prob)
        assert not torch.allclose(scored(other_state)[1], value)
        # Other observations, same state: the same values, another policy.
        assert torch.equal(scored(other_obs)[1], value)
        assert not torch.allclose(scored(other_obs)[0], log_prob)
        assert torch.equal(agent.value(base), value)
        assert torch.equal(agent.sample(base)[2], value)


def test_the_critic_values_each_seat_apart() -> None:
    agent = policy()
    obs, states = games(seed=1, nights=3)
    with torch.no_grad():
        as_seat_0 = agent.value(agent.encode(obs, torch.zeros(32, dtype=torch.long), states))
        as_seat_2 = agent.value(agent.encode(obs, torch.full((32,), 2), states))
    assert not torch.allclose(as_seat_0, as_seat_2)


def test_the_state_encoding_is_one_hot_houses_and_locations() -> None:
    critic = CentralCritic(SCENARIO.num_houses, 4, 4, SCENARIO.max_nights, hidden=8)
    _, states = games(seed=1, nights=2)
    encoded = critic.encode(states, torch.arange(32) % 4)
    h = SCENARIO.num_houses
    assert encoded.shape == (32, critic.input_size)
    assert (encoded[:, :3 * h].view(32, h, 3).sum(-1) == 1).all()
    assert (encoded[:, 3 * h:3 * h + 4 * h].view(32, 4, h).sum(-1) == 1).all()
    assert torch.equal(encoded[:, -4:].argmax(-1), torch.arange(32) % 4)
