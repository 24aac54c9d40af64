"""How far is a learner from what its seat can score? Learner, hero and planners, same games.

For every cell (scenario and opponents) the model, hero and each planner play the same
games in seat 0 (same seed: the same world and opponents' draws, common random numbers
as far as the seats' actions leave the games alike). The table shows each one's score
minus hero's, each planner's score minus the planner listed before it (so that "more
continuations add nothing" is a paired statement: list them in growing order), and the
learner's regret to each planner (planner minus learner), paired by game, with 95% CIs,
and each planner's wall time (one row per seat 0 and cell).

    python experiments/ceiling.py experiments/marl/model_learning_check_greedy_neighbor.pt \\
        --cells "greedy_neighbor/random;greedy_neighbor/random,random,firefighter" \\
        --planners planner,planner@128 --games 2000
"""

from __future__ import annotations

import argparse
import sys
import time

from bucket_brigade.agents.strategies import make_seat
from bucket_brigade.errors import UsageError
from bucket_brigade.evaluation import EvaluationResult, evaluate, paired_difference
from bucket_brigade.game.scenarios import get_scenario
from bucket_brigade.training.models import load_policy


def paired(first: EvaluationResult, second: EvaluationResult) -> str:
    """'+1.23 ± 0.98' for first minus second, game by game."""
    difference, ci95 = paired_difference(first, second)
    return f"{difference:+.2f} ± {ci95:.2f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", nargs="?", default=None,
                        help="a model_{run}.pt file or checkpoint (optional)")
    parser.add_argument("--cells", required=True,
                        help="';'-separated SCENARIO/OPPONENTS cells, the opponents a comma "
                             "list cycled over the 3 opponent seats")
    parser.add_argument("--planners", default="planner",
                        help="comma list of planner strategies (default: planner)")
    parser.add_argument("--games", type=int, default=2000, help="games per cell (default: 2000)")
    parser.add_argument("--seed", type=int, default=2026, help="seed of the games (default: 2026)")
    args = parser.parse_args(argv)
    try:
        model = None if args.model is None else load_policy(args.model)
        cells = [tuple(cell.strip().split("/", 1)) for cell in args.cells.split(";")]
        for cell in cells:
            if len(cell) != 2:
                raise UsageError(f"cell {cell[0]!r} is not SCENARIO/OPPONENTS")
        planners = [p.strip() for p in args.planners.split(",") if p.strip()]
        for scenario, opponents in cells:
            get_scenario(scenario)
            make_seat(opponents.split(",")[0], scenario)
        for name in planners:
            make_seat(name, cells[0][0])
        learner_name = "learner" if model is None else model.name
        print(f"| cell | seat 0 | score | minus hero | minus the planner above | "
              f"{learner_name}'s regret | seconds |")
        print("|---|---|---|---|---|---|---|")
        for scenario, opponents in cells:
            cell = f"{scenario} vs {opponents}"
            hero = evaluate("hero", scenario, opponents, games=args.games, seed=args.seed)
            print(f"| {cell} | hero | {hero.mean_score:.2f} ± {hero.ci95:.2f} | | | | |")
            learner = None
            if model is not None:
                learner = model.evaluate(scenario, opponents, games=args.games, seed=args.seed)
                print(f"| {cell} | {model.name} | {learner.mean_score:.2f} ± "
                      f"{learner.ci95:.2f} | {paired(learner, hero)} | | | |")
            previous = None
            for name in planners:
                start = time.perf_counter()
                planned = evaluate(name, scenario, opponents, games=args.games, seed=args.seed)
                seconds = time.perf_counter() - start
                regret = "" if learner is None else paired(planned, learner)
                step = "" if previous is None else paired(planned, previous)
                print(f"| {cell} | {name} | {planned.mean_score:.2f} ± {planned.ci95:.2f} | "
                      f"{paired(planned, hero)} | {step} | {regret} | {seconds:.0f} |",
                      flush=True)
                previous = planned
    except (UsageError, ValueError, OSError) as exc:
        print(f"ceiling.py: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
