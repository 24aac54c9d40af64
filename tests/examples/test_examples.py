"""Every learning recipe under examples/ runs end to end for a few hundred steps and
reports a score on the evaluation games (skipped without the clients extra)."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(autouse=True)
def _keep_torch_threads() -> Iterator[None]:
    """The recipes set PyTorch's thread count for the whole process; put it back."""
    import torch

    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def load(name: str, packages: tuple[str, ...] = ("stable_baselines3", "sb3_contrib",
                                                 "supersuit")) -> ModuleType:
    for package in packages:
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


def test_tianshou_collector_plays_whole_games_on_the_batched_env() -> None:
    """Tianshou resets each env as its game ends: every episode it counts is one game, its
    return the game's score."""
    from bucket_brigade.envs import ManualResetVectorEnv, make_vec_env

    module = load("tianshou_collect", ("tianshou",))
    from tianshou.data import Collector, VectorReplayBuffer

    env = module.TianshouVectorEnv(ManualResetVectorEnv(make_vec_env(8, "greedy_neighbor",
                                                                     seed=3)))
    scores: list[float] = []
    step = env.step

    def step_noting_scores(*args: object) -> tuple:
        result = step(*args)
        scores.extend(info["score"] for info in result[4] if "score" in info)
        return result

    env.step = step_noting_scores
    policy = module.UniformPolicy(env.env.single_action_space, seed=0)
    collector = Collector(policy, env, VectorReplayBuffer(8 * 300, 8))
    collector.reset()
    stats = collector.collect(n_step=8 * 300)
    assert stats.n_collected_episodes == len(scores) > 8
    np.testing.assert_allclose(np.sort(stats.returns), np.sort(scores), rtol=1e-5)
    with pytest.raises(ValueError, match="collect by n_step"):
        env.step(np.zeros((4, 2), dtype=np.int64), np.arange(4))


@pytest.mark.parametrize("vec", ["batched", "dummy"])
def test_tianshou_speed_report(vec: str) -> None:
    report = load("tianshou_collect", ("tianshou",)).main(["--vec", vec, "--n-envs", "4",
                                                           "--steps", "256"])
    assert report["vec"] == vec and report["steps_per_second"] > 0
