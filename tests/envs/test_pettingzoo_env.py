"""The PettingZoo parallel env: API and seed tests, global state, egocentric views, bad input."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import pytest
from gymnasium.error import ResetNeeded
from pettingzoo.test import parallel_api_test, parallel_seed_test

from bucket_brigade.envs import BucketBrigadeParallelEnv, parallel_env
from bucket_brigade.game.reference import ReferenceGame
from bucket_brigade.game.scenarios import get_scenario
from bucket_brigade.game.seat import Seat

from .conftest import same_info

Policy = Callable[..., np.ndarray]
END_KEYS = {"score", "houses_saved", "houses_ruined", "nights", "work_rate", "honesty"}


@pytest.mark.parametrize(("scenario", "num_agents", "cheap_talk"), [
    ("default", 4, False), ("hard", 3, True), ("easy", 10, False),
])
def test_parallel_api_and_seed_tests_pass_without_warnings(scenario: str, num_agents: int,
                                                           cheap_talk: bool) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        parallel_api_test(parallel_env(scenario, num_agents, cheap_talk), num_cycles=200)
        parallel_seed_test(lambda: parallel_env(scenario, num_agents, cheap_talk))


def test_agents_spaces_and_state_space() -> None:
    env = parallel_env("default", num_agents=3, cheap_talk=True)
    assert env.possible_agents == ["agent_0", "agent_1", "agent_2"]
    assert env.agents == []
    env.reset(seed=0)
    assert env.agents == env.possible_agents and env.agents is not env.possible_agents
    for agent in env.agents:
        assert env.observation_space(agent) is env.observation_space(agent)
        assert env.observation_space(agent).shape == (10 + 4 * 3 + 10,)
        assert list(env.action_space(agent).nvec) == [10, 2, 2]
    assert env.action_space("agent_0") is not env.action_space("agent_1")
    assert env.state_space.shape == (10 + 2 * 3 + 1,)
    assert env.state() in env.state_space
    with pytest.raises(ValueError, match="unknown agent 'agent_3'; agents: agent_0"):
        env.observation_space("agent_3")


def test_state_and_every_view_follow_the_reference_game_to_the_end() -> None:
    """Agents act by fixed relative offsets; state() is absolute, observations egocentric."""
    scenario = get_scenario("hard")
    env = parallel_env(scenario, num_agents=4, cheap_talk=True, seed=13)
    game = ReferenceGame(scenario, [Seat()] * 4, seed=13)
    obs, infos = env.reset()
    returns = dict.fromkeys(env.agents, 0.0)
    night = 0
    while env.agents:
        night += 1
        actions = {f"agent_{i}": np.array([(night + i) % 10, (night + i) % 2, i % 2])
                   for i in range(4)}
        obs, rewards, terminations, truncations, infos = env.step(actions)
        reference_rewards = game.step({i: tuple(a.tolist())
                                       for i, a in enumerate(actions.values())})
        state = env.state()
        assert state[:10].tolist() == game.houses
        # Agent i's relative choice (night + i) lands on absolute house (i + night + i) % H.
        assert state[10:14].tolist() == [(2 * i + night) % 10 for i in range(4)]
        assert state[14:18].tolist() == [i % 2 for i in range(4)] == game.signals
        assert state[18] == night == game.night
        for i, agent in enumerate(obs):
            assert obs[agent].tolist() == pytest.approx(game.observation(i))
            assert rewards[agent] == pytest.approx(reference_rewards[i], abs=1e-9)
            returns[agent] += rewards[agent]
        agent_2 = obs["agent_2"]
        assert agent_2[10 + 4] == (night + 2) % 10  # its own location, relative to home
        assert agent_2[10 + 4 + 4] == (night + 2) % 10  # its own last action's house
        assert agent_2[10 + 4 + 4 + 1] == night % 2  # ... and mode
        assert agent_2[:10].tolist() == [game.houses[(2 + m) % 10] for m in range(10)]
        assert not any(truncations.values())
        assert set(terminations.values()) == {game.done}
    assert game.done and env.agents == []
    for i, (agent, info) in enumerate(infos.items()):
        assert set(info) == END_KEYS | {"action_mask"}
        assert info["score"] == pytest.approx(returns[agent], abs=1e-9)
        assert info["score"] == pytest.approx(game.final_score(i), abs=1e-9)
        assert info["nights"] == night
        assert info["honesty"] == pytest.approx(
            np.mean([(n + i) % 2 == i % 2 for n in range(1, night + 1)]))


def test_invalid_actions_name_the_agent_and_change_nothing() -> None:
    env, twin = parallel_env("default", seed=2), parallel_env("default", seed=2)
    env.reset()
    twin.reset()
    good = {f"agent_{i}": np.array([1, 1]) for i in range(4)}
    bad_cases = [
        ({**good, "agent_2": np.array([10, 1])}, "agent_2: action house=10"),
        ({**good, "agent_3": np.array([1.5, 1])}, "agent_3: action value 1.5"),
        ({k: v for k, v in good.items() if k != "agent_1"}, "no action for agent_1"),
        ({**good, "agent_9": np.array([0, 0])}, "unknown agent 'agent_9'"),
    ]
    for actions, message in bad_cases:
        with pytest.raises(ValueError, match=message):
            env.step(actions)
    after, twin_after = env.step(good), twin.step(good)
    for a, b in zip(after[0].values(), twin_after[0].values(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert after[1:4] == twin_after[1:4] and same_info(after[4], twin_after[4])
    np.testing.assert_array_equal(env.state(), twin.state())


def test_step_needs_reset_and_reset_continues_the_stream() -> None:
    scenario = get_scenario("default")
    env = parallel_env(scenario, seed=3)
    game = ReferenceGame(scenario, [Seat()] * 4, seed=3)
    with pytest.raises(ResetNeeded):
        env.step({})
    first, _ = env.reset()
    rest = {agent: np.array([0, 0]) for agent in env.agents}
    while env.agents:
        env.step(rest)
        game.step(dict.fromkeys(range(4), (0, 0, 0)))
    assert game.done
    with pytest.raises(ResetNeeded):
        env.step(rest)
    following, _ = env.reset()
    game.reset()  # the next game of the same streams
    assert env.agents == env.possible_agents and env.state()[-1] == 0
    for i, agent in enumerate(following):
        assert following[agent].tolist() == pytest.approx(game.observation(i))
    replayed, _ = env.reset(seed=3)
    for agent in first:
        np.testing.assert_array_equal(replayed[agent], first[agent])


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"scenario": "nope"}, "valid names"),
    ({"num_agents": 11}, "num_agents=11"),
    ({"num_agents": 1}, "num_agents=1"),
    ({"render_mode": "rgb_array_list"}, "valid modes: ansi, human, rgb_array"),
])
def test_bad_construction(kwargs, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parallel_env(**kwargs)


def test_render_shows_the_night_and_every_agent(capsys: pytest.CaptureFixture[str]) -> None:
    env = parallel_env("default", num_agents=5, render_mode="ansi", seed=0)
    env.reset()
    env.step({agent: np.array([0, 1]) for agent in env.agents})
    text = env.render()
    assert "night 1" in text and all(f"agent {i} " in text for i in range(5))
    human = BucketBrigadeParallelEnv(render_mode="human", seed=0)
    human.reset()
    assert "night 0" in capsys.readouterr().out
