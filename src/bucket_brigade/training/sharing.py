"""Who owns the learning seats' parameters (``train --sharing``) and the value function's
input (``--critic``): the run's :class:`Learners`, each a policy with its own optimizer
and the agent-slots it plays.

* ``shared``: one network for every learning seat, reading the egocentric observation
  only (the default; IPPO's parameter sharing). It can learn symmetric behaviour only.
* ``shared-id``: one network that also reads its seat's index (one-hot) and the exact
  ownership of houses from that seat (``PolicyNetwork(seat_ids=K)``), so that one set
  of weights can play different roles.
* ``independent``: a network and an Adam optimizer per seat; seat k's learner plays and
  is trained on seat k's slots only (slot ``g * K + k`` of the env: the strided slice
  ``k::K``), with its own minibatches, advantage normalisation and gradient clipping.

The K independent networks are run one after the other, each on its own seat's slots,
rather than stacked into batched matrix products: the network's compiled kernels (the
per-house layer, the encoding, the action draws) are custom autograd Functions that
``torch.func.vmap`` does not go through, and each network's batch is already the
kernels' unit of work, so the loop costs K calls' overhead on 1/K of the rows each.

``--critic central`` wraps each learner's network in a
:class:`~bucket_brigade.training.critic.CentralCriticPolicy`. Files: the model state
dict of an independent run holds each seat's under ``seats.{k}.``, a centralised one its
actor under ``actor.`` and its critic under ``critic.``;
:func:`~bucket_brigade.training.models.seat_actor_states` reads the actors back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from bucket_brigade.envs.vector import BucketBrigadeVectorEnv, ConcatVectorEnv
from bucket_brigade.training.config import TrainConfig
from bucket_brigade.training.critic import CentralCritic, CentralCriticPolicy
from bucket_brigade.training.gradients import FlatGradients
from bucket_brigade.training.network import PolicyNetwork, check_dtypes, network_from_state

Agent = PolicyNetwork | CentralCriticPolicy


class SeatPolicies(nn.Module):
    """The independent learners' networks, seat k's at ``seats[k]`` (one state dict)."""

    def __init__(self, agents: Sequence[Agent]) -> None:
        super().__init__()
        self.seats = nn.ModuleList(agents)

    @property
    def config(self) -> dict[str, Any]:
        return self.seats[0].config


class SeatOptimizers:
    """The independent learners' optimizers, seen as one: their state dict is that of one
    Adam with a parameter group per seat, in seat order (so a checkpoint holds one
    optimizer state, which ``torch.optim.Adam`` over the groups loads and checks)."""

    def __init__(self, optimizers: Sequence[torch.optim.Optimizer]) -> None:
        self.optimizers = list(optimizers)

    def state_dict(self) -> dict[str, Any]:
        merged: dict[str, Any] = {"state": {}, "param_groups": []}
        offset = 0
        for optimizer in self.optimizers:
            state = optimizer.state_dict()
            merged["state"].update({offset + i: s for i, s in state["state"].items()})
            for group in state["param_groups"]:
                merged["param_groups"].append(
                    {**group, "params": [offset + i for i in group["params"]]})
                offset += len(group["params"])
        return merged

    def load_state_dict(self, merged: Mapping[str, Any]) -> None:
        groups = merged["param_groups"]
        if len(groups) != len(self.optimizers):
            raise ValueError(f"the optimizer state has {len(groups)} parameter groups, the "
                             f"run has {len(self.optimizers)} independent learners")
        for optimizer, group in zip(self.optimizers, groups):
            ids = group["params"]
            optimizer.load_state_dict({
                "state": {j: merged["state"][i] for j, i in enumerate(ids)
                          if i in merged["state"]},
                "param_groups": [{**group, "params": list(range(len(ids)))}]})


@dataclass
class Learner:
    """One trained policy, its optimizer and gradients, and the agent-slots it plays."""

    agent: Agent
    optimizer: torch.optim.Optimizer
    gradients: FlatGradients
    slots: slice  # every slot, or one seat's (k::K)


class Learners:
    """The run's learners over the env's slots, and what the run's files hold of them:
    :attr:`module` (the model state dict) and :attr:`optimizer` (its state dict). With
    ``--sharing shared`` and a local critic these are the one network and its Adam, as
    the single learner has always had."""

    def __init__(self, envs: BucketBrigadeVectorEnv | ConcatVectorEnv, config: TrainConfig,
                 device: torch.device) -> None:
        self.num_seats = config.num_learners
        count = self.num_seats if config.sharing == "independent" else 1
        agents = [build_agent(envs, config).to(device) for _ in range(count)]
        self.learners = [Learner(agent, _adam(agent, config, device), FlatGradients(agent),
                                 slice(k, None, count) if count > 1 else slice(None))
                         for k, agent in enumerate(agents)]
        self.module: nn.Module = agents[0] if count == 1 else SeatPolicies(agents)
        self.optimizer = self.learners[0].optimizer if count == 1 \
            else SeatOptimizers([learner.optimizer for learner in self.learners])
        self.plain = config.sharing == "shared" and config.critic == "local"
        # Slot g * K + k is seat k of game g (league slots, only with a plain run, seat 0).
        self.slot_seats = torch.arange(envs.num_envs, device=device) % self.num_seats
        self.device = device

    def encode(self, obs: np.ndarray, envs: BucketBrigadeVectorEnv | ConcatVectorEnv,
               ) -> torch.Tensor:
        """Every slot's input, encoded once (each learner's network encodes alike): the
        observation, with the seat for a seat-aware network and the global state for a
        central critic."""
        first = self.learners[0].agent
        observations = torch.from_numpy(obs).to(self.device)
        if self.plain:
            return first.encode(observations)
        if isinstance(first, CentralCriticPolicy):
            return first.encode(observations, self.slot_seats,
                                torch.from_numpy(envs.states()))
        return first.encode(observations, self.slot_seats)

    def set_learning_rate(self, lr: float) -> None:
        for learner in self.learners:
            learner.optimizer.param_groups[0]["lr"] = lr

    def seat_network(self, seat: int) -> PolicyNetwork:
        """The network that plays ``seat`` (for a seat-aware one, told so)."""
        agent = self.learners[seat if len(self.learners) > 1 else 0].agent
        network = agent.actor if isinstance(agent, CentralCriticPolicy) else agent
        network.seat = seat
        return network


def _adam(agent: nn.Module, config: TrainConfig, device: torch.device) -> torch.optim.Adam:
    return torch.optim.Adam(agent.parameters(), lr=config.lr, eps=1e-5,
                            fused=device.type == "cpu" or None)


def build_network(env: BucketBrigadeVectorEnv | ConcatVectorEnv,
                  config: TrainConfig) -> PolicyNetwork:
    """A fresh policy of the run's kind for the env's observations and actions."""
    return PolicyNetwork(env.single_observation_space.shape[0],
                         [int(n) for n in env.single_action_space.nvec],
                         hidden_size=config.hidden_size, policy=config.policy,
                         action_mask=config.action_mask,
                         seat_ids=config.num_learners if config.sharing == "shared-id" else 0)


def build_agent(env: BucketBrigadeVectorEnv | ConcatVectorEnv, config: TrainConfig) -> Agent:
    """One learner's trained module: the network, with a central critic if asked."""
    return _with_critic(build_network(env, config), config)


def _with_critic(network: PolicyNetwork, config: TrainConfig) -> Agent:
    if config.critic == "local":
        return network
    scenario = config.resolved_scenario
    return CentralCriticPolicy(network, CentralCritic(
        scenario.num_houses, config.num_agents, config.num_learners, scenario.max_nights,
        config.hidden_size))


def restore_module(state: Mapping[str, Any], network_config: Mapping[str, Any],
                   config: TrainConfig) -> tuple[nn.Module, list[PolicyNetwork],
                                                 torch.optim.Optimizer]:
    """A run's model rebuilt from a checkpoint's weights (``network_config``: its actors'
    constructor arguments), its actor networks, and a fresh optimizer as the checkpoint
    holds its state (one Adam, a parameter group per independent learner); raises
    ValueError when the weights do not fit."""
    if config.sharing == "shared" and config.critic == "local":
        network = network_from_state(state, network_config)
        return network, [network], torch.optim.Adam(network.parameters())
    check_dtypes(state)
    count = config.num_learners if config.sharing == "independent" else 1
    networks = [PolicyNetwork(**network_config) for _ in range(count)]
    agents = [_with_critic(network, config) for network in networks]
    module = agents[0] if count == 1 else SeatPolicies(agents)
    try:
        module.load_state_dict(state)
    except RuntimeError as exc:
        raise ValueError(f"weights do not fit the run's {config.sharing} learners "
                         f"({config.critic} critic): {str(exc).splitlines()[0]}") from None
    return module, networks, torch.optim.Adam([{"params": a.parameters()} for a in agents])
