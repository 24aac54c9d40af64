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

from bucket_brigade.checks import shown
from bucket_brigade.errors import UsageError
from bucket_brigade.game.observation import ObservationLayout
from bucket_brigade.io import read_input_text
from bucket_brigade.names import check_path_name

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
# Upper bounds that keep one game's memory and time sane (a batch multiplies them by its
# game count); far above every named scenario (10 houses, 100 nights).
MAX_HOUSES = 1000
MAX_NIGHTS = 100_000
MAX_AMOUNT = 1_000_000  # rewards, penalties and costs: observations carry them as float32
MAX_BASE_DEPTH = 16  # scenario files that name a base file that names a base file ...


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
        check_path_name("scenario name", self.name)  # it names output files and folders
        if not isinstance(self.description, str):
            raise UsageError(f"scenario field description={shown(self.description)} must be "
                             "a string")
        for name in PROBABILITY_FIELDS:
            value = getattr(self, name)
            if not _is_real(value) or not 0.0 <= value <= 1.0:
                raise UsageError(f"scenario field {name}={shown(value)} must be a probability "
                                 "in [0, 1]")
        for name in NON_NEGATIVE_FIELDS:
            value = getattr(self, name)
            if not _is_real(value) or not 0 <= value <= MAX_AMOUNT:
                raise UsageError(f"scenario field {name}={shown(value)} must be a number in "
                                 f"[0, {MAX_AMOUNT}]")
        if not _is_real(self.reward_rest) or abs(self.reward_rest) > MAX_AMOUNT:
            raise UsageError(f"scenario field reward_rest={shown(self.reward_rest)} must be a "
                             f"number in [-{MAX_AMOUNT}, {MAX_AMOUNT}]")
        for name in POSITIVE_COUNT_FIELDS:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise UsageError(f"scenario field {name}={shown(value)} must be an integer >= 1")
        if self.num_houses < 2:
            raise UsageError(f"scenario field num_houses={self.num_houses} must be >= 2")
        for name, limit in (("num_houses", MAX_HOUSES), ("max_nights", MAX_NIGHTS)):
            if getattr(self, name) > limit:
                raise UsageError(f"scenario field {name}={shown(getattr(self, name))} must be "
                                 f"<= {limit}")
        if self.min_nights > self.max_nights:
            raise UsageError(
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
    return _get_scenario(name, overrides, ())


def _get_scenario(name: Any, overrides: dict[str, Any], loading: tuple[Path, ...]) -> Scenario:
    """:func:`get_scenario`; ``loading`` holds the files whose ``base`` led here."""
    if isinstance(name, Scenario):
        base = name
    elif isinstance(name, str) and name in SCENARIOS:
        base = SCENARIOS[name]
    elif isinstance(name, str) and name.endswith((".toml", ".json")):
        base = _load_scenario(Path(name), loading)
    else:
        raise UsageError(
            f"unknown scenario {shown(name)}; valid names: {', '.join(SCENARIOS)} "
            "(or a .toml/.json file)"
        )
    if not overrides:
        return base
    unknown = sorted(set(overrides) - set(SCENARIO_FIELDS))
    if unknown:
        raise UsageError(
            f"unknown scenario field {shown(unknown[0])}; valid fields: "
            f"{', '.join(SCENARIO_FIELDS)}"
        )
    return dataclasses.replace(base, **overrides)


def load_scenario(path: str | Path) -> Scenario:
    """Load a scenario file: either all fields, or ``base = "<name or file>"`` plus overrides."""
    return _load_scenario(Path(path), ())


def _load_scenario(path: Path, loading: tuple[Path, ...]) -> Scenario:
    where = f"scenario file {str(path)!r}"
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop on Python < 3.13
        raise UsageError(f"cannot read {where}: {exc}") from None
    if resolved in loading:
        raise UsageError(f"{where} refers back to itself through 'base'")
    if len(loading) >= MAX_BASE_DEPTH:
        raise UsageError(f"{where}: more than {MAX_BASE_DEPTH} files chained through 'base'")
    text = read_input_text(path, "scenario file")
    try:
        data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"{where} is not valid {path.suffix[1:]}: {exc}") from None
    except RecursionError:
        raise UsageError(f"{where} is nested too deeply to be a scenario") from None
    if not isinstance(data, dict):
        raise UsageError(f"{where} must hold a table of fields")
    data = dict(data)
    base_name = data.pop("base", None)
    data.setdefault("name", path.stem)
    try:
        if base_name is not None:
            if not isinstance(base_name, str):
                raise UsageError(f"base = {shown(base_name)} must be a scenario name or file")
            return _get_scenario(base_name, data, (*loading, resolved))
        unknown = sorted(set(data) - set(SCENARIO_FIELDS))
        if unknown:
            raise UsageError(f"unknown scenario field {shown(unknown[0])}; valid fields: "
                             f"{', '.join(SCENARIO_FIELDS)}")
        return Scenario(**data)
    except TypeError as exc:  # a required field is missing
        raise UsageError(f"{where}: {exc}") from None
    except UsageError as exc:
        message = str(exc)
        raise UsageError(message if message.startswith(where) else f"{where}: {message}") \
            from None
