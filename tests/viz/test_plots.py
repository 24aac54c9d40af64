"""Learning-curve figures from TensorBoard event files written the way the trainer writes them."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from torch.utils.tensorboard import SummaryWriter

from bucket_brigade.cli import main
from bucket_brigade.training.config import TrainConfig
from bucket_brigade.viz.plots import (
    MIN_DIFFERENCE_SCALE,
    TAG_ORDER,
    Run,
    choose_tags,
    curves_figure,
    find_run_dirs,
    group_runs,
    heatmap_figure,
    load_runs,
    plot_runs,
    run_labels,
    save_heatmap,
    seed_band,
    smooth,
)

STEPS = [2048 * k for k in range(1, 9)]
RUN_COLOURS = ("#1f77b4", "#ff7f0e")  # matplotlib's C0 and C1: the first two runs


def write_run(run_dir: Path, offset: float, tags: tuple[str, ...] = TAG_ORDER[:8],
              steps: list[int] = STEPS) -> dict[str, list[float]]:
    """A small event file with the trainer's tags; returns the values written per tag."""
    written: dict[str, list[float]] = {tag: [] for tag in tags}
    writer = SummaryWriter(str(run_dir))
    for k, step in enumerate(steps):
        for t, tag in enumerate(tags):
            value = offset + 10 * t + k * (1 + t % 3) + 0.25 * (k % 2)
            writer.add_scalar(tag, value, step)
            written[tag].append(value)
    writer.close()
    return written


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def colour_pixels(image: np.ndarray, colour: str) -> int:
    rgb = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)]) / 255
    return int((np.abs(image[..., :3] - rgb).max(axis=-1) < 3 / 255).sum())


def test_two_runs_overlaid_in_one_png(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runs = tmp_path / "marl" / "runs"
    write_run(runs / "baseline", 0.0)
    write_run(runs / "fast_lr", 5.0, tags=TAG_ORDER[:3])
    out = tmp_path / "curves.png"
    code, stdout, _ = run_cli(capsys, "plot", str(runs), "--out", str(out))
    assert code == 0
    assert "8 panels" in stdout and "2 runs (baseline; fast_lr)" in stdout
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = matplotlib.image.imread(str(out))
    height, width = image.shape[:2]
    assert 600 <= height <= 3000 and 1000 <= width <= 3000
    for colour in RUN_COLOURS:  # both runs are drawn (and in the legend)
        assert colour_pixels(image, colour) > 200, colour
    assert sorted(p.name for p in tmp_path.iterdir()) == ["curves.png", "marl"]


def test_run_dirs_given_one_by_one_and_tags_chosen(tmp_path: Path) -> None:
    first, second = tmp_path / "a" / "runs" / "run", tmp_path / "b" / "runs" / "run"
    write_run(first, 0.0)
    write_run(second, 1.0)
    runs = load_runs([first, second])
    assert [run.label for run in runs] == ["a/runs/run", "b/runs/run"]
    out = tmp_path / "losses.svg"
    drawn = plot_runs(runs, out, tags=["losses/", "episode/reward"], smoothing=0.0)
    assert drawn == ["episode/reward", "losses/policy_loss", "losses/value_loss",
                     "losses/entropy", "losses/approx_kl"]
    assert out.read_text().lstrip().startswith("<?xml")


def test_scalars_are_read_back_exactly_including_a_resumed_run(tmp_path: Path) -> None:
    run = tmp_path / "runs" / "resumed"
    first = write_run(run, 0.0, tags=("episode/reward",), steps=STEPS[:4])
    second = write_run(run, 0.0, tags=("episode/reward",), steps=STEPS[4:])
    assert len(list(run.glob("events.out.tfevents*"))) == 2
    (loaded,) = load_runs([tmp_path / "runs"])
    curve = loaded.curves["episode/reward"]
    assert curve.steps.tolist() == STEPS
    expected = np.float32(first["episode/reward"] + second["episode/reward"])
    np.testing.assert_array_equal(np.float32(curve.values), expected)


@pytest.mark.parametrize("make, message", [
    (lambda root: root.mkdir(), "no TensorBoard event files"),
    (lambda root: None, "does not exist"),
])
def test_a_folder_without_event_files_is_a_one_line_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], make, message: str) -> None:
    root = tmp_path / "runs"
    make(root)
    code, _, err = run_cli(capsys, "plot", str(root), "--out", str(tmp_path / "c.png"))
    assert code == 2 and err.count("\n") == 1 and message in err
    assert not (tmp_path / "c.png").exists()


def test_bad_options_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_run(tmp_path / "runs" / "r", 0.0, tags=("episode/reward",))
    runs = load_runs([tmp_path / "runs"])
    with pytest.raises(ValueError, match=r"\.jpg.*\.png, \.svg, \.pdf"):
        plot_runs(runs, tmp_path / "c.jpg")
    with pytest.raises(ValueError, match=r"tag 'losses/' is in none.*episode/reward"):
        plot_runs(runs, tmp_path / "c.png", tags=["losses/"])
    code, _, err = run_cli(capsys, "plot", str(tmp_path / "runs"), "--smoothing", "1")
    assert code == 2 and "--smoothing=1.0" in err


def test_tags_follow_the_trainer_order_then_names() -> None:
    available = {"zeta/x", "losses/entropy", "episode/reward", "alpha/y"}
    assert choose_tags(available) == ["episode/reward", "losses/entropy", "alpha/y", "zeta/x"]
    assert choose_tags(available, ["zeta/x", "losses/"]) == ["losses/entropy", "zeta/x"]


def test_labels_grow_until_they_differ() -> None:
    paths = [Path("/w/a/runs/x"), Path("/w/b/runs/x"), Path("/w/b/runs/y")]
    assert run_labels(paths) == ["a/runs/x", "b/runs/x", "b/runs/y"]
    assert run_labels([Path("/w/runs/x")]) == ["x"]


def test_smoothing_is_tensorboards_debiased_average() -> None:
    values = np.array([1.0, 3.0, np.nan, 2.0])
    smoothed = smooth(values, 0.5)
    # debiased EMA: (0.5 * 1) / 0.5 = 1, (0.25 * 1 + 0.5 * 3) / 0.75, NaN kept and skipped
    assert smoothed[0] == 1.0 and smoothed[1] == pytest.approx(1.75 / 0.75)
    assert np.isnan(smoothed[2])
    assert smoothed[3] == pytest.approx((0.125 * 1 + 0.25 * 3 + 0.5 * 2) / 0.875)
    np.testing.assert_array_equal(smooth(values, 0.0), values)
    with pytest.raises(ValueError, match="smoothing=1"):
        smooth(values, 1.0)


def test_find_run_dirs_lists_each_run_once(tmp_path: Path) -> None:
    write_run(tmp_path / "runs" / "r1", 0.0, tags=("episode/reward",))
    write_run(tmp_path / "runs" / "r2", 0.0, tags=("episode/reward",))
    found = find_run_dirs([tmp_path / "runs", tmp_path / "runs" / "r1"])
    assert [p.name for p in found] == ["r1", "r2"]


def write_configured_run(runs: Path, name: str, seed: int, lr: float, offset: float,
                         steps: list[int] = STEPS) -> dict[str, list[float]]:
    """A run with a config.json as the trainer writes it (its settings, and more)."""
    written = write_run(runs / name, offset, tags=("episode/reward",), steps=steps)
    config = {**TrainConfig(seed=seed, lr=lr, run_name=name).to_dict(), "num_agents": 4,
              "network": {"hidden_size": 64}}
    (runs / name / "config.json").write_text(json.dumps(config))
    return written


def test_runs_that_differ_only_in_the_seed_are_one_group(tmp_path: Path) -> None:
    runs = tmp_path / "sweep" / "runs"
    written = [write_configured_run(runs, f"greedy_neighbor_seed{k}_1a2b3c4d", k, 1e-3, k)
               for k in range(3)]
    write_configured_run(runs, "greedy_neighbor_seed0_9f8e7d6c", 0, 3e-4, 10.0)
    groups = group_runs(load_runs([runs]))
    assert [(g.label, len(g.runs)) for g in groups] == [("lr=0.001 (3 seeds)", 3),
                                                         ("lr=0.0003", 1)]
    curves = [run.curves["episode/reward"] for run in groups[0].runs]
    steps, mean, low, high = seed_band(curves, 0.6)
    smoothed = np.array([smooth(np.float32(w["episode/reward"]).astype(float), 0.6)
                         for w in written])
    assert steps.tolist() == STEPS
    np.testing.assert_allclose(mean, smoothed.mean(axis=0))
    np.testing.assert_allclose(low, smoothed.min(axis=0))
    np.testing.assert_allclose(high, smoothed.max(axis=0))


def test_a_band_covers_the_steps_every_seed_logged(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    write_configured_run(runs, "a", 1, 1e-3, 0.0)
    write_configured_run(runs, "b", 2, 1e-3, 1.0, steps=STEPS[:5])
    (group,) = group_runs(load_runs([runs]))
    steps, *_ = seed_band([run.curves["episode/reward"] for run in group.runs], 0.0)
    assert steps.tolist() == STEPS[:5]
    assert group.label == "a + b (2 seeds)"  # names with nothing in common, both shown


def test_runs_without_settings_keep_their_folder_names() -> None:
    runs = [Run("tiny_s1", Path("/r/tiny_s1"), {}), Run("tiny_s2", Path("/r/tiny_s2"), {})]
    assert [g.label for g in group_runs(runs)] == ["tiny_s1", "tiny_s2"]
    same = [Run(r.label, r.path, {}, {"lr": 1.0, "seed": k}) for k, r in enumerate(runs)]
    assert [g.label for g in group_runs(same)] == ["tiny_s (2 seeds)"]


def test_one_legend_below_the_panels_and_axis_names_on_each(tmp_path: Path) -> None:
    write_run(tmp_path / "runs" / "baseline", 0.0)
    write_run(tmp_path / "runs" / "fast_lr", 5.0, tags=TAG_ORDER[:3])
    groups = group_runs(load_runs([tmp_path / "runs"]))
    figure = curves_figure(groups, TAG_ORDER[:8], smoothing=0.6)
    panels = [ax for ax in figure.axes if ax.get_visible()]
    assert len(panels) == 8
    for ax in panels:
        assert ax.get_xlabel() == "environment steps" and ax.get_ylabel()
        assert ax.get_legend() is None  # nothing drawn over the data
    (legend,) = figure.legends
    assert [text.get_text() for text in legend.get_texts()] == ["baseline", "fast_lr"]
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    box = legend.get_window_extent(canvas.get_renderer())
    assert box.y1 <= min(ax.get_window_extent().y0 for ax in panels)
    assert figure.bbox.y0 <= box.y0 and box.x0 >= figure.bbox.x0 and box.x1 <= figure.bbox.x1


def heatmap_rows(scenarios: list[str]) -> list[dict]:
    candidates = ("model_gn", "firefighter", "free_rider", "evolved")
    return [{"candidate": c, "scenario": s, "opponents": "free_rider", "mean_score": 10.0 * k + j}
            for j, s in enumerate(scenarios) for k, c in enumerate(candidates)]


def paired_rows() -> list[dict]:
    """Two columns; the baseline hero scores 107.4 in the first, where firefighter's 107.3
    does not differ from it and free_rider's 80.0 does."""
    def row(candidate: str, scenario: str, mean: float, diff: float | None,
            differs: bool | None, baseline: str | None = "hero") -> dict:
        return {"candidate": candidate, "scenario": scenario, "opponents": "random",
                "mean_score": mean, "baseline": baseline, "minus_baseline": diff,
                "minus_baseline_ci95": None if diff is None else 0.5, "differs": differs}
    return [row("hero", "easy", 107.4, None, None), row("firefighter", "easy", 107.3, -0.1, False),
            row("free_rider", "easy", 80.0, -27.4, True),
            row("hero", "hard", 12.0, None, None, None),
            row("firefighter", "hard", 13.0, None, None, None)]


def test_heatmap_colours_paired_differences_that_survive_the_correction() -> None:
    figure = heatmap_figure(paired_rows(), "candidate", ("scenario", "opponents"), "t")
    heatmap, colour_bar = figure.axes
    colours = heatmap.images[0].get_array()
    # rows hero, firefighter, free_rider; columns easy, hard (no baseline there: blank)
    assert colours[0, 0] == 0 and colours[1, 0] == 0  # 107.4 vs 107.3: the same colour
    assert colours[2, 0] == -27.4
    assert colours.mask[:, 1].tolist() == [True, True, True]
    norm = heatmap.images[0].norm
    assert norm.vmin == -27.4 and norm.vmax == 27.4  # one scale, centred on no difference
    texts = {t.get_text() for t in heatmap.texts}
    assert {"107.4\nbaseline", "107.3\n-0.1 ± 0.5", "80.0\n-27.4 ± 0.5", "12.0"} <= texts
    assert "Holm" in colour_bar.get_ylabel() and "SD" not in colour_bar.get_ylabel()


def test_a_table_without_baselines_is_coloured_by_score_on_one_scale() -> None:
    rows = heatmap_rows(["easy", "hard"])
    figure = heatmap_figure(rows, "candidate", ("scenario", "opponents"), "t")
    image = figure.axes[0].images[0]
    assert image.get_array()[:, 1].tolist() == [1.0, 11.0, 21.0, 31.0]  # the scores
    assert (image.norm.vmin, image.norm.vmax) == (0.0, 31.0)
    assert "one scale" in figure.axes[1].get_ylabel()


@pytest.mark.parametrize("columns", [1, 2, 12])
def test_heatmap_has_a_colour_bar_axis_names_and_a_title_that_fits(columns: int,
                                                                    tmp_path: Path) -> None:
    scenarios = [f"scenario_number_{j}" for j in range(columns)]
    title = "Evaluation over 1000 games per cell, seed 0"
    figure = heatmap_figure(heatmap_rows(scenarios), "candidate", ("scenario", "opponents"),
                            title)
    heatmap, colour_bar = figure.axes
    assert heatmap.get_xlabel() == "scenario / opponents" and heatmap.get_ylabel() == "candidate"
    assert "mean score" in colour_bar.get_ylabel()
    assert [t.get_text() for t in heatmap.get_xticklabels()] == [
        f"{s} / free_rider" for s in scenarios]
    canvas = FigureCanvasAgg(figure)
    canvas.draw()  # lays the figure out
    renderer, frame = canvas.get_renderer(), figure.bbox
    suptitle = next(t for t in figure.texts if t.get_text() == figure.get_suptitle())
    assert " ".join(suptitle.get_text().split()).startswith(title)
    for artist in (suptitle, heatmap.xaxis.label, heatmap.yaxis.label,
                   colour_bar.yaxis.label, *heatmap.get_xticklabels()):
        box = artist.get_window_extent(renderer)
        assert frame.x0 <= box.x0 and box.x1 <= frame.x1, artist
        assert frame.y0 <= box.y0 and box.y1 <= frame.y1, artist
    out = tmp_path / "heatmap.png"
    save_heatmap(heatmap_rows(scenarios), out, "candidate", ("scenario", "opponents"), title)
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_small_differences_are_not_stretched_to_the_ends_of_the_scale() -> None:
    rows = [dict(r, minus_baseline=-0.8, differs=True) if r["candidate"] == "free_rider"
            else r for r in paired_rows()]
    norm = heatmap_figure(rows, "candidate", ("scenario", "opponents"), "t").axes[0].images[0].norm
    assert (norm.vmin, norm.vmax) == (-MIN_DIFFERENCE_SCALE, MIN_DIFFERENCE_SCALE)
