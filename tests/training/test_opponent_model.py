"""Training against a trained policy: ``--opponent-model`` seats a frozen, greedy copy of a
model in every opponent seat, exactly as the empirical game of ``nash`` plays it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from bucket_brigade.analysis.contenders import Contender, play_profile
from bucket_brigade.cli import main
from bucket_brigade.game.scenarios import get_scenario
from bucket_brigade.training import train
from bucket_brigade.training.checkpoint import load_checkpoint
from bucket_brigade.training.models import load_policy
from bucket_brigade.training.network import PolicyNetwork
from bucket_brigade.training.seating import make_training_env


@pytest.fixture
def opponent_file(tiny_config) -> Path:
    """A tiny trained cheap-talk model for four agents."""
    return train(tiny_config(run_name="opponent", cheap_talk=True)).model_path


def test_the_model_plays_every_opponent_seat_as_in_the_empirical_game(
        tiny_config, opponent_file: Path) -> None:
    config = tiny_config(opponent_policies=None, opponent_model=str(opponent_file),
                         cheap_talk=True, num_envs=16)
    env = make_training_env(config, seed=11)
    torch.manual_seed(1)
    learner = PolicyNetwork(env.single_observation_space.shape[0], [10, 2, 2], hidden_size=8)
    obs, _ = env.reset(seed=11)
    first_scores = np.full(16, np.nan)
    while np.isnan(first_scores).any():
        obs, _, terminated, _, info = env.step(learner.play(obs))
        ended = terminated & np.isnan(first_scores)
        if ended.any():
            first_scores[ended] = info["final_info"]["score"][ended]
    # The same 16 games, with the learner and the model as contenders of the empirical game.
    opponent = Contender("opponent", policy=load_policy(opponent_file).network)
    expected = play_profile(get_scenario(config.scenario),
                            [Contender("learner", policy=learner), *[opponent] * 3], 16, 11)
    np.testing.assert_allclose(first_scores, expected.scores[:, 0], rtol=1e-6)


def test_a_run_against_a_model_records_it(tiny_config, opponent_file: Path) -> None:
    result = train(tiny_config(run_name="against", opponent_policies=None,
                               opponent_model=str(opponent_file)))
    assert result.step == 512 and result.model_path.is_file()
    assert load_checkpoint(result.last_checkpoint)["config"]["opponent_model"] == \
        str(opponent_file)


@pytest.mark.parametrize(("extra", "message"), [
    (["--opponent-policies", "hero"], "both name the opponents; give one"),
    (["--self-play"], "plays the opponent seats, but every seat learns here"),
    (["--opponents", "2"], "takes observations of size 36, but scenario 'greedy_neighbor' "
                           "with 3 agents gives size 32"),
    (["--eval-games", "10"], "--eval-games 10 compares with scripted opponents"),
])
def test_bad_combinations_exit_2_with_one_line(extra: list[str], message: str, tmp_path: Path,
                                               opponent_file: Path, capsys) -> None:
    code = main(["train", "--scenario", "greedy_neighbor", "--steps", "256", "--num-envs", "16",
                 "--batch-size", "128", "--out-dir", str(tmp_path / "bad"), "--cpu",
                 "--opponent-model", str(opponent_file), *extra])
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1
    assert not (tmp_path / "bad").exists()


def test_a_missing_model_file_exits_2(tmp_path: Path, capsys) -> None:
    missing = tmp_path / "nothing.pt"
    code = main(["train", "--steps", "256", "--out-dir", str(tmp_path), "--opponent-model",
                 str(missing)])
    err = capsys.readouterr().err
    assert code == 2 and f"model file {str(missing)!r} does not exist" in err
