"""``bucket-brigade plot``: learning curves of training runs, read from their TensorBoard files.

TensorBoard itself needs a server and a browser; a PNG (or SVG/PDF) grid is what goes
into a report or a chat message, and compares runs on one page. Each panel is one
scalar tag. Runs whose settings (their ``config.json``) differ only in the seed form one
group, drawn as the mean of their smoothed curves with a band from the lowest to the
highest; a run alone is drawn faintly as logged and boldly after TensorBoard's debiased
exponential smoothing. Every group is one colour throughout, named in one legend below
the panels (never over the data) by the settings that tell the groups apart.

Also the evaluation heatmap that ``bucket-brigade evaluate`` (and ``nash``) write.
"""

from __future__ import annotations

import io
import itertools
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bucket_brigade.io import atomic_write_bytes, read_input_text
from bucket_brigade.training.config import TrainConfig
from bucket_brigade.training.monitor import EVENT_FILE_MARK

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

DEFAULT_RUNS_DIR = "experiments/marl/runs"
DEFAULT_SMOOTHING = 0.6  # TensorBoard's default
PLOT_FORMATS = (".png", ".svg", ".pdf")
# The trainer's tags, most telling first; tags not listed here follow in name order.
TAG_ORDER = (
    "episode/reward", "train/avg_reward_100ep", "episode/length", "train/steps_per_sec",
    "losses/policy_loss", "losses/value_loss", "losses/entropy", "losses/approx_kl",
    "losses/clipfrac", "losses/explained_variance", "eval/mean_score", "eval/houses_saved",
    "eval/work_rate", "eval/signal_honesty", "charts/learning_rate", "train/total_episodes",
)
COLUMNS = 3
# Settings that do not change what a run learns, or tell its seeds apart: runs that
# differ only in these are one group.
NOT_GROUPING = ("seed", "run_name", "out_dir", "threads", "cpu", "checkpoint_interval")
# Points of score difference at the ends of a heatmap's colour scale, at least: a table of
# small differences is not stretched until a point's difference looks like a rout.
MIN_DIFFERENCE_SCALE = 10.0


@dataclass(frozen=True)
class Curve:
    steps: np.ndarray
    values: np.ndarray


@dataclass(frozen=True)
class Run:
    label: str
    path: Path
    curves: dict[str, Curve]
    settings: dict[str, Any] | None = None  # the run's TrainConfig, from its config.json


@dataclass(frozen=True)
class RunGroup:
    """Runs that differ only in their seed (or one run), drawn as one curve per tag."""

    label: str
    runs: tuple[Run, ...]


def find_run_dirs(paths: Sequence[str | Path]) -> list[Path]:
    """Every folder holding event files, at or below each path (a run, or a parent of runs)."""
    found: list[Path] = []
    for path in map(Path, paths):
        if not path.is_dir():
            raise ValueError(f"run directory {str(path)!r} does not exist or is not a folder")
        runs = sorted({f.parent.resolve() for f in path.rglob(f"{EVENT_FILE_MARK}*")
                       if f.is_file()})
        if not runs:
            raise ValueError(f"no TensorBoard event files ({EVENT_FILE_MARK}.*) under "
                             f"{str(path)!r}")
        found.extend(run for run in runs if run not in found)
    return found


def run_labels(run_dirs: Sequence[Path]) -> list[str]:
    """Folder names, lengthened to as many trailing path parts as it takes to tell them apart."""
    longest = max(len(path.parts) for path in run_dirs)
    for depth in range(1, longest + 1):
        labels = ["/".join(path.parts[-depth:]) for path in run_dirs]
        if len(set(labels)) == len(labels):
            return labels
    return [str(path) for path in run_dirs]


def load_run(path: Path, label: str) -> Run:
    """Every scalar of a run folder (all its event files, a resumed run's included)."""
    from tensorboard.backend.event_processing.event_accumulator import (
        SCALARS,
        EventAccumulator,
    )

    accumulator = EventAccumulator(str(path), size_guidance={SCALARS: 0})  # 0: keep all
    accumulator.Reload()
    curves = {}
    for tag in accumulator.Tags()[SCALARS]:
        events = accumulator.Scalars(tag)
        steps = np.array([event.step for event in events], dtype=np.int64)
        order = np.argsort(steps, kind="stable")
        curves[tag] = Curve(steps[order],
                            np.array([event.value for event in events], dtype=float)[order])
    return Run(label, path, curves, _settings(path / "config.json"))


def _settings(config_path: Path) -> dict[str, Any] | None:
    """The TrainConfig fields of a run's config.json; None without a readable one."""
    try:
        data = json.loads(read_input_text(config_path, "run config"))  # never a FIFO
        return TrainConfig.from_dict(data).to_dict() if isinstance(data, dict) else None
    except (OSError, ValueError, TypeError):
        return None


def group_runs(runs: Sequence[Run]) -> list[RunGroup]:
    """Runs whose settings are the same but for :data:`NOT_GROUPING` as one group each (a
    run without a config.json alone), labelled by the settings that differ between the
    groups, e.g. ``lr=0.001``, or else by the runs' folder names."""
    members: dict[object, list[Run]] = {}
    for run in runs:
        key = run.path if run.settings is None else json.dumps(
            {k: v for k, v in run.settings.items() if k not in NOT_GROUPING}, sort_keys=True)
        members.setdefault(key, []).append(run)
    configured = [group[0].settings for group in members.values() if group[0].settings]
    differing = [k for k in (configured[0] if configured else {}) if k not in NOT_GROUPING
                 and len({json.dumps(c.get(k)) for c in configured}) > 1]
    groups = []
    for group in members.values():
        settings = group[0].settings
        label = ", ".join(f"{k}={settings[k]}" for k in differing) if settings and differing \
            else _common_name([run.label for run in group])
        if len(group) > 1:
            label += f" ({len(group)} seeds)"
        groups.append(RunGroup(label, tuple(group)))
    return groups


def _common_name(labels: Sequence[str]) -> str:
    """What the names of a group's runs share (``tiny`` for ``tiny_s1``, ``tiny_s2``)."""
    shared = "".join(letters[0] for letters in
                     itertools.takewhile(lambda same: len(set(same)) == 1, zip(*labels)))
    shared = shared.rstrip("_-/.")
    return shared or " + ".join(labels)


def load_runs(paths: Sequence[str | Path]) -> list[Run]:
    run_dirs = find_run_dirs(paths)
    runs = [load_run(path, label) for path, label in zip(run_dirs, run_labels(run_dirs))]
    if not any(run.curves for run in runs):
        raise ValueError(f"the event files under {', '.join(map(str, paths))} hold no scalars")
    return runs


def choose_tags(available: set[str], wanted: Sequence[str] | None = None) -> list[str]:
    """Tags to draw, in TAG_ORDER; ``wanted`` entries are tags, or prefixes ending in '/'."""
    ordered = [t for t in TAG_ORDER if t in available] + sorted(available - set(TAG_ORDER))
    if not wanted:
        return ordered
    chosen = []
    for entry in wanted:
        matches = [t for t in ordered if t == entry or (entry.endswith("/") and
                                                         t.startswith(entry))]
        if not matches:
            raise ValueError(f"tag {entry!r} is in none of the runs; available tags: "
                             f"{', '.join(ordered)}")
        chosen.extend(t for t in matches if t not in chosen)
    return [t for t in ordered if t in chosen]


def smooth(values: np.ndarray, weight: float) -> np.ndarray:
    """TensorBoard's smoothing: an exponential moving average, debiased at the start;
    non-finite values are left as they are and do not enter the average."""
    if not 0 <= weight < 1:
        raise ValueError(f"smoothing={weight!r} must be in [0, 1)")
    out = values.astype(float)
    average, seen = 0.0, 0
    for k, value in enumerate(values):
        if math.isfinite(value):
            average = weight * average + (1 - weight) * value
            seen += 1
            out[k] = average / (1 - weight ** seen)
    return out


def plot_runs(runs: Sequence[Run], out: str | Path, *, smoothing: float = DEFAULT_SMOOTHING,
              tags: Sequence[str] | None = None) -> list[str]:
    """Draw one panel per tag, every group of runs overlaid, and write the figure
    atomically.

    Returns the tags drawn.
    """
    out = Path(out)
    if out.suffix.lower() not in PLOT_FORMATS:
        raise ValueError(f"--out {str(out)!r}: the file type must be one of "
                         f"{', '.join(PLOT_FORMATS)}")
    chosen = choose_tags(set().union(*(run.curves for run in runs)), tags)
    figure = curves_figure(group_runs(runs), chosen, smoothing)
    buffer = io.BytesIO()
    figure.savefig(buffer, format=out.suffix.lower()[1:], dpi=110)
    atomic_write_bytes(out, buffer.getvalue())
    return chosen


def seed_band(curves: Sequence[Curve], smoothing: float,
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Steps logged by every run of a group, and at those steps the mean, lowest and
    highest of the runs' smoothed values."""
    steps = curves[0].steps
    for curve in curves[1:]:
        steps = np.intersect1d(steps, curve.steps)
    values = np.array([smooth(curve.values, smoothing)[np.searchsorted(curve.steps, steps)]
                       for curve in curves])
    return steps, values.mean(axis=0), values.min(axis=0), values.max(axis=0)


def curves_figure(groups: Sequence[RunGroup], chosen: Sequence[str],
                  smoothing: float) -> Figure:
    """One panel per tag in ``chosen``, with axis names, and one legend for all of them
    below the panels."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import EngFormatter

    columns = min(COLUMNS, len(chosen))
    rows = math.ceil(len(chosen) / columns)
    legend_rows = math.ceil(len(groups) / columns) + 1  # the entries, and the note
    figure = Figure(figsize=(4.6 * columns, 3.0 * rows + 0.5 + 0.22 * legend_rows),
                    layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    handles = {}
    for ax, tag in zip(axes, chosen):
        for k, group in enumerate(groups):
            curves = [run.curves[tag] for run in group.runs if tag in run.curves]
            if curves:
                handles[group.label] = _draw_group(ax, curves, f"C{k % 10}", smoothing)
        ax.set_title(tag, fontsize=10)
        ax.set_xlabel("environment steps", fontsize=8)
        ax.set_ylabel(tag.rpartition("/")[2].replace("_", " "), fontsize=8)
        ax.xaxis.set_major_formatter(EngFormatter())
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3)
    for ax in axes[len(chosen):]:
        ax.set_visible(False)
    notes = [f"smoothed ({smoothing:g})"] if smoothing > 0 else []
    if smoothing > 0 and any(len(group.runs) == 1 for group in groups):
        notes.append("faint: as logged")
    if any(len(group.runs) > 1 for group in groups):
        notes.append("seeds: their mean, and a band from the lowest to the highest")
    legend = figure.legend(list(handles.values()), list(handles), loc="outside lower center",
                           ncols=min(columns, len(handles)), fontsize=8, frameon=False,
                           title="; ".join(notes) or None, title_fontsize=8)
    legend.set_in_layout(True)
    return figure


def _draw_group(ax: Axes, curves: Sequence[Curve], colour: str, smoothing: float) -> Line2D:
    """One group's curve in one panel; returns the line that stands for it in the legend."""
    if len(curves) == 1:
        curve = curves[0]
        marker = "o" if len(curve.steps) == 1 else None
        if smoothing > 0:
            ax.plot(curve.steps, curve.values, color=colour, alpha=0.25, linewidth=0.8,
                    marker=marker)
        (line,) = ax.plot(curve.steps, smooth(curve.values, smoothing), color=colour,
                          linewidth=1.6, marker=marker)
        return line
    steps, mean, low, high = seed_band(curves, smoothing)
    ax.fill_between(steps, low, high, color=colour, alpha=0.2, linewidth=0)
    (line,) = ax.plot(steps, mean, color=colour, linewidth=1.6,
                      marker="o" if len(steps) == 1 else None)
    return line


def save_heatmap(rows: Sequence[dict], path: str | Path, row_key: str,
                 column_keys: Sequence[str], title: str) -> None:
    """Write :func:`heatmap_figure` as a PNG, atomically."""
    buffer = io.BytesIO()
    heatmap_figure(rows, row_key, column_keys, title).savefig(buffer, format="png", dpi=110)
    atomic_write_bytes(path, buffer.getvalue())


def heatmap_figure(rows: Sequence[dict], row_key: str, column_keys: Sequence[str],
                   title: str) -> Figure:
    """An evaluation table: every cell's mean score written in it, and a colour that means
    the same thing in every cell.

    Rows that carry paired differences from a baseline (``minus_baseline``, ``differs``;
    see :func:`~bucket_brigade.analysis.tournament.add_paired_differences`) are coloured
    by that difference, in points on one scale for the whole table, and only where it
    survives the table's multiple-comparison correction (the scale reaches at least
    :data:`MIN_DIFFERENCE_SCALE` points either way): a cell that does not differ from
    its baseline stays white, however its mean compares. The difference and its 95% CI are
    written under the score, and the baseline cell is framed. Other tables (a payoff
    matrix) are coloured by the mean score itself, on one scale for the whole table.
    """
    import textwrap

    from matplotlib import colormaps
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    row_names = list(dict.fromkeys(str(r[row_key]) for r in rows))
    columns = list(dict.fromkeys(" / ".join(str(r[k]) for k in column_keys) for r in rows))
    cells = {(row_names.index(str(r[row_key])),
              columns.index(" / ".join(str(r[k]) for k in column_keys))): r for r in rows}
    paired = any(r.get("minus_baseline") is not None for r in rows)
    colour = np.full((len(row_names), len(columns)), np.nan)
    for (i, j), r in cells.items():
        if not paired:
            colour[i, j] = r["mean_score"]
        elif r.get("baseline") is not None:  # 0 (white): the baseline, or no difference
            colour[i, j] = r["minus_baseline"] if r.get("differs") else 0.0
    if paired:
        reach = max(MIN_DIFFERENCE_SCALE, float(np.nanmax(np.abs(colour))))
        colour_map, limits = colormaps["RdBu"].with_extremes(bad="#e8e8e8"), (-reach, reach)
        label = ("score minus the column's baseline (points);\nwhite: no difference "
                 "(paired 95% CI, Holm-corrected)")
        what = "cells: mean score, and its paired difference from the column's baseline " \
               "(framed) with 95% CI"
    else:
        colour_map = colormaps["viridis"].with_extremes(bad="#e8e8e8")
        limits = (float(np.nanmin(colour)), float(np.nanmax(colour)))
        label, what = "mean score (one scale for the whole table)", "cells: mean score"

    label_width = 0.07 * max(len(name) for name in row_names)  # inches of row names
    width = max(5.0, 2.2 + label_width + 1.0 * len(columns))
    height = 2.0 + (0.45 if paired else 0.32) * len(row_names) \
        + 0.06 * max(len(c) for c in columns)
    figure = Figure(figsize=(width, height), layout="constrained")
    ax = figure.subplots()
    image = ax.imshow(colour, cmap=colour_map, vmin=limits[0], vmax=limits[1], aspect="auto")
    ax.set_xticks(range(len(columns)), columns, rotation=45 if len(columns) > 1 else 0,
                  ha="right" if len(columns) > 1 else "center", fontsize=8)
    ax.set_yticks(range(len(row_names)), row_names, fontsize=8)
    ax.set_xlabel(" / ".join(column_keys).replace("_", " "), fontsize=9)
    ax.set_ylabel(row_key.replace("_", " "), fontsize=9)
    for (i, j), r in cells.items():
        text = f"{r['mean_score']:.1f}"
        if r.get("minus_baseline") is not None:
            text += f"\n{r['minus_baseline']:+.1f} ± {r['minus_baseline_ci95']:.1f}"
        if paired and r.get("baseline") == r[row_key]:
            text += "\nbaseline"
            ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, linewidth=1.6,
                                   edgecolor="black"))
        shade = image.norm(colour[i, j]) if np.isfinite(colour[i, j]) else 0.5
        dark = abs(shade - 0.5) > 0.35 if paired else shade < 0.45  # readable on dark cells
        ax.text(j, i, text, ha="center", va="center", fontsize=7,
                color="white" if dark else "black", linespacing=1.1)
    colour_bar = figure.colorbar(image, ax=ax, shrink=0.9)
    colour_bar.set_label(label, fontsize=8)
    colour_bar.ax.tick_params(labelsize=7)
    characters = int(width * 72 / 7.5)  # what fits across the figure at 9 points
    figure.suptitle(textwrap.fill(f"{title} ({what})", characters), fontsize=9)
    return figure
