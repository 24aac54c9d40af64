"""Action validation and batch construction: bad input is refused and changes nothing."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from bucket_brigade.agents.strategies import make_seat
from bucket_brigade.engine.batch import GameBatch, check_actions
from bucket_brigade.game.scenarios import SCENARIOS
from bucket_brigade.game.seat import Seat

NUM_GAMES = 3


@pytest.fixture
def batch() -> GameBatch:
    """Two external agents (0 and 2) and one scripted one, a few nights in."""
    seats = [Seat(), make_seat("firefighter"), Seat()]
    games = GameBatch(SCENARIOS["default"], seats, NUM_GAMES, seed=4)
    for _ in range(3):
        games.step(np.zeros((NUM_GAMES, 2, 3), dtype=np.int64))
    return games


def snapshot(games: GameBatch) -> dict[str, np.ndarray]:
    arrays = {name: value.copy() for name, value in vars(games).items()
              if isinstance(value, np.ndarray)}
    arrays.update({f"finished.{name}": value.copy()
                   for name, value in vars(games.finished).items()})
    return arrays


def valid_actions() -> np.ndarray:
    return np.array([[[9, 1, 0], [0, 0, 1]]] * NUM_GAMES, dtype=np.int64)


def test_valid_actions_come_back_as_int64(batch: GameBatch) -> None:
    for dtype in (np.int8, np.int32, np.uint16, np.int64, np.float32, np.float64):
        checked = batch.check_actions(valid_actions().astype(dtype))
        assert checked.dtype == np.int64
        np.testing.assert_array_equal(checked, valid_actions())
    np.testing.assert_array_equal(batch.check_actions(valid_actions().tolist()),
                                  valid_actions())


def with_value(index: tuple[int, int, int], value: object,
               dtype: type = np.int64) -> np.ndarray:
    actions = valid_actions().astype(dtype)
    actions[index] = value
    return actions


BAD_ACTIONS: list[tuple[str, Callable[[], object], str]] = [
    ("too few games", lambda: valid_actions()[:2], r"shape \(2, 2, 3\), expected \(3, 2, 3\)"),
    ("no signal column", lambda: valid_actions()[..., :2], r"shape \(3, 2, 2\)"),
    ("one agent only", lambda: valid_actions()[:, :1], r"shape \(3, 1, 3\)"),
    ("flat", lambda: valid_actions().ravel(), r"shape \(18,\)"),
    ("house too large", lambda: with_value((1, 0, 0), 10), r"house=10 at index \(1, 0\)"),
    ("negative house", lambda: with_value((2, 1, 0), -1), r"house=-1 at index \(2, 1\)"),
    ("mode 2", lambda: with_value((0, 1, 1), 2), r"mode=2 .*out of range 0\.\.1"),
    ("signal -1", lambda: with_value((0, 0, 2), -1), r"signal=-1"),
    ("fractional", lambda: with_value((0, 0, 0), 1.5, np.float64), r"1\.5 is not an integer"),
    ("nan", lambda: with_value((2, 0, 1), np.nan, np.float32), r"nan is not an integer"),
    ("infinite", lambda: with_value((0, 0, 0), np.inf, np.float64), r"inf is not an integer"),
    ("huge float", lambda: with_value((1, 1, 0), 1e300, np.float64),
     r"house=1e\+300 at index \(1, 1\) is out of range 0\.\.9"),
    ("largest uint64", lambda: with_value((0, 1, 0), 2**64 - 1, np.uint64),
     r"house=18446744073709551615 at index \(0, 1\)"),
    ("strings", lambda: valid_actions().astype(str), r"dtype <U\d+, expected integers"),
    ("complex", lambda: valid_actions().astype(complex), r"dtype complex128"),
    ("objects", lambda: valid_actions().astype(object), r"dtype object"),
]


@pytest.mark.parametrize(("label", "make", "match"), BAD_ACTIONS,
                         ids=[label for label, _, _ in BAD_ACTIONS])
def test_bad_actions_are_named_and_change_nothing(batch: GameBatch, label: str,
                                                  make: Callable[[], object],
                                                  match: str) -> None:
    before = snapshot(batch)
    with pytest.raises(ValueError, match=match):
        batch.check_actions(make())  # type: ignore[arg-type]
    after = snapshot(batch)
    assert after.keys() == before.keys()
    for name, value in before.items():
        np.testing.assert_array_equal(after[name], value, err_msg=name)


def test_check_actions_for_one_game() -> None:
    np.testing.assert_array_equal(check_actions([[1, 0, 1]], (1,), 5), [[1, 0, 1]])
    with pytest.raises(ValueError, match=r"house=5 at index \(0,\)"):
        check_actions([[5, 0, 1]], (1,), 5)
    with pytest.raises(ValueError, match=r"house=7 is out of range 0\.\.4"):
        check_actions([7, 0, 1], (), 5)


@pytest.mark.parametrize("num_games", [0, -2, 2.5, True, "8", None])
def test_num_games_must_be_a_positive_integer(num_games: object) -> None:
    with pytest.raises(ValueError, match=rf"num_games={num_games!r}"):
        GameBatch(SCENARIOS["default"], [Seat(), Seat()], num_games)  # type: ignore[arg-type]


def test_a_numpy_integer_is_a_game_count() -> None:
    batch = GameBatch(SCENARIOS["default"], [Seat(), Seat()], np.int64(3), seed=np.uint64(5))
    assert batch.num_games == 3 and type(batch.num_games) is int


@pytest.mark.parametrize("num_agents", [1, 11])
def test_number_of_seats_must_fit_the_ring(num_agents: int) -> None:
    with pytest.raises(ValueError, match=rf"num_agents={num_agents}\b"):
        GameBatch(SCENARIOS["default"], [Seat()] * num_agents, 2)


def test_shapes_of_what_the_batch_hands_out(batch: GameBatch) -> None:
    obs, rewards, done = batch.step(valid_actions())
    assert obs.shape == (NUM_GAMES, 2, 32) and obs.dtype == np.float32  # 10 + 4 x 3 + 10
    assert rewards.shape == (NUM_GAMES, 3) and rewards.dtype == np.float64
    assert done.shape == (NUM_GAMES,) and done.dtype == np.bool_
    np.testing.assert_array_equal(batch.external_agents, [0, 2])
    assert batch.finished.observations.shape == obs.shape


def test_a_batch_without_external_seats() -> None:
    seats = [make_seat("hero"), make_seat("random")]
    games = GameBatch(SCENARIOS["easy"], seats, 4, seed=1)
    obs, rewards, _ = games.step(games.check_actions(np.zeros((4, 0, 3))))
    assert obs.shape == (4, 0, SCENARIOS["easy"].obs_dim(2))
    assert rewards.shape == (4, 2)


def test_restarting_some_games_leaves_the_others_alone(batch: GameBatch) -> None:
    everyone = GameBatch(batch.scenario, batch.seats, NUM_GAMES, seed=4)
    for _ in range(3):
        everyone.step(np.zeros((NUM_GAMES, 2, 3), dtype=np.int64))
    before = snapshot(batch)
    chosen = np.array([True, False, True])
    batch.restart(chosen)
    everyone.restart()
    for name in ("houses", "nights", "scores", "observations", "streams"):
        after, restarted = getattr(batch, name), getattr(everyone, name)
        np.testing.assert_array_equal(after[chosen], restarted[chosen])
        np.testing.assert_array_equal(after[~chosen], before[name][~chosen])
    with pytest.raises(ValueError, match="games has shape"):
        batch.restart(np.ones(NUM_GAMES + 1, dtype=bool))


def test_refreshed_observations_are_the_engines(batch: GameBatch) -> None:
    """A batch whose state is set from another's (as a planner's continuations are) sees
    what the other's external agents see."""
    copy = GameBatch(batch.scenario, batch.seats, NUM_GAMES, seed=0)
    for name in ("houses", "locations", "modes", "signals"):
        getattr(copy, name)[:] = getattr(batch, name)
    assert not np.array_equal(copy.observations, batch.observations)
    np.testing.assert_array_equal(copy.refresh_observations(), batch.observations)
