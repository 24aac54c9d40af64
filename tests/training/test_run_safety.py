"""A training run under hostile input and faults: every setting and checkpoint is checked
before anything is deleted or written, one process at a time writes a run, a resumed run
writes where it was started, and signals end it with one line."""

from __future__ import annotations

import copy
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch

from bucket_brigade.cli import main
from bucket_brigade.io import exclusive_lock
from bucket_brigade.training.checkpoint import RunPaths

from .test_cli import TINY, snapshot, train_cli

ROOT = Path(__file__).resolve().parents[2]


def one_line_error(err: str) -> bool:
    return err.count("\n") == 1 and err.startswith("bucket-brigade train: error: ") \
        and "Traceback" not in err


@pytest.mark.parametrize(("option", "value"), [
    ("--seed", "-1"), ("--seed", "1e30"), ("--lr", "inf"), ("--lr", "1e10"), ("--lr", "nan"),
    ("--ent-coef", "1e308"), ("--vf-coef", "inf"), ("--max-grad-norm", "inf"),
    ("--clip-coef", "-inf"), ("--gamma", "nan"), ("--league", "nan"),
    ("--hidden-size", "1e8"), ("--num-envs", "1e8"), ("--batch-size", "1e12"),
    ("--epochs", "1e9"), ("--threads", "2000"), ("--eval-games", "1e15"), ("--eval-seed", "-1"),
])
def test_out_of_range_settings_are_refused_before_anything(option, value, capsys,
                                                            tmp_path) -> None:
    code, _, err = train_cli(capsys, tmp_path / "out", *TINY, "--run-name", "r",
                             f"{option}={value}")
    assert code == 2 and one_line_error(err), err
    assert option in err and not any(tmp_path.iterdir())


def test_overwrite_keeps_the_old_run_when_the_new_settings_are_bad(capsys, tmp_path) -> None:
    assert train_cli(capsys, tmp_path, *TINY, "--run-name", "r")[0] == 0
    before = snapshot(tmp_path)
    code, _, err = train_cli(capsys, tmp_path, *TINY, "--run-name", "r", "--overwrite",
                             "--seed", "-1")
    assert code == 2 and "--seed" in err and "-1" in err
    assert snapshot(tmp_path) == before


def test_a_second_process_on_the_same_run_is_refused(capsys, tmp_path) -> None:
    paths = RunPaths(tmp_path, "r")
    with exclusive_lock(paths.lock_path, "the first run"):
        code, _, err = train_cli(capsys, tmp_path, *TINY, "--run-name", "r")
        assert code == 2 and one_line_error(err) and "in use by another process" in err
        assert [p.name for p in tmp_path.iterdir()] == [".r.lock"]
    # The lock file left behind (as a killed run leaves it) blocks nothing.
    assert train_cli(capsys, tmp_path, *TINY, "--run-name", "r")[0] == 0


def test_a_run_refused_as_existing_writes_not_even_its_lock(capsys, tmp_path) -> None:
    (tmp_path / "runs" / "r").mkdir(parents=True)
    code, _, err = train_cli(capsys, tmp_path, *TINY, "--run-name", "r")
    assert code == 2 and one_line_error(err) and "run 'r' already exists" in err
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["r", "runs"]


def test_a_run_name_that_is_not_utf8_is_refused(capsys, tmp_path) -> None:
    name = os.fsdecode(b"r\xff")  # what Python makes of the bytes on the command line
    code, _, err = train_cli(capsys, tmp_path, *TINY, "--run-name", name)
    assert code == 2 and one_line_error(err) and "of UTF-8 text" in err, err
    assert list(tmp_path.iterdir()) == []


# What a full disk looks like to each writer of a run, set up in a real `train` process.
FULL_DISK = {
    "TensorBoard's writer thread": "from tensorboard.summary.writer import record_writer as m\n"
                                   "m.RecordWriter.write = full\n",
    "a checkpoint": "import torch\ntorch.save = full\n",
}


@pytest.mark.parametrize("writer", FULL_DISK)
def test_a_full_disk_is_one_line_and_exit_1(writer: str, tmp_path) -> None:
    script = ("import errno, sys\n"
              "def full(*args, **kwargs):\n"
              "    raise OSError(errno.ENOSPC, 'No space left on device')\n"
              f"{FULL_DISK[writer]}"
              "from bucket_brigade.cli import main\nsys.exit(main())\n")
    done = subprocess.run([sys.executable, "-c", script, "train", "--out-dir", str(tmp_path),
                           *TINY, "--run-name", "r"], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    assert (done.returncode, done.stderr) == (
        1, "bucket-brigade train: error: [Errno 28] No space left on device\n")


def test_a_lock_is_released_when_its_process_is_killed(tmp_path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", "import signal; from bucket_brigade.io import exclusive_lock\n"
         f"with exclusive_lock({str(tmp_path / 'x.lock')!r}, 'x'):\n"
         "    print('held', flush=True); signal.pause()"],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    with pytest.raises(ValueError, match="in use"), exclusive_lock(tmp_path / "x.lock", "x"):
        pass
    holder.kill()
    holder.wait()
    with exclusive_lock(tmp_path / "x.lock", "x"):
        pass


def test_resume_from_another_folder_writes_into_the_run(capsys, tmp_path,
                                                        monkeypatch) -> None:
    (tmp_path / "first").mkdir()
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "first")
    assert main(["train", *TINY, "--run-name", "r", "--out-dir", "out"]) == 0
    checkpoint = tmp_path / "first" / "out" / "checkpoints" / "r" / "checkpoint_step_256.pt"
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert main(["train", "--resume", str(checkpoint), "--steps", "384"]) == 0
    capsys.readouterr()
    assert (checkpoint.parent / "checkpoint_step_384.pt").is_file()
    assert not any((tmp_path / "elsewhere").iterdir())


def test_a_run_name_too_long_for_its_files_is_refused_at_once(capsys, tmp_path) -> None:
    for length in (250, 300):
        code, _, err = train_cli(capsys, tmp_path, *TINY, "--run-name", "n" * length)
        assert code == 2 and one_line_error(err) and "--run-name" in err
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("where", ["out-dir is a file", "model path is a folder",
                                   "run folder is a file", "out-dir is /dev/null",
                                   "out-dir is read-only"])
def test_unwritable_run_paths_are_refused_before_training(where, capsys, tmp_path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    if where == "out-dir is a file":
        out = tmp_path / "file"
        out.write_text("x")
    elif where == "model path is a folder":
        (out / "model_r.pt").mkdir()
    elif where == "run folder is a file":
        (out / "runs").write_text("x")
    elif where == "out-dir is /dev/null":
        out = Path("/dev/null")
    else:
        if os.geteuid() == 0:
            pytest.skip("root may write anywhere")
        out.chmod(0o555)
    before = snapshot(tmp_path)
    code, _, err = train_cli(capsys, out, *TINY, "--run-name", "r")
    assert code == 2 and one_line_error(err), err
    assert snapshot(tmp_path) == before


def test_stale_temp_files_of_the_run_are_removed_at_the_next_start(capsys, tmp_path) -> None:
    assert train_cli(capsys, tmp_path, *TINY, "--run-name", "r", "--steps", "128")[0] == 0
    folder = tmp_path / "checkpoints" / "r"
    stale = folder / ".checkpoint_step_256.pt.a1b2c3d4.tmp"
    stale.write_bytes(b"half a checkpoint")
    unrelated = folder / ".notes.tmp"
    unrelated.write_text("mine")
    old = time.time() - 60
    for path in (stale, unrelated):
        os.utime(path, (old, old))
    code, _, _ = train_cli(capsys, tmp_path, "--resume", str(folder / "checkpoint_step_128.pt"),
                           "--steps", "256")
    assert code == 0
    assert not stale.exists() and unrelated.exists()


def test_a_starting_run_leaves_the_temporary_files_of_others_in_its_folder(capsys,
                                                                          tmp_path) -> None:
    """Runs share their output folder with other runs and a sweep's tables: a run that
    starts while another run writes its model file, or the sweep its results.csv, must not
    remove their temporary files (it did, and their renames failed)."""
    others = [tmp_path / ".model_other.pt.a1b2c3d4.tmp", tmp_path / ".results.csv.e5f6g7h8.tmp"]
    own = tmp_path / ".model_r.pt.a1b2c3d4.tmp"
    old = time.time() - 60
    for path in (*others, own):
        path.write_bytes(b"being written")
        os.utime(path, (old, old))
    assert train_cli(capsys, tmp_path, *TINY, "--run-name", "r", "--steps", "128")[0] == 0
    assert all(path.exists() for path in others) and not own.exists()


def _damage(kind: str, checkpoint: dict[str, Any]) -> Any:
    """The checkpoint with one kind of structural damage."""
    if kind == "not a dict":
        return [checkpoint]
    damaged = copy.deepcopy(checkpoint)
    weights, optimizer = damaged["model_state_dict"], damaged["optimizer_state_dict"]
    head = "body.intent_head.weight"  # the intent head's weights, in both kinds of network
    if kind == "weights of a wrong shape":
        weights["body.torso.0.weight"] = torch.zeros(3, 3)
    elif kind == "a weight missing":
        del weights[head]
    elif kind == "NaN weights":
        weights[head] = torch.full_like(weights[head], torch.nan)
    elif kind == "step not an int":
        damaged["step"] = "128"
    elif kind == "step a float":
        damaged["step"] = 128.5
    elif kind == "empty optimizer state":
        damaged["optimizer_state_dict"] = {}
    elif kind == "optimizer moments of a wrong shape":
        next(iter(optimizer["state"].values()))["exp_avg"] = torch.zeros(7)
    elif kind == "optimizer for other parameters":
        optimizer["param_groups"][0]["params"] = [0, 1]
    elif kind == "optimizer lr not a number":
        optimizer["param_groups"][0]["lr"] = "fast"
    elif kind == "reward_normalizer missing":
        del damaged["reward_normalizer"]
    elif kind == "reward_normalizer negative variance":
        damaged["reward_normalizer"]["var"] = -1.0
    elif kind == "episode history not lists":
        damaged["episode_history"]["rewards"] = "many"
    elif kind == "network sizes not integers":
        damaged["network"]["hidden_size"] = "16"
    elif kind == "config not a table":
        damaged["config"] = ["steps"]
    elif kind == "config with a bad value":
        damaged["config"]["seed"] = -3
    elif kind == "config with a mistyped flag":
        damaged["config"]["action_mask"] = "no"
    elif kind.startswith("network of hidden size"):
        damaged["network"]["hidden_size"] = int(float(kind.rpartition(" ")[2]))
    elif kind == "a weight declared huge":  # one element on disk, a huge network
        rows = weights["body.torso.0.weight"].shape[1]
        weights["body.torso.0.weight"] = torch.zeros(1).expand(100_000, rows)
    elif kind in ("half-precision weights", "integer weights"):
        dtype = torch.float16 if kind.startswith("half") else torch.int32
        damaged["model_state_dict"] = {k: v.to(dtype) if v.is_floating_point() else v
                                       for k, v in weights.items()}
    elif kind == "network switch a tensor":
        damaged["network"]["action_mask"] = torch.tensor([])
    elif kind == "config with tensors for names":
        damaged["config"]["run_name"] = damaged["config"]["scenario"] = torch.zeros(3)
    return damaged


DAMAGE = ("not a dict", "weights of a wrong shape", "a weight missing", "NaN weights",
          "step not an int", "step a float", "empty optimizer state",
          "optimizer moments of a wrong shape", "optimizer for other parameters",
          "optimizer lr not a number", "reward_normalizer missing",
          "reward_normalizer negative variance", "episode history not lists",
          "network sizes not integers", "config not a table", "config with a bad value",
          "config with a mistyped flag", "network of hidden size 1e5",
          "network of hidden size 1e12", "a weight declared huge", "half-precision weights",
          "integer weights", "network switch a tensor", "config with tensors for names")


@pytest.fixture(scope="module")
def good_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("run")
    assert main(["train", "--out-dir", str(out), *TINY, "--run-name", "r", "--steps", "128"]) == 0
    return torch.load(out / "checkpoints" / "r" / "checkpoint_step_128.pt", weights_only=True)


@pytest.mark.parametrize("kind", DAMAGE)
def test_a_damaged_checkpoint_is_refused_before_any_work(kind, good_checkpoint, capsys,
                                                         tmp_path) -> None:
    path = tmp_path / "checkpoints" / "r" / "checkpoint_step_128.pt"
    path.parent.mkdir(parents=True)
    torch.save(_damage(kind, good_checkpoint), path)
    before = snapshot(tmp_path)
    code, _, err = train_cli(capsys, tmp_path, "--resume", str(path), "--steps", "512")
    assert code == 2 and one_line_error(err), err
    assert repr(str(path)) in err
    assert snapshot(tmp_path) == before


def test_nan_weights_in_a_model_file_are_refused(good_checkpoint, capsys, tmp_path) -> None:
    model = tmp_path / "model_x.pt"
    torch.save(_damage("NaN weights", good_checkpoint)["model_state_dict"], model)
    code = main(["evaluate", str(model), "--scenarios", "greedy_neighbor", "--strategies",
                 "none", "--games", "2", "--out-dir", str(tmp_path / "eval")])
    err = capsys.readouterr().err
    assert code == 2 and "NaN or infinite weights" in err and err.count("\n") == 1


MODEL_COMMANDS = {
    "evaluate": ["evaluate", "{model}", "--scenarios", "greedy_neighbor", "--strategies", "none",
                 "--games", "2"],
    "replay": ["replay", "--model", "{model}", "--scenario", "greedy_neighbor"],
    "nash": ["nash", "--strategies", "hero,{model}", "--scenario", "greedy_neighbor", "--games",
             "2", "--br-generations", "0"],
    "train": ["train", "--opponent-model", "{model}", *TINY[:-2]],
}


@pytest.mark.parametrize("kind", ["a weight declared huge", "half-precision weights",
                                  "integer weights", "network of hidden size 1e12",
                                  "network of hidden size 1e5"])
@pytest.mark.parametrize("command", MODEL_COMMANDS)
def test_a_model_of_extreme_or_mistyped_weights_is_refused(command, kind, good_checkpoint,
                                                           capsys, tmp_path,
                                                           monkeypatch) -> None:
    """Sizes read from a model file are checked before the network is allocated (a small
    file must not ask for a huge network); weights of another type are refused, not
    converted."""
    monkeypatch.chdir(tmp_path)
    model = tmp_path / "model_x.pt"
    damaged = _damage(kind, good_checkpoint)
    torch.save(damaged if kind.startswith("network") else damaged["model_state_dict"], model)
    code = main([a.format(model=model) for a in MODEL_COMMANDS[command]])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1, err
    assert err.startswith(f"bucket-brigade {command}: error: model file {str(model)!r}"), err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model_x.pt"]


def _start_training(tmp_path: Path, ignore_sigint: bool = False) -> subprocess.Popen:
    """A real `bucket-brigade train` process, long enough to be signalled; returns once it
    trains (its first TensorBoard event file exists)."""
    setup: Callable[[], Any] | None = \
        (lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if ignore_sigint else None
    command = subprocess.Popen(
        [sys.executable, "-c", "import sys; from bucket_brigade.cli import main; "
         "sys.exit(main())", "train", *TINY, "--steps", "100000000", "--checkpoint-interval",
         "1000000", "--run-name", "r", "--out-dir", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, preexec_fn=setup,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    # The event file is opened inside the training loop, after its signal handlers are set.
    while not list((tmp_path / "runs" / "r").glob("events.*")):
        assert command.poll() is None, command.communicate()[1]
        time.sleep(0.2)  # polling for the event file, not a deadline
    return command


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_twice_is_one_line_and_its_exit_code(signum, code, tmp_path) -> None:
    command = _start_training(tmp_path)
    command.send_signal(signum)
    time.sleep(0.05)
    command.send_signal(signum)
    _, err = command.communicate()
    assert command.returncode == code, err
    assert "Traceback" not in err and err.count("\n") <= 1, err


def test_ctrl_c_stops_a_run_started_with_sigint_ignored(tmp_path) -> None:
    """A background job of a script starts with SIGINT ignored; the run still stops."""
    command = _start_training(tmp_path, ignore_sigint=True)
    command.send_signal(signal.SIGINT)
    _, err = command.communicate()
    assert command.returncode == 130, err
    assert list((tmp_path / "checkpoints" / "r").glob("checkpoint_step_*.pt"))
