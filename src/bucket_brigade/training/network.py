"""The learner's policy: a shared MLP torso, one categorical head per action dimension and a
separate value head.

Four choices make it learn in a couple of million steps, where a plain MLP settles on
never working (while it picks houses at random, working costs more than it saves):

* The observation (RULES.md: houses, signals, locations, last actions, scenario info)
  is almost all small integer codes whose meaning is categorical: a burning house
  (code 1) is not "between" a safe (0) and a ruined (2) one. Every code is one-hot
  encoded before the first layer.
* Houses sit on a ring and the observation is egocentric, so "work at a burning house"
  is the same lesson at every position. Besides its torso logits, the house head adds a
  score per house from one small network shared by all houses, which reads that house's
  neighbourhood (its state and its two neighbours', and who worked there last night).
  What is learned at one position transfers to all ten, instead of being learned ten
  times from a tenth of the data each. The WORK logit of the mode head is the best
  burning house's work score: whether to work is decided by the houses.
* No probability on pointless actions. By the rules, working at a house that is not
  burning has no effect but costs, and a resting agent's house does not matter. So WORK
  is impossible when no house burns, and while some burn the house head chooses among
  them. The policy learns which fire to fight and whether to, and does not spend its
  samples learning to avoid moves that can only lose.
* The house is credited only when it matters: its log-probability and entropy count on
  nights the agent works (or, with cheap talk, signals WORK).

Everything derives from ``obs_dim`` and ``action_dims``, and the only tensors are
weights, so a state dict reproduces the policy (the seed README loads checkpoints with
``PolicyNetwork(obs_dim, action_dims)`` and ``load_state_dict``).

Small batches on a CPU spend most of their time in per-operation overhead, so the
heads are evaluated together: their logits are laid out in one padded
[batch, dimension, largest size] tensor whose padding holds a huge negative logit
(probability 0), and one softmax, one draw and one gather serve every dimension.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from bucket_brigade.envs.spaces import full_actions

DEFAULT_HIDDEN_SIZE = 32
HOUSE_HIDDEN_SIZE = 64
PADDING_LOGIT = -1e9  # finite, so that 0 * log(0) terms of the entropy stay 0, not NaN
HOUSE_STATES = 3  # safe, burning, ruined
SCENARIO_INFO = 10  # trailing real-valued entries, passed through as they are


def observation_codes(obs_dim: int, num_houses: int) -> list[int | None]:
    """How many values each entry of the observation can take (0: a real number; None: not
    read), following the layout H + N + N + 2N + 10 of RULES.md. The locations repeat the
    houses of the last actions, so the network reads them once."""
    num_agents = _num_agents(obs_dim, num_houses)
    return ([HOUSE_STATES] * num_houses  # house states
            + [2] * num_agents  # signals
            + [None] * num_agents  # relative locations (= the last actions' houses)
            + [num_houses, 2] * num_agents  # last actions: (relative house, mode)
            + [0] * SCENARIO_INFO)


def _num_agents(obs_dim: int, num_houses: int) -> int:
    num_agents, remainder = divmod(obs_dim - num_houses - SCENARIO_INFO, 4)
    if remainder or num_agents < 1:
        raise ValueError(f"obs_dim={obs_dim} does not fit the observation layout "
                         f"H + 4N + {SCENARIO_INFO} with H={num_houses} houses")
    return num_agents


def _layer(inputs: int, outputs: int, gain: float) -> nn.Linear:
    """Orthogonal weights and zero bias: PPO's usual initialisation, which starts the policy
    near uniform (small ``gain`` on the policy outputs) and the values near zero."""
    layer = nn.Linear(inputs, outputs)
    nn.init.orthogonal_(layer.weight, gain)
    nn.init.zeros_(layer.bias)
    return layer


class PolicyNetwork(nn.Module):
    """Actor-critic for the game's observation and a MultiDiscrete action space whose first
    dimension is the house (``action_dims``: one size per dimension, e.g. [10, 2])."""

    def __init__(self, obs_dim: int, action_dims: Sequence[int],
                 hidden_size: int = DEFAULT_HIDDEN_SIZE) -> None:
        super().__init__()
        action_dims = [int(d) for d in action_dims]
        if len(action_dims) not in (2, 3) or action_dims[0] < 2 or action_dims[1:] != \
                [2] * (len(action_dims) - 1):
            raise ValueError(f"action_dims={action_dims} must be [H, 2] (house, mode) or "
                             "[H, 2, 2] (house, mode, signal)")
        if hidden_size < 1:
            raise ValueError(f"hidden_size={hidden_size} must be >= 1")
        self.obs_dim = int(obs_dim)
        self.action_dims = action_dims
        self.hidden_size = int(hidden_size)
        num_houses = action_dims[0]
        num_agents = _num_agents(self.obs_dim, num_houses)
        codes = observation_codes(self.obs_dim, num_houses)

        def constant(name: str, values: object, dtype: torch.dtype = torch.long) -> None:
            self.register_buffer(name, torch.tensor(values, dtype=dtype), persistent=False)

        # One-hot feature f is 1 when entry onehot_entry[f] equals onehot_value[f].
        constant("onehot_entry", [i for i, n in enumerate(codes) for _ in range(n or 0)])
        constant("onehot_value", [v for n in codes for v in range(n or 0)], torch.float32)
        constant("real_entry", [i for i, n in enumerate(codes) if n == 0])
        # A house's neighbourhood: the states of houses m - 1, m, m + 1 (relative to home),
        # how many others worked at m last night (0..N-1) and whether I did. There are only
        # 27 x N x 2 of them, so the house scorer runs once per neighbourhood, not per house.
        constant("ring", [[(m + d) % num_houses for d in (-1, 0, 1)] for m in range(num_houses)])
        constant("ring_weights", [HOUSE_STATES**2, HOUSE_STATES, 1], torch.float32)
        constant("positions", list(range(num_houses)), torch.float32)
        last_actions = num_houses + 2 * num_agents
        constant("last_house_entry", [last_actions + 2 * k for k in range(num_agents)])
        constant("last_mode_entry", [last_actions + 2 * k + 1 for k in range(num_agents)])
        self.num_agents = num_agents
        neighbourhoods = itertools.product(range(HOUSE_STATES), range(HOUSE_STATES),
                                           range(HOUSE_STATES), range(num_agents), range(2))
        constant("neighbourhoods", [
            [float(state == code) for state in (left, middle, right)
             for code in range(HOUSE_STATES)]
            + [float(others == k) for k in range(num_agents)] + [float(me)]
            for left, middle, right, others, me in neighbourhoods], torch.float32)
        constant("always", [[True] * (len(action_dims) - 1)], torch.bool)  # mode, signal
        # head_index[d, k]: column of action d's k-th logit in the policy head (0 on padding).
        widest = max(action_dims)
        starts = np.cumsum([0, *action_dims[:-1]])
        constant("head_index", [[s + k if k < n else 0 for k in range(widest)]
                                for s, n in zip(starts, action_dims)])
        constant("head_padding", [[0.0 if k < n else PADDING_LOGIT for k in range(widest)]
                                  for n in action_dims], torch.float32)

        self.torso_inputs = len(self.onehot_entry) + len(self.real_entry)
        # The one-hot features "house m is burning", m = 0..H-1.
        constant("burning_inputs", [f for f, (i, v) in enumerate(zip(self.onehot_entry.tolist(),
                                                                     self.onehot_value.tolist()))
                                    if i < num_houses and v == 1])
        self.torso = nn.Sequential(
            _layer(self.torso_inputs, hidden_size, np.sqrt(2)), nn.ReLU(),
            _layer(hidden_size, hidden_size, np.sqrt(2)), nn.ReLU(),
        )
        # Logits of every dimension but the mode, which the houses decide (see evaluate).
        self.policy_head = _layer(hidden_size, sum(action_dims) - action_dims[1], 0.01)
        # Neighbourhood -> (preference for the house, worth of working there).
        self.house_scorer = nn.Sequential(
            _layer(self.neighbourhoods.shape[1], HOUSE_HIDDEN_SIZE, np.sqrt(2)), nn.ReLU(),
            _layer(HOUSE_HIDDEN_SIZE, 2, 0.01),
        )
        self.value_head = _layer(hidden_size, 1, 1.0)

    def encode(self, obs: torch.Tensor) -> torch.Tensor:
        """The network's input for observations [B, obs_dim]: the one-hot codes and the
        scenario entries for the torso, then each house's neighbourhood number. PPO keeps
        these, so that an observation is encoded once, not once per epoch."""
        onehot = (obs[:, self.onehot_entry] == self.onehot_value).float()
        states = obs[:, self.ring] @ self.ring_weights  # [B, H]: left, middle, right states
        # worked[b, k, m]: agent k (0 = me) worked at house m last night.
        worked = (obs[:, self.last_house_entry, None] == self.positions) \
            & (obs[:, self.last_mode_entry, None] == 1)
        neighbourhood = (states * self.num_agents + worked[:, 1:].sum(1)) * 2 + worked[:, 0]
        return torch.cat([onehot, obs[:, self.real_entry], neighbourhood], dim=-1)

    def evaluate(self, inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Log-probabilities of every action dimension, [B, D, largest size] (padded), and
        the state values [B], from encoded inputs."""
        hidden = self.torso(inputs[:, :self.torso_inputs])
        torso_logits = self.policy_head(hidden)
        scores = self.house_scorer(self.neighbourhoods)[inputs[:, self.torso_inputs:].long()]
        houses = self.action_dims[0]
        # Working is worth it when some burning house is: the WORK logit (against 0 for
        # REST) is the best burning house's work score, impossible when nothing burns.
        burning = inputs[:, self.burning_inputs] > 0
        work = torch.where(burning, scores[..., 1], PADDING_LOGIT).amax(dim=-1, keepdim=True)
        mode = nn.functional.pad(work, (1, 0))
        # While some house burns, only burning houses can be chosen.
        house_mask = torch.where(burning.any(-1, keepdim=True) & ~burning, PADDING_LOGIT, 0.0)
        logits = torch.cat([torso_logits[:, :houses] + scores[..., 0] + house_mask, mode,
                            torso_logits[:, houses:]], dim=-1)
        log_probs = torch.log_softmax(logits[:, self.head_index] + self.head_padding, dim=-1)
        return log_probs, self.value_head(hidden).squeeze(-1)

    def act(self, inputs: torch.Tensor, action: torch.Tensor | None = None,
            ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Sample an action (or score the given one) from encoded inputs: (action [B, D]
        int64, log-prob [B], entropy [B], value [B])."""
        log_probs, value = self.evaluate(inputs)
        probs = log_probs.exp()
        if action is None:
            action = torch.multinomial(probs.flatten(0, 1), 1).view(probs.shape[:2])
        # The house only matters when the agent works there or signals WORK (RULES.md: a
        # resting, silent agent's location changes nothing), so it is only credited then.
        counts = torch.cat([(action[:, 1:] == 1).any(-1, keepdim=True),
                            self.always.expand(len(action), -1)], dim=-1)
        log_prob = (log_probs.gather(-1, action.unsqueeze(-1)).squeeze(-1) * counts).sum(-1)
        entropy = (-(probs * log_probs).sum(-1) * counts).sum(-1)
        return action, log_prob, entropy, value

    def action_and_value(self, obs: torch.Tensor, action: torch.Tensor | None = None,
                         ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """:meth:`act` on raw observations [B, obs_dim]. Log-prob and entropy sum over the
        action dimensions that matter to the game."""
        return self.act(self.encode(obs), action)

    def value(self, obs: torch.Tensor) -> torch.Tensor:
        """State value V(obs), shape [B]."""
        return self.value_head(self.torso(self.encode(obs)[:, :self.torso_inputs])).squeeze(-1)

    def sample_action(self, obs: torch.Tensor,
                      generator: torch.Generator | None = None) -> torch.Tensor:
        """An action drawn from the policy, [B, D] int64 (reproducible with ``generator``)."""
        probs = self.evaluate(self.encode(obs))[0].exp()
        return torch.multinomial(probs.flatten(0, 1), 1, generator=generator
                                 ).view(probs.shape[:2])

    def greedy_action(self, obs: torch.Tensor) -> torch.Tensor:
        """The most likely value of each action dimension, [B, D] int64."""
        return self.evaluate(self.encode(obs))[0].argmax(-1)

    @property
    def cheap_talk(self) -> bool:
        """Whether the policy chooses its signal (a third action dimension)."""
        return len(self.action_dims) == 3

    def play(self, obs: np.ndarray) -> np.ndarray:
        """How a trained policy plays as a fixed strategy (in the empirical game, or as an
        opponent): greedy (house, mode, signal) [B, 3] for raw observations [B, obs_dim], on
        NumPy arrays. Without cheap talk its signal is its mode."""
        device = next(self.parameters()).device
        with torch.inference_mode():
            chosen = self.greedy_action(torch.from_numpy(np.ascontiguousarray(obs)).to(device))
        return full_actions(chosen.cpu().numpy(), self.cheap_talk)
