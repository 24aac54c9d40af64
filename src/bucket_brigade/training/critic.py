"""A centralised critic (MAPPO, Yu et al. 2022): each learner's value function reads the
game's global state instead of the learner's own observation, while the actor, the
policy that plays, still reads only its observation (``train --critic central``).

The global state is PettingZoo's ``state()`` (RULES.md): absolute houses, every agent's
location and signal, and the night. The learner whose return is valued is one more
input (a one-hot of its seat), as MAPPO's agent-specific state does: the seats'
rewards differ (each agent is paid for its own houses), so one value per state is not
enough. Decentralised execution is untouched: a trained model plays from the actor
alone, and the critic is dropped from what ``evaluate``, ``nash`` or ``replay`` load.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from bucket_brigade.game.constants import HOUSE_STATES
from bucket_brigade.training.network import PolicyNetwork, init_layer, seat_one_hot


class CentralCritic(nn.Module):
    """V(global state, seat): CleanRL's critic (two tanh layers) over the encoded state."""

    def __init__(self, num_houses: int, num_agents: int, num_seats: int, max_nights: int,
                 hidden: int) -> None:
        super().__init__()
        self.num_houses, self.num_agents, self.num_seats = num_houses, num_agents, num_seats
        self.max_nights = max_nights
        # Houses and locations one-hot, signals as 0/1, the night scaled to [0, 1], the seat.
        self.input_size = HOUSE_STATES * num_houses + num_agents * num_houses + num_agents \
            + 1 + num_seats
        self.net = nn.Sequential(
            init_layer(self.input_size, hidden, np.sqrt(2)), nn.Tanh(),
            init_layer(hidden, hidden, np.sqrt(2)), nn.Tanh(),
            init_layer(hidden, 1, 1.0),
        )

    @property
    def config(self) -> dict[str, int]:
        return {"num_houses": self.num_houses, "num_agents": self.num_agents,
                "num_seats": self.num_seats, "max_nights": self.max_nights,
                "hidden": self.net[0].out_features}

    def encode(self, states: torch.Tensor, seats: torch.Tensor) -> torch.Tensor:
        """[B, H + 2N + 1] global states and [B] seats -> the critic's input [B, input_size]."""
        h, n = self.num_houses, self.num_agents
        houses = states[:, :h].long()
        locations = states[:, h:h + n].long()
        return torch.cat([
            nn.functional.one_hot(houses, HOUSE_STATES).flatten(1).float(),
            nn.functional.one_hot(locations, h).flatten(1).float(),
            states[:, h + n:h + 2 * n],
            states[:, h + 2 * n:] / self.max_nights,
            seat_one_hot(seats, self.num_seats),
        ], dim=-1)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """The values [B] of encoded inputs."""
        return self.net(inputs).squeeze(-1)


class CentralCriticPolicy(nn.Module):
    """A decentralised actor and a centralised critic, with PolicyNetwork's training
    interface (``encode``, ``sample``, ``act``, ``value``) so that PPO's loop and update
    are the same: an encoded input row is the actor's input followed by the critic's,
    and each half is read by its own network only."""

    def __init__(self, actor: PolicyNetwork, critic: CentralCritic) -> None:
        super().__init__()
        self.actor, self.critic = actor, critic

    @property
    def config(self) -> dict[str, Any]:
        """The actor's constructor arguments: what a model file's readers rebuild."""
        return self.actor.config

    def encode(self, obs: torch.Tensor, seats: torch.Tensor, states: torch.Tensor,
               ) -> torch.Tensor:
        """The actor's encoding of the observations, then the critic's of the states."""
        return torch.cat([self.actor.encode(obs, seats),
                          self.critic.encode(states.to(obs.device), seats)], dim=-1)

    def _split(self, inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        cut = inputs.shape[-1] - self.critic.input_size
        return inputs[..., :cut], inputs[..., cut:]

    def sample(self, inputs: torch.Tensor, generator: torch.Generator | None = None,
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        actor_inputs, critic_inputs = self._split(inputs)
        action, log_prob, _ = self.actor.sample(actor_inputs, generator)
        return action, log_prob, self.critic(critic_inputs)

    def act(self, inputs: torch.Tensor, action: torch.Tensor | None = None,
            ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        actor_inputs, critic_inputs = self._split(inputs)
        action, log_prob, entropy, _ = self.actor.act(actor_inputs, action)
        return action, log_prob, entropy, self.critic(critic_inputs)

    def value(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.critic(self._split(inputs)[1])
