"""Who plays in an empirical game: scripted seats and trained policies (acting greedily),
parsed from a comma list, and a profile of them played on seeded games."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from bucket_brigade.agents.strategies import make_seat, split_opponents
from bucket_brigade.game.scenarios import Scenario
from bucket_brigade.game.scripted import ARCHETYPES
from bucket_brigade.game.seat import Seat

if TYPE_CHECKING:
    from bucket_brigade.engine.batch import FinishedGames
    from bucket_brigade.training.models import LoadedPolicy
    from bucket_brigade.training.network import PolicyNetwork

ARCHETYPES_ALIAS = "archetypes"
MODEL_SUFFIX = ".pt"


@dataclass(frozen=True)
class Contender:
    """One strategy of the game: a scripted seat, or a trained policy acting greedily."""

    name: str
    seat: Seat | None = None
    policy: PolicyNetwork | None = None
    source: str | None = None  # the policy's file


def parse_strategies(text: str, scenario: Scenario, num_agents: int) -> list[Contender]:
    """``archetypes`` (the six archetypes), ``random``, ``evolved``, any strategy spec of
    agents.strategies, and model files (``*.pt``), as a comma list."""
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
    except a model that plays its seats apart (see :func:`seat_players`)."""
    names = split_opponents(text)
    if len(names) == 1:
        names *= num_agents
    if len(names) != num_agents:
        raise ValueError(f"--profile names {len(names)} players for {num_agents} seats; give "
                         f"one per seat or one for all")
    players = {name: seat_players(name, scenario, num_agents) for name in dict.fromkeys(names)}
    return [players[name][seat] for seat, name in enumerate(names)]


def seat_players(name: str, scenario: Scenario, num_agents: int) -> list[Contender]:
    """The player ``name`` stands for in each seat: one and the same, except a model that
    plays its seats apart (an independent run's network per seat, a seat-aware network
    told its seat), whose every seat plays as it was trained there."""
    if not name.endswith(MODEL_SUFFIX):
        return [contender(name, scenario, num_agents)] * num_agents
    model = _model(name, scenario, num_agents)
    if not model.plays_seats_apart:
        return [Contender(name=model.name, policy=model.network, source=name)] * num_agents
    return [Contender(name=f"{model.name} (seat {seat})", policy=model.seat_network(seat),
                      source=name) for seat in range(num_agents)]


def contender(name: str, scenario: Scenario, num_agents: int) -> Contender:
    """A strategy spec, or a model file (``*.pt``) checked against the game's size."""
    if not name.endswith(MODEL_SUFFIX):
        return Contender(name=name, seat=make_seat(name, scenario.name))
    model = _model(name, scenario, num_agents)
    return Contender(name=model.name, policy=model.network, source=name)


def _model(path: str, scenario: Scenario, num_agents: int) -> LoadedPolicy:
    from bucket_brigade.training.models import load_policy

    model = load_policy(path)
    model.check_fits(scenario, num_agents)
    return model


def play_profile(scenario: Scenario, players: Sequence[Contender], games: int,
                 seed: int) -> FinishedGames:
    """Play ``games`` games with ``players[i]`` in seat i, each to its first end. Trained
    policies sit in external seats and act greedily, so results depend on weights alone;
    planners search (:mod:`bucket_brigade.search`)."""
    from bucket_brigade.engine.batch import GameBatch  # numba: loaded when games are played
    from bucket_brigade.search import with_planners

    seats = [p.seat if p.seat is not None else Seat() for p in players]
    batch = GameBatch(scenario, seats, games, seed=seed)
    external = [p for p in players if p.seat is None]
    slots_of: dict[int, tuple[PolicyNetwork, list[int]]] = {}
    for slot, player in enumerate(external):
        slots_of.setdefault(id(player.policy), (player.policy, []))[1].append(slot)
    networks = _greedy_driver(list(slots_of.values()), batch.obs_dim) if external else None
    return batch.play_out(with_planners(batch, networks))


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
