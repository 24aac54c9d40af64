"""The training loop: it learns, writes train_gpu.py's files and metrics, resumes,
stops cleanly on a signal and is reproducible."""

from __future__ import annotations

import io
import os
import signal

import numpy as np
import pytest
import torch
from rich.console import Console
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from bucket_brigade.evaluation import evaluate, paired_difference
from bucket_brigade.training import PolicyNetwork, benchmark_training, time_to_quality, train
from bucket_brigade.training.checkpoint import CHECKPOINT_KEYS, load_checkpoint
from bucket_brigade.training.monitor import TrainingMonitor

SEED_METRICS = ("episode/reward", "episode/length", "train/avg_reward_100ep",
                "train/steps_per_sec", "train/total_episodes")
PPO_METRICS = ("losses/policy_loss", "losses/value_loss", "losses/entropy",
               "losses/approx_kl", "losses/clipfrac", "losses/explained_variance",
               "charts/learning_rate")
EVAL_METRICS = ("eval/mean_score", "eval/houses_saved", "eval/work_rate")
CHEAP_TALK_METRICS = ("eval/signal_honesty", "cheap_talk/honesty",
                      "cheap_talk/mutual_information_bits")


def test_training_improves_on_the_starting_policy(tiny_config) -> None:
    """A few seconds on trivial_cooperation: the starting policy works on half of the nights
    with a fire; the trained one must score better on the same 500 games (common random
    numbers make the paired difference precise; measured: +5.9 with a 95% CI of +-1.0)."""
    config = tiny_config(scenario="trivial_cooperation", steps=30_720, num_envs=128,
                         batch_size=1024, minibatches=4, lr=1e-3, hidden_size=64,
                         checkpoint_interval=30_720, eval_interval=30_720)
    result = train(config)
    torch.manual_seed(config.seed)  # train() builds its network right after this seeding
    start = PolicyNetwork(36, [10, 2], hidden_size=64)
    trained = PolicyNetwork(36, [10, 2], hidden_size=64)
    trained.load_state_dict(torch.load(result.model_path, weights_only=True))
    before, after = (evaluate(policy, config.scenario, "random", 3, games=500, seed=11,
                              sample=True) for policy in (start, trained))
    gain, ci95 = paired_difference(after, before)
    assert gain - ci95 > 1.5, (before.mean_score, after.mean_score, ci95)


def test_outputs_follow_the_seed_layout(tiny_config, tmp_path) -> None:
    result = train(tiny_config())
    assert result.step == 512 and result.stopped_by is None
    run = tmp_path / "runs" / "tiny"
    assert (run / "config.json").is_file()
    assert any(p.name.startswith("events.out.tfevents") for p in run.iterdir())
    assert sorted(p.name for p in (tmp_path / "checkpoints" / "tiny").iterdir()) == \
        ["checkpoint_step_256.pt", "checkpoint_step_512.pt"]
    final = torch.load(tmp_path / "model_tiny.pt", weights_only=True)
    policy = PolicyNetwork(36, [10, 2], hidden_size=16)
    policy.load_state_dict(final)


def test_checkpoint_keys_and_safe_loading(tiny_config, tmp_path) -> None:
    train(tiny_config())
    checkpoint = torch.load(tmp_path / "checkpoints" / "tiny" / "checkpoint_step_512.pt",
                            weights_only=True)
    assert set(CHECKPOINT_KEYS) <= set(checkpoint)
    assert checkpoint["step"] == 512
    assert checkpoint["network"] == {"obs_dim": 36, "action_dims": [10, 2], "hidden_size": 16,
                                     "policy": "structured", "action_mask": True}
    history = checkpoint["episode_history"]
    assert history["total_episodes"] >= len(history["rewards"]) > 0
    assert len(history["rewards"]) == len(history["lengths"])
    policy = PolicyNetwork(**checkpoint["network"])
    policy.load_state_dict(checkpoint["model_state_dict"])
    optimizer = torch.optim.Adam(policy.parameters())
    optimizer.load_state_dict(checkpoint["optimizer_state_dict"])


def _events(folder) -> EventAccumulator:
    events = EventAccumulator(str(folder))
    events.Reload()
    return events


def test_tensorboard_has_the_seed_metric_names(tiny_config, tmp_path) -> None:
    """Every run logs the specification's names, the PPO diagnostics and eval/*; signal
    metrics only with cheap talk (without it a signal is the mode: honest by construction)."""
    train(tiny_config())
    events = _events(tmp_path / "runs" / "tiny")
    tags = set(events.Tags()["scalars"])
    assert set(SEED_METRICS + PPO_METRICS + EVAL_METRICS) <= tags
    assert not tags & set(CHEAP_TALK_METRICS)
    assert [e.step for e in events.Scalars("train/total_episodes")] == [128, 256, 384, 512]
    train(tiny_config(cheap_talk=True, run_name="talk"))
    assert set(CHEAP_TALK_METRICS) <= set(_events(tmp_path / "runs" / "talk").Tags()["scalars"])


def test_resume_continues_to_the_target(tiny_config, tmp_path) -> None:
    first = train(tiny_config(steps=256))
    checkpoint = load_checkpoint(first.last_checkpoint)
    resumed = train(tiny_config(steps=640), checkpoint)
    assert resumed.step == 640
    assert resumed.total_episodes > first.total_episodes
    final = load_checkpoint(tmp_path / "checkpoints" / "tiny" / "checkpoint_step_640.pt")
    assert final["step"] == 640
    events = EventAccumulator(str(tmp_path / "runs" / "tiny"))
    events.Reload()
    assert [e.step for e in events.Scalars("train/total_episodes")] == \
        [128, 256, 384, 512, 640]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_saves_a_checkpoint_and_stops(tiny_config, tmp_path, monkeypatch,
                                               signum) -> None:
    """The signal arrives during the first update; the run finishes that update, saves a
    checkpoint there and writes no final model."""
    end_update = TrainingMonitor.end_update

    def signal_once(self, step, diagnostics):
        end_update(self, step, diagnostics)
        if step == 128:
            os.kill(os.getpid(), signum)

    monkeypatch.setattr(TrainingMonitor, "end_update", signal_once)
    previous = signal.getsignal(signum)
    result = train(tiny_config())
    assert result.stopped_by == signum and result.step == 128
    assert load_checkpoint(result.last_checkpoint)["step"] == 128
    assert not (tmp_path / "model_tiny.pt").exists()
    assert signal.getsignal(signum) is previous


def test_same_seed_same_weights(tiny_config, tmp_path) -> None:
    first = train(tiny_config(steps=256, run_name="a"))
    second = train(tiny_config(steps=256, run_name="b"))
    other = train(tiny_config(steps=256, run_name="c", seed=4))
    weights = [torch.load(r.model_path, weights_only=True) for r in (first, second, other)]
    for name, tensor in weights[0].items():
        torch.testing.assert_close(weights[1][name], tensor, rtol=0, atol=0)
    assert any(not torch.equal(weights[2][name], t) for name, t in weights[0].items())


def test_benchmark_reports_speed_and_memory() -> None:
    figures = benchmark_training(steps=256, num_envs=16, batch_size=128, hidden_size=16,
                                 cpu=True)
    assert figures["steps"] == 256 and figures["steps_per_sec"] > 0
    assert figures["peak_rss_mb"] > 10 and figures["device"] == "cpu"
    assert figures["settings"]["num_envs"] == 16


QUALITY_SETTINGS = {"num_envs": 64, "batch_size": 128, "hidden_size": 16, "cpu": True,
                    "eval_games": 200, "eval_every": 256, "max_steps": 1024}


def test_time_to_quality_checks_every_interval_until_the_last_step() -> None:
    """On greedy_neighbor against random opponents, 1,024 steps are far too few to beat
    hero: the run checks after the first update, after every 256 steps, and at its end."""
    figures = time_to_quality(baseline="hero", **QUALITY_SETTINGS)
    assert not figures["reached"] and figures["steps"] == 1024
    assert [check[0] for check in figures["checks"]] == [128, 384, 640, 896, 1024]
    assert figures["difference"] < 0 and figures["seconds"] > 0
    assert figures["eval_seconds"] > 0 and figures["device"] == "cpu"


def test_time_to_quality_stops_at_the_first_check_whose_interval_clears_the_margin(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Games in which the learner scores 0.1 more than the baseline on average (a tie at
    200 games), then 2.2, then 9 at the third check: with a margin of 2 points, the
    second check (about 2.2 ± 1) beats the baseline but by too little, the third is
    enough."""
    import bucket_brigade.training.bench as bench

    rng = np.random.default_rng(0)
    means = iter([0.0, 0.1, 2.2, 9.0])  # the baseline's, then the learner's at each check

    def judged(*args: object, **kwargs: object) -> object:
        return type("Result", (), {"games": 200, "scores": rng.normal(next(means), 5, 200)})()

    monkeypatch.setattr(bench, "evaluate", judged)
    figures = time_to_quality(baseline="hero", margin=2.0, **QUALITY_SETTINGS)
    assert figures["reached"] and figures["steps"] == 640 and figures["margin"] == 2.0
    assert [difference - ci95 > 2 for _, _, difference, ci95 in figures["checks"]] \
        == [False, False, True]
    assert figures["checks"][1][2] - figures["checks"][1][3] > 0  # beats it, by too little


@pytest.mark.parametrize("terminal", [True, False])
def test_console_progress_with_and_without_a_terminal(tiny_config, terminal) -> None:
    """A terminal gets the live bar; a file or pipe (CI, nohup) gets plain status lines."""
    output = io.StringIO()
    train(tiny_config(), console=Console(file=output, force_terminal=terminal, width=120))
    text = output.getvalue()
    assert text.count("checkpoint_step_") == 2  # one status line per checkpoint
    assert ("\x1b[" in text) == terminal  # cursor control only for a terminal


@pytest.mark.parametrize("threads", [1, 2])
def test_the_runs_thread_count_holds_for_the_whole_run(tiny_config, kernel_threads,
                                                        threads: int) -> None:
    """The engine runs on the thread count the trainer sets (--threads), in every kernel
    call of the run, even with a batch large enough for the engine to go parallel."""
    import numba

    if threads > numba.config.NUMBA_NUM_THREADS:
        pytest.skip(f"Numba's pool has {numba.config.NUMBA_NUM_THREADS} thread(s) here")
    before = numba.get_num_threads(), torch.get_num_threads()
    try:
        train(tiny_config(num_envs=512, batch_size=1024, steps=2048, minibatches=1,
                          threads=threads))
        assert numba.get_num_threads() == threads and torch.get_num_threads() == threads
    finally:
        numba.set_num_threads(before[0])
        torch.set_num_threads(before[1])
    assert len(kernel_threads) >= 2 and set(kernel_threads) == {threads}
