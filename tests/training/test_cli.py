"""``bucket-brigade train`` and ``experiments/marl/train_gpu.py``: the seed's options, exit
codes, and bad input as one line on stderr (exit 2) that leaves the disk as it was."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from bucket_brigade.cli import main
from bucket_brigade.training.monitor import TrainingMonitor

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--steps", "256", "--num-envs", "16", "--batch-size", "128", "--hidden-size", "16",
        "--checkpoint-interval", "128", "--eval-interval", "128", "--cpu",
        "--scenario", "greedy_neighbor", "--opponent-policies", "random"]
SEED_OPTIONS = ("--steps", "--scenario", "--opponents", "--run-name", "--batch-size",
                "--epochs", "--lr", "--checkpoint-interval", "--eval-interval", "--cpu")


def train_cli(capsys, out_dir: Path, *argv: str) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of ``bucket-brigade train``; argparse's refusals exit
    from inside ``main`` (SystemExit), the command's own are returned."""
    try:
        code = main(["train", "--out-dir", str(out_dir), *argv])
    except SystemExit as exit_info:
        code = exit_info.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def snapshot(folder: Path) -> dict[str, tuple[int, bytes]]:
    return {str(p.relative_to(folder)): (p.stat().st_mtime_ns, p.read_bytes())
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_help_lists_the_seed_options(capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--help"])
    text = capsys.readouterr().out
    assert exit_info.value.code == 0
    for option in SEED_OPTIONS:
        assert option in text
    assert "10_000_000" in text and "trivial_cooperation" in text


def test_a_run_writes_everything_and_resumes(capsys, tmp_path) -> None:
    code, out, _ = train_cli(capsys, tmp_path, *TINY, "--run-name", "r")
    assert code == 0
    assert "model_r.pt" in out and "checkpoint_step_256.pt" in out
    checkpoint = tmp_path / "checkpoints" / "r" / "checkpoint_step_256.pt"
    code, out, _ = train_cli(capsys, tmp_path, "--resume", str(checkpoint), "--steps", "384")
    assert code == 0
    assert (tmp_path / "checkpoints" / "r" / "checkpoint_step_384.pt").is_file()


@pytest.mark.parametrize(("argv", "message"), [
    (["--scenario", "nowhere"], "unknown scenario 'nowhere'"),
    (["--opponent-policies", "firefighter,nobody"], "unknown strategy 'nobody'"),
    (["--steps", "0"], "--steps 0 must be an integer from 1 to"),
    (["--steps", "-5"], "argument --steps: '-5' is negative"),
    (["--batch-size", "100"], "--batch-size 100 is not a multiple of --num-envs 16"),
    (["--resume", "missing.pt"], "checkpoint 'missing.pt' does not exist"),
    (["--run-name", "done"], "run 'done' already exists"),
    (["--work-bias", "11"], "--work-bias 11.0 must be a number in [-10, 10]"),
    (["--action-mask-steps", "256"], "--action-mask-steps 256 must be an integer from 1 to 255"),
    (["--action-mask-steps", "100", "--no-action-mask"], "it needs --action-mask, not"),
])
def test_bad_input_is_one_line_and_touches_nothing(capsys, tmp_path, monkeypatch, argv,
                                                   message) -> None:
    monkeypatch.chdir(tmp_path)
    assert train_cli(capsys, tmp_path, *TINY, "--run-name", "done")[0] == 0
    before = snapshot(tmp_path)
    code, _, err = train_cli(capsys, tmp_path, *TINY, *argv)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and message in err, err
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize(("option", "first", "then", "message"), [
    ("--work-bias", "1", "2", "--work-bias 2.0 differs from the resumed run's 1.0"),
    ("--action-mask-steps", "128", "200", "--action-mask-steps 200 differs from the resumed "
                                          "run's 128"),
])
def test_a_resumed_run_keeps_its_start_and_its_masks_schedule(capsys, tmp_path, option, first,
                                                               then, message) -> None:
    assert train_cli(capsys, tmp_path, *TINY, "--run-name", "r", option, first)[0] == 0
    checkpoint = tmp_path / "checkpoints" / "r" / "checkpoint_step_128.pt"
    code, _, err = train_cli(capsys, tmp_path, "--resume", str(checkpoint), option, then)
    assert code == 2 and message in err


def test_a_run_killed_after_its_last_checkpoint_can_finish(capsys, tmp_path) -> None:
    """The model of a run at its --steps is its last checkpoint's weights: the original
    command says which checkpoint to resume, and resuming it (at or past --steps) writes
    the model and the evaluation."""
    assert train_cli(capsys, tmp_path, *TINY, "--run-name", "r")[0] == 0
    model = tmp_path / "model_r.pt"
    model.unlink()
    last = tmp_path / "checkpoints" / "r" / "checkpoint_step_256.pt"
    code, _, err = train_cli(capsys, tmp_path, *TINY, "--run-name", "r")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert f"finish it with --resume {last} " in err and not model.exists()

    code, out, _ = train_cli(capsys, tmp_path, "--resume", str(last))
    assert code == 0 and "Finishing r" in out
    weights = torch.load(last, weights_only=True)["model_state_dict"]
    saved = torch.load(model, weights_only=True)
    assert saved.keys() == weights.keys()
    assert all(torch.equal(saved[name], weights[name]) for name in weights)

    model.unlink()
    code, _, _ = train_cli(capsys, tmp_path, "--resume", str(last), "--steps", "128",
                           "--eval-games", "4")
    assert code == 0 and model.is_file()
    assert (tmp_path / "runs" / "r" / "evaluation.json").is_file()
    assert sorted(p.name for p in last.parent.iterdir()) == \
        ["checkpoint_step_128.pt", "checkpoint_step_256.pt"]


def test_a_corrupt_checkpoint_is_refused(capsys, tmp_path) -> None:
    broken = tmp_path / "checkpoint_step_1.pt"
    broken.write_bytes(b"not a checkpoint")
    code, _, err = train_cli(capsys, tmp_path, "--resume", str(broken))
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "is not a PyTorch file" in err
    assert broken.read_bytes() == b"not a checkpoint"


def test_overwrite_replaces_a_run(capsys, tmp_path) -> None:
    train_cli(capsys, tmp_path, *TINY, "--run-name", "r", "--steps", "384")
    code, _, _ = train_cli(capsys, tmp_path, *TINY, "--run-name", "r", "--overwrite")
    assert code == 0
    assert sorted(p.name for p in (tmp_path / "checkpoints" / "r").iterdir()) == \
        ["checkpoint_step_128.pt", "checkpoint_step_256.pt"]


def test_sigterm_exits_143_with_a_checkpoint(capsys, tmp_path, monkeypatch) -> None:
    end_update = TrainingMonitor.end_update

    def terminate(self, step, diagnostics):
        end_update(self, step, diagnostics)
        os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(TrainingMonitor, "end_update", terminate)
    code, out, _ = train_cli(capsys, tmp_path, *TINY, "--run-name", "r")
    assert code == 128 + signal.SIGTERM
    assert (tmp_path / "checkpoints" / "r" / "checkpoint_step_128.pt").is_file()
    assert "--resume" in out and not (tmp_path / "model_r.pt").exists()


def test_train_gpu_script_is_the_same_command(tmp_path) -> None:
    script = ROOT / "experiments" / "marl" / "train_gpu.py"
    done = subprocess.run([sys.executable, str(script), "--steps", "0"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip() == \
        "bucket-brigade train: error: --steps 0 must be an integer from 1 to 1,000,000,000,000"
    assert not any(tmp_path.iterdir())


def test_evolved_opponents_resolve_to_the_training_scenario(tmp_path) -> None:
    """`evolved` inside --opponent-policies means the evolved strategy of --scenario."""
    from bucket_brigade.agents.strategies import evolved_params
    from bucket_brigade.training.config import TrainConfig
    from bucket_brigade.training.seating import make_training_env

    config = TrainConfig(scenario="greedy_neighbor",
                         opponent_policies="pool:random,firefighter,free_rider,evolved",
                         out_dir=str(tmp_path), num_envs=4, batch_size=8)
    config.validate()
    pool = make_training_env(config, seed=0).games.seats[1].pool
    assert pool[-1] == evolved_params("greedy_neighbor")
    assert evolved_params("greedy_neighbor") != evolved_params(TrainConfig().scenario)


@pytest.mark.parametrize("options, expected", [
    ({}, "learner vs 3 opponents (random, random, firefighter)"),
    ({"opponents": 5}, "learner vs 5 opponents (random, random, firefighter, coordinator, "
                       "random)"),
    ({"opponents": 1, "opponent_policies": "hero,liar"}, "learner vs 1 opponent (hero)"),
    ({"opponent_policies": "pool:hero,liar"},
     "learner vs 3 opponents (pool:hero,liar, pool:hero,liar, pool:hero,liar)"),
    ({"learners": 2, "opponents": 2}, "2 learners vs 2 opponents (random, random)"),
    ({"self_play": True}, "self-play, 4 learners"),
])
def test_the_run_header_names_only_the_seats_that_play(options: dict, expected: str) -> None:
    from bucket_brigade.training.cli import _seating
    from bucket_brigade.training.config import TrainConfig

    assert _seating(TrainConfig(**options)) == expected
