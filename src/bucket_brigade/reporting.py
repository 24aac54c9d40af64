"""Console tables shared by the commands (rich)."""

from __future__ import annotations

import json

from rich.table import Table

from bucket_brigade.console import print_table
from bucket_brigade.game.scenarios import SCENARIOS


def print_scenarios(as_json: bool = False) -> None:
    """The named scenarios with the fields RULES.md tabulates."""
    if as_json:
        print(json.dumps({name: s.to_dict() for name, s in SCENARIOS.items()}, indent=2))
        return
    table = Table(title="Bucket Brigade scenarios (H = 10, max 100 nights, rest reward 0.5)")
    table.add_column("name", no_wrap=True)
    for column in ("β spread", "κ ext.", "spark", "fires", "A", "L", "c work", "min n.",
                   "B/P own"):
        table.add_column(column, justify="right")
    table.add_column("note")
    for s in SCENARIOS.values():
        table.add_row(
            s.name, f"{s.prob_fire_spreads_to_neighbor:.2f}",
            f"{s.prob_solo_agent_extinguishes_fire:.2f}", f"{s.prob_house_catches_fire:.2f}",
            f"{s.initial_fire_fraction:.2f}", f"{s.team_reward_house_survives:g}",
            f"{s.team_penalty_house_burns:g}", f"{s.cost_to_work_one_night:g}",
            str(s.min_nights),
            f"{s.reward_own_house_survives:g}/{s.penalty_own_house_burns:g}", s.description,
        )
    print_table(table)


def print_rows(rows: list[dict], title: str, baseline: str = "best") -> None:
    """An evaluation table: one line per candidate, grouped by scenario and opponents, with
    each candidate's paired difference from its column's baseline."""
    compared = sum(r.get("p_holm") is not None for r in rows)
    chosen = "the best scripted strategy of each scenario and opponents" \
        if baseline == "best" else baseline
    table = Table(title=title, caption_justify="left", caption=(
        f"vs baseline: score minus the baseline's, paired by game, with its 95% CI; baseline: "
        f"{chosen}; *: differs from it after Holm's correction over the {compared} "
        "differences of this table (chance of any false * at most 5%)") if compared else None)
    keys = [k for k in ("scenario", "opponents", "trained_on", "candidate") if k in rows[0]]
    for key in keys:
        table.add_column(key.replace("_", " "), no_wrap=True)
    for column in ("score ± 95% CI", "vs baseline", "saved", "nights", "work rate", "honesty"):
        table.add_column(column, justify="right", no_wrap=True)
    for r in rows:
        table.add_row(*(str(r[k]) for k in keys), f"{r['mean_score']:.2f} ± {r['ci95']:.2f}",
                      _versus_baseline(r), f"{r['houses_saved']:.2f}", f"{r['nights']:.1f}",
                      f"{r['work_rate']:.2f}", f"{r['honesty']:.2f}")
    print_table(table)


def _versus_baseline(row: dict) -> str:
    if row.get("baseline") is None:
        return "-"
    if row.get("minus_baseline") is None:
        return "(baseline)"
    return f"{row['minus_baseline']:+.2f} ± {row['minus_baseline_ci95']:.2f}" \
        f"{' *' if row['differs'] else '  '}"
