"""Trained policies from their files, and judging them: the one way a checkpoint or a final
``model_{run}.pt`` becomes a policy, whoever plays it (the trainer's learning check,
sweeps, ``evaluate``, ``nash``, ``replay``, ``--opponent-model``).

A final model holds weights only; its network sizes are read off the weights, and
its training scenario (for ``--matrix``) from the run's ``config.json`` when the
run's layout is intact (``model_{run}.pt`` next to ``runs/{run}/``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bucket_brigade.agents.strategies import StrategySpec
from bucket_brigade.errors import UsageError
from bucket_brigade.evaluation import EvaluationResult, compare_with_archetypes, evaluate
from bucket_brigade.game.scenarios import Scenario, get_scenario
from bucket_brigade.io import read_input_text
from bucket_brigade.training.checkpoint import read_torch_file
from bucket_brigade.training.network import PolicyNetwork, network_from_file

if TYPE_CHECKING:
    from bucket_brigade.training.config import TrainConfig

MODEL_PREFIX = "model_"


@dataclass
class LoadedPolicy:
    name: str
    network: PolicyNetwork
    trained_on: str | None  # scenario name from the run's config, if known

    @property
    def obs_dim(self) -> int:
        return self.network.obs_dim

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
    """A PolicyNetwork from a training checkpoint or a final weights-only model file."""
    path = Path(path)
    payload = read_torch_file(path, "model file")
    state = payload.get("model_state_dict", payload) if isinstance(payload, dict) else None
    if not isinstance(state, dict):
        raise UsageError(f"model file {str(path)!r} holds no state dict")
    state = payload.get("model_state_dict", payload)
    config = payload.get("config") if "model_state_dict" in payload else _run_config(path)
    network = network_from_file(state, payload.get("network"), f"model file {str(path)!r}")
    network.eval()
    trained_on = config.get("scenario") if isinstance(config, dict) else None
    return LoadedPolicy(name=path.stem, network=network, trained_on=trained_on)


def evaluate_run(model_path: str | Path, config: TrainConfig, games: int,
                 seed: int) -> EvaluationResult:
    """A finished run's model in seat 0 of the run's game, every other seat played by the
    run's opponent strategies (the sweeps' score)."""
    return load_policy(model_path).evaluate(config.resolved_scenario,
                                            *config.evaluation_seating, games=games, seed=seed)


def compare_run_with_archetypes(model_path: str | Path, config: TrainConfig, games: int,
                                seed: int) -> list[dict[str, float | str]]:
    """The learning check of ``train --eval-games``: :func:`evaluate_run`, then every
    archetype and ``random`` in the same seat of the same games, paired."""
    policy = load_policy(model_path)
    opponents, num_opponents = config.evaluation_seating
    policy.check_fits(config.resolved_scenario, num_opponents + 1)
    return compare_with_archetypes(policy.network, config.resolved_scenario, opponents,
                                   num_opponents, games=games, seed=seed)


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
