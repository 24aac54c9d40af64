"""The planner's strategy name: its settings, its base, and the names it refuses."""

from __future__ import annotations

import re

import pytest

from bucket_brigade.agents.planner import PlannerSeat
from bucket_brigade.agents.strategies import make_seat, opponent_seats
from bucket_brigade.errors import UsageError
from bucket_brigade.game.scripted import ARCHETYPES


def test_the_defaults_plan_over_hero_to_the_end_of_the_game() -> None:
    seat = make_seat("planner")
    assert isinstance(seat, PlannerSeat) and seat.external
    assert seat.base == tuple(ARCHETYPES["hero"]) and seat.base_name == "hero"
    assert (seat.continuations, seat.horizon, seat.candidates) == (32, None, "all")
    assert seat.name == "planner"


@pytest.mark.parametrize(("name", "continuations", "horizon", "base"), [
    ("planner@64", 64, None, "hero"),
    ("planner@8/5", 8, 5, "hero"),
    ("planner:firefighter", 32, None, "firefighter"),
    ("planner@16/3:evolved:greedy_neighbor", 16, 3, "evolved:greedy_neighbor"),
    ("planner@8^:liar", 8, None, "liar"),
])
def test_settings_and_base_are_read_and_written_back(name: str, continuations: int,
                                                     horizon: int | None, base: str) -> None:
    seat = make_seat(name, "greedy_neighbor")
    assert (seat.continuations, seat.horizon, seat.base_name) == (continuations, horizon, base)
    assert seat.base == make_seat(base, "greedy_neighbor").pool[0]
    assert seat.name == name
    assert seat.candidates == ("talk" if "^" in name else "all")


@pytest.mark.parametrize(("name", "message"), [
    ("planner^^", "is not planner[@K[/D]][~P][+Z][^][:BASE]"),
    ("planner@x", "is not planner[@K[/D]][~P][+Z][^][:BASE]"),
    ("planner@0", "continuations=0 must be an integer >= 1"),
    ("planner@4/0", "horizon=0 must be an integer >= 1"),
    ("planner:random", "planner base 'random' must be one fixed strategy"),
    ("planner:planner", "'planner' is a seat of its own"),
    ("pool:hero,planner", "'planner' is a seat of its own"),
    ("planner:heroo", "unknown strategy 'heroo'"),
])
def test_bad_planner_names_are_named(name: str, message: str) -> None:
    with pytest.raises(UsageError, match=re.escape(message)):
        make_seat(name)


def test_bad_candidate_sets_are_named() -> None:
    message = "candidates='some'; valid choices: all, talk, base"
    with pytest.raises(UsageError, match=re.escape(message)):
        PlannerSeat(base=tuple(ARCHETYPES["hero"]), candidates="some")


def test_planners_can_be_opponents() -> None:
    seats = opponent_seats(3, "planner@4,hero")
    assert [type(s).__name__ for s in seats] == ["PlannerSeat", "Seat", "PlannerSeat"]


def test_environments_and_training_refuse_planner_opponents() -> None:
    from bucket_brigade.envs.gym_env import BucketBrigadeEnv
    from bucket_brigade.training.config import TrainConfig

    with pytest.raises(UsageError, match="'planner@4': a planner searches only in"):
        opponent_seats(3, "hero,planner@4", planners=False)
    with pytest.raises(UsageError, match="a planner searches only in"):
        BucketBrigadeEnv(opponents="planner")
    with pytest.raises(UsageError, match="a planner searches only in"):
        TrainConfig(opponent_policies="random,planner").validate()


def test_every_setting_at_once() -> None:
    seat = make_seat("planner@64/8~0+2.5^:firefighter")
    assert (seat.continuations, seat.horizon, seat.particles, seat.margin, seat.candidates,
            seat.base_name) == (64, 8, 0, 2.5, "talk", "firefighter")
    assert seat.name == "planner@64/8~0+2.5^:firefighter"
    assert make_seat("planner+0").margin == 0.0
