"""Scenario values against the RULES.md table, validation, and scenario files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bucket_brigade.errors import UsageError
from bucket_brigade.game.scenarios import (
    MAX_AMOUNT,
    MAX_HOUSES,
    MAX_NIGHTS,
    SCENARIO_FIELDS,
    SCENARIOS,
    Scenario,
    get_scenario,
    load_scenario,
)

# The RULES.md table, copied by hand: name, beta, kappa, p_spark, initial fires, A, L, c,
# min_nights, B_own, P_own.
RULES_TABLE = {
    "default": (0.25, 0.50, 0.02, 0.20, 100, 100, 0.5, 12, 10, 0),
    "easy": (0.10, 0.80, 0.01, 0.10, 100, 100, 0.5, 10, 10, 0),
    "hard": (0.40, 0.30, 0.05, 0.30, 100, 100, 0.5, 15, 10, 0),
    "trivial_cooperation": (0.15, 0.90, 0.00, 0.10, 100, 100, 0.5, 12, 10, 0),
    "early_containment": (0.35, 0.60, 0.02, 0.30, 100, 100, 0.5, 12, 10, 0),
    "greedy_neighbor": (0.15, 0.40, 0.02, 0.20, 100, 100, 1.0, 12, 10, 0),
    "sparse_heroics": (0.10, 0.50, 0.02, 0.15, 100, 100, 0.8, 20, 10, 0),
    "rest_trap": (0.05, 0.95, 0.02, 0.10, 100, 100, 0.2, 12, 10, 0),
    "chain_reaction": (0.45, 0.60, 0.03, 0.30, 100, 100, 0.7, 15, 10, 0),
    "deceptive_calm": (0.25, 0.60, 0.05, 0.10, 100, 100, 0.4, 20, 10, 0),
    "overcrowding": (0.20, 0.30, 0.02, 0.10, 50, 100, 0.6, 12, 10, 0),
    "mixed_motivation": (0.30, 0.50, 0.03, 0.20, 100, 100, 0.6, 15, 30, 30),
}
TABLE_FIELDS = (
    "prob_fire_spreads_to_neighbor",
    "prob_solo_agent_extinguishes_fire",
    "prob_house_catches_fire",
    "initial_fire_fraction",
    "team_reward_house_survives",
    "team_penalty_house_burns",
    "cost_to_work_one_night",
    "min_nights",
    "reward_own_house_survives",
    "penalty_own_house_burns",
)


def test_exactly_the_twelve_named_scenarios() -> None:
    assert list(SCENARIOS) == list(RULES_TABLE)


@pytest.mark.parametrize("name", RULES_TABLE)
def test_named_scenario_matches_rules_table(name: str) -> None:
    scenario = SCENARIOS[name]
    assert scenario.name == name
    for field, expected in zip(TABLE_FIELDS, RULES_TABLE[name]):
        assert getattr(scenario, field) == expected, field
    # Values shared by every row of the table.
    assert scenario.num_houses == 10
    assert scenario.reward_rest == 0.5
    assert scenario.max_nights == 100
    assert get_scenario(name) is scenario


def test_initial_fires_is_rounded_fraction_of_houses() -> None:
    assert SCENARIOS["default"].initial_fires == 2
    assert SCENARIOS["hard"].initial_fires == 3
    assert SCENARIOS["sparse_heroics"].initial_fires == 2  # 1.5 rounds to 2
    assert get_scenario("default", initial_fire_fraction=0.0).initial_fires == 0
    assert get_scenario("default", initial_fire_fraction=1.0, num_houses=7).initial_fires == 7


def test_obs_dim_and_info_vector() -> None:
    scenario = SCENARIOS["overcrowding"]
    assert scenario.obs_dim(4) == 36  # 10 + 4 + 4 + 8 + 10
    assert scenario.obs_dim(2) == 28
    assert scenario.info_vector(3) == [0.20, 0.30, 0.02, 0.10, 0.5, 1.0, 0.6, 0.5, 0.12, 0.3]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("prob_fire_spreads_to_neighbor", -0.01),
        ("prob_solo_agent_extinguishes_fire", 1.01),
        ("prob_house_catches_fire", float("nan")),
        ("initial_fire_fraction", "0.5"),
        ("prob_fire_spreads_to_neighbor", True),
        ("cost_to_work_one_night", -0.5),
        ("team_reward_house_survives", -1),
        ("team_penalty_house_burns", float("inf")),
        ("reward_own_house_survives", -10.0),
        ("penalty_own_house_burns", -0.1),
        ("reward_rest", None),
        ("num_houses", 0),
        ("num_houses", 1),
        ("num_houses", 10.0),
        ("min_nights", 0),
        ("min_nights", 2.5),
        ("max_nights", -3),
        ("max_nights", True),
    ],
)
def test_invalid_field_is_named(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=rf"\b{field}="):
        get_scenario("default", **{field: value})


def test_min_nights_above_max_nights() -> None:
    with pytest.raises(ValueError, match=r"min_nights=30 must be <= max_nights=20"):
        get_scenario("default", min_nights=30, max_nights=20)
    assert get_scenario("default", min_nights=20, max_nights=20).max_nights == 20


def test_negative_rest_reward_is_allowed() -> None:
    assert get_scenario("default", reward_rest=-1.0).reward_rest == -1.0


@pytest.mark.parametrize("num_agents", [2, 5, 10])
def test_check_num_agents_accepts_two_to_num_houses(num_agents: int) -> None:
    SCENARIOS["default"].check_num_agents(num_agents)


@pytest.mark.parametrize(("num_agents", "shown"), [(1, "1"), (11, "11"), (0, "0"), (3.0, "3.0"),
                                                   (True, "True")])
def test_check_num_agents_refuses(num_agents: object, shown: str) -> None:
    with pytest.raises(ValueError, match=rf"num_agents={shown}\b"):
        SCENARIOS["default"].check_num_agents(num_agents)  # type: ignore[arg-type]


def test_check_num_agents_uses_the_overridden_house_count() -> None:
    small = get_scenario("default", num_houses=3)
    small.check_num_agents(3)
    with pytest.raises(ValueError, match="num_houses=3"):
        small.check_num_agents(4)


def test_overrides_make_a_new_validated_scenario() -> None:
    scenario = get_scenario("hard", num_houses=7, prob_house_catches_fire=0.0)
    assert scenario.num_houses == 7
    assert scenario.prob_house_catches_fire == 0.0
    assert scenario.prob_fire_spreads_to_neighbor == 0.40
    assert SCENARIOS["hard"].num_houses == 10  # the named scenario is untouched
    assert get_scenario(scenario) is scenario
    assert get_scenario("hard", name="hard_copy").name == "hard_copy"


def test_unknown_override_field_lists_valid_fields() -> None:
    with pytest.raises(ValueError, match=r"unknown scenario field 'spread'.*prob_fire_spreads"):
        get_scenario("default", spread=0.3)


def test_unknown_scenario_name_lists_valid_names() -> None:
    with pytest.raises(ValueError) as error:
        get_scenario("medium")
    message = str(error.value)
    assert "'medium'" in message
    for name in SCENARIOS:
        assert name in message


def test_scenarios_are_frozen() -> None:
    with pytest.raises(AttributeError):
        SCENARIOS["default"].num_houses = 5  # type: ignore[misc]


# -- scenario files -------------------------------------------------------------------

FULL_FIELDS = {
    "prob_fire_spreads_to_neighbor": 0.3,
    "prob_solo_agent_extinguishes_fire": 0.7,
    "prob_house_catches_fire": 0.01,
    "initial_fire_fraction": 0.25,
    "num_houses": 8,
    "min_nights": 5,
    "max_nights": 40,
}


def _write_toml(path: Path, fields: dict[str, object]) -> Path:
    lines = [f"{key} = {json.dumps(value)}" for key, value in fields.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("suffix", [".toml", ".json"])
def test_load_full_scenario_file(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"windy{suffix}"
    if suffix == ".toml":
        _write_toml(path, FULL_FIELDS)
    else:
        path.write_text(json.dumps(FULL_FIELDS))
    scenario = load_scenario(path)
    assert scenario.name == "windy"  # named after the file unless it says otherwise
    for field, value in FULL_FIELDS.items():
        assert getattr(scenario, field) == value
    assert scenario.team_reward_house_survives == 100.0  # unspecified fields keep defaults
    assert get_scenario(str(path)) == scenario


@pytest.mark.parametrize("suffix", [".toml", ".json"])
def test_load_scenario_file_with_base(tmp_path: Path, suffix: str) -> None:
    fields = {"base": "chain_reaction", "name": "longer_chain", "max_nights": 60,
              "cost_to_work_one_night": 0.9}
    path = tmp_path / f"custom{suffix}"
    if suffix == ".toml":
        _write_toml(path, fields)
    else:
        path.write_text(json.dumps(fields))
    scenario = load_scenario(path)
    expected = get_scenario("chain_reaction", name="longer_chain", max_nights=60,
                            cost_to_work_one_night=0.9)
    assert scenario == expected
    assert scenario.prob_fire_spreads_to_neighbor == 0.45


@pytest.mark.parametrize(
    ("filename", "text", "match"),
    [
        ("broken.toml", "prob_house_catches_fire = = 1", r"not valid toml"),
        ("broken.json", "{\"num_houses\": ", r"not valid json"),
        ("list.json", "[1, 2]", r"must hold a table"),
        ("unknown.toml", "base = \"default\"\nwind = 2\n", r"unknown scenario field 'wind'"),
        ("unknown_full.json", json.dumps({**FULL_FIELDS, "wind": 2}),
         r"unknown scenario field 'wind'"),
        ("missing.json", json.dumps({"num_houses": 8}), r"missing\.json"),
        ("bad_base.toml", "base = \"nowhere\"\n", r"unknown scenario 'nowhere'"),
        ("bad_value.toml", "base = \"easy\"\nprob_house_catches_fire = 2.0\n",
         r"prob_house_catches_fire=2\.0"),
        ("bad_count.json", json.dumps({**FULL_FIELDS, "min_nights": 50}),
         r"min_nights=50 must be <= max_nights=40"),
    ],
)
def test_bad_scenario_files(tmp_path: Path, filename: str, text: str, match: str) -> None:
    path = tmp_path / filename
    path.write_text(text)
    with pytest.raises(ValueError, match=match):
        load_scenario(path)


def test_missing_scenario_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"scenario file .*absent\.toml' does not exist"):
        get_scenario(str(tmp_path / "absent.toml"))


def test_every_field_roundtrips_through_json(tmp_path: Path) -> None:
    scenario = SCENARIOS["mixed_motivation"]
    path = tmp_path / "copy.json"
    path.write_text(json.dumps(scenario.to_dict()))
    assert load_scenario(path) == scenario
    assert set(scenario.to_dict()) == set(SCENARIO_FIELDS)
    assert isinstance(load_scenario(path), Scenario)


# -- hostile scenario files: one clear error, never a traceback or a hang ---------------

@pytest.mark.parametrize(
    ("filename", "data", "match"),
    [
        ("list_base.toml", b"base = [1, 2]\n", r"base = \[1, 2\] must be a scenario name"),
        ("self.toml", b"base = \"{dir}/self.toml\"\n", r"refers back to itself"),
        ("deep.json", b"[" * 100_000 + b"]" * 100_000, r"nested too deeply"),
        ("deep.toml", b"x = " + b"[" * 100_000 + b"]" * 100_000 + b"\n", r"nested too deeply"),
        ("latin1.toml", "name = \"caf\xe9\"\n".encode("latin-1"), r"latin1\.toml.*not UTF-8"),
        ("houses.toml", b"base = \"easy\"\nnum_houses = 1e9\n",
         r"num_houses=1000000000\.0 must be an integer"),
        ("many_houses.toml", b"base = \"easy\"\nnum_houses = 1000000000\n",
         r"num_houses=1000000000 must be <= 1000"),
        ("long.toml", f"base = \"easy\"\nmin_nights = {2**63 - 1}\nmax_nights = {2**63 - 1}\n"
         .encode(), r"max_nights=9223372036854775807 must be <= 100000"),
        ("traversal.toml", b"base = \"easy\"\nname = \"../../../../tmp/x/TRAVERSED\"\n",
         r"scenario name '\.\./\.\./\.\./\.\./tmp/x/TRAVERSED' is not a valid name"),
        ("control.json", json.dumps({"base": "easy", "name": "a\x1b]0;title\x07"}).encode(),
         r"scenario name 'a\\x1b\]0;title\\x07' is not a valid name"),
        ("number_name.json", json.dumps({"base": "easy", "name": 5}).encode(),
         r"scenario name 5 must be a string"),
    ],
)
def test_hostile_scenario_files(tmp_path: Path, filename: str, data: bytes, match: str) -> None:
    path = tmp_path / filename
    path.write_bytes(data.replace(b"{dir}", str(tmp_path).encode()))
    with pytest.raises(UsageError, match=match) as caught:
        get_scenario(str(path))
    assert "\n" not in str(caught.value) and len(str(caught.value)) < 600


def test_a_cycle_of_bases_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text(f'base = "{tmp_path / "b.toml"}"\n')
    (tmp_path / "b.toml").write_text(f'base = "{tmp_path / "a.toml"}"\n')
    with pytest.raises(UsageError, match=r"a\.toml.*refers back to itself"):
        load_scenario(tmp_path / "a.toml")


def test_scenario_size_limits_are_inclusive() -> None:
    big = get_scenario("easy", num_houses=MAX_HOUSES, max_nights=MAX_NIGHTS,
                       team_reward_house_survives=MAX_AMOUNT, reward_rest=-MAX_AMOUNT)
    assert (big.num_houses, big.max_nights) == (MAX_HOUSES, MAX_NIGHTS)
    with pytest.raises(UsageError, match=r"num_houses=1001 must be <= 1000"):
        get_scenario("easy", num_houses=MAX_HOUSES + 1)
    with pytest.raises(UsageError, match=r"team_penalty_house_burns=1e\+300 must be a number "
                                         r"in \[0, 1000000\]"):
        get_scenario("easy", team_penalty_house_burns=1e300)
    with pytest.raises(UsageError, match=r"reward_rest=-1000001 must be a number in "
                                         r"\[-1000000, 1000000\]"):
        get_scenario("easy", reward_rest=-MAX_AMOUNT - 1)


def test_a_huge_value_is_shown_shortened(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    path.write_text(json.dumps({"base": "easy", "prob_house_catches_fire": "x" * 1_000_000}))
    with pytest.raises(UsageError, match=r"prob_house_catches_fire='xxx") as caught:
        load_scenario(path)
    assert len(str(caught.value)) < 300


def test_a_scenario_file_is_read_only_up_to_a_size(tmp_path: Path) -> None:
    (tmp_path / "huge.toml").write_text("# " + "x" * (1 << 20))
    with pytest.raises(UsageError, match=r"huge\.toml' is larger than 1024 KiB"):
        load_scenario(tmp_path / "huge.toml")
