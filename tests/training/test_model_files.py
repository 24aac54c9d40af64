"""Files that are not trained models: one line naming the file, for every command that
reads one, and never torch's own text (it suggests weights_only=False, which would run
code from the file)."""

from __future__ import annotations

import io
import os
import pickle
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import torch

from bucket_brigade.agents.strategies import is_model_name, split_seat
from bucket_brigade.cli import main
from bucket_brigade.errors import UsageError
from bucket_brigade.game.scenarios import get_scenario
from bucket_brigade.training.models import load_policy
from bucket_brigade.training.network import PolicyNetwork


class Payload:
    """Any object: unpickling it needs code, which weights_only refuses."""


def _zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("data.pkl", b"not a pickle")
    return buffer.getvalue()


def _torch_bytes(payload: object) -> bytes:
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    return buffer.getvalue()


MODEL_FILES = {
    "text": b"hello\n",
    "empty": b"",
    "random bytes": bytes(range(256)) * 4,
    "a zip": _zip_bytes(),
    "a pickle of an object": pickle.dumps(Payload()),
    "a torch file of an object": _torch_bytes({"x": Payload()}),
    "a torch file of a list": _torch_bytes([1, 2]),
    "a state dict of numbers": _torch_bytes({"model_state_dict": 5, "config": [1]}),
    "a state dict of strings": _torch_bytes({"torso.0.weight": "x", "policy_head.weight": "y",
                                             "house_scorer.0.weight": "z"}),
    "a weight of no dimensions": _torch_bytes(
        {**PolicyNetwork(get_scenario("easy").obs_dim(4), [10, 2], hidden_size=8).state_dict(),
         "body.intent_head.weight": torch.tensor(0.0)}),
}
COMMANDS = {
    "evaluate": ["evaluate", "--scenarios", "easy", "--strategies", "none", "--games", "2"],
    "nash": ["nash", "--strategies", "hero,{model}", "--games", "2", "--br-generations", "0"],
    "replay": ["replay", "--model", "{model}"],
    "train": ["train", "--opponent-model", "{model}", "--steps", "128", "--cpu"],
}


@pytest.mark.parametrize("content", MODEL_FILES)
@pytest.mark.parametrize("command", COMMANDS)
def test_a_file_that_is_not_a_model_is_one_line(command: str, content: str, tmp_path: Path,
                                                monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    model = tmp_path / "model_x.pt"
    model.write_bytes(MODEL_FILES[content])
    argv = [a.format(model=model) for a in COMMANDS[command]]
    code = main(argv + ([str(model)] if command == "evaluate" else []))
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith(f"bucket-brigade {command}: error: model file "
                                                   f"{str(model)!r}"), err
    assert "weights_only" not in err and "\x1b" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model_x.pt"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_where_the_runs_config_goes_is_not_waited_on(tmp_path: Path) -> None:
    """model_RUN.pt's training scenario comes from runs/RUN/config.json when it is there: a
    FIFO in its place is skipped (as a missing config is), never opened. A child process
    under a time limit, so that a wait fails the test instead of hanging it."""
    torch.save(PolicyNetwork(get_scenario("easy").obs_dim(4), [10, 2], hidden_size=8
                             ).state_dict(), tmp_path / "model_r.pt")
    (tmp_path / "runs" / "r").mkdir(parents=True)
    os.mkfifo(tmp_path / "runs" / "r" / "config.json")
    done = subprocess.run(
        [sys.executable, "-m", "bucket_brigade", "evaluate", "model_r.pt", "--scenarios", "easy",
         "--strategies", "none", "--games", "2", "--out-dir", "out"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(("name", "split"), [
    ("model_a.pt@2", ("model_a.pt", 2)), ("runs/x@1/model_a.pt", ("runs/x@1/model_a.pt", None)),
    ("model_a.pt", ("model_a.pt", None)), ("planner@8", ("planner@8", None)),
    ("model_a.pt@", ("model_a.pt@", None)), ("model_a.pt@-1", ("model_a.pt@-1", None)),
])
def test_a_model_name_may_choose_a_seat(name: str, split: tuple[str, int | None]) -> None:
    assert split_seat(name) == split
    assert is_model_name(name) == split[0].endswith(".pt")


def test_path_at_k_loads_seat_ks_network_alone(per_seat_model) -> None:
    path, networks = per_seat_model()
    policy = load_policy(f"{path}@2")
    assert policy.name == "model_seats@2" and policy.seats is None
    expected = networks[2].state_dict()
    assert all(torch.equal(value, expected[key])
               for key, value in policy.network.state_dict().items())
    assert policy.seat_network(0) is policy.network  # the chosen network in every seat
    assert load_policy(path).per_seat and not policy.per_seat
    with pytest.raises(UsageError, match=r"'model_seats' has networks for seats 0 to 3, not "
                                         r"seat 4"):
        load_policy(f"{path}@4")


def test_path_at_k_tells_a_seat_aware_network_its_seat(tmp_path: Path) -> None:
    scenario = get_scenario("default")
    network = PolicyNetwork(scenario.obs_dim(4), [scenario.num_houses, 2], hidden_size=8,
                            seat_ids=4)
    torch.save(network.state_dict(), tmp_path / "model_aware.pt")
    policy = load_policy(f"{tmp_path / 'model_aware.pt'}@3")
    assert policy.network.seat == 3 and policy.seat_network(1).seat == 3
    with pytest.raises(UsageError, match="knows seats 0 to 3, not seat 7"):
        load_policy(f"{tmp_path / 'model_aware.pt'}@7")


@pytest.mark.parametrize("command", [["evaluate", "--scenarios", "default"],
                                     ["replay", "--scenario", "default", "--model"]])
def test_a_seat_the_model_lacks_is_refused_in_one_line(per_seat_model, tmp_path: Path,
                                                      capsys, command: list[str]) -> None:
    path, _ = per_seat_model()
    out = tmp_path / "out"
    target = ["--out", str(out / "r.html")] if command[0] == "replay" \
        else ["--out-dir", str(out)]
    assert main([*command, f"{path}@4", *target]) == 2
    error = capsys.readouterr().err.strip()
    assert "'model_seats' has networks for seats 0 to 3, not seat 4" in error
    assert len(error.splitlines()) == 1
    assert not out.exists()
