"""The command line: every subcommand runs, and bad input is one line on stderr with exit 2."""

from __future__ import annotations

import json

import pytest

from bucket_brigade.cli import main


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_scenarios_table_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "scenarios")
    assert code == 0 and "chain_reaction" in out and "mixed_motivation" in out
    code, out, _ = run_cli(capsys, "scenarios", "--json")
    assert json.loads(out)["greedy_neighbor"]["cost_to_work_one_night"] == 1.0


def test_bench_env_prints_the_ratio(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "bench", "env", "--games", "64", "--seconds", "0.2",
                           "--json")
    figures = json.loads(out)
    assert code == 0
    assert figures["speedup"] == pytest.approx(
        figures["batched_game_nights_per_sec"] / figures["reference_game_nights_per_sec"])


def test_evolve_writes_its_genome(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "g.json"
    code, _, _ = run_cli(capsys, "evolve", "--scenario", "easy", "--generations", "2",
                         "--popsize", "4", "--games", "20", "--out", str(out))
    data = json.loads(out.read_text())
    assert code == 0
    assert data["scenario"] == "easy" and len(data["params"]) == 10
    assert data["command"].startswith("bucket-brigade evolve --scenario easy")
    assert len(data["history"]) == 2


def test_evaluate_writes_tables(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "evaluate", "--scenarios", "easy,hard", "--opponents",
                           "random,evolved", "--strategies", "hero,free_rider,evolved",
                           "--games", "50", "--out-dir", str(tmp_path))
    assert code == 0 and "free_rider" in out
    rows = json.loads((tmp_path / "results.json").read_text())["rows"]
    assert len(rows) == 2 * 2 * 3
    assert {r["opponents"] for r in rows} == {"random", "evolved"}
    assert (tmp_path / "results.csv").read_text().startswith("candidate,kind,scenario")
    assert (tmp_path / "heatmap.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("argv", [
    ("evolve", "--scenario", "nowhere"),
    ("evolve", "--scenario", "easy", "--generations", "0"),
    ("evaluate", "--scenarios", "easy", "--opponents", "villain"),
    ("evaluate", "--scenarios", "easy", "--strategies", "villain"),
    ("evaluate", "--scenarios", "nowhere"),
    ("evaluate", "missing_model.pt", "--scenarios", "easy"),
    ("evaluate", "--matrix", "--scenarios", "easy"),
    ("bench", "env", "--games", "0"),
])
def test_bad_input_is_one_line_and_exit_2(argv: tuple[str, ...], tmp_path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, *argv, *(("--out-dir", str(tmp_path))
                                            if argv[0] == "evaluate" else ()))
    assert code == 2
    assert err.count("\n") == 1 and err.startswith(f"bucket-brigade {argv[0]}: error: ")
    assert list(tmp_path.iterdir()) == []
