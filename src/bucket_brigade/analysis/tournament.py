"""Evaluation tables: trained policies and scripted strategies in the same seat, against the
same opponents, on the same games (common random numbers), across scenarios."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from pathlib import Path

from bucket_brigade.agents.strategies import RANDOM, evolved_scenarios
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
SUMMARY_FIELDS = ("mean_score", "ci95", "houses_saved", "nights", "work_rate", "honesty")
TABLE_FILES = ("results.json", "results.csv", "heatmap.png")


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
                   on_row: Callable[[dict], None] | None = None) -> list[dict]:
    """One row per (candidate, scenario, opponent strategy); every opponent seat plays it."""
    scenarios = [get_scenario(s) for s in scenarios]
    if not models and not any(_available(s, sc.name) for s in strategies for sc in scenarios):
        raise UsageError("nothing to evaluate: no MODEL, and no strategy of --strategies "
                         "exists for these scenarios")
    rows = []
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
                row = {"candidate": name, "kind": kind, "scenario": scenario.name,
                       "opponents": opponent, **result.summary()}
                rows.append(row)
                if on_row is not None:
                    on_row(row)
    return rows


def generalization_matrix(models: Sequence[LoadedPolicy], scenarios: Sequence[str | Scenario],
                          opponents: str, num_opponents: int = 3, games: int = 1000,
                          seed: int = 0) -> list[dict]:
    """Every model on every scenario: rows carry the scenario each model was trained on."""
    resolved = [get_scenario(s) for s in scenarios]
    rows = []
    for model in models:
        for scenario in resolved:
            result = model.evaluate(scenario, [_strategy_for(opponents, scenario.name)],
                                    num_opponents, games, seed)
            rows.append({"candidate": model.name, "trained_on": model.trained_on or "?",
                         "scenario": scenario.name, "opponents": opponents, **result.summary()})
    return rows


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
    """results.json, results.csv and heatmap.png (mean score, coloured within each column)."""
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
