"""The tables of docs/equilibrium.md from the ``nash.json`` files of ``bucket-brigade nash``
runs: per scenario, the N-player game's equilibria (each with its best deviation's gain on
fresh games), α-Rank's leaders and universal free-riding's regret.

    python experiments/equilibrium_table.py /tmp/eq/nash/*/nash.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

FREE_RIDER = "universal_free_rider"
HEADER = ("| scenario | equilibria of the N-player game (mix; value) | best deviation from the "
          "first, on fresh games | α-Rank (top two) | universal_free_rider: pure regret "
          "(best deviation); CMA-ES best response gain |\n|---|---|---|---|---|")


def summary_row(summary: dict) -> str:
    """One markdown row for one scenario's ``nash.json``."""
    equilibria = "; ".join(
        " + ".join(f"{name} {weight:.2f}" for name, weight in sorted(
            e["mix"].items(), key=lambda item: -item[1]))
        + f" ({e['value']:.2f})" for e in summary["equilibria"])
    first = summary["equilibria"][0]["deviation_gains"]
    deviation, gain = max(first.items(), key=lambda item: item[1]["gain"])
    ranking = sorted(summary["alpharank"].items(), key=lambda item: -item[1])[:2]
    row = next(r for r in summary["rows"] if r["strategy"] == FREE_RIDER)
    exploit = (f"{row['exploitability']:+.2f} ± {row['exploitability_ci95']:.2f}"
               if "exploitability" in row else "-")
    best = "none gains" if gain["gain"] == gain["ci95"] == 0 else \
        f"{deviation} {gain['gain']:+.2f} ± {gain['ci95']:.2f}"
    leaders = ", ".join(f"{n} {m:.2f}" for n, m in ranking)
    return (f"| {summary['scenario']} | {equilibria} | {best} | {leaders}"
            f" | {row['pure_regret']:+.2f} ± {row['pure_regret_ci95']:.2f} "
            f"({row['best_deviation']}); {exploit} |")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path, help="nash.json files")
    args = parser.parse_args(argv)
    print(HEADER)
    for path in args.files:
        print(summary_row(json.loads(path.read_text())))


if __name__ == "__main__":
    main()
