"""Loading trained policies for evaluation: from a checkpoint or a final ``model_{run}.pt``.

A final model holds weights only; its network sizes are read off the weights, and
its training scenario (for ``--matrix``) from the run's ``config.json`` when the
seed README's layout is intact (``model_{run}.pt`` next to ``runs/{run}/``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from bucket_brigade.errors import UsageError
from bucket_brigade.game.scenarios import Scenario
from bucket_brigade.training.checkpoint import read_torch_file
from bucket_brigade.training.network import PolicyNetwork, network_from_state

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


def load_policy(path: str | Path) -> LoadedPolicy:
    """A PolicyNetwork from a training checkpoint or a final weights-only model file."""
    path = Path(path)
    payload = read_torch_file(path, "model file")
    if not isinstance(payload, dict):
        raise UsageError(f"model file {str(path)!r} holds no state dict")
    state = payload.get("model_state_dict", payload)
    config = payload.get("config") if "model_state_dict" in payload else _run_config(path)
    try:
        network = network_from_state(state, payload.get("network"))
    except (ValueError, TypeError) as exc:
        raise UsageError(f"model file {str(path)!r} does not hold PolicyNetwork weights: "
                         f"{exc}") from None
    network.eval()
    trained_on = (config or {}).get("scenario")
    return LoadedPolicy(name=path.stem, network=network, trained_on=trained_on)


def _run_config(model_path: Path) -> dict | None:
    """runs/{run}/config.json for ``model_{run}.pt``, when it is there."""
    if not model_path.stem.startswith(MODEL_PREFIX):
        return None
    run = model_path.stem[len(MODEL_PREFIX):]
    config_path = model_path.parent / "runs" / run / "config.json"
    try:
        return json.loads(config_path.read_text())
    except (OSError, json.JSONDecodeError):
        return None
