"""The reference game's seed and game number: checked, never wrapped into another game's."""

from __future__ import annotations

import numpy as np
import pytest

from bucket_brigade.game.reference import ReferenceGame
from bucket_brigade.game.scenarios import get_scenario
from bucket_brigade.game.seat import Seat

SEATS = [Seat(), Seat(((0.5,) * 10,))]


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"seed": 2**64}, ValueError, r"seed=18446744073709551616 must be an integer in \[0, 2"),
    ({"seed": -1}, ValueError, r"seed=-1"),
    ({"seed": 1.0}, TypeError, r"seed=1\.0"),
    ({"game_index": 2**64}, ValueError, r"game_index=18446744073709551616 must be an integer"),
    ({"game_index": -1}, ValueError, r"game_index=-1"),
    ({"game_index": True}, ValueError, r"game_index=True"),
])
def test_a_seed_or_game_out_of_range_is_refused(kwargs, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        ReferenceGame(get_scenario("easy"), SEATS, **kwargs)


def test_numpy_integers_are_the_games_of_their_values() -> None:
    scenario = get_scenario("easy")
    numpy_game = ReferenceGame(scenario, SEATS, np.uint64(2**64 - 1), np.int32(3))
    game = ReferenceGame(scenario, SEATS, 2**64 - 1, 3)
    assert numpy_game.houses == game.houses and type(numpy_game.seed) is int
