"""Evaluation tables: trained policies and scripted strategies in the same seat, against the
same opponents, on the same games (common random numbers), across scenarios."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bucket_brigade.agents.strategies import RANDOM, evolved_scenarios
from bucket_brigade.confidence import ci95_half_width, holm_adjusted, two_sided_p
from bucket_brigade.errors import UsageError
from bucket_brigade.evaluation import evaluate
from bucket_brigade.game.scenarios import SCENARIOS, Scenario, get_scenario
from bucket_brigade.game.scripted import ARCHETYPES
from bucket_brigade.io import (
    atomic_write_text,
    check_writable_output,
    save_json,
)
from bucket_brigade.training.models import LoadedPolicy
from bucket_brigade.viz.plots import save_heatmap

COMPARISON_STRATEGIES = (*ARCHETYPES, RANDOM, "evolved")
TABLE_FILES = ("results.json", "results.csv", "heatmap.png")
# The default baseline: in each column, the scripted strategy with the best mean score.
BEST_SCRIPTED = "best"


def parse_scenarios(text: str) -> list[Scenario]:
    """``all`` or a comma list of scenario names or files, each resolved (and checked) once."""
    if text.strip() == "all":
        return list(SCENARIOS.values())
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise UsageError("--scenarios names no scenario; use 'all' or a comma list")
    return [get_scenario(n) for n in names]


def run_tournament(models: Sequence[LoadedPolicy], scenarios: Sequence[str | Scenario],
                   opponents: Sequence[str], num_opponents: int = 3, games: int = 1000,
                   seed: int = 0, strategies: Sequence[str] = COMPARISON_STRATEGIES,
                   baseline: str = BEST_SCRIPTED) -> list[dict]:
    """One row per (candidate, scenario, opponent strategy); every opponent seat plays it.

    Every row of a column (scenario, opponents) is played on the same games, so each carries
    its paired difference from the column's ``baseline`` (see
    :func:`add_paired_differences`)."""
    scenarios = [get_scenario(s) for s in scenarios]
    if not models and not any(_available(s, sc.name) for s in strategies for sc in scenarios):
        raise UsageError("nothing to evaluate: no MODEL, and no strategy of --strategies "
                         "exists for these scenarios")
    check_baseline(baseline, models, strategies)
    rows, scores = [], []
    for scenario in scenarios:
        for model in models:
            model.check_fits(scenario, num_opponents + 1)
        candidates: list[tuple[str, str, object]] = [
            ("model", m.name, m.network) for m in models]
        candidates += [("strategy", s, _strategy_for(s, scenario.name)) for s in strategies
                       if _available(s, scenario.name)]
        for opponent in opponents:
            for kind, name, player in candidates:
                result = evaluate(player, scenario, [_strategy_for(opponent, scenario.name)],
                                  num_opponents, games, seed)
                rows.append({"candidate": name, "kind": kind, "scenario": scenario.name,
                             "opponents": opponent, **result.summary()})
                scores.append(result.scores)
    add_paired_differences(rows, scores, baseline)
    return rows


def generalization_matrix(models: Sequence[LoadedPolicy], scenarios: Sequence[str | Scenario],
                          opponents: str, num_opponents: int = 3, games: int = 1000,
                          seed: int = 0, strategies: Sequence[str] = COMPARISON_STRATEGIES,
                          baseline: str = BEST_SCRIPTED) -> list[dict]:
    """Every model (and strategy, as references) on every scenario against one opponent
    strategy: rows carry the scenario each model was trained on ("-" for a strategy)."""
    trained_on = {model.name: model.trained_on or "?" for model in models}
    rows = run_tournament(models, scenarios, [opponents], num_opponents, games, seed,
                          strategies, baseline)
    return [{"candidate": row["candidate"], "trained_on": trained_on.get(row["candidate"], "-"),
             **{k: v for k, v in row.items() if k != "candidate"}} for row in rows]


def check_baseline(baseline: str, models: Sequence[LoadedPolicy],
                   strategies: Sequence[str]) -> None:
    """Refuse a baseline that is not one of the candidates, naming those that are."""
    choices = [BEST_SCRIPTED, *(m.name for m in models), *strategies]
    if baseline not in choices:
        raise UsageError(f"--baseline {baseline!r} is not one of the candidates; choose "
                         f"from: {', '.join(dict.fromkeys(choices))}")


def add_paired_differences(rows: list[dict], scores: Sequence[np.ndarray], baseline: str,
                           alpha: float = 0.05) -> None:
    """Give every row its column's baseline and its paired difference from it.

    A column is one (scenario, opponents) pair, whose rows were played on the same games.
    Its baseline is the candidate named ``baseline``, or with :data:`BEST_SCRIPTED` the
    scripted strategy with the highest mean score in that column (chosen on these games,
    which favours the baseline slightly). Each other row gets ``minus_baseline`` (mean of
    its score minus the baseline's, game by game), its 95% CI ``minus_baseline_ci95``, and
    ``p_holm``: the p-value of "no difference", Holm-adjusted over every difference in the
    table, so that ``differs`` (``p_holm < alpha``) is wrong anywhere in the table with
    probability at most ``alpha``. A row without a baseline in its column gets ``None``s.
    """
    columns: dict[tuple[str, str], list[int]] = {}
    for k, row in enumerate(rows):
        columns.setdefault((row["scenario"], row["opponents"]), []).append(k)
    compared: list[int] = []
    for members in columns.values():
        reference = _baseline_row(rows, members, baseline)
        for k in members:
            rows[k].update(baseline=rows[reference]["candidate"] if reference is not None
                           else None, minus_baseline=None, minus_baseline_ci95=None,
                           p_holm=None, differs=None)
            if reference is None or k == reference:
                continue
            difference = scores[k] - scores[reference]
            rows[k].update(minus_baseline=float(difference.mean()),
                           minus_baseline_ci95=ci95_half_width(difference))
            compared.append(k)
    raw = [two_sided_p(rows[k]["minus_baseline"], rows[k]["minus_baseline_ci95"])
           for k in compared]
    for k, adjusted in zip(compared, holm_adjusted(raw)):
        rows[k].update(p_holm=float(adjusted), differs=bool(adjusted < alpha))


def _baseline_row(rows: list[dict], members: list[int], baseline: str) -> int | None:
    if baseline == BEST_SCRIPTED:
        scripted = [k for k in members if rows[k]["kind"] == "strategy"]
        return max(scripted, key=lambda k: rows[k]["mean_score"]) if scripted else None
    return next((k for k in members if rows[k]["candidate"] == baseline), None)


def _strategy_for(name: str, scenario: str) -> str:
    """A bare ``evolved`` means the evolved strategy of the scenario being played."""
    return f"evolved:{scenario}" if name == "evolved" else name


def _available(name: str, scenario: str) -> bool:
    return name != "evolved" or scenario in evolved_scenarios()


def check_tables_writable(out_dir: Path) -> None:
    """Refuse, before any game, a folder where :func:`write_tables` could not write."""
    check_writable_output(out_dir, folder=True)
    for name in TABLE_FILES:
        check_writable_output(out_dir / name)


def write_tables(rows: list[dict], out_dir: Path, row_key: str, column_keys: Sequence[str],
                 title: str) -> list[Path]:
    """results.json, results.csv and heatmap.png (see
    :func:`~bucket_brigade.viz.plots.heatmap_figure` for what its colours mean)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, csv_path, png_path = (out_dir / name for name in TABLE_FILES)
    save_json({"title": title, "rows": rows}, json_path)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(csv_path, buffer.getvalue())
    save_heatmap(rows, png_path, row_key, column_keys, title)
    return [json_path, csv_path, png_path]
