"""The learner's policy: an actor-critic for the game's observation whose policy class can
express every strategy of the game, so that what it learns is a property of the game and
not of the network.

The action is chosen in two steps (an autoregressive head). First the *intent*: the mode,
and with cheap talk the signal too, as one categorical over (mode) or (mode, signal), so
that a signal may depend on the mode (a liar's does). Then the house, from a distribution
that depends on the intent. Both read the whole observation.

Two bodies compute the logits (``policy``):

* ``structured`` (the default). The observation (RULES.md: houses, signals, locations,
  last actions, scenario info) is almost all categorical codes, so every code is one-hot
  encoded (a burning house is not "between" a safe and a ruined one), with the number of
  burning houses as one more code. A torso MLP embeds the whole encoded observation. The
  houses sit on a ring and the observation is egocentric, so "work at a burning house" is
  much the same lesson at every position: one per-house layer (half the torso's width),
  shared by all houses, reads each house's local features (its state and its
  neighbours', how many others worked there or signalled WORK there last night, whether
  I stood or worked there, its position, distance from home and ownership, and its
  neighbours' ownership) together with the torso embedding, so a house's scores can
  depend on anything in the observation. The house logits (one per intent) come from
  that layer; the intent logits and the value come from the torso embedding and the
  mean of the per-house layer over the houses, through one more layer (so "an owned
  house burns" or "two houses burn" is one unit away).
* ``mlp``: a CleanRL-style baseline, separate actor and critic MLPs (tanh) over the raw
  observation, with the same two-step head.

Ownership: house j belongs to agent j mod N, and the observation is egocentric (relative
house m is absolute house (i + m) mod H) without the agent's own index i. When H is a
multiple of N, relative house m is owned exactly when m mod N = 0, whatever the seat;
otherwise some positions are owned from some seats only (with 10 houses and 4 agents,
relative house 8 is owned by seats 0 and 1, not by seats 2 and 3). The per-house
ownership feature is therefore the fraction of seats from which the position is owned;
a policy shared by several seats cannot know which case it is in.

Seat-aware networks (``seat_ids`` K > 0, for ``train --sharing shared-id``) also read
which of the seats 0..K-1 they play: a one-hot of the seat joins the torso's inputs, and
each house's local features carry its ownership and its neighbours' *from that seat*,
exactly, instead of the fraction over seats. The seat is given when observations are
encoded; a network told nothing plays :attr:`PolicyNetwork.seat` (0 unless set), which
is how a seat-aware model is seated elsewhere (``evaluate``, ``nash``, opponents).

Action masking (``action_mask``, on by default) takes probability off *pointless*
actions only: nothing is invalid under the rules. With it, WORK is impossible when no
house burns, a worker chooses among the burning houses, and a resting agent that does
not signal WORK stays at home (its house changes nothing in the game, so it is not
credited in the log-probability either). A resting agent that signals WORK (cheap
talk) may stand at any house. Without it every (house, mode, signal) has probability
and counts. The flag is a buffer in the state dict, so a state dict rebuilds the
policy's behaviour exactly.

Speed. A house's observed features take only 27 x N x N x 3 values, so the per-house
layer's part for them is computed once per combination and looked up; the torso
embedding's part is computed once per observation and the position's once per call.
On the CPU the per-house layer and the house logits are one compiled pass
(``training.house_layer``), and so are the encoding of observations
(``training.encoding``), the rollout's draws, and the log-probability and entropy of
the taken actions that the PPO loss reads (``training.distribution``). Which actions are
pointless is worked out once, when an observation is encoded, as offsets added to the
logits; exponents are clamped (``training.distribution.EXP_FLOOR``) so that masked
entries never reach the CPU's slow exp.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from bucket_brigade.checks import check_count
from bucket_brigade.envs.spaces import full_actions
from bucket_brigade.errors import UsageError
from bucket_brigade.game.constants import BURNING, HOUSE_STATES
from bucket_brigade.game.observation import SCENARIO_INFO_SIZE, ObservationLayout
from bucket_brigade.game.scenarios import MAX_HOUSES
from bucket_brigade.training.choices import (
    DEFAULT_HIDDEN_SIZE,
    DEFAULT_POLICY,
    MAX_HIDDEN_SIZE,
    MAX_SEATS,
    POLICIES,
)
from bucket_brigade.training.distribution import draw, log_prob_and_entropy, log_softmax
from bucket_brigade.training.encoding import encode_observations, pointless_offsets
from bucket_brigade.training.house_layer import house_layer

HOUSE_WIDTH_DIVISOR = 2  # the per-house layer is half as wide as the torso
PADDING_LOGIT = -1e9  # finite, so that 0 * log(0) terms of the entropy stay 0, not NaN
ME_THERE = 3  # where I was last night, from a house's view: elsewhere, rested, worked there


class PolicyOutput(NamedTuple):
    """What the policy says about a batch of observations.

    ``intent``: log-probabilities [B, K] of the intents, K = 2 (REST, WORK) or, with cheap
    talk, 4 (mode, signal) = (0, 0), (0, 1), (1, 0), (1, 1), index 2 x mode + signal.
    ``house``: log-probabilities [B, K, H] of the (relative) house given each intent.
    ``value``: the state values [B].
    """

    intent: torch.Tensor
    house: torch.Tensor
    value: torch.Tensor


def observation_codes(layout: ObservationLayout) -> list[int | None]:
    """How many values each entry of the observation can take (0: a real number; None: not
    read), block by block. The locations repeat the houses of the last actions, so the
    network reads them once."""
    codes: list[int | None] = [None] * layout.obs_dim
    codes[layout.houses] = [HOUSE_STATES] * layout.num_houses
    codes[layout.signals] = [2] * layout.num_agents
    codes[layout.last_houses] = [layout.num_houses] * layout.num_agents
    codes[layout.last_modes] = [2] * layout.num_agents
    codes[layout.scenario_info] = [0] * SCENARIO_INFO_SIZE
    return codes


def ownership(num_houses: int, num_agents: int) -> list[float]:
    """For each relative house m, the fraction of seats i for which house (i + m) mod H is
    owned by i (its owner is (i + m) mod H mod N): 1 or 0 when H is a multiple of N."""
    return [sum((i + m) % num_houses % num_agents == i for i in range(num_agents)) / num_agents
            for m in range(num_houses)]


class StackableLinear(nn.Linear):
    """``nn.Linear`` (the same parameters, state dict and results) that also runs with its
    weight and bias stacked per seat, [K, out, in] and [K, out] (``training.sharing``
    stacks K independent learners' networks so that each layer is one batched matrix
    product): the input is then [K, B, in], or [B, in] read by every seat."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.weight.ndim == 2:  # one network: nn.Linear's own call, without its frame
            return F.linear(x, self.weight, self.bias)
        x = x.expand(len(self.weight), *x.shape) if x.dim() == 2 else x
        if self.bias is None:
            return torch.bmm(x, self.weight.mT)
        return torch.baddbmm(self.bias.unsqueeze(-2), x, self.weight.mT)


def init_layer(inputs: int, outputs: int, gain: float) -> StackableLinear:
    """Orthogonal weights and zero bias: PPO's usual initialisation, which starts the policy
    near uniform (small ``gain`` on the policy outputs) and the values near zero."""
    layer = StackableLinear(inputs, outputs)
    nn.init.orthogonal_(layer.weight, gain)
    nn.init.zeros_(layer.bias)
    return layer


def owned_from_seat(seat: int, num_houses: int, num_agents: int) -> list[bool]:
    """For each relative house m, whether house (seat + m) mod H belongs to ``seat``."""
    return [(seat + m) % num_houses % num_agents == seat for m in range(num_houses)]


def seat_one_hot(seats: torch.Tensor, count: int) -> torch.Tensor:
    """[B] seat indices -> [B, count] float one-hot rows."""
    return (seats[:, None] == torch.arange(count, device=seats.device)).float()


OWNERSHIP_PATTERNS = 8  # owned or not, for a house and its two neighbours


class StructuredBody(nn.Module):
    """One-hot torso + a shared per-house layer that also reads the torso's embedding."""

    def __init__(self, obs_dim: int, num_houses: int, num_intents: int, hidden: int,
                 seats: int = 0) -> None:
        super().__init__()
        layout = ObservationLayout.from_obs_dim(obs_dim, num_houses)
        num_agents = layout.num_agents
        codes = observation_codes(layout)
        self.num_houses, self.num_agents, self.seats = num_houses, num_agents, seats

        def constant(name: str, values: object, dtype: torch.dtype = torch.long) -> None:
            self.register_buffer(name, torch.tensor(values, dtype=dtype), persistent=False)

        # One-hot feature f is 1 when entry onehot_entry[f] equals onehot_value[f].
        constant("onehot_entry", [i for i, n in enumerate(codes) for _ in range(n or 0)])
        constant("onehot_value", [v for n in codes for v in range(n or 0)], torch.float32)
        constant("real_entry", [i for i, n in enumerate(codes) if n == 0])
        constant("fire_counts", list(range(num_houses + 1)), torch.float32)
        # A house's observed features: the states of houses m - 1, m, m + 1 (27 values), how
        # many others worked there (0..N-1), how many others signalled WORK there (0..N-1),
        # and me (elsewhere / rested there / worked there). There are only 27 x N x N x 3
        # combinations, so the per-house layer's part for them is computed once per
        # combination and looked up by its number.
        # A seat-aware body adds the exact ownership of the house and of its neighbours from
        # the seat played (OWNERSHIP_PATTERNS values, the low digit of the number).
        patterns = range(OWNERSHIP_PATTERNS) if seats else [None]
        combinations = itertools.product(range(HOUSE_STATES**3), range(num_agents),
                                         range(num_agents), range(ME_THERE), patterns)
        constant("combinations", [
            [float(states == v) for v in range(HOUSE_STATES**3)]
            + [float(worked == v) for v in range(num_agents)]
            + [float(signalled == v) for v in range(num_agents)]
            + [float(me == v) for v in range(ME_THERE)]
            + ([] if owned is None else [float(owned >> bit & 1) for bit in (2, 1, 0)])
            for states, worked, signalled, me, owned in combinations], torch.float32)
        constant("ring", [[(m + d) % num_houses for d in (-1, 0, 1)] for m in range(num_houses)])
        constant("ring_weights", [HOUSE_STATES**2, HOUSE_STATES, 1], torch.float32)
        constant("positions", list(range(num_houses)), torch.float32)
        entries = range(layout.obs_dim)
        constant("signal_entry", list(entries[layout.signals]))
        constant("last_house_entry", list(entries[layout.last_houses]))
        constant("last_mode_entry", list(entries[layout.last_modes]))
        # Fixed per-position features: the position, its ring distance from home, and the
        # ownership of the house and of its two neighbours (rows after the observed ones).
        # (A seat-aware body reads the exact ownership in the house's features instead.)
        owned = ownership(num_houses, num_agents)
        constant("position_features", [
            [float(m == p) for p in range(num_houses)]
            + [float(min(m, num_houses - m) == d) for d in range(num_houses // 2 + 1)]
            + ([] if seats else [owned[(m + d) % num_houses] for d in (-1, 0, 1)])
            for m in range(num_houses)], torch.float32)
        # Per seat and relative house: the ownership pattern (house m - 1, m, m + 1).
        owned_by_seat = [owned_from_seat(i, num_houses, num_agents) for i in range(seats)]
        constant("seat_patterns", [[sum(owned_by_seat[i][(m + d) % num_houses] << bit
                                         for d, bit in ((-1, 2), (0, 1), (1, 0)))
                                     for m in range(num_houses)] for i in range(seats)],
                 torch.float32)
        self.observed_inputs = len(self.onehot_entry) + len(self.real_entry) + num_houses + 1
        self.torso_inputs = self.observed_inputs + seats
        self.encoding_tables = tuple(getattr(self, name).numpy() for name in (
            "onehot_entry", "onehot_value", "real_entry", "ring", "last_house_entry",
            "last_mode_entry", "signal_entry"))

        self.torso = nn.Sequential(
            init_layer(self.torso_inputs, hidden, np.sqrt(2)), nn.ReLU(),
            init_layer(hidden, hidden, np.sqrt(2)), nn.ReLU(),
        )
        # The per-house layer's pre-activation: linear maps of the house's observed features,
        # of its position's features and of the torso's embedding, summed.
        house_hidden = max(hidden // HOUSE_WIDTH_DIVISOR, 1)
        self.house_local = init_layer(self.combinations.shape[1], house_hidden, np.sqrt(2))
        self.house_position = StackableLinear(self.position_features.shape[1], house_hidden,
                                              bias=False)
        nn.init.orthogonal_(self.house_position.weight, np.sqrt(2))
        self.house_context = StackableLinear(hidden, house_hidden, bias=False)
        nn.init.orthogonal_(self.house_context.weight, np.sqrt(2))
        self.house_head = init_layer(house_hidden, num_intents, 0.01)
        # The whole observation's summary: torso embedding and mean of the per-house layer.
        self.summary = nn.Sequential(init_layer(hidden + house_hidden, hidden, np.sqrt(2)),
                                     nn.ReLU())
        self.intent_head = init_layer(hidden, num_intents, 0.01)
        self.value_head = init_layer(hidden, 1, 1.0)

    def encode(self, obs: torch.Tensor, seats: torch.Tensor | None = None) -> torch.Tensor:
        """[B, obs_dim] float32 on the CPU -> the torso's one-hot codes and reals, then each house's
        combination number (as a float, so that one buffer holds everything), in one
        compiled pass (``training.encoding``); a seat-aware body adds the ``seats`` [B]."""
        out = np.empty((len(obs), self.observed_inputs + self.num_houses), np.float32)
        encode_observations(obs.numpy(), *self.encoding_tables, ME_THERE, out)
        return self._with_seats(torch.from_numpy(out), seats)

    def _with_seats(self, encoded: torch.Tensor, seats: torch.Tensor | None) -> torch.Tensor:
        """A seat-aware body's input: the seat's one-hot after the observed torso inputs,
        and each house's combination number extended by its ownership pattern."""
        if not self.seats:
            return encoded
        observed = self.observed_inputs
        combination = encoded[:, observed:] * OWNERSHIP_PATTERNS \
            + self.seat_patterns.index_select(0, seats)
        return torch.cat([encoded[:, :observed], seat_one_hot(seats, self.seats), combination],
                         dim=-1)

    def encode_tensors(self, obs: torch.Tensor, seats: torch.Tensor | None = None,
                       ) -> torch.Tensor:
        """:meth:`encode` in PyTorch operations, on any device."""
        houses = obs[:, :self.num_houses]
        # index_select, not obs[:, index]: on the CPU it is several times faster.
        onehot = (obs.index_select(1, self.onehot_entry) == self.onehot_value).float()
        fires = (houses == BURNING).sum(-1, keepdim=True) == self.fire_counts
        states = obs.index_select(1, self.ring.flatten()).view(-1, self.num_houses, 3) \
            @ self.ring_weights  # [B, H]: 9 left + 3 middle + right
        # at[b, k, m]: agent k (0 = me) chose house m last night.
        at = obs.index_select(1, self.last_house_entry)[:, :, None] == self.positions
        worked = at & (obs.index_select(1, self.last_mode_entry)[:, :, None] == 1)
        signalled = at & (obs.index_select(1, self.signal_entry)[:, :, None] == 1)
        combination = ((states * self.num_agents + worked[:, 1:].sum(1)) * self.num_agents
                       + signalled[:, 1:].sum(1)) * ME_THERE + at[:, 0].float() + worked[:, 0]
        return self._with_seats(torch.cat([onehot, obs.index_select(1, self.real_entry),
                                           fires.float(), combination], dim=-1), seats)

    def forward(self, inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(intent logits [B, K], house logits [B, K, H], value [B]) from encoded inputs
        (with weights stacked per seat, inputs [S, B, ...] and outputs [S, B, ...])."""
        embedding = self.torso(inputs[..., :self.torso_inputs])
        house_logits, mean = house_layer(
            self.house_local(self.combinations), inputs[..., self.torso_inputs:].long(),
            self.house_context(embedding), self.house_position(self.position_features),
            self.house_head.weight, self.house_head.bias)
        summary = self.summary(torch.cat([embedding, mean], dim=-1))
        return self.intent_head(summary), house_logits, self.value_head(summary).squeeze(-1)


class MLPBody(nn.Module):
    """CleanRL's actor and critic: two tanh layers each, over the raw observation."""

    def __init__(self, obs_dim: int, num_houses: int, num_intents: int, hidden: int,
                 seats: int = 0) -> None:
        super().__init__()
        self.num_houses, self.num_intents, self.seats = num_houses, num_intents, seats
        self.input_size = obs_dim + seats  # a seat-aware body reads the seat's one-hot too
        self.actor = nn.Sequential(
            init_layer(self.input_size, hidden, np.sqrt(2)), nn.Tanh(),
            init_layer(hidden, hidden, np.sqrt(2)), nn.Tanh(),
        )
        self.intent_head = init_layer(hidden, num_intents, 0.01)
        self.house_head = init_layer(hidden, num_intents * num_houses, 0.01)
        self.critic = nn.Sequential(
            init_layer(self.input_size, hidden, np.sqrt(2)), nn.Tanh(),
            init_layer(hidden, hidden, np.sqrt(2)), nn.Tanh(),
            init_layer(hidden, 1, 1.0),
        )

    def encode(self, obs: torch.Tensor, seats: torch.Tensor | None = None) -> torch.Tensor:
        if not self.seats:
            return obs
        return torch.cat([obs, seat_one_hot(seats, self.seats)], dim=-1)

    encode_tensors = encode

    def forward(self, inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        hidden = self.actor(inputs)
        house = self.house_head(hidden)
        house = house.view(*house.shape[:-1], self.num_intents, self.num_houses)
        return self.intent_head(hidden), house, self.critic(inputs).squeeze(-1)


BODIES = {"structured": StructuredBody, "mlp": MLPBody}


class PolicyNetwork(nn.Module):
    """Actor-critic for the game's observation and a MultiDiscrete action space [H, 2]
    (house, mode) or [H, 2, 2] (house, mode, signal); see the module docstring."""

    def __init__(self, obs_dim: int, action_dims: Sequence[int],
                 hidden_size: int = DEFAULT_HIDDEN_SIZE, policy: str = DEFAULT_POLICY,
                 action_mask: bool = True, seat_ids: int = 0) -> None:
        super().__init__()
        # Sizes may come from a file: each is checked against the game's limits before any
        # layer is allocated, and a wrong type is refused, never converted.
        if not isinstance(action_dims, Sequence | np.ndarray) or len(action_dims) not in (2, 3):
            raise ValueError(f"action_dims={action_dims!r} must be [H, 2] (house, mode) or "
                             "[H, 2, 2] (house, mode, signal)")
        action_dims = [check_count("houses", action_dims[0], 2, MAX_HOUSES),
                       *(check_count("mode and signal choices", d, 2, 2) for d in action_dims[1:])]
        num_houses = action_dims[0]
        self.hidden_size = check_count("hidden_size", hidden_size, 1, MAX_HIDDEN_SIZE)
        if not isinstance(policy, str) or policy not in BODIES:
            raise ValueError(f"policy={policy!r} is not one of {', '.join(POLICIES)}")
        if not isinstance(action_mask, bool | np.bool_):
            raise ValueError(f"action_mask={action_mask!r} must be true or false")
        self.obs_dim = check_count("obs_dim", obs_dim, 1, num_houses + 4 * MAX_HOUSES
                                   + SCENARIO_INFO_SIZE)
        # Refuses a size that does not fit, and more agents than houses (no game has them).
        layout = ObservationLayout.from_obs_dim(self.obs_dim, num_houses)
        check_count("agents of obs_dim", layout.num_agents, 1, num_houses)
        seat_ids = check_count("seat_ids", seat_ids, 0, MAX_SEATS)
        self.action_dims = action_dims
        self.policy = policy
        # Intent k is (mode, signal) = (k // 2, k % 2) with cheap talk, else (k, k).
        intents = [(k // 2, k % 2) for k in range(4)] if self.cheap_talk \
            else [(0, 0), (1, 1)]
        self.seat_ids = seat_ids
        self.body = BODIES[policy](self.obs_dim, num_houses, len(intents), self.hidden_size,
                                   seat_ids)
        # Whether pointless actions are masked; persistent, so a state dict carries it.
        self.register_buffer("mask_pointless", torch.tensor(bool(action_mask)))
        if seat_ids:  # persistent too: the weights of a seat-aware network say so
            self.register_buffer("seat_count", torch.tensor(seat_ids))
        self.seat = 0  # the seat a seat-aware network plays when encode is not told

        def constant(name: str, values: object) -> None:
            self.register_buffer(name, torch.tensor(values), persistent=False)

        constant("intent_works", [mode == 1 for mode, _ in intents])
        # The house matters to the game when the agent works there or signals WORK there.
        constant("house_matters", [mode == 1 or signal == 1 for mode, signal in intents])
        constant("away_from_home", [m != 0 for m in range(num_houses)])

    @property
    def cheap_talk(self) -> bool:
        """Whether the policy chooses its signal (a third action dimension)."""
        return len(self.action_dims) == 3

    @property
    def action_mask(self) -> bool:
        """Whether pointless actions have no probability (see the module docstring)."""
        return bool(self.mask_pointless)

    @property
    def config(self) -> dict[str, Any]:
        """Constructor arguments that rebuild this network (stored in checkpoints)."""
        config = {"obs_dim": self.obs_dim, "action_dims": list(self.action_dims),
                  "hidden_size": self.hidden_size, "policy": self.policy,
                  "action_mask": self.action_mask}
        return {**config, "seat_ids": self.seat_ids} if self.seat_ids else config

    def _seats(self, obs: torch.Tensor, seats: torch.Tensor | None) -> torch.Tensor | None:
        """The seat of each row for a seat-aware network (:attr:`seat` when not given)."""
        if not self.seat_ids:
            return None
        if seats is None:
            return torch.full((len(obs),), self.seat, dtype=torch.long, device=obs.device)
        return seats

    def encode(self, obs: torch.Tensor, seats: torch.Tensor | None = None) -> torch.Tensor:
        """The network's input for raw observations [B, obs_dim]: the offsets that mask
        pointless actions (PADDING_LOGIT, else 0; intents [K], then houses [K x H]), then the
        body's encoding. PPO keeps these, so an observation is encoded once, not per epoch.
        Compiled on the CPU (``training.encoding``), :meth:`encode_tensors` elsewhere.
        ``seats`` [B] (int64): the seat of each row, read by a seat-aware network only."""
        seats = self._seats(obs, seats)
        if obs.device.type != "cpu":
            return self.encode_tensors(obs, seats)
        obs = obs.to(torch.float32).contiguous()  # both kernels read it as it is
        houses = self.action_dims[0]
        offsets = np.empty((len(obs), len(self.intent_works) * (houses + 1)), np.float32)
        pointless_offsets(obs.numpy(), houses, self.intent_works.numpy(),
                          self.house_matters.numpy(), self.action_mask,
                          np.float32(PADDING_LOGIT), offsets)
        return torch.cat([torch.from_numpy(offsets), self.body.encode(obs, seats)], dim=-1)

    def encode_tensors(self, obs: torch.Tensor, seats: torch.Tensor | None = None,
                       ) -> torch.Tensor:
        """:meth:`encode` in PyTorch operations, on any device."""
        seats = self._seats(obs, seats)
        burning = obs[:, :self.action_dims[0]] == BURNING
        no_fire = ~burning.any(-1, keepdim=True)
        pointless_intent = self.intent_works & no_fire
        pointless_house = (self.intent_works[:, None] & ~burning[:, None]) \
            | (~self.house_matters[:, None] & self.away_from_home)
        pointless = torch.cat([pointless_intent, pointless_house.flatten(1)], dim=-1) \
            & self.mask_pointless
        return torch.cat([pointless.float() * PADDING_LOGIT,
                          self.body.encode_tensors(obs, seats)], dim=-1)

    def evaluate(self, inputs: torch.Tensor) -> PolicyOutput:
        """Log-probabilities of the intents and of the house given each intent, and the
        state values, from encoded inputs (see :class:`PolicyOutput`)."""
        intent_logits, house_logits, value = self._masked_logits(inputs)
        return PolicyOutput(log_softmax(intent_logits), log_softmax(house_logits), value)

    def value(self, inputs: torch.Tensor) -> torch.Tensor:
        """The state values [B] from encoded inputs (:meth:`evaluate` without the
        log-softmaxes it would compute for nothing)."""
        return self.body(inputs[..., self._offset_count:])[2]

    @property
    def _offset_count(self) -> int:
        """How many leading entries of an encoded input are the mask's offsets."""
        return len(self.intent_works) * (self.action_dims[0] + 1)

    def _masked_logits(self, inputs: torch.Tensor,
                       ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(intent logits [B, K], house logits [B, K, H], value [B]) with the mask's offsets."""
        intents, houses = len(self.intent_works), self.action_dims[0]
        count = self._offset_count
        offsets = inputs[..., :count]
        intent_logits, house_logits, value = self.body(inputs[..., count:])
        return (intent_logits + offsets[..., :intents],
                house_logits + offsets[..., intents:].view(*offsets.shape[:-1], intents, houses),
                value)

    def forward(self, obs: torch.Tensor | np.ndarray) -> PolicyOutput:
        """:meth:`evaluate` on raw observations [B, obs_dim] (a tensor or a NumPy array)."""
        return self.evaluate(self.encode(self._tensor(obs)))

    def _intent_of(self, action: torch.Tensor) -> torch.Tensor:
        return action[:, 1] * 2 + action[:, 2] if self.cheap_talk else action[:, 1]

    def _action_of(self, intent: torch.Tensor, house: torch.Tensor) -> torch.Tensor:
        columns = [house, intent // 2, intent % 2] if self.cheap_talk else [house, intent]
        return torch.stack(columns, dim=-1)

    def _credited(self) -> torch.Tensor:
        """Per intent: whether the house's log-probability counts (always, without masks)."""
        return self.house_matters | ~self.mask_pointless

    def _row_logits(self, inputs: torch.Tensor,
                    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """:meth:`_masked_logits` with the logits of every row in one batch, as the
        distribution's kernels read them: with weights stacked per seat, the [S, B] rows
        are flattened (the value keeps its [S, B])."""
        intent_logits, house_logits, value = self._masked_logits(inputs)
        if value.ndim == 1:  # one network's rows: nothing to flatten
            return intent_logits, house_logits, value
        return intent_logits.flatten(0, -2), house_logits.flatten(0, -3), value

    def act(self, inputs: torch.Tensor, action: torch.Tensor | None = None,
            ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Sample an action (or score the given one) from encoded inputs: (action [B, D]
        int64, log-prob [B], entropy [B], value [B]; with weights stacked per seat, [S, B]
        rows). The house's log-probability and entropy count only for intents where it
        matters to the game (always without masks)."""
        intent_logits, house_logits, value = self._row_logits(inputs)
        if action is None:
            with torch.no_grad():
                intent, house, _ = draw(intent_logits, house_logits, self._credited())
            action = self._action_of(intent, house)
        elif value.ndim > 1:
            action = action.flatten(0, -2)
        log_prob, entropy = log_prob_and_entropy(intent_logits, house_logits,
                                                 self._intent_of(action), action[:, 0],
                                                 self._credited())
        if value.ndim == 1:
            return action, log_prob, entropy, value
        rows = value.shape
        return action.unflatten(0, rows), log_prob.view(rows), entropy.view(rows), value

    def sample(self, inputs: torch.Tensor, generator: torch.Generator | None = None,
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The rollout's step: an action drawn from encoded inputs, its log-probability and
        the state value ([B, D], [B], [B]; stacked, [S, B] rows); :meth:`act` without the
        entropy, reading only the drawn intent's house distribution
        (``training.distribution.draw``; the log-probability carries no gradient on the
        CPU)."""
        intent_logits, house_logits, value = self._row_logits(inputs)
        intent, house, log_prob = draw(intent_logits, house_logits, self._credited(),
                                       generator)
        if value.ndim == 1:
            return self._action_of(intent, house), log_prob, value
        rows = value.shape
        return self._action_of(intent, house).unflatten(0, rows), log_prob.view(rows), value

    def action_and_value(self, obs: torch.Tensor, action: torch.Tensor | None = None,
                         ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """:meth:`act` on raw observations [B, obs_dim]."""
        return self.act(self.encode(obs), action)

    def _tensor(self, obs: torch.Tensor | np.ndarray) -> torch.Tensor:
        device = self.mask_pointless.device
        if isinstance(obs, np.ndarray):
            return torch.from_numpy(np.ascontiguousarray(obs, dtype=np.float32)).to(device)
        return obs.to(device)

    def sample_action(self, obs: torch.Tensor | np.ndarray,
                      generator: torch.Generator | None = None) -> torch.Tensor | np.ndarray:
        """An action drawn from the policy, [B, D] int64 (reproducible with ``generator``),
        of the kind given (tensor or NumPy array)."""
        action, _, _ = self.sample(self.encode(self._tensor(obs)), generator)
        return self._like(obs, action)

    def greedy_action(self, obs: torch.Tensor | np.ndarray) -> torch.Tensor | np.ndarray:
        """The most likely action, [B, D] int64, of the kind given: the most likely intent,
        then the most likely house for it."""
        intent_lp, house_lp, _ = self.forward(obs)
        intent = intent_lp.argmax(-1)
        house = house_lp.gather(1, intent[:, None, None].expand(-1, 1, house_lp.shape[-1])
                                ).squeeze(1).argmax(-1)
        return self._like(obs, self._action_of(intent, house))

    @staticmethod
    def _like(obs: torch.Tensor | np.ndarray, action: torch.Tensor) -> torch.Tensor | np.ndarray:
        return action.cpu().numpy() if isinstance(obs, np.ndarray) else action

    def play(self, obs: torch.Tensor | np.ndarray) -> np.ndarray:
        """How a trained policy plays as a fixed strategy (in the empirical game, or as an
        opponent): greedy (house, mode, signal) [B, 3] as a NumPy array, for raw observations
        [B, obs_dim] (tensor or NumPy array). Without cheap talk its signal is its mode."""
        with torch.inference_mode():
            chosen = self.greedy_action(self._tensor(obs))
        return full_actions(chosen.cpu().numpy(), self.cheap_talk)


def network_from_state(state: Mapping[str, torch.Tensor],
                       config: Mapping[str, Any] | None = None) -> PolicyNetwork:
    """The network a state dict was saved from: built from ``config`` (a checkpoint's or a
    run's "network" entry) when given, else with its sizes and kind read off the weights;
    raises ValueError when the state dict is not one of a PolicyNetwork."""
    check_dtypes(state)
    if config is not None:
        network = PolicyNetwork(**config)
    else:
        network = PolicyNetwork(**_config_from_weights(state))
    try:
        network.load_state_dict(state)
    except RuntimeError as exc:
        raise ValueError(f"weights do not fit PolicyNetwork({network.config}): "
                         f"{str(exc).splitlines()[0]}") from None
    return network


# The entries of a state dict that are not float32 weights, and their types.
BUFFER_DTYPES = {"mask_pointless": torch.bool, "seat_count": torch.int64}


def check_dtypes(state: Mapping[str, Any]) -> None:
    """Refuse (ValueError) entries of another type than a trained network's: weights read
    from a file are never converted."""
    for key, tensor in state.items():
        wanted = BUFFER_DTYPES.get(key.rpartition(".")[2], torch.float32)
        if not isinstance(tensor, torch.Tensor) or tensor.dtype != wanted:
            raise ValueError(f"{key} is {getattr(tensor, 'dtype', type(tensor).__name__)}, "
                             f"not {wanted} as a trained network's")


def network_from_file(state: Any, config: Any, where: str) -> PolicyNetwork:
    """:func:`network_from_state` for weights read from a file (``where`` names it): every
    command loads a model or a checkpoint through here, so each refusal (sizes beyond the
    limits, another dtype, NaN or infinite weights) is one line naming the file."""
    try:
        network = network_from_state(state, config)
    except (ValueError, TypeError) as exc:
        raise UsageError(f"{where} does not hold PolicyNetwork weights: {exc}") from None
    check_finite_weights(network, where)
    return network


def check_finite_weights(module: nn.Module, where: str) -> None:
    """Refuse weights read from ``where`` that hold NaN or infinity, as one line."""
    if not all(bool(torch.isfinite(t).all()) for t in module.state_dict().values()
               if t.is_floating_point()):
        raise UsageError(f"{where} holds NaN or infinite weights")


def _config_from_weights(state: Mapping[str, torch.Tensor]) -> dict[str, Any]:
    """PolicyNetwork's constructor arguments from its weights' shapes."""
    def shape(key: str) -> tuple[int, int]:
        """The (rows, columns) of a weight matrix."""
        if key not in state or not hasattr(state[key], "shape"):
            raise ValueError("the weights are not those of a PolicyNetwork (no "
                             f"{key!r}: saved by an older version of the network?)")
        if len(state[key].shape) != 2:
            raise ValueError(f"{key} has shape {list(state[key].shape)}, not that of a matrix")
        rows, columns = state[key].shape
        return rows, columns

    policy = "mlp" if "body.actor.0.weight" in state else "structured"
    seat_count = state.get("seat_count")
    seats = int(seat_count) if isinstance(seat_count, torch.Tensor) \
        and seat_count.numel() == 1 else 0
    if policy == "mlp":
        hidden, inputs = shape("body.actor.0.weight")
        obs_dim = inputs - seats
        intents = shape("body.intent_head.weight")[0]
        houses = shape("body.house_head.weight")[0] // max(intents, 1)
    else:
        hidden, torso_inputs = shape("body.torso.0.weight")
        torso_inputs -= seats
        intents = shape("body.intent_head.weight")[0]
        agents = (shape("body.house_local.weight")[1] - HOUSE_STATES**3 - ME_THERE
                  - 3 * bool(seats)) // 2
        # torso inputs: 3H + 2N + N(H + 2) + 10 reals + H + 1 fire counts.
        houses, rest = divmod(torso_inputs - 4 * agents - SCENARIO_INFO_SIZE - 1, 4 + agents)
        obs_dim = ObservationLayout(houses, agents).obs_dim if not rest and houses > 0 else -1
    if intents not in (2, 4) or houses < 2 or obs_dim < 1:
        raise ValueError("the weights' shapes fit no PolicyNetwork")
    mask = state.get("mask_pointless")
    if mask is not None and mask.shape != ():
        raise ValueError(f"mask_pointless of shape {list(mask.shape)} is not one true or false")
    return {"obs_dim": obs_dim, "action_dims": [houses, 2] + [2] * (intents == 4),
            "hidden_size": hidden, "policy": policy,
            "action_mask": True if mask is None else bool(mask), "seat_ids": seats}
