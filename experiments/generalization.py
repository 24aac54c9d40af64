"""Does a trained policy beat a scripted strategy outside its training setting?

For every model and every held-out cell (its training scenario against other opponent
sets, and other scenarios against its training opponents), the model and ``--baseline``
play the same games in seat 0 (same seed, same opponents, same draws); the table shows
the paired difference of their scores, model minus baseline, with its 95% confidence
interval, and W / T / L where the interval lies above 0, straddles it, or lies below.

    python experiments/generalization.py experiments/marl/model_gn_random.pt \\
        experiments/marl/model_gn_pool.pt --scenarios all --games 1000
"""

from __future__ import annotations

import argparse
import sys

from bucket_brigade.analysis.tournament import parse_scenarios
from bucket_brigade.errors import UsageError
from bucket_brigade.evaluation import evaluate, paired_difference
from bucket_brigade.game.scenarios import Scenario
from bucket_brigade.training.models import LoadedPolicy, load_policy

DEFAULT_SETS = "hero,free_rider,liar;firefighter;universal_free_rider;random,random,firefighter"


def cell(model: LoadedPolicy, scenario: str | Scenario, opponents: str, baseline: str,
         games: int, seed: int) -> str:
    """'+1.23 ± 0.98 T' for the model minus the baseline on the same games."""
    learner = model.evaluate(scenario, opponents, games=games, seed=seed)
    scripted = evaluate(baseline, scenario, opponents, games=games, seed=seed)
    difference, ci95 = paired_difference(learner, scripted)
    verdict = "W" if difference - ci95 > 0 else "L" if difference + ci95 < 0 else "T"
    return f"{difference:+.2f} ± {ci95:.2f} {verdict}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="+", help="model_{run}.pt files or checkpoints")
    parser.add_argument("--opponent-sets", default=DEFAULT_SETS,
                        help=f"';'-separated opponent lists, each cycled over the 3 opponent "
                             f"seats, played on each model's training scenario "
                             f"(default: {DEFAULT_SETS})")
    parser.add_argument("--training-opponents", default="random",
                        help="the opponents of the held-out scenarios (default: random)")
    parser.add_argument("--scenarios", default="all",
                        help="'all' or a comma list: scenarios played against "
                             "--training-opponents (default: all)")
    parser.add_argument("--baseline", default="hero", help="the strategy compared (default: hero)")
    parser.add_argument("--games", type=int, default=1000, help="games per cell (default: 1000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the games (default: 0)")
    args = parser.parse_args(argv)
    try:
        scenarios = parse_scenarios(args.scenarios)
        models = [load_policy(path) for path in args.models]
        print("| cell | " + " | ".join(m.name for m in models) + " |")
        print("|---|" + "---|" * len(models))
        for opponents in args.opponent_sets.split(";"):
            row = [cell(m, m.trained_on, opponents, args.baseline, args.games, args.seed)
                   for m in models]
            print(f"| training scenario vs {opponents} | " + " | ".join(row) + " |")
        for scenario in scenarios:
            row = [cell(m, scenario, args.training_opponents, args.baseline, args.games,
                        args.seed) for m in models]
            print(f"| {scenario.name} vs {args.training_opponents} | " + " | ".join(row) + " |")
    except UsageError as exc:
        print(f"generalization: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
