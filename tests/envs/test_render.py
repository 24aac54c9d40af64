"""Text rendering and JSON replays: content, agreement with the envs, round trips."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from bucket_brigade.agents.strategies import make_seat, opponent_seats
from bucket_brigade.envs import Replay, Snapshot, make_env, parallel_env, record_game, render_text
from bucket_brigade.envs.render import AGENT_COLOURS, CELL, HOUSE_COLOURS
from bucket_brigade.game.reference import ReferenceGame
from bucket_brigade.game.scenarios import get_scenario
from bucket_brigade.game.seat import Seat

Policy = Callable[..., np.ndarray]


def test_render_text_shows_the_night_houses_and_every_agent() -> None:
    snapshot = Snapshot(night=7, houses=(0, 1, 2, 0, 0, 0, 0, 0, 0, 1),
                        locations=(1, 9, 2), modes=(1, 0, 1), signals=(1, 1, 1),
                        scores=(12.5, -3.0, 0.0))
    text = render_text(snapshot, title="hard")
    lines = text.splitlines()
    assert lines[0].startswith("hard  night 7") and "burning 2" in lines[0]
    assert "ruined 1" in lines[0]
    assert lines[2].split() == ["state", ".", "F", "x", ".", ".", ".", ".", ".", ".", "F"]
    assert lines[3].split()[1:] == ["0", "1", "2", "0", "1", "2", "0", "1", "2", "0"]
    assert "agent 0  at house 1  WORK  signal WORK" in text
    assert "agent 1  at house 9  REST  signal WORK" in text and "signal differs" in lines[5]
    assert "agent 2  at house 2" in text and "12.50" in lines[4]


def test_snapshot_reads_agent_zero_observation_as_the_absolute_view() -> None:
    scenario = get_scenario("default")
    game = ReferenceGame(scenario, [Seat()] * 4, seed=3)
    game.step({0: (4, 1, 0), 1: (0, 1, 1), 2: (9, 0, 1), 3: (1, 1, 1)})
    snapshot = Snapshot.from_observation(np.array(game.observation(0), dtype=np.float32),
                                         10, game.night, game.scores)
    assert snapshot.houses == tuple(game.houses)
    assert snapshot.locations == (4, 1, 1, 4) == tuple(game.locations)
    assert snapshot.modes == (1, 1, 0, 1) and snapshot.signals == (0, 1, 1, 1)
    assert snapshot.state().tolist() == [*game.houses, 4, 1, 1, 4, 0, 1, 1, 1, 1]


def test_scripted_replay_scores_are_the_sums_of_rewards() -> None:
    replay = record_game("hard", ["firefighter", "free_rider", "random", "liar"], seed=4)
    assert replay.nights == len(replay.frames) - 1 >= 15
    assert [f.night for f in replay.frames] == list(range(replay.nights + 1))
    sums = np.sum(replay.rewards, axis=0)
    assert replay.scores == pytest.approx(tuple(sums), abs=1e-9)
    assert replay.frames[0].locations == (0, 1, 2, 3) and replay.frames[0].scores == (0.0,) * 4
    last = replay.frames[-1]
    assert 1 not in last.houses or replay.nights == replay.scenario.max_nights
    assert replay.strategies[0] == make_seat("firefighter").pool[0]
    assert replay.strategies[2] is not None and len(replay.strategies[2]) == 10


def test_replay_with_a_learner_is_the_game_of_the_single_env(fire_policy: Policy) -> None:
    env = make_env("default", seed=17, render_mode="ansi")
    obs, _ = env.reset()
    rewards, views = [], []
    while True:
        obs, reward, terminated, _, info = env.step(fire_policy(obs))
        rewards.append(reward)
        views.append(env.game.snapshot())
        if terminated:
            break
    replay = record_game("default", [Seat(), *opponent_seats(3)], seed=17, policy=fire_policy)
    assert replay.nights == info["nights"]
    assert [r[0] for r in replay.rewards] == pytest.approx(rewards, abs=1e-9)
    assert replay.scores[0] == pytest.approx(info["score"], abs=1e-9)
    assert list(replay.frames[1:]) == views
    assert replay.render(replay.nights) == env.render()


def test_json_round_trip_is_exact_and_atomic(tmp_path: Path, fire_policy: Policy) -> None:
    replay = record_game("mixed_motivation", [Seat(), "hero", Seat()], seed=2,
                         policy=lambda obs: fire_policy(obs, True), cheap_talk=True,
                         game_index=5)
    path = replay.save(tmp_path / "replays" / "game.json")
    assert sorted(p.name for p in path.parent.iterdir()) == ["game.json"]
    data = json.loads(path.read_text())
    assert data["format"] == "bucket-brigade-replay" and data["seed"] == 2
    assert data["game_index"] == 5 and data["scenario"]["name"] == "mixed_motivation"
    assert data["strategies"][0] is None and data["strategies"][2] is None
    assert len(data["nights"]) == data["final"]["nights"] == replay.nights
    night = data["nights"][0]
    assert set(night) == {"night", "houses", "locations", "modes", "signals", "rewards", "scores"}
    assert data["final"]["scores"] == pytest.approx(
        [sum(n["rewards"][i] for n in data["nights"]) for i in range(3)], abs=1e-9)
    assert data["final"]["honesty"][0] == 0.0  # the policy always signals the opposite
    loaded = Replay.load(path)
    assert loaded == replay
    assert loaded.to_dict() == data
    replay.save(path)  # overwriting goes through a temporary file too
    assert sorted(p.name for p in path.parent.iterdir()) == ["game.json"]


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600)])
def test_a_saved_replay_has_the_mode_open_would_give(tmp_path: Path, umask: int,
                                                     mode: int) -> None:
    replay = record_game("easy", ["hero", "hero"], seed=0)
    previous = os.umask(umask)
    try:
        path = replay.save(tmp_path / "game.json")
    finally:
        os.umask(previous)
    assert path.stat().st_mode & 0o777 == mode


def test_bad_input_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"agents \[0\] have external seats"):
        record_game("default", [Seat(), "hero"], seed=0)
    with pytest.raises(ValueError, match=r"agents \[2\] have external seats"):
        record_game("default", [Seat(), "hero", Seat()], seed=0, policy={0: lambda obs: [0, 0]})
    with pytest.raises(ValueError, match="policy for agent 1: action house=12"):
        record_game("default", ["hero", Seat()], seed=0, policy=lambda obs: [12, 0])
    with pytest.raises(ValueError, match="unknown strategy 'nope'"):
        record_game("default", ["hero", "nope"])
    replay = record_game("easy", ["hero", "hero"], seed=0)
    with pytest.raises(ValueError, match="outside this replay"):
        replay.render(replay.nights + 1)
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        Replay.load(tmp_path / "bad.json")
    (tmp_path / "other.json").write_text('{"format": "something else"}')
    with pytest.raises(ValueError, match="not a bucket-brigade-replay"):
        Replay.load(tmp_path / "other.json")
    with pytest.raises(ValueError, match=r"replay .*missing\.json. does not exist"):
        Replay.load(tmp_path / "missing.json")


def test_rgb_array_frames_show_houses_and_agents() -> None:
    env = make_env("hard", seed=4, render_mode="rgb_array")
    assert "rgb_array" in env.metadata["render_modes"]
    obs, _ = env.reset()
    frame = env.render()
    assert frame.dtype == np.uint8 and frame.shape == (5 * CELL, 10 * CELL, 3)
    centre = CELL // 2
    for house, state in enumerate(obs[:10].astype(int)):
        assert tuple(frame[centre, house * CELL + 3]) == HOUSE_COLOURS[state]
    for agent in range(4):  # before the first night every agent rested at its home
        row = (1 + agent) * CELL
        assert tuple(frame[row + 1, agent * CELL + 5]) == AGENT_COLOURS[agent]  # REST: a frame
        assert tuple(frame[row + centre, agent * CELL + 5]) == (255, 255, 255)
    env.step(np.array([0, 1]))
    worked = env.render()
    assert tuple(worked[CELL + centre, 5]) == AGENT_COLOURS[0]  # WORK at home: filled
    assert tuple(worked[CELL + centre, centre]) == (255, 255, 255)  # and it signalled WORK


def test_pettingzoo_env_draws_rgb_frames_too() -> None:
    env = parallel_env("default", num_agents=3, seed=0, render_mode="rgb_array")
    env.reset()
    assert env.render().shape == (4 * CELL, 10 * CELL, 3)
