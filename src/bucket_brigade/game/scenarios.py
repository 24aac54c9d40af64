"""Scenarios: the numeric parameters of one version of the game (RULES.md, "Scenarios").

A :class:`Scenario` is immutable and validated on construction, so every engine,
environment and trainer can trust its fields without re-checking them.
"""

from __future__ import annotations

import dataclasses
import json
import math
import sys
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from bucket_brigade.game.observation import ObservationLayout

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PROBABILITY_FIELDS = (
    "prob_fire_spreads_to_neighbor",
    "prob_solo_agent_extinguishes_fire",
    "prob_house_catches_fire",
    "initial_fire_fraction",
)
NON_NEGATIVE_FIELDS = (
    "team_reward_house_survives",
    "team_penalty_house_burns",
    "cost_to_work_one_night",
    "reward_own_house_survives",
    "penalty_own_house_burns",
)
POSITIVE_COUNT_FIELDS = ("num_houses", "min_nights", "max_nights")


@dataclass(frozen=True)
class Scenario:
    """All numbers that define a game; field names follow RULES.md."""

    name: str
    prob_fire_spreads_to_neighbor: float
    prob_solo_agent_extinguishes_fire: float
    prob_house_catches_fire: float
    initial_fire_fraction: float
    team_reward_house_survives: float = 100.0
    team_penalty_house_burns: float = 100.0
    cost_to_work_one_night: float = 0.5
    min_nights: int = 12
    reward_rest: float = 0.5
    reward_own_house_survives: float = 10.0
    penalty_own_house_burns: float = 0.0
    num_houses: int = 10
    max_nights: int = 100
    description: str = ""

    def __post_init__(self) -> None:
        for name in PROBABILITY_FIELDS:
            value = getattr(self, name)
            if not _is_real(value) or not 0.0 <= value <= 1.0:
                raise ValueError(f"scenario field {name}={value!r} must be a probability in [0, 1]")
        for name in NON_NEGATIVE_FIELDS:
            value = getattr(self, name)
            if not _is_real(value) or value < 0:
                raise ValueError(f"scenario field {name}={value!r} must be a number >= 0")
        if not _is_real(self.reward_rest):
            raise ValueError(f"scenario field reward_rest={self.reward_rest!r} must be a number")
        for name in POSITIVE_COUNT_FIELDS:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"scenario field {name}={value!r} must be an integer >= 1")
        if self.num_houses < 2:
            raise ValueError(f"scenario field num_houses={self.num_houses} must be >= 2")
        if self.min_nights > self.max_nights:
            raise ValueError(
                f"scenario field min_nights={self.min_nights} must be <= "
                f"max_nights={self.max_nights}"
            )

    @property
    def initial_fires(self) -> int:
        """Number of houses burning at reset: round(initial_fire_fraction x H)."""
        return round(self.initial_fire_fraction * self.num_houses)

    def check_num_agents(self, num_agents: int) -> None:
        """Refuse an agent count outside 2 <= N <= H."""
        if isinstance(num_agents, bool) or not isinstance(num_agents, int):
            raise ValueError(f"num_agents={num_agents!r} must be an integer")
        if not 2 <= num_agents <= self.num_houses:
            raise ValueError(
                f"num_agents={num_agents} must satisfy 2 <= num_agents <= "
                f"num_houses={self.num_houses}"
            )

    def observation_layout(self, num_agents: int) -> ObservationLayout:
        """Where each block of an agent's observation sits, with ``num_agents`` agents."""
        return ObservationLayout(self.num_houses, num_agents)

    def obs_dim(self, num_agents: int) -> int:
        """Length of one agent's observation: H + N + N + 2N + 10."""
        return self.observation_layout(num_agents).obs_dim

    def info_vector(self, num_agents: int) -> list[float]:
        """The scenario_info block of the observation (``SCENARIO_INFO_SIZE`` entries), in
        RULES.md order."""
        return [
            self.prob_fire_spreads_to_neighbor,
            self.prob_solo_agent_extinguishes_fire,
            self.prob_house_catches_fire,
            self.initial_fire_fraction,
            self.team_reward_house_survives / 100.0,
            self.team_penalty_house_burns / 100.0,
            self.cost_to_work_one_night,
            self.reward_rest,
            self.min_nights / 100.0,
            num_agents / 10.0,
        ]

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _is_real(value: Any) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
    )


def _named(name: str, beta: float, kappa: float, spark: float, fires: float, *, note: str,
           **extra: Any) -> Scenario:
    return Scenario(
        name=name,
        prob_fire_spreads_to_neighbor=beta,
        prob_solo_agent_extinguishes_fire=kappa,
        prob_house_catches_fire=spark,
        initial_fire_fraction=fires,
        description=note,
        **extra,
    )


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        _named("default", 0.25, 0.50, 0.02, 0.20, note="balanced baseline"),
        _named("easy", 0.10, 0.80, 0.01, 0.10, min_nights=10, note="for training"),
        _named("hard", 0.40, 0.30, 0.05, 0.30, min_nights=15, note="challenge"),
        _named("trivial_cooperation", 0.15, 0.90, 0.00, 0.10, note="easy fires, no sparks"),
        _named("early_containment", 0.35, 0.60, 0.02, 0.30, note="aggressive start"),
        _named("greedy_neighbor", 0.15, 0.40, 0.02, 0.20, cost_to_work_one_night=1.0,
               note="costly work tempts free-riding"),
        _named("sparse_heroics", 0.10, 0.50, 0.02, 0.15, cost_to_work_one_night=0.8,
               min_nights=20, note="few workers suffice"),
        _named("rest_trap", 0.05, 0.95, 0.02, 0.10, cost_to_work_one_night=0.2,
               note="fires look harmless"),
        _named("chain_reaction", 0.45, 0.60, 0.03, 0.30, cost_to_work_one_night=0.7,
               min_nights=15, note="spread needs distributed teams"),
        _named("deceptive_calm", 0.25, 0.60, 0.05, 0.10, cost_to_work_one_night=0.4,
               min_nights=20, note="calm start, flare-ups"),
        _named("overcrowding", 0.20, 0.30, 0.02, 0.10, team_reward_house_survives=50.0,
               cost_to_work_one_night=0.6, note="low efficiency, low reward"),
        _named("mixed_motivation", 0.30, 0.50, 0.03, 0.20, cost_to_work_one_night=0.6,
               min_nights=15, reward_own_house_survives=30.0, penalty_own_house_burns=30.0,
               note="selfish and team incentives pull apart"),
    )
}

SCENARIO_FIELDS = tuple(f.name for f in fields(Scenario))


def get_scenario(name: str | Scenario, /, **overrides: Any) -> Scenario:
    """A named scenario (or a TOML/JSON file path), with optional field overrides."""
    if isinstance(name, Scenario):
        base = name
    elif name in SCENARIOS:
        base = SCENARIOS[name]
    elif str(name).endswith((".toml", ".json")):
        base = load_scenario(name)
    else:
        raise ValueError(
            f"unknown scenario {name!r}; valid names: {', '.join(SCENARIOS)} "
            "(or a .toml/.json file)"
        )
    if not overrides:
        return base
    unknown = sorted(set(overrides) - set(SCENARIO_FIELDS))
    if unknown:
        raise ValueError(
            f"unknown scenario field {unknown[0]!r}; valid fields: {', '.join(SCENARIO_FIELDS)}"
        )
    return dataclasses.replace(base, **overrides)


def load_scenario(path: str | Path) -> Scenario:
    """Load a scenario file: either all fields, or ``base = "<name>"`` plus overrides."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ValueError(f"cannot read scenario file {str(path)!r}: {exc.strerror}") from None
    try:
        data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(
            f"scenario file {str(path)!r} is not valid {path.suffix[1:]}: {exc}"
        ) from None
    if not isinstance(data, dict):
        raise ValueError(f"scenario file {str(path)!r} must hold a table of fields")
    data = dict(data)
    base_name = data.pop("base", None)
    data.setdefault("name", path.stem)
    if base_name is not None:
        return get_scenario(base_name, **data)
    unknown = sorted(set(data) - set(SCENARIO_FIELDS))
    if unknown:
        raise ValueError(
            f"unknown scenario field {unknown[0]!r} in {str(path)!r}; "
            f"valid fields: {', '.join(SCENARIO_FIELDS)}"
        )
    try:
        return Scenario(**data)
    except TypeError as exc:
        raise ValueError(f"scenario file {str(path)!r}: {exc}") from None
