"""Strategy names, evolved strategies, genome files and opponent pools."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from bucket_brigade.agents.strategies import (
    DEFAULT_OPPONENTS,
    evolved_scenarios,
    is_mix,
    make_seat,
    names_models_or_mix,
    opponent_seats,
    parse_mix,
    seated_opponents,
    split_opponents,
    strategy_params,
)
from bucket_brigade.errors import UsageError
from bucket_brigade.game.scenarios import SCENARIOS
from bucket_brigade.game.scripted import ARCHETYPES


def test_archetypes_and_random() -> None:
    assert strategy_params("hero") == tuple(ARCHETYPES["hero"])
    assert strategy_params("random") is None
    assert strategy_params("0,0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9")[9] == 0.9


@pytest.mark.parametrize(("spec", "message"), [
    ("heroo", "unknown strategy 'heroo'; valid names: firefighter"),
    ("0.1,0.2", "strategy '0.1,0.2' must be 10 numbers in [0, 1], got 2 numbers"),
    ("0,0,0,0,0,0,0,0,0,1.5", "parameter 1.5 is outside [0, 1]"),
    ("a,b", "strategy 'a,b' is not 10 comma-separated numbers"),
    ("evolved:nowhere", "no evolved strategy for scenario 'nowhere'"),
    ("evolved", "needs a scenario"),
    ("pool:", "names no strategy"),
])
def test_bad_strategies_are_named(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        make_seat(spec)


def test_every_scenario_ships_an_evolved_strategy() -> None:
    assert evolved_scenarios() == sorted(SCENARIOS)
    for name in SCENARIOS:
        params = strategy_params(f"evolved:{name}")
        assert params is not None and len(params) == 10
        assert strategy_params("evolved", scenario=name) == params


def test_genome_file(tmp_path) -> None:
    path = tmp_path / "genome.json"
    path.write_text(json.dumps({"params": [0.5] * 10}))
    assert strategy_params(str(path)) == (0.5,) * 10
    path.write_text("not json")
    with pytest.raises(ValueError, match="is not a JSON object with a 'params' list"):
        strategy_params(str(path))
    with pytest.raises(ValueError, match=r"genome file '.*missing\.json' does not exist"):
        strategy_params(str(tmp_path / "missing.json"))


def test_pools_and_cycling() -> None:
    seat = make_seat("pool:hero,random")
    assert seat.pool == (tuple(ARCHETYPES["hero"]), None)
    assert split_opponents("hero, liar,pool:random,hero") == ["hero", "liar",
                                                              "pool:random,hero"]
    seats = opponent_seats(5)
    assert [s.pool for s in seats] == [make_seat(n).pool for n in
                                       (*DEFAULT_OPPONENTS, DEFAULT_OPPONENTS[0])]
    with pytest.raises(ValueError, match="num_opponents=0"):
        opponent_seats(0)
    with pytest.raises(ValueError, match="num_opponents=1000 must be an integer from 1 to 999"):
        opponent_seats(1000)
    assert len(opponent_seats(np.int64(2))) == 2
    with pytest.raises(ValueError, match="not true or false"):
        strategy_params(np.ones(10, dtype=bool))
    with pytest.raises(ValueError, match="opponents is empty"):
        opponent_seats(2, [])


def test_seated_opponents_names_the_strategy_of_each_seat() -> None:
    assert seated_opponents(3) == ["random", "random", "firefighter"]
    assert seated_opponents(2, "hero,pool:liar,hero") == ["hero", "pool:liar,hero"]
    assert seated_opponents(3, "hero,liar") == ["hero", "liar", "hero"]


@pytest.mark.parametrize(("content", "message"), [
    ('{"params": "other.json"}', "is not a JSON object with a 'params' list"),
    ('{"params": "firefighter"}', "is not a JSON object with a 'params' list"),
    ('{"params": [[0.5]] * 10}'.replace("[[0.5]] * 10", json.dumps([[0.5]] * 10)),
     "must be 10 numbers in [0, 1], got [[0.5], [0.5], [0.5], [0.5], [0.5], [0.5], ...]"),
    ('{"params": [0.5, 0.5]}', "must be 10 numbers in [0, 1], got 2 numbers"),
    ('{"params": ["a", 0, 0, 0, 0, 0, 0, 0, 0, 0]}', "must be 10 numbers in [0, 1], got"),
    ('{"params": [{"x": 1}, 0, 0, 0, 0, 0, 0, 0, 0, 0]}', "must be 10 numbers in [0, 1]"),
    ('{"params": [1e999, 0, 0, 0, 0, 0, 0, 0, 0, 0]}', "parameter inf is outside [0, 1]"),
    ("[" * 100_000 + "]" * 100_000, "is nested too deeply to be a genome"),
    ('{"params": [true, 0, 0, 0, 0, 0, 0, 0, 0, 0]}',
     "must be 10 numbers in [0, 1], not true or false (True)"),
])
def test_hostile_genome_files_name_the_file(tmp_path, content: str, message: str) -> None:
    path = tmp_path / "genome.json"
    path.write_text(content)
    with pytest.raises(UsageError, match=re.escape(message)) as caught:
        strategy_params(str(path))
    assert str(caught.value).startswith(f"genome file {str(path)!r}")


def test_genome_file_that_is_not_utf8(tmp_path) -> None:
    path = tmp_path / "genome.json"
    path.write_bytes(b'{"params": "\xff"}')
    with pytest.raises(UsageError, match=r"genome file .*genome\.json' is not UTF-8 text"):
        strategy_params(str(path))


def test_evolved_scenario_must_be_a_plain_name() -> None:
    with pytest.raises(UsageError, match=r"scenario name '\.\./\.\./x' is not a valid name"):
        strategy_params("evolved:../../x")


def test_ten_numbers_in_a_comma_list_are_one_strategy() -> None:
    numbers = ",".join(["0.5"] * 10)
    assert split_opponents(f"hero,{numbers},random") == ["hero", numbers, "random"]
    assert split_opponents(f"{numbers},{numbers}") == [numbers, numbers]
    assert split_opponents(f"pool:hero,{numbers}") == [f"pool:hero,{numbers}"]
    assert make_seat(f"pool:hero,{numbers}").pool == (tuple(ARCHETYPES["hero"]), (0.5,) * 10)
    assert [s.pool for s in opponent_seats(2, f"{numbers},hero")] == [
        ((0.5,) * 10,), (tuple(ARCHETYPES["hero"]),)]
    with pytest.raises(UsageError, match=r"'hero,0\.1,0\.2' has 2 numbers in a row; a strategy "
                                         r"written as numbers takes exactly 10"):
        split_opponents("hero,0.1,0.2")


def test_a_mix_lists_players_with_weights_numbers_and_model_files() -> None:
    numbers = ",".join(["0.5"] * 10)
    assert parse_mix(f"mix: hero=0.5, {numbers}=2,run/model_x.pt ,random=0.25") == [
        ("hero", 0.5), (numbers, 2.0), ("run/model_x.pt", 1.0), ("random", 0.25)]
    assert is_mix(" mix:hero") and not is_mix("hero,pool:a,b") and not is_mix(None)
    assert names_models_or_mix("hero,a.pt") and names_models_or_mix("mix:hero")
    assert not names_models_or_mix("hero,pool:random,hero") and not names_models_or_mix(None)


@pytest.mark.parametrize(("text", "message"), [
    ("mix:", "names no player"),
    ("mix:hero=-1", "weight '-1' of 'hero' must be a positive number"),
    ("mix:hero=nan", "weight 'nan'"),
    ("mix:hero=x", "weight 'x'"),
    ("mix:hero=1,hero=2", "lists 'hero' twice"),
    ("mix:0.1,0.2,hero", "2 numbers in a row"),
    ("mix:0.1,0.2=3", "2 numbers in a row"),
])
def test_a_bad_mix_is_refused_naming_the_value(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=re.escape(message)):
        parse_mix(text)
