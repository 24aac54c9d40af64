"""The Ray backend: the small sweep as Ray Tune trials on a local Ray instance gives the same
trials, folders and scores as the local backend, and reports training metrics to Tune."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from bucket_brigade.sweep.trial import OK, load_result, run_paths

from .helpers import SMALL_SWEEP, plan_for, read_csv, run_sweep

pytest.importorskip("ray", reason="Ray is not installed (pip install 'bucket-brigade[ray]')")
pytestmark = pytest.mark.slow  # starting Ray takes ~15 s


def test_the_small_sweep_on_ray_matches_the_local_backend(
        tmp_path: Path, small_sweep: tuple[Path, int, str]) -> None:
    path = tmp_path / "small.toml"
    path.write_text(SMALL_SWEEP)
    code, output = run_sweep(path, "--backend", "ray", "--max-parallel", "2")
    assert code == 0, output
    sweep_dir = tmp_path / "out" / "small"
    rows = read_csv(sweep_dir / "results.csv")
    local_path, _, _ = small_sweep
    local_rows = read_csv(local_path.parent / "out" / "small" / "results.csv")
    # The same trials, trained and evaluated from the same seeds on the CPU: the same scores.
    assert [r["trial"] for r in rows] == [r["trial"] for r in local_rows]
    assert all(r["status"] == OK for r in rows)
    assert [float(r["mean_score"]) for r in rows] == pytest.approx(
        [float(r["mean_score"]) for r in local_rows], rel=1e-9)
    assert (sweep_dir / "results.png").is_file() and (sweep_dir / "best.csv").is_file()

    for spec in plan_for(path).trials:
        paths = run_paths(spec)
        assert list(paths.run_dir.glob("events.out.tfevents.*")) and paths.model_path.is_file()
        assert load_result(spec)["status"] == OK
        progress = next((sweep_dir / "ray").glob(f"tune_*/{spec.name}/progress.csv"))
        with progress.open() as file:
            reports = list(csv.DictReader(file))
        assert [int(r["step"]) for r in reports[:-1]] == list(range(256, 2049, 256))
        assert float(reports[0]["train/steps_per_sec"]) > 0

    code, output = run_sweep(path, "--backend", "ray")
    assert code == 0 and "4 already finished, 0 to run" in output
