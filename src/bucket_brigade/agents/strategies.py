"""Names of scripted strategies and opponent pools, resolved to engine seats.

A strategy is written as an archetype name (``firefighter``), ``random`` (fresh
uniform parameters every game), ``evolved`` (the strategy evolved for the current
scenario) or ``evolved:<scenario>``, a path to a JSON file written by
``bucket-brigade evolve``, or 10 comma-separated numbers in [0, 1]. A seat that
samples a strategy per game from a pool is written ``pool:a,b,c``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import numpy as np

from bucket_brigade.game.scripted import ARCHETYPES, NUM_PARAMS, RANDOM
from bucket_brigade.game.seat import Seat

DEFAULT_OPPONENTS = ("random", "random", "firefighter", "coordinator")
EVOLVED = "evolved"
STRATEGY_NAMES = (*ARCHETYPES, RANDOM, EVOLVED)
POOL_PREFIX = "pool:"

StrategySpec = str | Sequence[float]


def strategy_params(spec: StrategySpec, scenario: str | None = None
                    ) -> tuple[float, ...] | None:
    """Parameters of one strategy; ``None`` stands for ``random``.

    ``scenario`` names the scenario that a bare ``evolved`` refers to.
    """
    if isinstance(spec, str):
        name = spec.strip()
        if name == RANDOM:
            return None
        if name in ARCHETYPES:
            return tuple(float(v) for v in ARCHETYPES[name])
        if name == EVOLVED or name.startswith(EVOLVED + ":"):
            return evolved_params(name.partition(":")[2] or scenario)
        if name.endswith(".json"):
            return _params_from_file(Path(name))
        if "," not in name:
            raise ValueError(
                f"unknown strategy {name!r}; valid names: {', '.join(STRATEGY_NAMES)}, "
                f"evolved:<scenario>, a genome .json file, or {NUM_PARAMS} comma-separated "
                "parameters in [0, 1]"
            )
        try:
            spec = [float(v) for v in name.split(",")]
        except ValueError:
            raise ValueError(f"strategy {name!r} is not {NUM_PARAMS} numbers") from None
    values = np.asarray(spec, dtype=np.float64)
    if values.shape != (NUM_PARAMS,):
        raise ValueError(f"a strategy needs {NUM_PARAMS} parameters, got {values.size}")
    bad = ~np.isfinite(values) | (values < 0) | (values > 1)
    if bad.any():
        raise ValueError(f"strategy parameter {float(values[bad][0])!r} is outside [0, 1]")
    return tuple(float(v) for v in values)


def evolved_params(scenario: str | None) -> tuple[float, ...]:
    """The strategy shipped as ``evolved`` for a named scenario."""
    if scenario is None:
        raise ValueError("strategy 'evolved' needs a scenario; write evolved:<scenario>")
    resource = resources.files("bucket_brigade") / "data" / "evolved" / f"{scenario}.json"
    if not resource.is_file():
        raise ValueError(f"no evolved strategy for scenario {scenario!r}; evolved strategies "
                         f"exist for: {', '.join(evolved_scenarios())}")
    return _params_from_json(resource.read_text(), f"evolved:{scenario}")


def evolved_scenarios() -> list[str]:
    """Scenarios that have a shipped evolved strategy."""
    folder = resources.files("bucket_brigade") / "data" / "evolved"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".json"))


def _params_from_file(path: Path) -> tuple[float, ...]:
    try:
        text = path.read_text()
    except OSError as exc:
        raise ValueError(f"cannot read genome file {str(path)!r}: {exc.strerror}") from None
    return _params_from_json(text, str(path))


def _params_from_json(text: str, origin: str) -> tuple[float, ...]:
    try:
        params = json.loads(text)["params"]
    except (json.JSONDecodeError, KeyError, TypeError):
        raise ValueError(f"genome {origin!r} is not a JSON object with a 'params' list") \
            from None
    params = strategy_params(params)
    assert params is not None
    return params


def make_seat(spec: StrategySpec | Seat, scenario: str | None = None) -> Seat:
    """A scripted seat: one strategy, or ``pool:a,b,...`` sampled uniformly per game."""
    if isinstance(spec, Seat):
        return spec
    if isinstance(spec, str) and spec.startswith(POOL_PREFIX):
        names = [n for n in spec[len(POOL_PREFIX):].split(",") if n.strip()]
        if not names:
            raise ValueError(f"opponent pool {spec!r} names no strategy")
        return Seat(tuple(strategy_params(n, scenario) for n in names))
    return Seat((strategy_params(spec, scenario),))


def split_opponents(text: str) -> list[str]:
    """Split a comma list of opponents, keeping a ``pool:...`` entry whole (it must be last)."""
    text = text.strip()
    if POOL_PREFIX in text:
        head, _, pool = text.partition(POOL_PREFIX)
        return [*split_opponents(head), POOL_PREFIX + pool] if head.strip(" ,") else \
            [POOL_PREFIX + pool]
    return [n.strip() for n in text.split(",") if n.strip()]


def opponent_seats(num_opponents: int,
                   opponents: Sequence[StrategySpec | Seat] | str | None = None,
                   scenario: str | None = None) -> list[Seat]:
    """Seats for agents 1..num_opponents: the given list (or the default pool), cycled."""
    if isinstance(num_opponents, bool) or not isinstance(num_opponents, int) \
            or num_opponents < 1:
        raise ValueError(f"num_opponents={num_opponents!r} must be an integer >= 1")
    if opponents is None:
        opponents = DEFAULT_OPPONENTS
    elif isinstance(opponents, str):
        opponents = split_opponents(opponents)
    if len(opponents) == 0:
        raise ValueError("opponents is empty; name at least one strategy")
    seats = [make_seat(spec, scenario) for spec in opponents]
    return [seats[k % len(seats)] for k in range(num_opponents)]
