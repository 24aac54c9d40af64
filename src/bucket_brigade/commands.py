"""The ``scenarios``, ``evolve`` and ``evaluate`` subcommands: their options, and runners
that import the machinery they drive only when they run."""

from __future__ import annotations

import argparse
import shlex
import sys

from bucket_brigade.cli_args import count, path_text
from bucket_brigade.errors import UsageError


def add_scenarios_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def run_scenarios(args: argparse.Namespace) -> None:
    from bucket_brigade.reporting import print_scenarios

    print_scenarios(as_json=args.json)


def add_evolve_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scenario", default="trivial_cooperation",
                        help="scenario name or .toml/.json file (default: trivial_cooperation)")
    parser.add_argument("--generations", type=count, default=60,
                        help="CMA-ES generations (default: 60)")
    parser.add_argument("--popsize", type=count, default=16,
                        help="candidates per generation (default: 16)")
    parser.add_argument("--games", type=count, default=1000,
                        help="games per candidate evaluation (default: 1000)")
    parser.add_argument("--agents", type=count, default=4,
                        help="agents per game, the candidate included (default: 4)")
    parser.add_argument("--opponents", default=None,
                        help="evaluate seat 0 against these strategies instead of self-play "
                             "(comma list or pool:a,b)")
    parser.add_argument("--seed", type=count, default=0, help="random seed (default: 0)")
    parser.add_argument("--out", type=path_text, default=None,
                        help="output JSON (default: experiments/evolved/<scenario>.json)")


def run_evolve(args: argparse.Namespace) -> None:
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from bucket_brigade.analysis.evolution import HELD_OUT_GAMES, check_search_budget, evolve
    from bucket_brigade.game.scenarios import get_scenario
    from bucket_brigade.io import check_writable_output, save_json

    scenario = get_scenario(args.scenario)
    out = check_writable_output(args.out or f"experiments/evolved/{scenario.name}.json")
    check_search_budget(args.generations, args.popsize, args.games, "--")
    with Progress(TextColumn("{task.description}"), BarColumn(),
                  TextColumn("{task.completed}/{task.total} best {task.fields[best]}"),
                  TimeRemainingColumn()) as progress:
        task = progress.add_task(f"evolving {scenario.name}", total=args.generations,
                                 best="-")

        def report(generation: int, best: float, mean: float) -> None:
            progress.update(task, advance=1, best=f"{best:.2f} (mean {mean:.2f})")

        result = evolve(scenario, args.generations, args.popsize, args.games, args.seed,
                        args.agents, args.opponents, on_generation=report)
    result.command = shlex.join(
        ["bucket-brigade", *(sys.argv[1:] if args.argv is None else args.argv)])
    save_json(result.to_json(), out)
    print(f"{scenario.name}: fitness {result.fitness:.2f} ± {result.fitness_ci95:.2f} "
          f"on {HELD_OUT_GAMES} held-out games; params {result.params}; wrote {out}")


def add_evaluate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("models", nargs="*", metavar="MODEL",
                        help="trained policies: checkpoints or model_{run}.pt files "
                             "(FILE.pt@K: seat K's network of a model with one per seat, "
                             "else seat 0's)")
    parser.add_argument("--scenarios", default="all",
                        help="'all' or a comma list of scenarios (default: all)")
    parser.add_argument("--opponents", default="random,evolved",
                        help="opponent strategies, one table column each; every opponent seat "
                             "plays it (default: random,evolved)")
    parser.add_argument("--num-opponents", type=count, default=3,
                        help="opponents per game (default: 3)")
    parser.add_argument("--strategies", default=None,
                        help="scripted strategies to compare in the same seat, or 'none' "
                             "(default: every archetype, random and evolved)")
    parser.add_argument("--games", type=count, default=1000,
                        help="games per table cell (default: 1000)")
    parser.add_argument("--seed", type=count, default=0, help="seed of the games (default: 0)")
    parser.add_argument("--baseline", default="best",
                        help="the candidate every other one is compared with, game by game "
                             "(paired 95%% CI, Holm-corrected): a MODEL's name (its file "
                             "name without .pt), one of --strategies, or 'best': in each "
                             "scenario/opponents column, the scripted strategy with the best "
                             "mean score (default: best)")
    parser.add_argument("--matrix", action="store_true",
                        help="generalization: every MODEL (and --strategies, as references) "
                             "on every scenario against the first --opponents")
    parser.add_argument("--out-dir", type=path_text, default="experiments/eval",
                        help="where results.json, results.csv and heatmap.png go "
                             "(default: experiments/eval)")


def run_evaluate(args: argparse.Namespace) -> None:
    from pathlib import Path

    from bucket_brigade.agents.strategies import make_seat, split_opponents
    from bucket_brigade.analysis.tournament import (
        COMPARISON_STRATEGIES,
        check_baseline,
        check_tables_writable,
        generalization_matrix,
        parse_scenarios,
        run_tournament,
        write_tables,
    )
    from bucket_brigade.reporting import print_rows
    from bucket_brigade.training.models import load_policy

    scenarios = parse_scenarios(args.scenarios)
    opponents = split_opponents(args.opponents)
    if not opponents:
        raise UsageError(f"--opponents {args.opponents!r} names no strategy; give a comma "
                         "list such as 'random,evolved'")
    strategies = [] if args.strategies == "none" else \
        list(COMPARISON_STRATEGIES) if args.strategies is None else \
        split_opponents(args.strategies)
    for name in {*opponents, *strategies} - {"evolved"}:
        make_seat(name, scenarios[0].name)  # unknown names fail before any game is played
    check_tables_writable(Path(args.out_dir))
    models = [load_policy(path) for path in args.models]
    if not models and not strategies:
        raise UsageError("nothing to evaluate: give MODEL files, --strategies, or both")
    if args.matrix and not models:
        raise UsageError("--matrix needs at least one MODEL")
    check_baseline(args.baseline, models, strategies)
    if args.matrix:
        rows = generalization_matrix(models, scenarios, opponents[0], args.num_opponents,
                                     args.games, args.seed, strategies, args.baseline)
        row_key, columns = "candidate", ("scenario",)
        title = (f"Generalization: mean score vs {opponents[0]} opponents over {args.games} "
                 f"games per cell, seed {args.seed}")
    else:
        rows = run_tournament(models, scenarios, opponents, args.num_opponents,
                              args.games, args.seed, strategies, args.baseline)
        row_key, columns = "candidate", ("scenario", "opponents")
        title = f"Evaluation over {args.games} games per cell, seed {args.seed}"
    print_rows(rows, title, args.baseline)
    for path in write_tables(rows, Path(args.out_dir), row_key, columns, title):
        print(f"wrote {path}")



def add_seeds_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("runs", nargs="+", metavar="RUN_DIR",
                        help="run folders (runs/RUN) of `train --eval-games` runs; runs "
                             "whose settings differ only in --seed are aggregated together")
    parser.add_argument("--baseline", default="hero",
                        help="the strategy the learner is compared with: an archetype or "
                             "random (default: hero)")
    parser.add_argument("--games", type=count, default=0,
                        help="play each run's model and the baseline on N games of that "
                             "seed's own (seeded --games-seed + the run's --seed), so the "
                             "CIs over seeds hold the games' noise too (default: 0, use "
                             "the runs' evaluations, whose games every seed shares)")
    parser.add_argument("--games-seed", type=count, default=0,
                        help="base seed of the --games games (default: 0)")
    parser.add_argument("--bootstrap-seed", type=count, default=0,
                        help="seed of the bootstrap over seeds (default: 0)")


def run_seeds(args: argparse.Namespace) -> None:
    from rich import box
    from rich.table import Table

    from bucket_brigade.analysis.seeds import (
        across_seeds,
        check_baseline,
        group_runs,
        on_fresh_games,
        read_run,
        verdict,
    )
    from bucket_brigade.console import print_table

    runs = [read_run(path) for path in args.runs]
    groups = group_runs(runs)  # refuses a seed given twice before any game is played
    check_baseline(runs, args.baseline)
    if args.games:
        groups = {name: [on_fresh_games(run, args.baseline, args.games, args.games_seed)
                         for run in members] for name, members in groups.items()}
    for name, members in groups.items():
        summary = across_seeds(members, args.baseline, args.bootstrap_seed)
        games = (f"{args.games:,} games of each seed's own (seed {args.games_seed} + its "
                 "seed)") if args.games else "the runs' evaluation games"
        table = Table(box=box.SIMPLE_HEAD, title=f"{name}: learner - {args.baseline}",
                      caption=f"per seed: paired 95% CI over {games}; across seeds: "
                              "percentile-bootstrap 95% CI over the seeds")
        for column in ("seed", "run", "learner - it", "verdict"):
            table.add_column(column, justify="left" if column == "run" else "right")
        for run, diff, ci in summary.per_seed():
            table.add_row(str(run.seed), run.run, f"{diff:+.2f} ± {ci:.2f}", verdict(diff, ci))
        print_table(table, None)
        verdicts = summary.verdicts()
        noise = (f"; the games' own noise, ±{summary.game_ci:.2f} on average, is shared by "
                 "every seed (same games) and is in no CI over seeds") \
            if summary.shared_games else "; the CIs over seeds hold games' and training's noise"
        seeds = f"{len(summary.runs)} seed" + ("s" if len(summary.runs) > 1 else "")
        print(f"  {seeds}: mean {summary.mean:+.2f}"
              f"{_interval(summary.mean_ci)}, IQM {summary.iqm:+.2f}"
              f"{_interval(summary.iqm_ci)}, sd {_plain(summary.sd)}, range "
              f"{summary.low:+.2f} to {summary.high:+.2f}; beats in {verdicts['beats']}, "
              f"ties in {verdicts['ties']}, loses in {verdicts['loses']}{noise}")


def _interval(bounds: tuple[float, float] | None) -> str:
    return "" if bounds is None else f" [{bounds[0]:+.2f}, {bounds[1]:+.2f}]"


def _plain(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"
