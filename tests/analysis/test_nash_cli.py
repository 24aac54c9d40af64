"""The ``nash`` command: the files it writes, a model as a strategy, PPO best responses
judged on fresh games, and bad input refused in one line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from bucket_brigade.analysis.contenders import Contender, parse_strategies
from bucket_brigade.analysis.empirical_game import fresh_seed
from bucket_brigade.analysis.nash import deviation_from_symmetric, judge
from bucket_brigade.cli import main
from bucket_brigade.game.scenarios import get_scenario
from bucket_brigade.io import exclusive_lock
from bucket_brigade.training.checkpoint import RunPaths
from bucket_brigade.training.models import load_policy
from bucket_brigade.training.network import PolicyNetwork


def test_nash_command_writes_its_files(tmp_path: Path, capsys) -> None:
    out = tmp_path / "nash"
    code = main(["nash", "--scenario", "greedy_neighbor", "--strategies",
                 "universal_free_rider,firefighter", "--games", "40", "--br-generations", "2",
                 "--br-popsize", "4", "--br-games", "20", "--out-dir", str(out)])
    assert code == 0
    assert {p.name for p in out.iterdir()} == {"results.json", "results.csv", "heatmap.png",
                                               "nash.json"}
    summary = json.loads((out / "nash.json").read_text())
    assert summary["strategies"] == ["universal_free_rider", "firefighter"]
    assert np.array(summary["payoffs"]).shape == (2, 4)  # 4 profiles of the 3 others
    assert len(summary["opponent_profiles"]) == 4
    assert np.array(summary["copies_view"]).shape == (2, 2)
    (first, *_) = summary["equilibria"]
    assert abs(sum(first["mix"].values()) - 1) < 1e-9
    assert set(first["deviation_gains"]) == {"universal_free_rider", "firefighter"}
    assert abs(sum(summary["alpharank"].values()) - 1) < 1e-9
    row = summary["rows"][0]
    assert {"pure_regret", "gain_vs_equilibrium", "alpharank", "exploitability",
            "best_response"} <= set(row)
    assert "symmetric equilibrium 1 of the 4-player game" in capsys.readouterr().out


def test_nash_command_plays_a_model(tmp_path: Path) -> None:
    scenario = get_scenario("default")
    model_path = tmp_path / "model_tiny.pt"
    torch.save(PolicyNetwork(scenario.obs_dim(3), [10, 2, 2], hidden_size=8).state_dict(),
               model_path)
    code = main(["nash", "--scenario", "default", "--agents", "3", "--strategies",
                 f"free_rider,{model_path}", "--games", "20", "--br-generations", "0",
                 "--br-planner", "planner@2/2", "--out-dir", str(tmp_path / "out")])
    assert code == 0
    summary = json.loads((tmp_path / "out" / "nash.json").read_text())
    assert summary["strategies"] == ["free_rider", "model_tiny"]
    # The planner responds to the model too, playing it in its continuations.
    assert all("planner_exploitability" in row for row in summary["rows"])


@pytest.mark.slow  # two nash runs, one starting worker processes
def test_nash_on_local_workers_writes_the_serial_results(tmp_path: Path) -> None:
    """The table and its checks split into jobs on two worker processes (a model among the
    strategies travels to them): nash.json is the serial one, number for number."""
    scenario = get_scenario("default")
    model_path = tmp_path / "model_tiny.pt"
    torch.save(PolicyNetwork(scenario.obs_dim(3), [10, 2, 2], hidden_size=8).state_dict(),
               model_path)
    summaries = []
    for backend in (["--backend", "serial"], ["--backend", "local", "--workers", "2"]):
        out = tmp_path / backend[1]
        code = main(["nash", "--scenario", "default", "--agents", "3", "--strategies",
                     f"free_rider,hero,{model_path}", "--games", "12", "--br-generations", "0",
                     "--out-dir", str(out), *backend])
        assert code == 0
        summaries.append(json.loads((out / "nash.json").read_text()))
    assert summaries[0] == summaries[1]


@pytest.mark.parametrize("target", ["universal_free_rider", "MODEL"])
def test_ppo_best_response_is_judged_on_fresh_games(
        target: str, tmp_path: Path, capsys) -> None:
    scenario = get_scenario("greedy_neighbor")
    model_path = tmp_path / "model_tiny.pt"
    torch.manual_seed(0)
    torch.save(PolicyNetwork(scenario.obs_dim(4), [10, 2], hidden_size=8).state_dict(),
               model_path)
    out = tmp_path / "out"
    target = target.replace("MODEL", "model_tiny")
    code = main(["nash", "--scenario", "greedy_neighbor", "--strategies",
                 f"universal_free_rider,{model_path}", "--games", "30", "--seed", "4",
                 "--br-generations", "0", "--br-ppo-steps", "2048", "--br-ppo-against", target,
                 "--out-dir", str(out)])
    assert code == 0 and "PPO best response" in capsys.readouterr().out
    summary = json.loads((out / "nash.json").read_text())
    (row,) = [r for r in summary["rows"] if r["strategy"] == target]
    assert all("ppo_exploitability" not in r for r in summary["rows"] if r is not row)
    best_response = Path(row["ppo_best_response"])
    assert best_response == out / "best_response" / f"model_br_{target}.pt"
    # Its gain: its score against three copies of the target on the fresh games, every
    # seat equally, less the target's own there.
    contenders = parse_strategies(f"universal_free_rider,{model_path}", scenario, 4)
    fixed = contenders[summary["strategies"].index(target)]
    responder = Contender("br", policy=load_policy(best_response).network)
    gain = judge(deviation_from_symmetric(scenario, fixed, 4), fixed, responder, 30,
                 fresh_seed(4))
    assert row["ppo_exploitability"] == pytest.approx(gain.mean)
    assert row["ppo_exploitability_ci95"] > 0


def test_a_best_response_run_in_use_is_refused_before_the_games(tmp_path: Path, capsys,
                                                                 monkeypatch) -> None:
    """Two nash commands on one output folder: the second is refused at once, rather than
    deleting the first one's best-response run while it trains."""
    monkeypatch.setattr("bucket_brigade.analysis.empirical_game.play_table", _no_games)
    out = tmp_path / "out"
    with exclusive_lock(RunPaths(out / "best_response", "br_hero").lock_path, "the first"):
        code = main(["nash", "--strategies", "hero,free_rider", "--games", "2",
                     "--br-generations", "0", "--br-ppo-steps", "2048", "--br-ppo-against",
                     "hero", "--out-dir", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "in use by another process" in err, err
    assert sorted(p.name for p in out.rglob("*")) == [".br_hero.lock", "best_response"]


def _no_games(*args: object, **kwargs: object) -> None:
    raise AssertionError("the games started before the best-response runs were locked")


def test_a_planner_is_a_strategy_and_a_best_response(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    code = main(["nash", "--scenario", "greedy_neighbor", "--strategies",
                 "free_rider,planner@4/3", "--games", "30", "--br-generations", "0",
                 "--br-planner", "planner@8", "--out-dir", str(out)])
    assert code == 0
    summary = json.loads((out / "nash.json").read_text())
    assert summary["strategies"] == ["free_rider", "planner@4/3"]
    free_rider, planner = summary["rows"]
    # Among three free riders the fires spread: the planner's working pays off.
    assert free_rider["planner_exploitability"] - free_rider["planner_exploitability_ci95"] > 0
    assert "planner_exploitability" in planner
    assert "planner best response" in capsys.readouterr().out


@pytest.mark.parametrize(("strategies", "message"), [
    (" , ", "names no strategy"),
    ("hero,nobody", "unknown strategy 'nobody'"),
    ("hero,hero", "'hero' is listed twice"),
    ("hero,MODEL", "takes observations of size 32"),
])
def test_bad_input_exits_2_with_one_line(strategies: str, message: str, tmp_path: Path,
                                         capsys) -> None:
    model_path = tmp_path / "model_three.pt"
    torch.save(PolicyNetwork(get_scenario("default").obs_dim(3), [10, 2],
                             hidden_size=8).state_dict(), model_path)
    code = main(["nash", "--strategies", strategies.replace("MODEL", str(model_path)),
                 "--games", "10", "--out-dir", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1


@pytest.mark.parametrize(("options", "message"), [
    (["--br-ppo-against", "hero"], "--br-ppo-against needs --br-ppo-steps N > 0"),
    (["--br-ppo-steps", "64", "--br-ppo-against", "hero,nobody"],
     "--br-ppo-against: 'nobody' is not one of the strategies (hero, free_rider)"),
    (["--br-ppo-steps", "64", "--br-ppo-against", " , "], "names no strategy"),
    (["--br-planner", "hero"], "--br-planner 'hero' is not a planner"),
    (["--br-planner", "planner@0"], "planner continuations=0 must be an integer >= 1"),
    (["--workers", "2"], "--workers 2 needs --backend local or ray"),
    (["--backend", "local", "--address", "auto"], "--address 'auto' needs --backend ray"),
])
def test_bad_best_response_options_exit_2(options: list[str], message: str, tmp_path: Path,
                                          capsys) -> None:
    code = main(["nash", "--strategies", "hero,free_rider", "--games", "10",
                 "--out-dir", str(tmp_path / "out"), *options])
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1
    assert not (tmp_path / "out").exists()
