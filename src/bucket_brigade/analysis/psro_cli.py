"""``bucket-brigade psro``: grow a population towards an equilibrium of the symmetric game,
printing each iteration's meta-equilibrium and its exploitability; the loop itself is
:func:`bucket_brigade.analysis.psro.psro`."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from bucket_brigade.analysis.nash_cli import add_cmaes_arguments, check_cmaes_budget
from bucket_brigade.cli_args import count, path_text
from bucket_brigade.game.scenarios import get_scenario


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scenario", default="default",
                        help="scenario name or .toml/.json file (default: default)")
    parser.add_argument("--population", default="random,universal_free_rider",
                        help="the starting population, a comma list of strategies or model "
                             "files (default: random,universal_free_rider)")
    parser.add_argument("--agents", type=count, default=4, help="agents per game (default: 4)")
    parser.add_argument("--iterations", type=count, default=5,
                        help="best responses to add at most (default: 5)")
    parser.add_argument("--games", type=count, default=1000,
                        help="games per cell of each iteration's empirical game (default: 1000)")
    parser.add_argument("--fresh-games", type=count, default=None,
                        help="fresh games per profile that judge each best response "
                             "(default: --games)")
    parser.add_argument("--seed", type=count, default=0, help="seed (default: 0)")
    add_cmaes_arguments(parser)
    parser.add_argument("--out-dir", type=path_text, default=None,
                        help="where psro.json goes (default: experiments/psro/SCENARIO)")


def run(args: argparse.Namespace) -> None:
    from bucket_brigade.analysis.contenders import parse_strategies, use_one_torch_thread
    from bucket_brigade.analysis.empirical_game import MAX_STRATEGIES
    from bucket_brigade.analysis.nash import cmaes_best_response
    from bucket_brigade.analysis.psro import Iteration, psro
    from bucket_brigade.io import check_writable_output, save_json

    scenario = get_scenario(args.scenario)
    scenario.check_num_agents(args.agents)
    check_cmaes_budget(args)
    initial = parse_strategies(args.population, scenario, args.agents)
    if len(initial) + args.iterations - 1 > MAX_STRATEGIES:
        raise ValueError(f"--population and --iterations would grow the population past "
                         f"{MAX_STRATEGIES} strategies")
    fresh_games = args.fresh_games or args.games
    if min(args.games, fresh_games) < 2:
        raise ValueError("--games and --fresh-games must be >= 2 (for confidence intervals)")
    out_dir = Path(args.out_dir or f"experiments/psro/{scenario.name}")
    summary = out_dir / "psro.json"
    check_writable_output(summary)
    use_one_torch_thread(initial)
    console = Console()
    console.print(f"[bold]{scenario.name}[/]: PSRO from {args.population}, {args.agents} "
                  f"agents, CMA-ES best responses", highlight=False)

    def oracle(play, seed: int):
        return cmaes_best_response(play, scenario, args.agents, args.br_generations,
                                   args.br_popsize, args.br_games, seed)

    def report(step: Iteration) -> None:
        mix = ", ".join(f"{n} {w:.3f}" for n, w in zip(step.population, step.meta_equilibrium)
                        if w > 0)
        console.print(f"iteration {len(step.population) - len(initial) + 1}: meta-equilibrium "
                      f"{mix} (value {step.value:.2f}); best response gains "
                      f"{step.exploitability.mean:+.2f} ± {step.exploitability.ci95:.2f} "
                      f"(NashConv {args.agents} x that)", highlight=False, soft_wrap=True)

    history = psro(initial, scenario, args.agents, args.iterations, args.games, fresh_games,
                   args.seed, oracle, report)
    save_json({"scenario": scenario.name, "agents": args.agents,
               "population": args.population, "games": args.games,
               "fresh_games": fresh_games, "seed": args.seed,
               "iterations": [{
                   "population": step.population,
                   "meta_equilibrium": {n: float(w) for n, w in
                                        zip(step.population, step.meta_equilibrium) if w > 0},
                   "value": step.value, "exploitability": step.exploitability.mean,
                   "exploitability_ci95": step.exploitability.ci95,
                   "best_response": list(step.best_response.seat.pool[0]),
               } for step in history]}, summary)
    console.print(f"wrote {summary}", highlight=False, soft_wrap=True)
