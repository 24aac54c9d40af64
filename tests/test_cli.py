"""The command line: every subcommand runs, and bad input is one line on stderr with exit 2."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from bucket_brigade.cli import build_parser, main, package_version
from bucket_brigade.errors import Terminated


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


def test_bench_planner_counts_the_searched_nights(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "bench", "planner", "--strategy", "planner@2/3",
                           "--games", "4", "--json")
    figures = json.loads(out)
    assert code == 0 and figures["strategy"] == "planner@2/3" and figures["games"] == 4
    # Every searched night plays 2 continuations of each candidate (one at least) for 1 to
    # 3 nights.
    assert 2 * figures["real_game_nights"] <= figures["simulated_game_nights"]
    assert figures["simulated_game_nights_per_sec"] == pytest.approx(
        figures["simulated_game_nights"] / figures["seconds"])


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
    for column in ({"easy", "hard"} & {r["scenario"] for r in rows}):
        best = max((r for r in rows if r["scenario"] == column and r["opponents"] == "random"),
                   key=lambda r: r["mean_score"])
        assert all(r["baseline"] == best["candidate"] for r in rows
                   if r["scenario"] == column and r["opponents"] == "random")
    assert sum(r["p_holm"] is not None for r in rows) == 4 * 2
    assert "(baseline)" in out and "Holm's correction over the 8 differences" in out


def test_evaluate_against_a_named_baseline(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "evaluate", "--scenarios", "easy", "--opponents", "random",
                           "--strategies", "hero,free_rider", "--baseline", "free_rider",
                           "--games", "50", "--out-dir", str(tmp_path))
    rows = json.loads((tmp_path / "results.json").read_text())["rows"]
    assert code == 0 and [r["baseline"] for r in rows] == ["free_rider", "free_rider"]
    assert "baseline: free_rider;" in out


@pytest.mark.parametrize("argv", [
    ("evolve", "--scenario", "nowhere"),
    ("evolve", "--scenario", "easy", "--generations", "0"),
    ("evaluate", "--scenarios", "easy", "--opponents", "villain"),
    ("evaluate", "--scenarios", "easy", "--strategies", "villain"),
    ("evaluate", "--scenarios", "nowhere"),
    ("evaluate", "missing_model.pt", "--scenarios", "easy"),
    ("evaluate", "--matrix", "--scenarios", "easy"),
    ("evaluate", "--scenarios", "easy", "--strategies", "hero", "--baseline", "liar"),
    ("bench", "env", "--games", "0"),
    ("bench", "planner", "--games", "0"),
])
def test_bad_input_is_one_line_and_exit_2(argv: tuple[str, ...], tmp_path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, *argv, *(("--out-dir", str(tmp_path))
                                            if argv[0] == "evaluate" else ()))
    assert code == 2
    assert err.count("\n") == 1 and err.startswith(f"bucket-brigade {argv[0]}: error: ")
    assert list(tmp_path.iterdir()) == []


# -- hostile input: one line on stderr, exit 2, nothing written -----------------------------

def _one_line_error(err: str, command: str) -> None:
    assert err.count("\n") == 1 and err.startswith(f"bucket-brigade {command}: error: "), err
    assert "Traceback" not in err


@pytest.mark.parametrize("command", ["evolve", "nash"])
def test_a_scenario_name_cannot_escape_the_output_folder(command: str, tmp_path, monkeypatch,
                                                         capsys) -> None:
    work = tmp_path / "a" / "b" / "c" / "d"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    (work / "evil.toml").write_text(f'base = "easy"\nname = "../../../../{tmp_path.name}/x/T"\n')
    extra = ("--generations", "1", "--popsize", "2") if command == "evolve" else \
        ("--br-generations", "0", "--strategies", "hero,free_rider")
    code, _, err = run_cli(capsys, command, "--scenario", "evil.toml", "--games", "2", *extra)
    assert code == 2
    _one_line_error(err, command)
    assert "scenario name '../../../../" in err and "is not a valid name" in err
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a", "b", "c", "d", "evil.toml"]


def test_evaluate_takes_a_scenario_file(tmp_path, capsys) -> None:
    (tmp_path / "good.toml").write_text('base = "easy"\nmax_nights = 30\n')
    ten = ",".join(["0.5"] * 10)
    code, _, err = run_cli(capsys, "evaluate", "--scenarios", str(tmp_path / "good.toml"),
                             "--opponents", ten, "--strategies", f"hero,{ten}", "--games", "5",
                             "--out-dir", str(tmp_path / "eval"))
    assert code == 0, err
    rows = json.loads((tmp_path / "eval" / "results.json").read_text())["rows"]
    assert {(r["candidate"], r["scenario"], r["opponents"]) for r in rows} == {
        ("hero", "good", ten), (ten, "good", ten)}


@pytest.mark.parametrize(("argv", "message"), [
    (("evaluate", "--opponents", ""), "--opponents '' names no strategy"),
    (("evaluate", "--opponents", " , "), "names no strategy"),
    (("evaluate", "--strategies", "none"), "nothing to evaluate"),
    (("evaluate", "--opponents", "hero,0.1,0.2"), "has 2 numbers in a row"),
    (("evaluate", "--scenarios", "easy", "--games", "10000000000"),
     "10,000,000,000 games of this size need about"),
    (("evaluate", "--scenarios", "easy,nowhere.toml"),
     "scenario file 'nowhere.toml' does not exist"),
    (("bench", "env", "--seconds", "nan"), "--seconds=nan must be > 0 and <= 3600"),
    (("bench", "env", "--seconds", "inf"), "--seconds=inf must be > 0 and <= 3600"),
    (("bench", "env", "--seconds", "-1"), "--seconds=-1.0 must be > 0"),
    (("bench", "env", "--seconds", "-inf"), "--seconds=-inf must be > 0"),
    (("bench", "env", "--seconds", "-1e5"), "--seconds=-100000.0 must be > 0"),
    (("bench", "train", "--to-quality", "--margin", "-NaN"), "--margin nan must be a number"),
    (("bench", "env", "--to-quality"), "--to-quality measures `bench train`"),
    (("bench", "train", "--to-quality", "--baseline", "nobody"), "unknown strategy 'nobody'"),
    (("bench", "train", "--to-quality", "--eval-games", "1"), "--eval-games 1 must be >= 2"),
    (("bench", "train", "--to-quality", "--margin", "nan"), "--margin nan must be a number >= 0"),
    (("bench", "train", "--threads", "5000"), "--threads 5000 must be an integer from 0 to"),
    (("bench", "env", "--threads", "2"), "--threads sets the training's threads"),
    (("bench", "planner", "--strategy", "hero"), "--strategy 'hero' is not a planner"),
    (("bench", "env", "--sharing", "independent"), "set the learners of `bench train`"),
    (("bench", "train", "--sharing", "independent"), "--sharing independent needs several"),
    (("evolve", "--popsize", "1000000000"),
     "--popsize=1000000000 must be an integer from 2 to 10,000"),
    (("bench", "env", "--games", "1e9"), "1,000,000,000 games of this size need about"),
    (("evolve", "--generations", "1e18"),
     "--generations=1000000000000000000 must be an integer from 1 to 100,000"),
    (("nash", "--br-generations", "1e18", "--games", "2"),
     "--br-generations=1000000000000000000 must be an integer from 1 to 100,000"),
    (("replay", "--seed", "18446744073709551616"),
     "seed=18446744073709551616 must be an integer in [0, 2**64)"),
    (("replay", "--game", "18446744073709551616"),
     "game_index=18446744073709551616 must be an integer from 0 to"),
])
def test_hostile_arguments(argv: tuple[str, ...], message: str, tmp_path, monkeypatch,
                           capsys) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(capsys, *argv)
    assert code == 2
    _one_line_error(err, argv[0])
    assert message in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("argv", [("evaluate", "--games", "1.5"), ("scenarios", "--bogus"),
                                  ("bench", "env", "--seconds", "x"), ("nosuchcommand",)])
def test_bad_options_are_one_line(argv: tuple[str, ...], capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        main(list(argv))
    err = capsys.readouterr().err
    assert exited.value.code == 2
    assert err.count("\n") == 1 and "error: " in err and "--help" in err, err


@pytest.mark.parametrize("argv", [("evolve", "--out"), ("evaluate", "--out-dir"),
                                  ("nash", "--out-dir"), ("replay", "--out"),
                                  ("replay", "--json"), ("plot", "--out"), ("train", "--out-dir"),
                                  ("sweep", "s.toml", "--out")])
@pytest.mark.parametrize("empty", ["", " "])
def test_an_empty_output_path_is_refused(argv: tuple[str, ...], empty: str, tmp_path,
                                         monkeypatch, capsys) -> None:
    """Not read as the working folder, nor as the default."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exited:
        main([*argv, empty])
    err = capsys.readouterr().err
    assert exited.value.code == 2
    assert err.count("\n") == 1 and f"{empty!r} is an empty path" in err, err
    assert list(tmp_path.iterdir()) == []


def _output_cases(tmp_path):
    folder = tmp_path / "folder"
    folder.mkdir()
    a_file = tmp_path / "file.txt"
    a_file.write_text("keep")
    return [("a folder", str(folder), "is a folder"),
            ("/dev/null", "/dev/null", "is not a regular file"),
            ("below a file", str(a_file / "out.json"), "is a file, not a folder")]


OUTPUT_COMMANDS = {
    "evolve": ("evolve", "--scenario", "easy", "--generations", "1", "--popsize", "2",
               "--games", "2", "--out"),
    "replay": ("replay", "--out"),
    "replay --json": ("replay", "--json"),
    "plot": ("plot", "--out"),
}


@pytest.mark.parametrize("command", OUTPUT_COMMANDS)
@pytest.mark.parametrize("case", range(3))
def test_unwritable_output_files_are_refused_before_the_work(command: str, case: int,
                                                             tmp_path, monkeypatch,
                                                             capsys) -> None:
    monkeypatch.setattr("bucket_brigade.engine.batch.GameBatch.__init__", _no_work)
    _, path, message = _output_cases(tmp_path)[case]
    code, _, err = run_cli(capsys, *OUTPUT_COMMANDS[command], path)
    assert code == 2
    _one_line_error(err, OUTPUT_COMMANDS[command][0])
    assert f"output file {path!r} " in err and message in err
    assert (tmp_path / "file.txt").read_text() == "keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt", "folder"]


@pytest.mark.parametrize("command", ["evaluate", "nash"])
def test_unwritable_output_folders_are_refused_before_the_work(command: str, tmp_path,
                                                               monkeypatch, capsys) -> None:
    monkeypatch.setattr("bucket_brigade.engine.batch.GameBatch.__init__", _no_work)
    a_file = tmp_path / "file.txt"
    a_file.write_text("keep")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "results.csv").mkdir()  # a folder where a table file goes
    for out_dir, message in ((a_file, "exists and is not a folder"),
                             (tmp_path / "out", "results.csv' is a folder")):
        code, _, err = run_cli(capsys, command, "--out-dir", str(out_dir), "--games", "2")
        assert code == 2
        _one_line_error(err, command)
        assert message in err
    assert a_file.read_text() == "keep"
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["results.csv"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into read-only folders")
def test_read_only_output_folder_is_refused(tmp_path, capsys) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    code, _, err = run_cli(capsys, "replay", "--out", str(locked / "r.html"))
    assert code == 2 and "no write permission in" in err


def _no_work(*args: object, **kwargs: object) -> None:
    raise AssertionError("the work started before the output was checked")


@pytest.mark.parametrize(("raised", "code", "line"), [
    (KeyboardInterrupt, 130, "bucket-brigade bench: interrupted\n"),
    (lambda: os.kill(os.getpid(), signal.SIGTERM), 143, "bucket-brigade bench: terminated\n"),
    (lambda: Path("/nonexistent/dir/file").write_text("x"), 1, "bucket-brigade bench: error: "),
])
def test_interrupts_and_os_errors_are_one_line(raised, code: int, line: str, monkeypatch,
                                               capsys) -> None:
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        pytest.skip("SIGTERM is handled by the test runner here")

    def run(args: object) -> None:
        if isinstance(raised, type):
            raise raised
        raised()
        signal.pause()  # a signal to this process is handled by now, or ends this wait

    monkeypatch.setattr("bucket_brigade.bench.run", run)
    assert main(["bench", "env"]) == code
    err = capsys.readouterr().err
    assert err.startswith(line) and err.count("\n") == 1, err
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # the handler is put back


@pytest.mark.parametrize("raised", [KeyboardInterrupt, Terminated])
def test_an_interrupt_that_lands_in_a_finaliser_is_not_reported(raised, monkeypatch,
                                                                  capsys) -> None:
    """A second Ctrl-C (or SIGTERM) may arrive while a finaliser runs (a compiled kernel's
    ``__del__``); Python can only report it there, which must not add lines to the one the
    stopping run prints. Other errors in finalisers are still reported."""

    class Finalised:
        def __init__(self, error: type[BaseException]) -> None:
            self.error = error

        def __del__(self) -> None:
            raise self.error

    def run(args: object) -> None:
        Finalised(raised)  # dropped at once: its __del__ raises inside the command
        Finalised(RuntimeError)

    reported: list[type[BaseException]] = []

    def report(unraisable: Any) -> None:
        reported.append(unraisable.exc_type)

    monkeypatch.setattr(sys, "unraisablehook", report)
    monkeypatch.setattr("bucket_brigade.bench.run", run)
    assert main(["bench", "env"]) == 0
    assert reported == [RuntimeError] and capsys.readouterr().err == ""
    assert sys.unraisablehook is report  # put back


def test_ctrl_c_twice_is_one_line_and_exit_130(tmp_path) -> None:
    """The real command line, interrupted twice in quick succession."""
    command = subprocess.Popen(
        [sys.executable, "-c", "import sys; from bucket_brigade import bench; "
         "from bucket_brigade.cli import main; run = bench.run\n"
         "def announced(args):\n    print('running', flush=True); return run(args)\n"
         "bench.run = announced; sys.exit(main())", "bench", "env", "--games", "64",
         "--seconds", "600"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert command.stdout is not None
    assert command.stdout.readline() == "running\n"  # in the command, measuring
    command.send_signal(signal.SIGINT)
    time.sleep(0.05)
    command.send_signal(signal.SIGINT)
    _, err = command.communicate()
    assert (command.returncode, err) == (130, "bucket-brigade bench: interrupted\n")


# -- counts, start-up, version ---------------------------------------------------------------

COUNT_OPTIONS = [("train", "--steps"), ("bench", "train", "--steps"), ("evaluate", "--games"),
                 ("evolve", "--generations"), ("evolve", "--games"), ("nash", "--games"),
                 ("replay", "--game")]


@pytest.mark.parametrize("option", COUNT_OPTIONS, ids=" ".join)
@pytest.mark.parametrize(("text", "value"), [("200000", 200_000), ("200_000", 200_000),
                                             ("2e5", 200_000), ("1e3", 1000)])
def test_counts_are_read_the_same_everywhere(option: tuple[str, ...], text: str,
                                             value: int) -> None:
    parser, _ = build_parser([option[0]])
    args = parser.parse_args([*option, text])
    assert getattr(args, option[-1].lstrip("-").replace("-", "_")) == value


@pytest.mark.parametrize("option", COUNT_OPTIONS, ids=" ".join)
@pytest.mark.parametrize(("text", "complaint"), [("1.5", "is not a whole number"),
                                                 ("-3", "is negative"),
                                                 ("lots", "is not a number")])
def test_a_bad_count_is_one_line_naming_it(option: tuple[str, ...], text: str, complaint: str,
                                           capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        main([*option, text])
    err = capsys.readouterr().err
    assert exited.value.code == 2
    assert err.count("\n") == 1 and f"argument {option[-1]}: {text!r} {complaint}" in err, err


def test_the_command_line_starts_without_the_heavy_libraries() -> None:
    """Every command's parser and ``--help`` (train's and sweep's too, though they show the
    training defaults) load neither torch nor matplotlib nor the compiled engine."""
    heavy = ("torch", "matplotlib", "numba", "tensorboard", "ray", "cma")
    script = (
        "import sys\n"
        "from bucket_brigade.cli import build_parser, main\n"
        "build_parser()\n"
        "for argv in (['--help'], ['train', '--help'], ['sweep', '--help']):\n"
        "    try:\n        main(argv)\n    except SystemExit:\n        pass\n"
        f"print([m for m in {heavy!r} if m in sys.modules])\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_version_and_python_dash_m(capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == f"bucket-brigade {package_version()}"
    done = subprocess.run([sys.executable, "-m", "bucket_brigade", "--version"],
                          capture_output=True, text=True, check=True)
    assert done.stdout.strip() == f"bucket-brigade {package_version()}"
    assert package_version()[0].isdigit()
