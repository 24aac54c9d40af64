"""Opponents drawn per game from weighted populations, and one learner in any seat."""

from __future__ import annotations

import numpy as np
import pytest

from bucket_brigade.agents.strategies import make_seat
from bucket_brigade.envs import make_vec_env
from bucket_brigade.envs.drawn_opponents import Population
from bucket_brigade.game.constants import REST, WORK
from bucket_brigade.game.seat import Seat


def constant(mode: int):
    """A policy that plays ``mode`` at its own home every night: its seat's mode shows
    which policy played it."""
    calls = []

    def play(obs: np.ndarray) -> np.ndarray:
        calls.append(len(obs))
        return np.tile([0, mode, mode], (len(obs), 1))

    play.calls = calls
    return play


def test_draw_frequencies_match_the_weights_in_every_seat_and_at_every_restart() -> None:
    # 3 seats x 3,000 games x 3 starts: a frequency's standard error is about 0.005.
    weights = (0.5, 0.3, 0.2)
    population = Population((make_seat("free_rider"), constant(WORK), constant(REST)), weights)
    env = make_vec_env(3000, "default", 3, seed=1, opponent_populations=[population] * 3)
    env.reset()
    counts = np.zeros((3, 3))
    for _ in range(3):
        for seat in range(3):
            counts[seat] += np.bincount(env.opponents.drawn[:, seat], minlength=3)
        env.reset()
    frequencies = counts / counts.sum(axis=1, keepdims=True)
    assert np.abs(frequencies - weights).max() < 0.03


def test_a_seat_keeps_its_player_all_game_and_each_policy_acts_once_a_night() -> None:
    works, rests = constant(WORK), constant(REST)
    population = Population((works, rests), (1.0, 1.0))
    env = make_vec_env(200, "default", 3, seed=2, opponent_populations=[population] * 3)
    env.reset()
    drawn = env.opponents.drawn.copy()
    playing = np.ones(200, dtype=bool)  # games still in their first game
    for night in range(1, 200):
        _, _, done, _, _ = env.step(np.zeros((200, 2), dtype=np.int64))
        # Each policy is called once a night, on every (game, seat) pair that drew it.
        assert len(works.calls) == len(rests.calls) == night
        assert works.calls[-1] + rests.calls[-1] == 600
        playing &= ~done
        # A game's seats play what they drew at its start (player 0 works, 1 rests).
        modes = env.games.modes[:, 1:]
        assert np.array_equal(modes[playing] == WORK, drawn[playing] == 0)
        assert np.array_equal(env.opponents.drawn[playing], drawn[playing])
        if not playing.any():
            break
    assert not playing.any()
    assert not np.array_equal(env.opponents.drawn, drawn)  # new games, new draws


def test_scripted_players_get_their_parameters_and_random_fresh_ones() -> None:
    hero, random = make_seat("hero"), make_seat("random")
    env = make_vec_env(500, "default", 3, seed=3,
                       opponent_populations=[Population((hero, random), (1, 1))] * 3)
    env.reset()
    params = env.games.params[:, 1:]
    drew_hero = env.opponents.drawn == 0
    assert np.allclose(params[drew_hero], hero.pool[0])
    assert len(np.unique(params[~drew_hero][:, 0])) == (~drew_hero).sum()


def test_the_same_seed_draws_the_same_players_and_plays_the_same_games() -> None:
    def played(seed: int) -> tuple[np.ndarray, np.ndarray]:
        population = Population((make_seat("hero"), make_seat("random"), constant(WORK)),
                                (0.2, 0.3, 0.5))
        env = make_vec_env(64, "default", 3, seed=seed, opponent_populations=[population] * 3)
        env.reset()
        total = np.zeros(64)
        for _ in range(30):
            _, rewards, *_ = env.step(np.ones((64, 2), dtype=np.int64))
            total += rewards
        return env.opponents.drawn.copy(), total

    first, second, other = played(5), played(5), played(6)
    assert np.array_equal(first[0], second[0]) and np.array_equal(first[1], second[1])
    assert not np.array_equal(first[0], other[0])


@pytest.mark.parametrize("learner_seat", [1, 3])
def test_one_learner_sits_in_any_seat(learner_seat: int) -> None:
    env = make_vec_env(32, "default", 3, "free_rider", seed=4, learner_seat=learner_seat)
    obs, _ = env.reset()
    assert [s.external for s in env.games.seats] == [i == learner_seat for i in range(4)]
    assert np.array_equal(obs, env.games.observations[:, 0])
    ended = np.zeros(32, bool)
    while not ended.all():
        _, rewards, done, _, info = env.step(np.ones((32, 2), dtype=np.int64))
        assert np.array_equal(rewards, env.games.rewards[:, learner_seat].astype(np.float32))
        if done.any():
            assert np.array_equal(info["final_info"]["score"][done],
                                  env.games.finished.scores[done, learner_seat])
            assert (info["final_info"]["agent"] == learner_seat).all()
        ended |= done


def test_a_learner_in_another_seat_faces_drawn_opponents_in_the_others() -> None:
    env = make_vec_env(16, "default", 3, seed=5, learner_seat=2,
                       opponent_populations=[Population((constant(WORK),), (1,))] * 3)
    env.reset()
    env.step(np.zeros((16, 2), dtype=np.int64))  # the learner rests at home
    assert (env.games.modes[:, [0, 1, 3]] == WORK).all()
    assert (env.games.modes[:, 2] == REST).all()


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"learner_seat": 4}, "learner_seat"),
    ({"learner_seat": 1, "num_learners": 2, "num_envs": 8}, "several learners"),
    ({"opponents": "hero"}, "opponent_populations name the opponents"),
    ({"num_opponents": 2}, "3 opponent_populations for 2"),
])
def test_bad_seating_is_refused(kwargs: dict, message: str) -> None:
    settings = {"num_envs": 4, "scenario": "default", "num_opponents": 3,
                "opponent_populations": [Population((make_seat("hero"),), (1,))] * 3, **kwargs}
    with pytest.raises(ValueError, match=message):
        make_vec_env(**settings)


@pytest.mark.parametrize(("players", "weights"), [
    ((), ()), ((Seat(),), (1,)), ((make_seat("hero"),), (-1,)), ((make_seat("hero"),), (0,)),
    ((make_seat("hero"),), (1, 1)),
])
def test_a_population_needs_players_and_nonnegative_weights(players, weights) -> None:
    with pytest.raises(ValueError):
        Population(players, weights)
