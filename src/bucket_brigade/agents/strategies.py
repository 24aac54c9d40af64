"""Names of scripted strategies and opponent pools, resolved to engine seats.

A strategy is written as an archetype name (``firefighter``), ``random`` (fresh
uniform parameters every game), ``evolved`` (the strategy evolved for the current
scenario) or ``evolved:<scenario>``, a path to a JSON file written by
``bucket-brigade evolve``, or 10 comma-separated numbers in [0, 1]. A seat that
samples a strategy per game from a pool is written ``pool:a,b,c``; opponent seats that each
draw a player per game from a weighted population (strategies and model files) are written
``mix:a=0.5,b=0.3,model.pt=0.2`` (:func:`parse_mix`). In a comma list of strategies, every
10 numbers in a row are one strategy. ``planner[@K[/D]][~P][+Z][^][:BASE]`` is a
seat that plans by rollouts (:mod:`bucket_brigade.agents.planner`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import numpy as np

from bucket_brigade.agents.planner import SYNTAX as PLANNER_SYNTAX
from bucket_brigade.agents.planner import (
    PlannerSeat,
    base_name_of,
    is_planner_name,
    parse_planner,
)
from bucket_brigade.checks import check_count
from bucket_brigade.errors import UsageError
from bucket_brigade.game.scenarios import MAX_HOUSES, shown
from bucket_brigade.game.scripted import ARCHETYPES, NUM_PARAMS, RANDOM
from bucket_brigade.game.seat import Seat
from bucket_brigade.io import read_input_text
from bucket_brigade.names import check_path_name

DEFAULT_OPPONENTS = ("random", "random", "firefighter", "coordinator")
EVOLVED = "evolved"
STRATEGY_NAMES = (*ARCHETYPES, RANDOM, EVOLVED)
DEFAULT_REPLAY_STRATEGY = "firefighter"  # seat 0 of a replay when no strategy is given
POOL_PREFIX = "pool:"
MIX_PREFIX = "mix:"
# A model file (a checkpoint or model_RUN.pt) names a trained policy wherever a strategy is
# named; PATH.pt@K names seat K's network of it: an independent run's own for seat K, a
# seat-aware network told it plays seat K (training.models reads them).
MODEL_SUFFIX = ".pt"
_MODEL_AT_SEAT = re.compile(r"(?P<path>.+\.pt)@(?P<seat>[0-9]+)", re.DOTALL)


def split_seat(name: str) -> tuple[str, int | None]:
    """A model name's file and the seat it asks for (``PATH.pt@K``), or None."""
    match = _MODEL_AT_SEAT.fullmatch(name)
    return (match["path"], int(match["seat"])) if match else (name, None)


def is_model_name(name: str) -> bool:
    """Whether a strategy name is a model file, with or without a seat."""
    return split_seat(name)[0].endswith(MODEL_SUFFIX)


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
        if is_planner_name(name):
            raise UsageError(f"{shown(name)} is a seat of its own: a planner cannot be one "
                             "entry of a pool, nor another planner's base")
        if name == EVOLVED or name.startswith(EVOLVED + ":"):
            return evolved_params(name.partition(":")[2] or scenario)
        if name.endswith(".json"):
            return _params_from_file(Path(name))
        if "," not in name:
            raise UsageError(
                f"unknown strategy {shown(name)}; valid names: {', '.join(STRATEGY_NAMES)}, "
                f"evolved:<scenario>, {PLANNER_SYNTAX}, a genome .json file, or "
                f"{NUM_PARAMS} comma-separated parameters in [0, 1]"
            )
        try:
            numbers = [float(v) for v in name.split(",")]
        except ValueError:
            raise UsageError(f"strategy {shown(name)} is not {NUM_PARAMS} comma-separated "
                             "numbers") from None
        return _checked_params(numbers, f"strategy {shown(name)}")
    return _checked_params(spec, "a strategy")


def _checked_params(values: object, origin: str) -> tuple[float, ...]:
    """``values`` as NUM_PARAMS floats in [0, 1]; ``origin`` says where they came from.
    Booleans are refused, not read as 0 and 1 (``true`` in a genome file is a mistake)."""
    flags = [v for v in values if isinstance(v, bool | np.bool_)] \
        if isinstance(values, list | tuple) else []
    if flags or (isinstance(values, np.ndarray) and values.dtype.kind == "b"):
        raise UsageError(f"{origin} must be {NUM_PARAMS} numbers in [0, 1], not true or "
                         f"false ({shown(flags[0] if flags else values)})")
    try:
        array = None if isinstance(values, (str, bytes, dict)) else \
            np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):  # not numbers, or a ragged nesting
        array = None
    if array is None or array.shape != (NUM_PARAMS,):
        got = f"{array.size} numbers" if array is not None and array.ndim == 1 else shown(values)
        raise UsageError(f"{origin} must be {NUM_PARAMS} numbers in [0, 1], got {got}")
    bad = ~np.isfinite(array) | (array < 0) | (array > 1)
    if bad.any():
        raise UsageError(f"{origin}: parameter {float(array[bad][0])!r} is outside [0, 1]")
    return tuple(float(v) for v in array)


def evolved_params(scenario: str | None) -> tuple[float, ...]:
    """The strategy shipped as ``evolved`` for a named scenario."""
    if scenario is None:
        raise UsageError("strategy 'evolved' needs a scenario; write evolved:<scenario>")
    check_path_name("scenario name", scenario)  # it names a file of the package
    resource = resources.files("bucket_brigade") / "data" / "evolved" / f"{scenario}.json"
    if not resource.is_file():
        raise UsageError(f"no evolved strategy for scenario {scenario!r}; evolved strategies "
                         f"exist for: {', '.join(evolved_scenarios())}")
    return _params_from_json(resource.read_text(), f"genome evolved:{scenario}")


def evolved_scenarios() -> list[str]:
    """Scenarios that have a shipped evolved strategy."""
    folder = resources.files("bucket_brigade") / "data" / "evolved"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".json"))


def _params_from_file(path: Path) -> tuple[float, ...]:
    return _params_from_json(read_input_text(path, "genome file"), f"genome file {str(path)!r}")


def _params_from_json(text: str, origin: str) -> tuple[float, ...]:
    """The ``params`` list of a genome (a file written by ``evolve``): numbers only, never
    the name of another strategy or file."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        data = None
    except RecursionError:
        raise UsageError(f"{origin} is nested too deeply to be a genome") from None
    if not isinstance(data, dict) or not isinstance(data.get("params"), list):
        raise UsageError(f"{origin} is not a JSON object with a 'params' list")
    return _checked_params(data["params"], origin)


def make_seat(spec: StrategySpec | Seat, scenario: str | None = None) -> Seat:
    """A scripted seat: one strategy, or ``pool:a,b,...`` sampled uniformly per game; or a
    planner's seat for ``planner[@K[/D]][~P][+Z][^][:BASE]``."""
    if isinstance(spec, Seat):
        return spec
    if isinstance(spec, str) and is_planner_name(spec.strip()):
        return parse_planner(spec, strategy_params(base_name_of(spec), scenario))
    if isinstance(spec, str) and spec.startswith(POOL_PREFIX):
        names = _joined_numbers([n.strip() for n in spec[len(POOL_PREFIX):].split(",")
                                 if n.strip()], spec)
        if not names:
            raise UsageError(f"opponent pool {shown(spec)} names no strategy")
        return Seat(tuple(strategy_params(n, scenario) for n in names))
    return Seat((strategy_params(spec, scenario),))


def split_opponents(text: str) -> list[str]:
    """Split a comma list of opponents, keeping a ``pool:...`` entry whole (it must be last)."""
    text = text.strip()
    if POOL_PREFIX in text:
        head, _, pool = text.partition(POOL_PREFIX)
        return [*split_opponents(head), POOL_PREFIX + pool] if head.strip(" ,") else \
            [POOL_PREFIX + pool]
    return _joined_numbers([n.strip() for n in text.split(",") if n.strip()], text)


def is_mix(text: str | None) -> bool:
    """Whether an opponent list is a weighted population (``mix:...``)."""
    return text is not None and text.strip().startswith(MIX_PREFIX)


def names_models_or_mix(text: str | None) -> bool:
    """Whether an opponent list needs players outside the kernel: a mix, or a model file."""
    return text is not None and (is_mix(text) or any(
        is_model_name(name) for name in split_opponents(text)))


def parse_mix(text: str) -> list[tuple[str, float]]:
    """``mix:NAME[=WEIGHT],...``: the players of a population and their weights (1 when
    omitted; normalised by the one who draws). A name is a strategy or a model file
    (``*.pt``); 10 numbers in a row are one strategy, its weight after the last number."""
    body = text.strip()[len(MIX_PREFIX):]
    entries: list[tuple[str, float]] = []
    numbers: list[str] = []
    for token in [t.strip() for t in body.split(",") if t.strip()]:
        name, has_weight, weight_text = (part.strip() for part in token.partition("="))
        if _is_number(name):
            numbers.append(name)
            if not has_weight and len(numbers) < NUM_PARAMS:
                continue
            if len(numbers) != NUM_PARAMS:
                break
            name, numbers = ",".join(numbers), []
        elif numbers:
            break
        entries.append((name, _mix_weight(weight_text, name, text) if has_weight else 1.0))
    if numbers:
        raise UsageError(f"{shown(text)} has {len(numbers)} numbers in a row; a strategy "
                         f"written as numbers takes exactly {NUM_PARAMS}")
    if not entries:
        raise UsageError(f"{shown(text)} names no player; write mix:NAME=WEIGHT,... with "
                         "strategies or model files (*.pt)")
    names = [name for name, _ in entries]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise UsageError(f"{shown(text)} lists {shown(repeated[0])} twice; give it one weight")
    return entries


def _mix_weight(weight: str, name: str, text: str) -> float:
    try:
        value = float(weight)
    except ValueError:
        value = float("nan")
    if not (np.isfinite(value) and value > 0):
        raise UsageError(f"{shown(text)}: weight {shown(weight)} of {shown(name)} must be a "
                         "positive number")
    return value


def _joined_numbers(tokens: list[str], text: str) -> list[str]:
    """Rejoin the numbers of a comma list: every NUM_PARAMS numbers in a row are one strategy."""
    joined: list[str] = []
    numbers: list[str] = []
    for token in [*tokens, None]:
        if token is not None and _is_number(token):
            numbers.append(token)
            continue
        if len(numbers) % NUM_PARAMS:
            raise UsageError(f"{shown(text)} has {len(numbers)} numbers in a row; a strategy "
                             f"written as numbers takes exactly {NUM_PARAMS}")
        joined += [",".join(numbers[k:k + NUM_PARAMS])
                   for k in range(0, len(numbers), NUM_PARAMS)]
        numbers = []
        if token is not None:
            joined.append(token)
    return joined


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def opponent_seats(num_opponents: int,
                   opponents: Sequence[StrategySpec | Seat] | str | None = None,
                   scenario: str | None = None, planners: bool = True) -> list[Seat]:
    """Seats for agents 1..num_opponents: the given list (or the default pool), cycled.
    ``planners=False`` refuses planners (where nothing searches for them: environments)."""
    # Checked before a seat is built: a game has at most MAX_HOUSES agents.
    num_opponents = check_count("num_opponents", num_opponents, 1, MAX_HOUSES - 1)
    if opponents is None:
        opponents = DEFAULT_OPPONENTS
    elif isinstance(opponents, str):
        opponents = split_opponents(opponents)
    if len(opponents) == 0:
        raise UsageError("opponents is empty; name at least one strategy")
    seats = [make_seat(spec, scenario) for spec in opponents]
    if not planners:
        for seat in seats:
            if isinstance(seat, PlannerSeat):
                raise UsageError(f"opponent {seat.name!r}: a planner searches only in "
                                 "evaluation, replays, evolve and nash, not as an "
                                 "environment's or a training's opponent")
    return cycled(seats, num_opponents)


def cycled(items: Sequence, count: int) -> list:
    """``items`` repeated in order until there are ``count`` of them (the first ``count``
    when there are more): how a list of opponents fills the opponent seats."""
    return [items[k % len(items)] for k in range(count)]


def seated_opponents(num_opponents: int, opponents: str | None = None) -> list[str]:
    """The strategy name in each of ``num_opponents`` seats, as :func:`opponent_seats`
    seats them: the names that play, not the whole list."""
    return cycled(split_opponents(opponents) if opponents else list(DEFAULT_OPPONENTS),
                  num_opponents)
