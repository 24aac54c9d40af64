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
