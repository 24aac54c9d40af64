"""The sweep's results figure: every seed, their mean, and a legend off the data."""

from __future__ import annotations

import statistics
from pathlib import Path
from types import SimpleNamespace

from matplotlib.backends.backend_agg import FigureCanvasAgg

from bucket_brigade.sweep.report import best_rows, results_figure, save_plot
from bucket_brigade.sweep.trial import OK

SWEPT = ("scenario", "seed", "lr")


def trial_rows() -> list[dict]:
    return [{"trial": f"{scenario}_seed{seed}_0123abcd", "status": OK, "scenario": scenario,
             "seed": seed, "lr": lr, "mean_score": base + 100 * lr + seed, "ci95": 1.5}
            for scenario, base in (("easy", 100.0), ("hard", 10.0))
            for lr in (1e-3, 3e-4) for seed in (0, 1, 2)]


def test_the_mean_over_seeds_is_drawn_and_the_legend_is_below_the_panels(tmp_path: Path) -> None:
    rows = trial_rows()
    plan = SimpleNamespace(name="demo", swept=SWEPT)
    figure = results_figure(plan, rows, best_rows(rows, SWEPT))
    panels = figure.axes
    assert [ax.get_title(loc="left") for ax in panels] == ["easy", "hard"]
    diamonds = [line for line in panels[0].get_lines() if line.get_marker() == "D"]
    means = [statistics.fmean(r["mean_score"] for r in rows
                              if r["scenario"] == "easy" and r["lr"] == lr) for lr in (1e-3, 3e-4)]
    assert [line.get_xdata()[0] for line in diamonds] == means
    assert all(ax.get_legend() is None for ax in panels)
    (legend,) = figure.legends
    assert sorted(t.get_text() for t in legend.get_texts()) == [
        "mean over seeds", "seed 0", "seed 1", "seed 2"]
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    box = legend.get_window_extent(canvas.get_renderer())
    assert box.y1 <= min(ax.get_window_extent().y0 for ax in panels)
    assert box.y0 >= figure.bbox.y0
    save_plot(plan, rows, best_rows(rows, SWEPT), tmp_path / "results.png")
    assert (tmp_path / "results.png").read_bytes()[:4] == b"\x89PNG"
