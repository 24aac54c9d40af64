"""The sweep's results: one row per trial (results.csv), the best configuration per
scenario (best.csv), both as console tables, and results.png.

A configuration is everything a trial sweeps except its seed, so the best configuration
of a scenario is judged on its mean final score over the seeds it was trained with. Every
trial is evaluated on the same games (same evaluation seed), so differences between
configurations are not blurred by different evaluation games.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from bucket_brigade.console import print_table
from bucket_brigade.io import atomic_write_bytes, atomic_write_text
from bucket_brigade.sweep.config import SweepPlan
from bucket_brigade.sweep.trial import FAILED, OK, PENDING, load_result

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# Every row names its scenario and seed; a configuration is the rest of what a trial sweeps.
IDENTITY_COLUMNS = ("scenario", "seed")
TRIAL_COLUMNS = ("mean_score", "ci95", "eval_games", "steps", "steps_per_sec",
                 "wall_seconds")
BEST_COLUMNS = ("scenario", "configuration", "seeds", "mean_score", "seed_sd",
                "best_trial", "best_trial_score")


def trial_rows(plan: SweepPlan, session: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """One flat row per trial of the plan, in plan order: this session's outcome if it has
    one, else the result recorded on disk, else pending."""
    swept = [key for key in plan.swept if key not in IDENTITY_COLUMNS]
    rows = []
    for spec in plan.trials:
        record = session.get(spec.name) or load_result(spec) or {"status": PENDING}
        row = {"trial": spec.name, "status": record["status"], "scenario": spec.scenario,
               "seed": spec.seed}
        row.update({key: spec.config[key] for key in swept})
        row.update({key: record.get(key) for key in TRIAL_COLUMNS})
        row["error"] = record.get("error") or ""
        rows.append(row)
    return rows


def configuration(row: dict[str, Any], swept: Sequence[str]) -> str:
    """What a trial's configuration is called: its swept values other than scenario and seed."""
    return ", ".join(f"{key}={row[key]}" for key in swept if key not in IDENTITY_COLUMNS) \
        or "(one configuration)"


def best_rows(rows: list[dict[str, Any]], swept: Sequence[str]) -> list[dict[str, Any]]:
    """Per scenario, the configuration with the highest mean final score over its seeds."""
    groups: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for row in rows:
        if row["status"] == OK:
            groups.setdefault(row["scenario"], {}).setdefault(
                configuration(row, swept), []).append(row)
    best = []
    for scenario, configs in groups.items():
        name, trials = max(configs.items(), key=lambda item: statistics.fmean(
            r["mean_score"] for r in item[1]))
        scores = [r["mean_score"] for r in trials]
        top = max(trials, key=lambda r: r["mean_score"])
        best.append({"scenario": scenario, "configuration": name, "seeds": len(trials),
                     "mean_score": statistics.fmean(scores),
                     "seed_sd": statistics.stdev(scores) if len(scores) > 1 else None,
                     "best_trial": top["trial"], "best_trial_score": top["mean_score"]})
    return best


def write_report(plan: SweepPlan, rows: list[dict[str, Any]], console: Console) -> list[Path]:
    """results.csv, best.csv and (when some trial finished) results.png; prints both tables."""
    best = best_rows(rows, plan.swept)
    written = [plan.sweep_dir / "results.csv", plan.sweep_dir / "best.csv"]
    _write_csv(written[0], rows, list(rows[0]))
    _write_csv(written[1], best, list(BEST_COLUMNS))
    print_table(_trials_table(plan, rows), console)
    if best:
        print_table(_best_table(best), console)
        written.append(plan.sweep_dir / "results.png")
        save_plot(plan, rows, best, written[-1])
    return written


def _write_csv(path: Path, rows: list[dict[str, Any]], columns: list[str]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(path, buffer.getvalue())


def _number(value: Any, digits: int) -> str:
    return "" if value is None else f"{value:,.{digits}f}"


def _trials_table(plan: SweepPlan, rows: list[dict[str, Any]]) -> Table:
    counts = Counter(r["status"] for r in rows)
    table = Table(title=f"Sweep {plan.name}: {len(rows)} trials ("
                        f"{', '.join(f'{n} {status}' for status, n in counts.items())})")
    extra = [key for key in rows[0] if key not in ("trial", "status", "error", *TRIAL_COLUMNS)]
    for column in ("trial", "status", *extra):
        table.add_column(column, no_wrap=True)
    for column in ("score ± 95% CI", "steps/s", "wall s"):
        table.add_column(column, justify="right", no_wrap=True)
    table.add_column("error", max_width=60, no_wrap=True, overflow="ellipsis")
    for r in rows:
        score = "" if r["mean_score"] is None else f"{r['mean_score']:.2f} ± {r['ci95']:.2f}"
        style = {OK: "green", FAILED: "red"}.get(r["status"], "yellow")
        table.add_row(r["trial"], f"[{style}]{r['status']}[/]", *(str(r[k]) for k in extra),
                      score, _number(r["steps_per_sec"], 0), _number(r["wall_seconds"], 1),
                      r["error"])
    return table


def _best_table(best: list[dict[str, Any]]) -> Table:
    table = Table(title="Best configuration per scenario (mean final score over seeds)")
    for column in ("scenario", "configuration", "seeds", "mean score", "sd over seeds",
                   "best trial"):
        table.add_column(column, justify="right" if column in ("seeds", "mean score",
                                                               "sd over seeds") else "left")
    for b in best:
        table.add_row(b["scenario"], b["configuration"], str(b["seeds"]),
                      f"{b['mean_score']:.2f}", _number(b["seed_sd"], 2),
                      f"{b['best_trial']} ({b['best_trial_score']:.2f})")
    return table


def save_plot(plan: SweepPlan, rows: list[dict[str, Any]], best: list[dict[str, Any]],
              path: Path) -> None:
    """Write :func:`results_figure` as a PNG, atomically."""
    buffer = io.BytesIO()
    results_figure(plan, rows, best).savefig(buffer, format="png", dpi=110)
    atomic_write_bytes(path, buffer.getvalue())


def results_figure(plan: SweepPlan, rows: list[dict[str, Any]],
                   best: list[dict[str, Any]]) -> Figure:
    """One panel per scenario (score scales differ): each configuration a line, each seed's
    final score a point with its 95% CI, their mean over seeds a black diamond, the best
    configuration in bold; the legend sits below the panels, off the data."""
    from matplotlib import colormaps
    from matplotlib.figure import Figure

    finished = [r for r in rows if r["status"] == OK]
    scenarios = [b["scenario"] for b in best]
    configs = {s: list(dict.fromkeys(configuration(r, plan.swept) for r in finished
                                     if r["scenario"] == s)) for s in scenarios}
    heights = [max(len(c), 1) for c in configs.values()]
    fig = Figure(figsize=(8, 1.6 + 0.45 * sum(heights) + 0.5 * len(scenarios)),
                 layout="constrained")
    axes = fig.subplots(len(scenarios), 1, squeeze=False,
                        gridspec_kw={"height_ratios": heights})
    seeds = sorted({r["seed"] for r in finished})
    colours = colormaps["tab10"]
    for ax, b in zip(axes[:, 0], best):
        names = configs[b["scenario"]]
        for r in finished:
            if r["scenario"] != b["scenario"]:
                continue
            k = seeds.index(r["seed"])
            offset = 0.0 if len(seeds) == 1 else 0.3 * (k / (len(seeds) - 1) - 0.5)
            ax.errorbar(r["mean_score"], names.index(configuration(r, plan.swept)) + offset,
                        xerr=r["ci95"], fmt="o", ms=4, capsize=2, color=colours(k % 10),
                        label=f"seed {r['seed']}")
        for k, name in enumerate(names):
            scores = [r["mean_score"] for r in finished if r["scenario"] == b["scenario"]
                      and configuration(r, plan.swept) == name]
            ax.plot(statistics.fmean(scores), k, marker="D", ms=6, color="black", zorder=3,
                    linestyle="none", label="mean over seeds")
        ax.set_yticks(range(len(names)), names, fontsize=7)
        for label in ax.get_yticklabels():
            if label.get_text() == b["configuration"]:
                label.set_fontweight("bold")
        ax.set_ylim(len(names) - 0.5, -0.5)
        ax.set_title(b["scenario"], fontsize=9, loc="left")
        ax.tick_params(axis="x", labelsize=7)
        ax.grid(axis="x", alpha=0.3)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    unique = dict(zip(labels, handles))
    fig.legend(unique.values(), unique.keys(), fontsize=7, loc="outside lower center",
               ncols=min(len(unique), 6), frameon=False)
    axes[-1, 0].set_xlabel("final evaluation score (mean ± 95% CI)", fontsize=8)
    failed = sum(r["status"] != OK for r in rows)
    fig.suptitle(f"Sweep {plan.name}: {len(finished)} trials finished"
                 + (f", {failed} not" if failed else "") + " (bold: best configuration)",
                 fontsize=9)
    return fig
