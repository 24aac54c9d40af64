"""experiments/equilibrium_table.py: one markdown row per nash.json."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from bucket_brigade.cli import main as cli

SCRIPT = Path(__file__).parents[2] / "experiments" / "equilibrium_table.py"


def _script():
    spec = importlib.util.spec_from_file_location("equilibrium_table", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_row_per_scenario(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["nash", "--scenario", "greedy_neighbor", "--strategies",
                "universal_free_rider,hero", "--games", "20", "--br-generations", "0",
                "--out-dir", str(tmp_path)]) == 0
    summary = json.loads((tmp_path / "nash.json").read_text())
    capsys.readouterr()
    _script().main([str(tmp_path / "nash.json")])
    header, rule, row = capsys.readouterr().out.strip().splitlines()
    assert header.count("|") == row.count("|") == rule.count("|")
    assert row.startswith("| greedy_neighbor | ")
    regret = next(r for r in summary["rows"] if r["strategy"] == "universal_free_rider")
    assert f"{regret['pure_regret']:+.2f} ± {regret['pure_regret_ci95']:.2f} (hero); - |" in row


def test_scenarios_run_as_jobs_then_the_self_play_table(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--scenarios runs nash on each scenario in a worker process and prints their rows;
    a second call runs nothing (their nash.json exist). --exploit-dir prints a policy's row
    (here hero's, standing in for a self-play policy) with exploit's gains."""
    out = tmp_path / "nash"
    options = ["--scenarios", "greedy_neighbor,easy", "--out-dir", str(out), "--strategies",
               "universal_free_rider,hero", "--games", "12", "--br-generations", "0"]
    _script().main([*options, "--backend", "local", "--workers", "2"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert sorted(line for line in lines if line.startswith("nash ")) == [
        f"nash easy: wrote {out / 'easy' / 'nash.json'}",
        f"nash greedy_neighbor: wrote {out / 'greedy_neighbor' / 'nash.json'}"]
    assert [line.split(" | ")[0] for line in lines[-2:]] == ["| greedy_neighbor", "| easy"]

    for scenario in ("greedy_neighbor", "easy"):
        assert cli(["exploit", "--scenario", scenario, "--profile", "hero", "--games", "10",
                    "--br-generations", "1", "--br-popsize", "2", "--br-games", "4",
                    "--out-dir", str(tmp_path / "exploit" / scenario)]) == 0
    capsys.readouterr()
    _script().main([*options, "--exploit-dir", str(tmp_path / "exploit")])
    header, rule, *rows = capsys.readouterr().out.strip().splitlines()
    assert len(rows) == 2 and all(header.count("|") == row.count("|") == rule.count("|")
                                  for row in rows)
    summary = json.loads((out / "easy" / "nash.json").read_text())
    exploit = json.loads((tmp_path / "exploit" / "easy" / "exploit.json").read_text())
    cmaes = exploit["seats"][0]
    assert f"| {cmaes['gain']:+.2f} ± {cmaes['gain_ci95']:.2f} | - | - |" in rows[1]
    assert "PPO" in rows[1] and "hero" not in rows[1].split(" | ")[3]
    assert rows[1].split(" | ")[1].count("(") == min(len(summary["equilibria"]), 3)


@pytest.mark.parametrize(("options", "message"), [
    (["--scenarios", "easy,nowhere"], "'nowhere' is not 'all' or a comma list of default,"),
    (["--scenarios", "easy"], "--scenarios needs --out-dir"),
    (["--scenarios", "easy", "--out-dir", "OUT", "--strategies", "hero,/no/model_{scenario}.pt"],
     "/no/model_easy.pt"),
    (["--scenarios", "easy", "--out-dir", "OUT", "--workers", "2"],
     "--workers 2 needs --backend local or ray"),
])
def test_bad_scenario_studies_are_refused_before_any_job(
        options: list[str], message: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    options = [o.replace("OUT", str(tmp_path / "out")) for o in options]
    with pytest.raises(SystemExit) as exit_info:
        _script().main(options)
    assert exit_info.value.code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
