"""Multi-agent training: self-play (one shared policy in every seat), a mix of learners and
scripted opponents, league play against frozen snapshots, and the cheap-talk metrics."""

from __future__ import annotations

import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from bucket_brigade.cli import main
from bucket_brigade.errors import UsageError
from bucket_brigade.training import train
from bucket_brigade.training.checkpoint import load_checkpoint
from bucket_brigade.training.models import load_policy

SELF_PLAY_METRICS = ("selfplay/team_score", "selfplay/work_rate_agent_0",
                     "selfplay/work_rate_agent_3")
CHEAP_TALK_METRICS = ("cheap_talk/honesty", "cheap_talk/mutual_information_bits")


def scalar_tags(run_dir) -> set[str]:
    events = EventAccumulator(str(run_dir))
    events.Reload()
    return set(events.Tags()["scalars"])


def test_self_play_writes_the_usual_outputs_and_extra_scalars(tiny_config, tmp_path) -> None:
    config = tiny_config(self_play=True, opponents=3, cheap_talk=True)
    assert (config.num_learners, config.num_scripted, config.num_agents) == (4, 0, 4)
    result = train(config)
    assert result.step == 512 and result.model_path.is_file()
    tags = scalar_tags(tmp_path / "runs" / "tiny")
    assert {"episode/reward", "train/avg_reward_100ep", *SELF_PLAY_METRICS,
            *CHEAP_TALK_METRICS} <= tags
    checkpoint = load_checkpoint(result.last_checkpoint)
    assert checkpoint["config"]["num_agents"] == 4 and checkpoint["config"]["num_learners"] == 4
    assert checkpoint["network"]["obs_dim"] == 36
    honesty = EventAccumulator(str(tmp_path / "runs" / "tiny"))
    honesty.Reload()
    for tag in CHEAP_TALK_METRICS:
        for event in honesty.Scalars(tag):
            assert 0.0 <= event.value <= 1.0


def test_learners_mix_with_scripted_opponents(tiny_config, tmp_path) -> None:
    config = tiny_config(learners=2, opponents=1)
    assert config.num_agents == 3
    result = train(config)
    tags = scalar_tags(tmp_path / "runs" / "tiny")
    assert {"selfplay/work_rate_agent_0", "selfplay/work_rate_agent_1"} <= tags
    assert "selfplay/work_rate_agent_2" not in tags
    model = load_policy(result.model_path)
    assert model.obs_dim == 32  # 3 agents: H + 4N + 10


def test_league_plays_against_snapshots(tiny_config, tmp_path) -> None:
    result = train(tiny_config(self_play=True, opponents=3, league=0.25,
                               checkpoint_interval=128))
    assert result.step == 512 and result.total_episodes > 0
    assert "league/snapshots" in scalar_tags(tmp_path / "runs" / "tiny")


@pytest.mark.parametrize(("overrides", "message"), [
    ({"self_play": True, "learners": 2}, "--self-play"),
    ({"league": 1.0}, "--league 1.0"),
    ({"learners": 3, "num_envs": 16}, "--num-envs 16"),
])
def test_bad_multi_agent_settings_are_refused(tiny_config, overrides, message) -> None:
    with pytest.raises(UsageError, match=message):
        tiny_config(**overrides).validate()


def test_cli_self_play_and_loader_refuses_other_agent_counts(tmp_path, capsys) -> None:
    code = main(["train", "--self-play", "--opponents", "2", "--scenario", "default",
                 "--steps", "96", "--num-envs", "12", "--batch-size", "48",
                 "--hidden-size", "8", "--checkpoint-interval", "96", "--eval-interval", "48",
                 "--run-name", "sp", "--out-dir", str(tmp_path), "--cpu"])
    assert code == 0
    model = tmp_path / "model_sp.pt"
    weights = torch.load(model, weights_only=True)
    assert weights  # a plain state dict, as for one learner
    capsys.readouterr()
    code = main(["nash", "--scenario", "default", "--strategies", f"hero,{model}",
                 "--games", "10", "--out-dir", str(tmp_path / "nash")])
    err = capsys.readouterr().err
    assert code == 2 and "takes observations of size 32" in err and err.count("\n") == 1
