"""Who plays in an empirical game: scripted seats and trained policies (acting greedily),
parsed from a comma list, and a profile of them played on seeded games."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from bucket_brigade.agents.strategies import is_model_name, make_seat, split_opponents
from bucket_brigade.errors import UsageError
from bucket_brigade.game.scenarios import Scenario
from bucket_brigade.game.scripted import ARCHETYPES
from bucket_brigade.game.seat import Seat

if TYPE_CHECKING:
    from bucket_brigade.engine.batch import FinishedGames
    from bucket_brigade.training.models import LoadedPolicy
    from bucket_brigade.training.network import PolicyNetwork

ARCHETYPES_ALIAS = "archetypes"


@dataclass(frozen=True)
class Contender:
    """One strategy of the game: a scripted seat, or a trained policy acting greedily."""

    name: str
    seat: Seat | None = None
    policy: PolicyNetwork | None = None
    source: str | None = None  # the policy's file


def parse_strategies(text: str, scenario: Scenario, num_agents: int) -> list[Contender]:
    """``archetypes`` (the six archetypes), ``random``, ``evolved``, any strategy spec of
    agents.strategies, and model files (``*.pt``; ``*.pt@K``: seat K's network, else seat
    0's of a model with one per seat), as a comma list."""
    names: list[str] = []
    for token in split_opponents(text):
        names.extend(ARCHETYPES if token == ARCHETYPES_ALIAS else [token])
    if not names:
        raise ValueError("--strategies names no strategy; give a comma list such as "
                         "'archetypes,random,evolved' or model files")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"strategy {repeated[0]!r} is listed twice")
    return [contender(name, scenario, num_agents) for name in names]


def parse_profile(text: str, scenario: Scenario, num_agents: int) -> list[Contender]:
    """Who plays each seat: a comma list of ``num_agents`` strategies or model files, or one
    that every seat plays. A name listed twice is one player (a model is loaded once),
    except a model whose seat picks its network (an independent run's, a seat-aware one):
    in seat i it plays as seat i, unless the name chose a seat (``PATH.pt@K``)."""
    names = split_opponents(text)
    if len(names) == 1:
        names *= num_agents
    if len(names) != num_agents:
        raise ValueError(f"--profile names {len(names)} players for {num_agents} seats; give "
                         f"one per seat or one for all")
    models = {name: _model(name, scenario, num_agents) for name in dict.fromkeys(names)
              if is_model_name(name)}
    players = {name: contender(name, scenario, num_agents, models.get(name))
               for name in dict.fromkeys(names)}
    return [_in_seat(models[name], name, seat) if name in models and models[name].per_seat
            else players[name] for seat, name in enumerate(names)]


def contender(name: str, scenario: Scenario, num_agents: int,
              model: LoadedPolicy | None = None) -> Contender:
    """A strategy spec, or a model file (``*.pt``, ``*.pt@K``) checked against the game's
    size (``model``: the file, already loaded)."""
    if not is_model_name(name):
        return Contender(name=name, seat=make_seat(name, scenario.name))
    model = model or _model(name, scenario, num_agents)
    return Contender(name=model.name, policy=model.network, source=name)


def _model(name: str, scenario: Scenario, num_agents: int) -> LoadedPolicy:
    from bucket_brigade.training.models import load_policy

    model = load_policy(name)
    model.check_fits(scenario, num_agents)
    return model


def _in_seat(model: LoadedPolicy, name: str, seat: int) -> Contender:
    """A per-seat model's player in ``seat``: its network for that seat."""
    try:
        network = model.seat_network(seat)
    except UsageError as exc:
        raise UsageError(f"{exc}; name one network for every seat with {name}@K") from None
    return Contender(name=f"{model.name}@{seat}", policy=network, source=name)


def play_profile(scenario: Scenario, players: Sequence[Contender], games: int,
                 seed: int) -> FinishedGames:
    """Play ``games`` games with ``players[i]`` in seat i, each to its first end. Trained
    policies sit in external seats and act greedily, so results depend on weights alone;
    planners search (:mod:`bucket_brigade.search`), the policies' greedy play in their
    continuations too."""
    from bucket_brigade.engine.batch import GameBatch  # numba: loaded when games are played
    from bucket_brigade.search import with_planners

    seats = [p.seat if p.seat is not None else Seat() for p in players]
    batch = GameBatch(scenario, seats, games, seed=seed)
    external = [p for p in players if p.seat is None]
    slots_of: dict[int, tuple[PolicyNetwork, list[int]]] = {}
    for slot, player in enumerate(external):
        slots_of.setdefault(id(player.policy), (player.policy, []))[1].append(slot)
    networks = _greedy_driver(list(slots_of.values()), batch.obs_dim) if external else None
    return batch.play_out(with_planners(batch, networks, known_others=True))


def _greedy_driver(drivers: list[tuple[PolicyNetwork, list[int]]], obs_dim: int,
                   ) -> Callable[[np.ndarray], np.ndarray]:
    """A play_out policy: each network picks the greedy actions of its external slots."""

    def act(obs: np.ndarray) -> np.ndarray:
        actions = np.zeros((*obs.shape[:2], 3), dtype=np.int64)
        for network, slots in drivers:
            chosen = network.play(obs[:, slots].reshape(-1, obs_dim))
            actions[:, slots] = chosen.reshape(len(obs), len(slots), 3)
        return actions

    return act


def use_one_torch_thread(players: Sequence[Contender]) -> None:
    """Have PyTorch use one thread when a trained policy plays. Greedy play evaluates a few
    hundred games' observations a night, where threads cost more than they save: the
    nine-strategy table (a policy among them) took 184 s of CPU with PyTorch's default
    threads and 45 s with one, on the 2-core development machine under load."""
    if any(p.policy is not None for p in players):
        import torch

        torch.set_num_threads(1)
