"""The single-game Gymnasium environment: API conformance, seeding, game ends, bad input."""

from __future__ import annotations

import subprocess
import sys
import warnings
from collections.abc import Callable
from typing import Any

import gymnasium
import numpy as np
import pytest
from gymnasium.error import ResetNeeded
from gymnasium.utils.env_checker import check_env

from bucket_brigade.agents.strategies import make_seat
from bucket_brigade.envs import (
    ENV_ID,
    BucketBrigadeEnv,
    BucketBrigadeVectorEnv,
    make_env,
    make_vec_env,
)
from bucket_brigade.game.reference import ReferenceGame
from bucket_brigade.game.scenarios import get_scenario
from bucket_brigade.game.seat import Seat

from .conftest import same_info

Policy = Callable[..., np.ndarray]
END_KEYS = {"score", "houses_saved", "houses_ruined", "nights", "work_rate", "honesty"}


def play_episode(env: BucketBrigadeEnv, policy: Policy, seed: int | None = None
                 ) -> tuple[list[np.ndarray], list[float], dict[str, Any]]:
    """Reset and play one whole game; returns (observations, rewards, final info)."""
    obs, _ = env.reset(seed=seed)
    observations, rewards = [obs], []
    while True:
        obs, reward, terminated, truncated, info = env.step(policy(obs, env.cheap_talk))
        observations.append(obs)
        rewards.append(reward)
        assert truncated is False
        if terminated:
            return observations, rewards, info
        assert set(info) == {"action_mask"}


@pytest.mark.parametrize(("scenario", "cheap_talk"), [
    ("trivial_cooperation", False), ("hard", True), ("mixed_motivation", False),
    ("greedy_neighbor", True),
])
def test_check_env_passes_without_warnings(scenario: str, cheap_talk: bool) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(make_env(scenario, cheap_talk=cheap_talk))
        check_env(gymnasium.make(ENV_ID, scenario=scenario, cheap_talk=cheap_talk).unwrapped)


def test_registered_ids_build_the_single_and_vector_envs() -> None:
    env = gymnasium.make(ENV_ID, scenario="easy", num_opponents=2)
    assert isinstance(env.unwrapped, BucketBrigadeEnv)
    assert env.unwrapped.scenario.name == "easy"
    assert env.observation_space.shape == (10 + 4 * 3 + 10,)
    by_module = gymnasium.make(f"bucket_brigade.envs:{ENV_ID}", scenario="hard")
    assert by_module.unwrapped.scenario.name == "hard"
    vec = gymnasium.make_vec(ENV_ID, num_envs=3, scenario="easy")
    assert isinstance(vec, BucketBrigadeVectorEnv)
    assert vec.num_envs == 3 and vec.scenario.name == "easy"
    assert make_env(seed=4).spec.make().game.batch.seed == 4


def test_the_module_qualified_id_needs_no_import_first() -> None:
    """Gymnasium 1.x reads no entry points: in a fresh interpreter the documented
    ``bucket_brigade.envs:BucketBrigade-v0`` works without importing the package."""
    code = ("import gymnasium, sys; "
            f"env = gymnasium.make('bucket_brigade.envs:{ENV_ID}', scenario='easy'); "
            "print(type(env.unwrapped).__name__, env.unwrapped.scenario.name)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["BucketBrigadeEnv", "easy"]


def test_default_opponents_are_the_documented_ones() -> None:
    """make_env's and make_vec_env's docstrings (and the README) name these three."""
    documented = [make_seat(name) for name in ("random", "random", "firefighter")]
    assert list(make_env(seed=0).game.batch.seats[1:]) == documented
    assert list(make_vec_env(2, seed=0).games.seats[1:]) == documented


def test_spaces_follow_the_rules() -> None:
    env = make_env()
    assert env.observation_space.shape == (10 + 4 + 4 + 2 * 4 + 10,)
    assert env.observation_space.dtype == np.float32
    assert list(env.action_space.nvec) == [10, 2]
    assert list(make_env(cheap_talk=True).action_space.nvec) == [10, 2, 2]


def test_same_seed_same_game_and_seed_at_construction_equals_seed_at_reset(
        fire_policy: Policy) -> None:
    first = play_episode(make_env("default"), fire_policy, seed=11)
    second = play_episode(make_env("default"), fire_policy, seed=11)
    third = play_episode(make_env("default", seed=11), fire_policy)
    for other in (second, third):
        np.testing.assert_array_equal(np.array(first[0]), np.array(other[0]))
        assert first[1] == other[1] and same_info(first[2], other[2])
    others = [play_episode(make_env("default"), fire_policy, seed=s)[1] for s in (12, 13, 14)]
    assert any(rewards != first[1] for rewards in others)


def test_game_matches_the_reference_engine_to_the_final_observation(fire_policy: Policy
                                                                     ) -> None:
    scenario = get_scenario("default")
    opponents = ["random", "firefighter", "pool:liar,hero"]
    env = make_env(scenario, opponents=opponents, seed=5)
    observations, rewards, info = play_episode(env, fire_policy)
    game = ReferenceGame(scenario, [Seat(), *(make_seat(o) for o in opponents)], seed=5)
    assert observations[0].tolist() == pytest.approx(game.observation(0))
    for night, obs in enumerate(observations[1:]):
        house, mode = fire_policy(observations[night]).tolist()
        reward = game.step({0: (house, mode, mode)})[0]
        assert reward == pytest.approx(rewards[night], abs=1e-9)
        assert obs.tolist() == pytest.approx(game.observation(0))
    assert game.done and info["nights"] == game.night == len(rewards)
    assert info["score"] == pytest.approx(game.final_score(0), abs=1e-9)


def test_final_info_reports_the_learner_and_the_score_is_the_return(fire_policy: Policy
                                                                    ) -> None:
    for seed in range(3):
        observations, rewards, info = play_episode(make_env("hard"), fire_policy, seed=seed)
        assert set(info) == END_KEYS | {"action_mask"}
        assert info["score"] == pytest.approx(sum(rewards), abs=1e-9)
        assert info["nights"] == len(rewards)
        assert info["houses_saved"] + info["houses_ruined"] <= 10
        final_houses = observations[-1][:10]
        assert info["houses_saved"] == np.count_nonzero(final_houses == 0)
        assert info["houses_ruined"] == np.count_nonzero(final_houses == 2)
        worked = [obs[10 + 2 * 4 + 1] for obs in observations[1:]]  # agent 0's mode
        assert info["work_rate"] == pytest.approx(np.mean(worked))
        assert info["honesty"] == 1.0  # without cheap talk the signal is the mode


def test_reset_without_seed_continues_the_stream_like_game_zero_of_the_vector_env(
        fire_policy: Policy) -> None:
    env = make_env("default", seed=3)
    vec = BucketBrigadeVectorEnv(2, "default", seed=3)
    vec_obs, _ = vec.reset()
    for _ in range(3):
        obs, _ = env.reset()
        np.testing.assert_array_equal(obs, vec_obs[0])
        while True:
            action = fire_policy(obs)
            obs, reward, terminated, _, _ = env.step(action)
            vec_obs, vec_rewards, vec_done, _, vec_info = vec.step(np.stack([action, action]))
            assert np.float32(reward) == vec_rewards[0]
            if terminated:
                assert vec_done[0]
                np.testing.assert_array_equal(obs, vec_info["final_obs"][0])
                break
            np.testing.assert_array_equal(obs, vec_obs[0])


def test_reset_twice_keeps_an_unplayed_game_and_mid_game_reset_starts_the_next(
        fire_policy: Policy) -> None:
    scenario = get_scenario("default")
    env = make_env(scenario, opponents=["random"], seed=8)
    first, _ = env.reset()
    np.testing.assert_array_equal(env.reset()[0], first)
    obs = first
    game = ReferenceGame(scenario, [Seat(), make_seat("random"), make_seat("random"),
                                    make_seat("random")], seed=8)
    for _ in range(2):
        action = fire_policy(obs)
        obs = env.step(action)[0]
        game.step({0: (int(action[0]), int(action[1]), int(action[1]))})
    game.reset()  # the reference engine's next game of the same streams
    assert env.reset()[0].tolist() == pytest.approx(game.observation(0))


def test_step_needs_a_reset_first_and_after_the_end(fire_policy: Policy) -> None:
    env = make_env()
    with pytest.raises(ResetNeeded):
        env.step(np.array([0, 0]))
    play_episode(env, fire_policy, seed=0)
    with pytest.raises(ResetNeeded):
        env.step(np.array([0, 0]))


@pytest.mark.parametrize(("action", "cheap_talk", "message"), [
    ([10, 0], False, "house=10"),
    ([-1, 0], False, "house=-1"),
    ([0, 2], False, "mode=2"),
    ([0.5, 1], False, "0.5"),
    ([np.nan, 1], False, "nan"),
    ([1, 0, 1], False, r"shape \(3,\)"),
    ([[1, 0]], False, r"shape \(1, 2\)"),
    (["a", "b"], False, "dtype"),
    ([1, 0], True, r"shape \(2,\)"),
    ([1, 0, 2], True, "signal=2"),
    ([1, [0, 1]], False, "not an array"),
])
def test_invalid_actions_are_refused_and_change_nothing(action, cheap_talk: bool,
                                                        message: str) -> None:
    env, twin = make_env("default", cheap_talk=cheap_talk), make_env("default",
                                                                     cheap_talk=cheap_talk)
    valid = np.array([1, 1, 0] if cheap_talk else [1, 1])
    for e in (env, twin):
        e.reset(seed=21)
        e.step(valid)
    with pytest.raises(ValueError, match=message):
        env.step(action)
    after, twin_after = env.step(valid), twin.step(valid)
    np.testing.assert_array_equal(after[0], twin_after[0])
    assert after[1:4] == twin_after[1:4] and same_info(after[4], twin_after[4])


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"scenario": "nope"}, "valid names: default"),
    ({"opponents": ["firefighter", "nope"]}, "valid names: firefighter"),
    ({"opponents": "nope"}, "unknown strategy 'nope'"),
    ({"render_mode": "rgb_array_list"}, "valid modes: ansi, human, rgb_array"),
    ({"num_opponents": 10}, "num_agents=11"),
    ({"num_opponents": 0}, "num_opponents=0"),
    ({"num_opponents": 1000}, "num_opponents=1000 must be an integer from 1 to 999"),
    ({"num_opponents": 2.0}, "num_opponents=2.0 must be an integer"),
])
def test_bad_construction_names_the_value_and_the_choices(kwargs, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_env(**kwargs)


def test_opponents_accept_names_vectors_pools_and_comma_strings(fire_policy: Policy) -> None:
    vector = [0.5] * 10
    env = make_env(opponents=["free_rider", vector, "pool:hero,random"])
    seats = env.game.batch.seats
    assert seats[0] == Seat() and seats[1] == make_seat("free_rider")
    assert seats[2] == Seat((tuple(vector),)) and seats[3] == make_seat("pool:hero,random")
    cycled = make_env(num_opponents=3, opponents="firefighter,liar").game.batch.seats
    assert cycled[1:] == (make_seat("firefighter"), make_seat("liar"), make_seat("firefighter"))
    default = make_env(num_opponents=5).game.batch.seats
    assert default[1:] == tuple(make_seat(s) for s in
                                ("random", "random", "firefighter", "coordinator", "random"))
    play_episode(env, fire_policy, seed=0)
    evolved = make_env("hard", opponents="evolved").game.batch.seats[1]
    assert evolved == make_seat("evolved:hard")  # a bare "evolved" means this scenario's


def test_render_modes(capsys: pytest.CaptureFixture[str], fire_policy: Policy) -> None:
    assert make_env().render() is None
    env = make_env(render_mode="ansi")
    env.reset(seed=2)
    text = env.render()
    assert "night 0" in text and all(f"agent {i} " in text for i in range(4))
    _, _, info = play_episode(env, fire_policy)
    assert f"night {info['nights']}" in env.render()
    human = make_env(render_mode="human")
    human.reset(seed=2)
    assert human.render() is None
    assert capsys.readouterr().out.count("night 0") == 2  # at reset, then on request
