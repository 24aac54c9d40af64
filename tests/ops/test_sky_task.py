"""experiments/marl/sky.yaml: a SkyPilot task that sets up with setup_gpu.sh and trains."""

from __future__ import annotations

import shlex
import subprocess
from typing import Any

import pytest

from bucket_brigade.game.scenarios import get_scenario

from .remote import MARL

SKY_YAML = MARL / "sky.yaml"
yaml = pytest.importorskip("yaml", reason="PyYAML missing: pip install -e '.[dev]'")


@pytest.fixture(scope="module")
def task() -> dict[str, Any]:
    return yaml.safe_load(SKY_YAML.read_text())


def test_task_provisions_an_l4_and_syncs_the_repository(task: dict[str, Any]) -> None:
    assert {"name", "resources", "workdir", "envs", "setup", "run"} <= task.keys()
    assert task["resources"]["accelerators"] == "L4:1"
    assert task["workdir"] == "."


def test_envs_are_valid_trainer_inputs(task: dict[str, Any]) -> None:
    envs = task["envs"]
    assert {"STEPS", "SCENARIO", "RUN_NAME"} <= envs.keys()
    assert all(isinstance(value, str) for value in envs.values())
    assert int(envs["STEPS"]) > 0
    get_scenario(envs["SCENARIO"])


def test_setup_and_run_are_bash_that_sets_up_then_trains_into_a_console_log(
        task: dict[str, Any]) -> None:
    assert "bash experiments/marl/setup_gpu.sh" in task["setup"]
    assert 'tee "experiments/marl/runs/$RUN_NAME.log"' in task["run"]
    for script in (task["setup"], task["run"]):
        subprocess.run(["bash", "-n", "-c", script], check=True)


def test_run_command_is_accepted_by_the_trainer(task: dict[str, Any]) -> None:
    pytest.importorskip("bucket_brigade.training.cli", reason="the trainer is not installed")
    from bucket_brigade.cli import build_parser

    command = " ".join(line.rstrip("\\") for line in task["run"].splitlines())
    words = shlex.split(command[command.index("bucket-brigade train"):command.index("2>&1")])
    for name, value in task["envs"].items():
        words = [word.replace(f"${name}", value) for word in words]
    parser, _ = build_parser()
    args = parser.parse_args([word for word in words[1:] if word])
    assert args.command == "train"


def test_skypilot_loads_the_task() -> None:
    sky = pytest.importorskip("sky", reason="SkyPilot is not installed")
    loaded = sky.Task.from_yaml(str(SKY_YAML))
    assert loaded.envs["RUN_NAME"] == "baseline_v1"
    assert [resources.accelerators for resources in loaded.resources] == [{"L4": 1}]
