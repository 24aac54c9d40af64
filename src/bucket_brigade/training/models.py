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
from bucket_brigade.training.network import (
    HOUSE_STATES,
    SCENARIO_INFO,
    PolicyNetwork,
    observation_codes,
)

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
    try:
        hidden, torso_inputs = state["torso.0.weight"].shape
        head = state["policy_head.weight"].shape[0]
        # The house scorer reads 3 x 3 house states, 0..N-1 other workers and my own work.
        agents = state["house_scorer.0.weight"].shape[1] - HOUSE_STATES**2 - 1
    except (KeyError, AttributeError, IndexError, ValueError):
        raise UsageError(f"model file {str(path)!r} does not hold PolicyNetwork weights") \
            from None
    # The policy head has H logits, or H + 2 with cheap talk: the torso's width tells which.
    fitting = [dims for dims in ([head, 2], [head - 2, 2, 2])
               if dims[0] >= 1 and _torso_inputs(dims[0], agents) == torso_inputs]
    if agents < 1 or not fitting:
        raise UsageError(f"model file {str(path)!r} does not hold PolicyNetwork weights")
    action_dims = fitting[0]
    obs_dim = action_dims[0] + 4 * agents + SCENARIO_INFO
    config = payload.get("config") if "model_state_dict" in payload else _run_config(path)
    network = PolicyNetwork(obs_dim, action_dims, hidden_size=hidden)
    try:
        network.load_state_dict(state)
    except RuntimeError as exc:
        raise UsageError(f"model file {str(path)!r} does not fit PolicyNetwork: "
                         f"{str(exc).splitlines()[0]}") from None
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


def _torso_inputs(houses: int, agents: int) -> int:
    """Width of the torso's input for H houses and N agents: one-hot codes and reals."""
    codes = observation_codes(houses + 4 * agents + SCENARIO_INFO, houses)
    return sum(n for n in codes if n) + codes.count(0)
