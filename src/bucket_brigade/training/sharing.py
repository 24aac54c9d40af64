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

The K independent networks run as one (:class:`SeatStack`): one copy of the network
whose every weight is stacked per seat, [K, ...], so that each layer is one batched
matrix product over the seats' rows (``network.StackableLinear``, and the compiled
per-house layer seat after seat) rather than K calls that each pay PyTorch's overhead
on a quarter of the rows. Their Adams are one Adam over the stacked weights: Adam is
elementwise, so that is K independent Adams exactly; gradients are clipped per seat
(``gradients.SeatGradients``), and the PPO loss is each seat's own loss over its rows,
summed, so that each seat's gradient is its own. (``torch.func.vmap`` over stacked
parameters would keep the network's code as it is too, but it does not go through the
network's compiled kernels, and on the CPU its per-operation cost ate the gain.) The
files hold every seat's weights and optimizer state apart, as K networks and K Adams
would (:class:`SeatPolicies`, :class:`SeatAdam`), so that files of every version load.

``--critic central`` wraps each learner's network in a
:class:`~bucket_brigade.training.critic.CentralCriticPolicy`. Files: the model state
dict of an independent run holds each seat's under ``seats.{k}.``, a centralised one its
actor under ``actor.`` and its critic under ``critic.``;
:func:`~bucket_brigade.training.models.seat_actor_states` reads the actors back.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from bucket_brigade.envs.vector import BucketBrigadeVectorEnv, ConcatVectorEnv
from bucket_brigade.training.config import TrainConfig
from bucket_brigade.training.critic import CentralCritic, CentralCriticPolicy
from bucket_brigade.training.gradients import FlatGradients, SeatGradients
from bucket_brigade.training.network import PolicyNetwork, check_dtypes, network_from_state

Agent = PolicyNetwork | CentralCriticPolicy


class SeatPolicies(nn.Module):
    """The independent learners' networks one by one, seat k's at ``seats[k]``: the files'
    format (one state dict, seat k's weights under ``seats.{k}.``)."""

    def __init__(self, agents: Sequence[Agent]) -> None:
        super().__init__()
        self.seats = nn.ModuleList(agents)

    @property
    def config(self) -> dict[str, Any]:
        return self.seats[0].config


class SeatStack(nn.Module):
    """K independent learners' agents as one: :attr:`agent` is one agent whose every
    parameter is stacked per seat ([K, ...]; it takes inputs [K, B, ...]). Its state
    dict is that of :class:`SeatPolicies`, seat k's weights under ``seats.{k}.``."""

    def __init__(self, agents: Sequence[Agent]) -> None:
        super().__init__()
        self.num_seats = len(agents)
        self.agent = copy.deepcopy(agents[0])
        _replace_parameters(self.agent, lambda name: torch.stack(
            [agent.get_parameter(name).detach() for agent in agents]))

    @property
    def config(self) -> dict[str, Any]:
        return self.agent.config

    def seat_agent(self, seat: int) -> Agent:
        """A copy of seat ``seat``'s agent, as one network of its own."""
        agent = copy.deepcopy(self.agent)
        _replace_parameters(agent, lambda name: agent.get_parameter(name).detach()[seat].clone())
        return agent

    def state_dict(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return SeatPolicies([self.seat_agent(k) for k in range(self.num_seats)]).state_dict()

    def load_state_dict(self, state: Mapping[str, Any], strict: bool = True,
                        assign: bool = False) -> Any:
        """Load every seat's weights (``seats.{k}.``), checked as K networks would be."""
        seats = SeatPolicies([self.seat_agent(k) for k in range(self.num_seats)])
        result = seats.load_state_dict(state, strict=strict)
        with torch.no_grad():
            for name, parameter in self.agent.named_parameters():
                parameter.copy_(torch.stack([seat.get_parameter(name) for seat in seats.seats]))
        return result


def _replace_parameters(agent: nn.Module, value: Callable[[str], torch.Tensor]) -> None:
    """Give each of ``agent``'s parameters a new tensor, ``value(its name)``."""
    for name, _ in list(agent.named_parameters()):
        owner, _, leaf = name.rpartition(".")
        setattr(agent.get_submodule(owner), leaf, nn.Parameter(value(name)))


class SeatAdam:
    """The state of one Adam over a :class:`SeatStack`'s stacked weights, seen as K Adams:
    its state dict is that of one Adam with a parameter group per seat, in seat order
    (the checkpoints' format, which ``torch.optim.Adam`` over K agents' parameters loads
    and checks). Every seat's Adam has taken the same steps."""

    def __init__(self, optimizer: torch.optim.Optimizer, num_seats: int) -> None:
        self.optimizer, self.num_seats = optimizer, num_seats

    def state_dict(self) -> dict[str, Any]:
        state = self.optimizer.state_dict()
        group = state["param_groups"][0]
        count = len(group["params"])
        merged: dict[str, Any] = {"state": {}, "param_groups": []}
        for seat in range(self.num_seats):
            merged["param_groups"].append(
                {**group, "params": [seat * count + i for i in range(count)]})
            merged["state"].update({seat * count + i: {
                key: value.clone() if key == "step" else value[seat].clone()
                for key, value in entry.items()} for i, entry in state["state"].items()})
        return merged

    def load_state_dict(self, merged: Mapping[str, Any]) -> None:
        groups = merged["param_groups"]
        if len(groups) != self.num_seats:
            raise ValueError(f"the optimizer state has {len(groups)} parameter groups, the "
                             f"run has {self.num_seats} independent learners")
        count = len(self.optimizer.param_groups[0]["params"])
        state: dict[int, dict[str, torch.Tensor]] = {}
        for i in range(count):
            entries = [merged["state"].get(group["params"][i]) for group in groups]
            if all(entry is None for entry in entries):
                continue
            if any(entry is None for entry in entries) \
                    or len({float(entry["step"]) for entry in entries}) != 1:
                raise ValueError("the seats' optimizers have not taken the same steps")
            state[i] = {key: entries[0][key] if key == "step"
                        else torch.stack([entry[key] for entry in entries])
                        for key in entries[0]}
        self.optimizer.load_state_dict(
            {"state": state, "param_groups": [{**groups[0], "params": list(range(count))}]})


class Learners:
    """The run's learners over the env's slots, and what the run's files hold of them:
    :attr:`module` (the model state dict) and :attr:`optimizer` (its state dict). With
    ``--sharing shared`` and a local critic these are the one network and its Adam, as
    the single learner has always had; with ``independent``, :class:`SeatStack` and
    :class:`SeatAdam`. :attr:`agent`, :attr:`adam` and :attr:`gradients` are what PPO
    trains: one agent, whose rows are [B] slots or, stacked, [K, B] (seat, game)."""

    def __init__(self, envs: BucketBrigadeVectorEnv | ConcatVectorEnv, config: TrainConfig,
                 device: torch.device) -> None:
        self.num_seats = config.num_learners
        self.independent = config.sharing == "independent"
        agents = [build_agent(envs, config).to(device)
                  for _ in range(self.num_seats if self.independent else 1)]
        if self.independent:
            self.module: nn.Module = SeatStack(agents)
            self.agent: Agent = self.module.agent
            self.gradients: FlatGradients = SeatGradients(self.agent, self.num_seats)
        else:
            self.module = self.agent = agents[0]
            self.gradients = FlatGradients(self.agent)
        self.adam = _adam(self.agent, config, device)
        self.optimizer = SeatAdam(self.adam, self.num_seats) if self.independent \
            else self.adam
        self.plain = config.sharing == "shared" and config.critic == "local"
        # Slot g * K + k is seat k of game g (league slots, only with a plain run, seat 0).
        self.slot_seats = torch.arange(envs.num_envs, device=device) % self.num_seats
        self.device = device

    def encode(self, obs: np.ndarray, envs: BucketBrigadeVectorEnv | ConcatVectorEnv,
               ) -> torch.Tensor:
        """Every slot's input, encoded once (each learner's network encodes alike): the
        observation, with the seat for a seat-aware network and the global state for a
        central critic."""
        observations = torch.from_numpy(obs).to(self.device)
        if self.plain:
            return self.agent.encode(observations)
        if isinstance(self.agent, CentralCriticPolicy):
            return self.agent.encode(observations, self.slot_seats,
                                     torch.from_numpy(envs.states()))
        return self.agent.encode(observations, self.slot_seats)

    def sample(self, inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Every slot's action, its log-probability and value, from its encoded input."""
        if not self.independent:
            return self.agent.sample(inputs)
        return tuple(self._slot_major(out)
                     for out in self.agent.sample(self._seat_major(inputs)))

    def value(self, inputs: torch.Tensor) -> torch.Tensor:
        """Every slot's value."""
        if not self.independent:
            return self.agent.value(inputs)
        return self._slot_major(self.agent.value(self._seat_major(inputs)))

    def rows(self, buffer: torch.Tensor) -> torch.Tensor:
        """A rollout buffer [T, slots, ...] as the update's rows: [T x slots, ...], or,
        stacked, seat k's [K, T x games, ...]."""
        if not self.independent:
            return buffer.flatten(0, 1)
        return buffer.unflatten(1, (-1, self.num_seats)).movedim(2, 0).flatten(1, 2)

    def _seat_major(self, slots: torch.Tensor) -> torch.Tensor:
        """[games x K, ...] in slot order -> [K, games, ...]."""
        return slots.unflatten(0, (-1, self.num_seats)).transpose(0, 1).contiguous()

    @staticmethod
    def _slot_major(seats: torch.Tensor) -> torch.Tensor:
        """[K, games, ...] -> [games x K, ...] in slot order."""
        return seats.transpose(0, 1).flatten(0, 1)

    def set_learning_rate(self, lr: float) -> None:
        self.adam.param_groups[0]["lr"] = lr

    def seat_network(self, seat: int) -> PolicyNetwork:
        """The network that plays ``seat`` (for a seat-aware one, told so; an independent
        learner's, a copy)."""
        agent = self.module.seat_agent(seat) if self.independent else self.agent
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
