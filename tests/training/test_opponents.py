"""Opponents given as model files or a weighted mix (``training.opponents``), and a lone
learner in any seat: they play as the empirical game plays the same profile."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from bucket_brigade.analysis.contenders import Contender, contender, play_profile
from bucket_brigade.cli import main
from bucket_brigade.game.scenarios import get_scenario
from bucket_brigade.training import train
from bucket_brigade.training.checkpoint import load_checkpoint
from bucket_brigade.training.network import PolicyNetwork
from bucket_brigade.training.seating import make_training_env


@pytest.fixture
def opponent_file(tiny_config) -> Path:
    """A tiny trained cheap-talk model for four agents."""
    return train(tiny_config(run_name="opponent", cheap_talk=True)).model_path


def first_scores(env, learner: PolicyNetwork, seed: int) -> np.ndarray:
    obs, _ = env.reset(seed=seed)
    scores = np.full(env.num_envs, np.nan)
    width = 3 if env.cheap_talk else 2  # play() adds a signal column even without cheap talk
    while np.isnan(scores).any():
        obs, _, terminated, _, info = env.step(learner.play(obs)[:, :width])
        ended = terminated & np.isnan(scores)
        if ended.any():
            scores[ended] = info["final_info"]["score"][ended]
    return scores


@pytest.mark.parametrize("learner_seat", [0, 1, 3])
def test_a_list_with_a_model_plays_as_the_empirical_game_with_the_learner_in_any_seat(
        tiny_config, opponent_file: Path, learner_seat: int) -> None:
    others = ["free_rider", str(opponent_file), "random"]
    config = tiny_config(opponent_policies=",".join(others), cheap_talk=True,
                         learner_seat=learner_seat)
    env = make_training_env(config, seed=11)
    torch.manual_seed(1)
    learner = PolicyNetwork(env.single_observation_space.shape[0], [10, 2, 2], hidden_size=8)
    scores = first_scores(env, learner, 11)
    scenario = get_scenario(config.scenario)
    players = [contender(name, scenario, 4) for name in others]
    players.insert(learner_seat, Contender("learner", policy=learner))
    expected = play_profile(scenario, players, 16, 11).scores[:, learner_seat]
    np.testing.assert_allclose(scores, expected, rtol=1e-6)


def test_a_run_trains_against_a_mix_of_a_model_and_strategies_in_another_seat(
        tiny_config, opponent_file: Path) -> None:
    mix = f"mix:random=0.5,universal_free_rider=0.3,{opponent_file}=0.2"
    result = train(tiny_config(run_name="mixed", opponent_policies=mix, learner_seat=2))
    assert result.step == 512 and result.model_path.is_file()
    saved = load_checkpoint(result.last_checkpoint)["config"]
    assert saved["opponent_policies"] == mix and saved["learner_seat"] == 2


@pytest.mark.parametrize(("extra", "message"), [
    (["--learner-seat", "4"], "--learner-seat 4 must be a seat of the game's 4"),
    (["--learner-seat", "1", "--learners", "2"], "--learner-seat 1 must be"),
    (["--opponent-policies", "mix:hero=0"], "weight '0' of 'hero' must be a positive"),
    (["--opponent-policies", "mix:hero,hero=2"], "lists 'hero' twice"),
    (["--opponent-policies", "mix:0.1,0.2=1"], "2 numbers in a row"),
    (["--opponent-policies", "mix:hero,missing.pt"], "missing.pt"),
    (["--opponent-policies", "mix:planner"], "a planner searches only"),
    (["--opponent-policies", "mix:hero", "--eval-games", "10"], "--eval-games 10 compares"),
    (["--learner-seat", "2", "--eval-games", "10"], "--eval-games 10 compares"),
])
def test_bad_opponents_and_seats_are_refused_before_anything_is_written(
        tmp_path: Path, capsys, extra: list[str], message: str) -> None:
    out = tmp_path / "out"
    code = main(["train", "--steps", "256", "--scenario", "greedy_neighbor", "--num-envs", "16",
                 "--batch-size", "128", "--out-dir", str(out), *extra])
    assert code == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_an_opponent_may_be_one_seat_of_a_per_seat_model(tiny_config, per_seat_model) -> None:
    """``PATH.pt@K`` as an opponent plays seat K's network, as the empirical game plays it."""
    path, networks = per_seat_model()
    others = [f"{path}@2", "free_rider", "random"]
    config = tiny_config(opponent_policies=",".join(others))
    env = make_training_env(config, seed=5)
    torch.manual_seed(1)
    learner = PolicyNetwork(env.single_observation_space.shape[0], [10, 2], hidden_size=8)
    scores = first_scores(env, learner, 5)
    scenario = get_scenario(config.scenario)
    players = [Contender("learner", policy=learner),
               Contender("seat 2", policy=networks[2]),
               *(contender(name, scenario, 4) for name in others[1:])]
    expected = play_profile(scenario, players, 16, 5).scores[:, 0]
    np.testing.assert_allclose(scores, expected, rtol=1e-6)
