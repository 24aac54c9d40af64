"""A sweep under hostile input and faults: huge or empty sweep files are refused before
any work, a damaged result is run again, one process at a time writes a sweep folder,
and the workers never outlive the sweep process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from bucket_brigade.io import exclusive_lock
from bucket_brigade.sweep.cli import LOCK_FILE
from bucket_brigade.sweep.config import MAX_TRIALS
from bucket_brigade.sweep.trial import OK, damaged_result, load_result, result_path

from .helpers import plan_for, run_sweep

ROOT = Path(__file__).resolve().parents[2]
HUGE_GRID = "[grid]\n" + "".join(f"{key} = {list(range(1, 101))}\n"
                                 for key in ("seed", "epochs", "opponents", "eval_interval"))


@pytest.mark.parametrize(("text", "message"), [
    ("", "sets nothing to train"),
    ("[sweep]\nname = 'x'\n", "sets nothing to train"),
    (HUGE_GRID, f"100,000,000 trials (100 x 100 x 100 x 100 x 1 samples); at most {MAX_TRIALS:,}"),
    ("[random]\nsamples = 1_000_000_000\nlr = {low = 0.001, high = 0.01}\n",
     "[random] samples = 1000000000 must be an integer from 1 to"),
    ("[random]\nsamples = 1e9\nlr = {low = 0.001, high = 0.01}\n",
     "[random] samples = 1000000000.0 must be an integer"),
    (f"[grid]\nseed = {list(range(MAX_TRIALS + 1))}\n", "[grid] seed lists 10,001 values"),
])
def test_a_sweep_too_large_or_empty_is_refused_at_once(text, message, sweep_file, capsys,
                                                       tmp_path, monkeypatch) -> None:
    def no_trial(*args: Any) -> None:
        raise AssertionError("a trial was built before the sweep's size was checked")

    monkeypatch.setattr("bucket_brigade.sweep.config._trial", no_trial)
    monkeypatch.setattr("bucket_brigade.sweep.config._draw", no_trial)
    code, _ = run_sweep(sweep_file(text))
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and message in err, err
    assert not (tmp_path / "out").exists()


def test_a_damaged_result_is_run_again(sweep_file, tiny_training, capsys) -> None:
    path = sweep_file("[sweep]\nname = 'one'\nsteps = 256\neval_games = 4\n" + tiny_training)
    assert run_sweep(path)[0] == 0
    spec = plan_for(path).trials[0]
    for damaged in ("[1, 2]", "{", '{"status": 5}', "null", "\xff"):
        result_path(spec).write_text(damaged)
        assert load_result(spec) is None and damaged_result(spec)
    code, output = run_sweep(path)
    assert code == 0 and "cannot be read as a result; running the trial again" in output
    assert load_result(spec)["status"] == OK
    assert "Traceback" not in capsys.readouterr().err


def test_a_second_sweep_on_the_same_folder_is_refused(sweep_file, tiny_training, capsys,
                                                      tmp_path) -> None:
    path = sweep_file("[sweep]\nname = 'one'\nsteps = 256\neval_games = 4\n" + tiny_training)
    with exclusive_lock(tmp_path / "out" / "one" / LOCK_FILE, "the first sweep"):
        code, _ = run_sweep(path)
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "in use by another process" in err
    assert [p.name for p in (tmp_path / "out" / "one").iterdir()] == [LOCK_FILE]


def children(pid: int) -> set[int]:
    """The processes whose parent is ``pid``."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    """Running, not a zombie (a dead process nobody reaped yet)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


def start_sweep(path: Path, *argv: str, **popen: Any) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "bucket_brigade.cli", "sweep", str(path), "--out",
         str(path.parent / "out"), *argv], stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(ROOT / "src")}, **popen)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_sigkill_of_a_sweep_ends_its_workers(sweep_file, tiny_training, tmp_path) -> None:
    path = sweep_file("[sweep]\nname = 'long'\nsteps = 10_000_000\n" + tiny_training
                      + "[grid]\nseed = [1, 2]\n")
    process = start_sweep(path, "--max-parallel", "2")
    try:
        while len(list((tmp_path / "out" / "long").glob("runs/*/events.*"))) < 2:
            assert process.poll() is None
            time.sleep(0.2)  # polling for the event files, not a deadline
        workers = children(process.pid)
        assert len(workers) >= 2
        process.kill()
        process.wait()
        while any(alive(pid) for pid in workers):  # they die as their parent dies
            time.sleep(0.1)
    finally:
        if process.poll() is None:
            process.kill()
