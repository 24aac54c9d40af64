"""Every learning recipe under examples/ runs end to end for a few hundred steps and
reports a score on the evaluation games (skipped without the clients extra)."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(autouse=True)
def _keep_torch_threads() -> Iterator[None]:
    """The recipes set PyTorch's thread count for the whole process; put it back."""
    import torch

    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def load(name: str) -> ModuleType:
    for package in ("stable_baselines3", "sb3_contrib", "supersuit"):
        pytest.importorskip(package, reason="needs the clients extra")
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("argv", [
    ["--algo", "maskable"],
    ["--algo", "ppo", "--vec", "dummy"],
])
def test_sb3_recipe(argv: list[str], tmp_path: Path) -> None:
    report = load("sb3_ppo").main([*argv, "--steps", "256", "--n-envs", "4", "--n-steps", "32",
                                   "--batch-size", "64", "--n-epochs", "1",
                                   "--eval-games", "8", "--out", str(tmp_path / "model")])
    assert report["steps"] >= 256 and (tmp_path / "model.zip").exists()
    assert report["score"] == pytest.approx(report["hero"] + report["minus_hero"])


def test_supersuit_selfplay_recipe() -> None:
    report = load("supersuit_selfplay").main(["--steps", "256", "--copies", "2", "--n-steps",
                                              "32", "--batch-size", "64", "--n-epochs", "1",
                                              "--eval-games", "8"])
    assert report["steps"] >= 256
    assert report["team_score"] == pytest.approx(report["team_firefighter"]
                                                 + report["minus_firefighter"])


def test_cleanrl_recipe() -> None:
    report = load("cleanrl_ppo").main(["--total-timesteps", "256", "--num-envs", "4",
                                       "--num-steps", "32", "--update-epochs", "1",
                                       "--eval-games", "8"])
    assert report["steps"] == 256
    assert report["score"] == pytest.approx(report["hero"] + report["minus_hero"])
