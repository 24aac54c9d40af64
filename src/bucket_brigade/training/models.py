"""Trained policies from their files, and judging them: the one way a checkpoint or a final
``model_{run}.pt`` becomes a policy, whoever plays it (the trainer's learning check,
sweeps, ``evaluate``, ``nash``, ``replay``, ``--opponent-model``).

A model is named by its file, ``PATH.pt@K`` for seat K's network of it
(``agents.strategies.split_seat``). A final model holds weights only; its network sizes are read
off the weights, and its training scenario (for ``--matrix``) from the run's
``config.json`` when the run's layout is intact (``model_{run}.pt`` next to
``runs/{run}/``).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bucket_brigade.agents.strategies import StrategySpec, split_seat
from bucket_brigade.errors import UsageError
from bucket_brigade.evaluation import EvaluationResult, compare_with_archetypes, evaluate
from bucket_brigade.game.scenarios import Scenario, get_scenario
from bucket_brigade.io import read_input_text, save_json
from bucket_brigade.training.checkpoint import read_torch_file
from bucket_brigade.training.network import PolicyNetwork, network_from_file

MODEL_PREFIX = "model_"
EVALUATION_FILE = "evaluation.json"  # a run's learning check (--eval-games), in runs/RUN
# How a run's model state dict names its parts (training.sharing writes them): seat k's
# networks of an independent run, and a centralised critic's actor (its critic is not read).
SEATS_PREFIX = "seats."
ACTOR_PREFIX = "actor."


@dataclass
class LoadedPolicy:
    name: str
    network: PolicyNetwork
    trained_on: str | None  # scenario name from the run's config, if known
    seats: list[PolicyNetwork] | None = None  # an independent run's networks, seat by seat
    chosen_seat: int | None = None  # PATH.pt@K: seat K's network, whatever seat it plays

    def seat_network(self, seat: int) -> PolicyNetwork:
        """The network that plays ``seat``: an independent run's own for that seat, a
        seat-aware network told its seat, else the one network (its seat is irrelevant);
        for a seat chosen by name, its network in every seat."""
        if self.chosen_seat is not None:
            return self.network
        if self.seats is not None:
            if not 0 <= seat < len(self.seats):
                raise UsageError(f"model {self.name!r} has networks for seats 0 to "
                                 f"{len(self.seats) - 1}, not seat {seat}")
            return self.seats[seat]
        if self.network.seat_ids:
            if not 0 <= seat < self.network.seat_ids:
                raise UsageError(f"model {self.name!r} knows seats 0 to "
                                 f"{self.network.seat_ids - 1}, not seat {seat}")
            network = copy.deepcopy(self.network)
            network.seat = seat
            return network
        return self.network

    def at_seat(self, seat: int) -> LoadedPolicy:
        """The policy of :meth:`seat_network` alone, named ``NAME@seat``."""
        return LoadedPolicy(name=f"{self.name}@{seat}", network=self.seat_network(seat),
                            trained_on=self.trained_on, chosen_seat=seat)

    @property
    def per_seat(self) -> bool:
        """Whether the seat it plays picks its network (one per seat, or seat-aware)."""
        return self.chosen_seat is None and (self.seats is not None
                                             or bool(self.network.seat_ids))

    @property
    def obs_dim(self) -> int:
        return self.network.obs_dim

    def play_seats(self, seats: Sequence[int]) -> Callable[[np.ndarray], np.ndarray]:
        """Greedy play (``PolicyNetwork.play``) for observations of ``seats`` row after row
        in turn, as the vector env passes its opponent seats' (game-major): each seat by
        its own network when the model has one per seat or knows its seat."""
        networks = [self.seat_network(seat) for seat in seats]
        if all(network is self.network for network in networks):
            return self.network.play
        count = len(networks)

        def play(obs: np.ndarray) -> np.ndarray:
            actions = np.empty((len(obs), 3), dtype=np.int64)
            for k, network in enumerate(networks):
                actions[k::count] = network.play(obs[k::count])
            return actions

        return play

    def check_fits(self, scenario: Scenario, num_agents: int) -> None:
        """Refuse a scenario or agent count whose observation size differs from training."""
        expected = scenario.obs_dim(num_agents)
        if self.obs_dim != expected:
            raise UsageError(
                f"model {self.name!r} takes observations of size {self.obs_dim}, but scenario "
                f"{scenario.name!r} with {num_agents} agents gives size {expected}"
            )
        houses = self.network.action_dims[0]
        if houses != scenario.num_houses:
            raise UsageError(f"model {self.name!r} chooses among {houses} houses, scenario "
                             f"{scenario.name!r} has {scenario.num_houses}")

    def evaluate(self, scenario: str | Scenario, opponents: Sequence[StrategySpec] | str | None,
                 num_opponents: int = 3, games: int = 1000, seed: int = 0,
                 sample: bool = False) -> EvaluationResult:
        """:func:`~bucket_brigade.evaluation.evaluate` with the model in seat 0, after
        refusing a game whose observations differ from those it was trained on."""
        scenario = get_scenario(scenario)
        self.check_fits(scenario, num_opponents + 1)
        return evaluate(self.network, scenario, opponents, num_opponents, games, seed, sample)


def load_policy(path: str | Path) -> LoadedPolicy:
    """A PolicyNetwork from a training checkpoint or a final weights-only model file; from
    an independent run's, seat 0's network (``seats`` holds every seat's); ``PATH.pt@K``:
    seat K's network alone (:meth:`LoadedPolicy.at_seat`)."""
    file, seat = split_seat(str(path))
    policy = _load_file(Path(file))
    return policy if seat is None else policy.at_seat(seat)


def _load_file(path: Path) -> LoadedPolicy:
    payload = read_torch_file(path, "model file")
    state = payload.get("model_state_dict", payload) if isinstance(payload, dict) else None
    if not isinstance(state, dict):
        raise UsageError(f"model file {str(path)!r} holds no state dict")
    state = payload.get("model_state_dict", payload)
    config = payload.get("config") if "model_state_dict" in payload else _run_config(path)
    where = f"model file {str(path)!r}"
    try:
        actors = seat_actor_states(state)
    except (ValueError, TypeError) as exc:
        raise UsageError(f"{where} does not hold PolicyNetwork weights: {exc}") from None
    networks = [network_from_file(actor, payload.get("network"), where) for actor in actors]
    for network in networks:
        network.eval()
    trained_on = config.get("scenario") if isinstance(config, dict) else None
    return LoadedPolicy(name=path.stem, network=networks[0], trained_on=trained_on,
                        seats=networks if len(networks) > 1 else None)


def seat_actor_states(state: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The state dicts of the actors in a model state dict: one per seat for an
    independent run, else one; a central critic's weights are left out."""
    if any(key.startswith(SEATS_PREFIX) for key in state):
        seats: dict[int, dict[str, Any]] = {}
        for key, value in state.items():
            seat, _, rest = key[len(SEATS_PREFIX):].partition(".")
            if not key.startswith(SEATS_PREFIX) or not seat.isdigit():
                raise ValueError(f"entry {key!r} is not a seat's weight (seats.K.NAME)")
            seats.setdefault(int(seat), {})[rest] = value
        if sorted(seats) != list(range(len(seats))):
            raise ValueError(f"the seats' weights are for seats {sorted(seats)}, not 0..K-1")
        return [_actor_state(seats[k]) for k in range(len(seats))]
    return [_actor_state(dict(state))]


def _actor_state(state: dict[str, Any]) -> dict[str, Any]:
    if not any(key.startswith(ACTOR_PREFIX) for key in state):
        return state
    return {key[len(ACTOR_PREFIX):]: value for key, value in state.items()
            if key.startswith(ACTOR_PREFIX)}


def evaluate_run(model_path: str | Path, scenario: Scenario, opponents: str | None,
                 num_opponents: int, games: int, seed: int) -> EvaluationResult:
    """A finished run's model in seat 0 of the run's game, every other seat played by the
    run's opponent strategies (the sweeps' score; a run's config gives the seating as
    ``TrainConfig.evaluation_seating``)."""
    return load_policy(model_path).evaluate(scenario, opponents, num_opponents, games=games,
                                            seed=seed)


def compare_run_with_archetypes(model_path: str | Path, scenario: Scenario,
                                opponents: str | None, num_opponents: int, games: int,
                                seed: int) -> list[dict[str, float | str]]:
    """The learning check of ``train --eval-games``: :func:`evaluate_run`, then every
    archetype and ``random`` in the same seat of the same games, paired."""
    policy = load_policy(model_path)
    policy.check_fits(scenario, num_opponents + 1)
    return compare_with_archetypes(policy.network, scenario, opponents, num_opponents,
                                   games=games, seed=seed)


def save_comparison(rows: list[dict[str, float | str]], run_dir: Path, scenario: Scenario,
                    opponents: str | None, num_opponents: int, games: int, seed: int) -> Path:
    """Write :func:`compare_run_with_archetypes`' rows, with the games they were played on,
    as the run's evaluation.json (what ``bucket-brigade seeds`` reads), atomically."""
    path = run_dir / EVALUATION_FILE
    save_json({"games": games, "seed": seed, "scenario": scenario.name,
               "opponents": num_opponents, "opponent_policies": opponents, "rows": rows},
              path)
    return path


def _run_config(model_path: Path) -> dict | None:
    """runs/{run}/config.json for ``model_{run}.pt``, when it is there."""
    if not model_path.stem.startswith(MODEL_PREFIX):
        return None
    run = model_path.stem[len(MODEL_PREFIX):]
    config_path = model_path.parent / "runs" / run / "config.json"
    try:
        return json.loads(read_input_text(config_path, "run config"))  # never a FIFO
    except (OSError, ValueError):  # missing, damaged, not a regular file: not known
        return None
