"""experiments/self_play_q4.py: a self-play sweep measured seat by seat, resumably, and
tabulated per scenario, sharing scheme and mask."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from bucket_brigade.cli import main as cli

EXPERIMENTS = Path(__file__).parents[2] / "experiments"
SWEEP = """
[sweep]
name = "q4"
steps = 256
eval_games = 4

[fixed]
self_play = true
cheap_talk = true
scenario = "greedy_neighbor"
num_envs = 64
batch_size = 128
hidden_size = 16
cpu = true

[grid]
seed = [1]
sharing = ["shared", "independent"]
"""


def _script():
    sys.path.insert(0, str(EXPERIMENTS))  # as `python experiments/self_play_q4.py` has it
    try:
        spec = importlib.util.spec_from_file_location("self_play_q4",
                                                      EXPERIMENTS / "self_play_q4.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(EXPERIMENTS))
    return module


def test_free_riders_are_seats_far_below_a_working_one() -> None:
    free_riders = _script().free_riders
    assert free_riders([1.0, 1.0, 1.0, 1.0]) == []
    assert free_riders([0.9, 0.1, 1.0, 0.49]) == [1, 3]
    assert free_riders([0.4, 0.0, 0.0, 0.0]) == []  # nobody works: no one rides on anyone


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("q4")
    (folder / "q4.toml").write_text(SWEEP)
    assert cli(["sweep", str(folder / "q4.toml"), "--out", str(folder), "--max-parallel",
                "1"]) == 0
    return folder / "q4"


def test_every_trial_is_measured_once_and_tabulated(sweep: Path,
                                                    capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    script = _script()
    capsys.readouterr()
    assert script.main([str(sweep), "--games", "20"]) == 0
    records = sorted((sweep / "seat_figures").glob("*.json"))
    assert len(records) == 2
    for path in records:
        record = json.loads(path.read_text())
        assert record["scenario"] == "greedy_neighbor" and record["action_mask"] is True
        assert len(record["seat_work_rates"]) == len(record["seat_scores"]) == 4
        assert record["team_score"] == pytest.approx(sum(record["seat_scores"]) / 4)
    header, _rule, *rows = capsys.readouterr().out.strip().splitlines()
    assert header.startswith("| scenario | sharing | mask | seeds |")
    assert [row.split(" | ")[1:4] for row in rows] == [["shared", "on", "1"],
                                                       ["independent", "on", "1"]]
    assert all(row.endswith("| not measured |") for row in rows)

    def never(*args: object) -> None:
        raise AssertionError("a measured trial was measured again")

    monkeypatch.setattr(script, "seat_scores", never)
    assert script.main([str(sweep), "--games", "20"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[2:] == rows


def test_exploit_searches_every_seat_of_a_seat_by_seat_policy_once(
        sweep: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    script = _script()
    monkeypatch.setattr(script, "EXPLOIT_BUDGET", ("--oracles", "cmaes", "--br-generations",
                                                   "1", "--br-popsize", "2", "--br-games",
                                                   "4", "--games", "10"))
    out = sweep.parent / "figures"
    assert script.main([str(sweep), "--games", "10", "--out", str(out),
                        "--exploit-seeds", "1", "--exploit-sharing", "shared"]) == 0
    exploited = [json.loads((folder / "exploit.json").read_text())
                 for folder in (out / "exploit").iterdir()]
    assert [summary["symmetric"] for summary in exploited] == [True]  # the shared one only
    assert script.main([str(sweep), "--games", "10", "--out", str(out),
                        "--exploit-seeds", "1"]) == 0
    summaries = {json.loads(p.read_text())["sharing"]:
                 json.loads((out / "exploit" / p.stem / "exploit.json").read_text())
                 for p in out.glob("*.json")}
    assert summaries["shared"]["symmetric"] and len(summaries["shared"]["seats"]) == 1
    independent = summaries["independent"]
    assert not independent["symmetric"]
    assert [row["seat"] for row in independent["seats"]] == [0, 1, 2, 3]
    nash_conv = independent["nash_conv"]["cmaes"]["value"]
    assert nash_conv == pytest.approx(sum(max(row["gain"], 0)
                                          for row in independent["seats"]))
    best = max(independent["seats"], key=lambda row: row["gain"])
    shared, row, blank, note = capsys.readouterr().out.strip().splitlines()[-4:]
    assert row.startswith("| greedy_neighbor | independent | on | 1 |")
    assert row.endswith(f"| cmaes {best['gain']:+.2f} ± {best['gain_ci95']:.2f} (seat "
                        f"{best['seat']}), NashConv {nash_conv:+.2f} [seed 1] |")
    assert blank == "" and note.startswith("*: above 0 after Holm's correction over the "
                                           "table's 5 searched gains")
    assert "(every seat), NashConv " in shared

    def never(*args: object) -> None:
        raise AssertionError("an exploited trial was exploited again")

    monkeypatch.setattr("bucket_brigade.cli.main", never)
    assert script.main([str(sweep), "--games", "10", "--out", str(out),
                        "--exploit-seeds", "1"]) == 0


def test_the_largest_seat_gain_is_shown_beside_nash_conv(sweep: Path,
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    script = _script()
    out = sweep.parent / "ppo_figures"
    assert script.main([str(sweep), "--games", "10", "--out", str(out)]) == 0
    trial = next(p.stem for p in out.glob("*.json") if "independent" in p.read_text())
    summary = {"agents": 4, "nash_conv": {"cmaes": {"value": 1.5, "ci95": 0.25}},
               "seats": [{"seat": seat, "oracle": "cmaes", "gain": gain, "gain_ci95": 0.5}
                         for seat, gain in enumerate((-1.0, 2.5, 0.5, -0.5))]
               + [{"seat": 0, "oracle": "ppo", "gain": -0.5, "gain_ci95": 0.5}]}
    (out / "exploit" / trial).mkdir(parents=True)
    (out / "exploit" / trial / "exploit.json").write_text(json.dumps(summary))
    capsys.readouterr()
    assert script.main([str(sweep), "--games", "10", "--out", str(out)]) == 0
    row = capsys.readouterr().out.strip().splitlines()[-3]
    # NashConv from the seats' rows (the positive gains), not the file's signed sum; +2.50
    # is far above 0 even after Holm's correction over the five gains, +0.50 ± 0.50 is not
    assert row.endswith("| cmaes +2.50 ± 0.50 * (seat 1), NashConv +3.00; "
                        "ppo -0.50 ± 0.50 (seat 0), NashConv +0.00 [seed 1] |")


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    script = _script()
    assert script.main([str(tmp_path), "--games", "20"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("self_play_q4: error: ") and "has no runs/" in error
    assert script.main([str(tmp_path), "--games", "1"]) == 2
    assert "--games 1 must be >= 2" in capsys.readouterr().err
    assert script.main([str(tmp_path), "--exploit-seeds", "1,x"]) == 2
    assert "--exploit-seeds: 'x' is not a training seed" in capsys.readouterr().err
    assert script.main([str(tmp_path), "--exploit-sharing", "shared,central"]) == 2
    assert ("--exploit-sharing: 'central' is not one of shared, shared-id, independent"
            in capsys.readouterr().err)
    assert not list(tmp_path.iterdir())  # nothing written


def test_a_gain_is_marked_only_if_it_survives_holms_correction() -> None:
    script = _script()
    few = {"clear": (1.0, 0.5), "marginal": (0.3, 0.29), "loss": (-1.0, 0.5)}
    assert script.significant_gains(few) == {"clear", "marginal"}  # one-sided p 0.021, x 2
    many = {**few, **{f"marginal {k}": (0.3, 0.29) for k in range(10)}}
    assert script.significant_gains(many) == {"clear"}  # a chance win among eleven alike
    assert script.significant_gains({}) == set()
