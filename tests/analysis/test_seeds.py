"""Learner minus a baseline over training seeds: the per-seed verdicts, the across-seed
statistics, grouping of runs by their settings, and the ``seeds`` command."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bucket_brigade.analysis.seeds import (
    across_seeds,
    group_runs,
    interquartile_mean,
    on_fresh_games,
    read_run,
    verdict,
)
from bucket_brigade.cli import main
from bucket_brigade.errors import UsageError
from bucket_brigade.evaluation import evaluate, paired_difference
from bucket_brigade.training.models import load_policy

HERO_MINUS = {1: (1.30, 1.18), 2: (0.40, 1.20), 3: (-1.50, 1.00), 4: (2.50, 1.10),
              5: (1.00, 1.30)}


def write_run(folder: Path, name: str, seed: int, hero: tuple[float, float],
              action_mask: bool = True) -> Path:
    """A run folder as ``train --eval-games`` leaves it (the fields this module reads)."""
    run_dir = folder / "runs" / name
    run_dir.mkdir(parents=True)
    config = {"scenario": "greedy_neighbor", "seed": seed, "run_name": name,
              "out_dir": str(folder), "threads": 1, "action_mask": action_mask,
              "steps": 1000, "network": {"hidden_size": 32, "action_mask": action_mask}}
    rows = [{"name": "learner", "mean_score": 50.0, "ci95": 2.0},
            {"name": "hero", "learner_minus": hero[0], "learner_minus_ci95": hero[1]},
            {"name": "random", "learner_minus": 10.0 + seed, "learner_minus_ci95": 1.0}]
    (run_dir / "config.json").write_text(json.dumps(config))
    (run_dir / "evaluation.json").write_text(json.dumps(
        {"games": 100, "seed": 7, "scenario": "greedy_neighbor", "rows": rows}))
    return run_dir


@pytest.fixture
def five_seeds(tmp_path: Path) -> list[Path]:
    return [write_run(tmp_path, f"check_seed{seed}", seed, diff)
            for seed, diff in HERO_MINUS.items()]


def test_verdict_follows_the_paired_ci() -> None:
    assert verdict(1.3, 1.2) == "beats"
    assert verdict(1.0, 1.2) == "ties"
    assert verdict(-1.3, 1.2) == "loses"


def test_interquartile_mean_of_five_is_the_mean_of_the_middle_three() -> None:
    assert interquartile_mean(np.array([9.0, -4.0, 1.0, 2.0, 3.0])) == pytest.approx(2.0)


def test_across_seeds_statistics(five_seeds: list[Path]) -> None:
    summary = across_seeds([read_run(path) for path in five_seeds], "hero")
    values = np.array([diff for diff, _ in HERO_MINUS.values()])
    assert [run.seed for run in summary.runs] == [1, 2, 3, 4, 5]
    assert summary.mean == pytest.approx(values.mean())
    assert summary.sd == pytest.approx(values.std(ddof=1))
    assert (summary.low, summary.high) == (-1.5, 2.5)
    assert summary.iqm == pytest.approx((0.4 + 1.0 + 1.3) / 3)
    assert summary.verdicts() == {"beats": 2, "ties": 2, "loses": 1}
    assert summary.game_ci == pytest.approx((1.18 + 1.20 + 1.00 + 1.10 + 1.30) / 5)
    assert summary.mean_ci[0] < summary.mean < summary.mean_ci[1]
    assert summary.iqm_ci[0] < summary.iqm < summary.iqm_ci[1]
    # the bootstrap draws only resampled seeds: its bounds lie within their range
    assert summary.low <= summary.mean_ci[0] and summary.mean_ci[1] <= summary.high


def test_the_bootstrap_is_seeded(five_seeds: list[Path]) -> None:
    runs = [read_run(path) for path in five_seeds]
    first, again = across_seeds(runs, "hero", 3), across_seeds(runs, "hero", 3)
    other = across_seeds(runs, "hero", 4)
    assert (first.mean_ci, first.iqm_ci) == (again.mean_ci, again.iqm_ci)
    assert first.mean_ci != other.mean_ci


def test_one_seed_has_no_spread(tmp_path: Path) -> None:
    summary = across_seeds([read_run(write_run(tmp_path, "one", 1, (1.3, 1.18)))], "hero")
    assert summary.mean == summary.iqm == 1.3
    assert summary.mean_ci is summary.iqm_ci is summary.sd is None


def test_equal_seeds_give_a_ci_of_width_zero(tmp_path: Path) -> None:
    runs = [read_run(write_run(tmp_path, f"r{seed}", seed, (0.5, 1.0))) for seed in (1, 2)]
    assert across_seeds(runs, "hero").mean_ci == (0.5, 0.5)


def test_runs_are_grouped_by_their_settings(tmp_path: Path) -> None:
    runs = [read_run(write_run(tmp_path, f"a{seed}", seed, (1.0, 1.0))) for seed in (2, 1)]
    runs.append(read_run(write_run(tmp_path, "b1", 1, (0.0, 1.0), action_mask=False)))
    groups = group_runs(runs)  # named by the setting, not by the network it implies
    assert list(groups) == ["greedy_neighbor, action_mask=True",
                            "greedy_neighbor, action_mask=False"]
    assert [run.run for run in groups["greedy_neighbor, action_mask=True"]] == ["a1", "a2"]


def test_the_same_seed_twice_is_refused(tmp_path: Path) -> None:
    runs = [read_run(write_run(tmp_path, name, 1, (1.0, 1.0))) for name in ("x", "y")]
    with pytest.raises(UsageError, match="same settings and seed 1"):
        group_runs(runs)


def test_an_unknown_baseline_names_the_choices(five_seeds: list[Path]) -> None:
    with pytest.raises(UsageError, match=r"'heroine'; choose from: hero, random"):
        across_seeds([read_run(five_seeds[0])], "heroine")


def test_a_folder_without_an_evaluation_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"no evaluation\.json: train it with --eval-games"):
        read_run(tmp_path)
    (tmp_path / "evaluation.json").write_text("{}")
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(UsageError, match="unreadable"):
        read_run(tmp_path)


def test_the_seeds_command(five_seeds: list[Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["seeds", *map(str, five_seeds)]) == 0
    out = capsys.readouterr().out
    assert "greedy_neighbor: learner - hero" in out and "+1.30 ± 1.18" in out
    assert "5 seeds: mean +0.74" in out and "beats in 2, ties in 2, loses in 1" in out
    assert "±1.16 on average, is shared by every seed" in out
    assert main(["seeds", "--baseline", "random", *map(str, five_seeds)]) == 0
    assert "mean +13.00" in capsys.readouterr().out


def test_the_seeds_command_refuses_bad_input(five_seeds: list[Path],
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["seeds", "--baseline", "villain", str(five_seeds[0])]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown baseline 'villain'" in err


def test_reads_what_train_writes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tiny = ["--steps", "256", "--num-envs", "16", "--batch-size", "128", "--hidden-size", "16",
            "--cpu", "--scenario", "greedy_neighbor", "--opponent-policies", "random",
            "--eval-games", "20", "--out-dir", str(tmp_path)]
    for seed in ("1", "2"):
        assert main(["train", *tiny, "--seed", seed, "--run-name", f"s{seed}"]) == 0
    capsys.readouterr()
    runs = [str(tmp_path / "runs" / f"s{seed}") for seed in ("1", "2")]
    assert main(["seeds", *runs]) == 0
    out = capsys.readouterr().out
    assert "greedy_neighbor: learner - hero" in out and "2 seeds: mean" in out
    assert "shared by every seed" in out
    assert main(["seeds", "--games", "30", "--games-seed", "5", *runs]) == 0
    out = capsys.readouterr().out
    assert "hold games' and training's noise" in out
    # seed 2's model against hero on games seeded 5 + 2, paired
    fresh = on_fresh_games(read_run(runs[1]), "hero", 30, 5)
    model = load_policy(tmp_path / "model_s2.pt")
    learner = evaluate(model.network, "greedy_neighbor", "random", 3, games=30, seed=7)
    hero = evaluate("hero", "greedy_neighbor", "random", 3, games=30, seed=7)
    assert fresh.differences == {"hero": paired_difference(learner, hero)} and fresh.fresh
