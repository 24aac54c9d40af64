"""``bucket-brigade psro``: grow a population towards an equilibrium of the symmetric game,
printing each iteration's meta-equilibrium and its exploitability; the loop itself is
:func:`bucket_brigade.analysis.psro.psro`.

The best-response oracle is CMA-ES over the scripted parameters by default: seconds per
iteration, so that the command answers at once; ``--oracle ppo`` trains the default network
against agents that draw from the meta-equilibrium per game (minutes per iteration), a
response not tied to the scripted strategies' form."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from rich.console import Console

from bucket_brigade.analysis.nash_cli import (
    add_cmaes_arguments,
    check_cmaes_budget,
    claimed_runs,
)
from bucket_brigade.cli_args import count, path_text
from bucket_brigade.game.scenarios import get_scenario
from bucket_brigade.sweep.jobs import Job, add_job_arguments, check_job_arguments, job_runner

ORACLES = ("cmaes", "ppo")


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
    parser.add_argument("--oracle", choices=ORACLES, default="cmaes",
                        help="the best response of each iteration: cmaes (over the scripted "
                             "parameters; seconds) or ppo (the default network trained "
                             "against agents drawing from the meta-equilibrium per game; "
                             "minutes) (default: cmaes)")
    add_cmaes_arguments(parser)
    parser.add_argument("--ppo-steps", type=count, default=2_000_000,
                        help="steps of each PPO best response (default: 2000000)")
    parser.add_argument("--out-dir", type=path_text, default=None,
                        help="where psro.json and the PPO runs (best_response/) go "
                             "(default: experiments/psro/SCENARIO)")
    add_job_arguments(parser, "each table's new cells (in chunks) and each PPO best "
                              "response (one job; on Ray its files are written on the node "
                              "that trains it: give an --out-dir every node shares)")


def run(args: argparse.Namespace) -> None:
    from bucket_brigade.analysis.contenders import parse_strategies, use_one_torch_thread
    from bucket_brigade.analysis.empirical_game import MAX_STRATEGIES
    from bucket_brigade.analysis.nash import (
        cmaes_best_response,
        mix_best_response_config,
        ppo_best_response,
    )
    from bucket_brigade.analysis.psro import Iteration, Target, psro
    from bucket_brigade.io import check_writable_output, save_json

    scenario = get_scenario(args.scenario)
    scenario.check_num_agents(args.agents)
    check_cmaes_budget(args)
    check_job_arguments(args.backend, args.workers, args.address)
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
    oracle_name = "CMA-ES" if args.oracle == "cmaes" else f"PPO ({args.ppo_steps:,} steps)"
    console.print(f"[bold]{scenario.name}[/]: PSRO from {args.population}, {args.agents} "
                  f"agents, {oracle_name} best responses", highlight=False, soft_wrap=True)

    def oracle(target: Target, seed: int):
        if args.oracle == "cmaes":
            return cmaes_best_response(target.play, scenario, args.agents, args.br_generations,
                                       args.br_popsize, args.br_games, seed)
        config = mix_best_response_config(target.population, target.mix, args.agents,
                                          args.scenario, args.ppo_steps,
                                          out_dir / "best_response", f"br_{target.iteration}",
                                          seed)
        with claimed_runs([config]):  # trained as a job of the run's backend (below)
            return runner.run([Job(config.run_name, ppo_best_response, (config,))])[0]

    seconds: list[float] = []
    started = time.perf_counter()

    def report(step: Iteration) -> None:
        seconds.append(time.perf_counter() - started - sum(seconds))
        mix = ", ".join(f"{n} {w:.3f}" for n, w in zip(step.population, step.meta_equilibrium)
                        if w > 0)
        console.print(f"iteration {len(step.population) - len(initial) + 1}: meta-equilibrium "
                      f"{mix} (value {step.value:.2f}); best response gains "
                      f"{step.exploitability.mean:+.2f} ± {step.exploitability.ci95:.2f} "
                      f"(NashConv {args.agents} x that); {seconds[-1]:.0f} s", highlight=False,
                      soft_wrap=True)

    with job_runner(args.backend, args.workers, args.address) as runner:
        history = psro(initial, scenario, args.agents, args.iterations, args.games,
                       fresh_games, args.seed, oracle, report, runner)
    save_json({"scenario": scenario.name, "agents": args.agents,
               "population": args.population, "games": args.games,
               "fresh_games": fresh_games, "seed": args.seed, "oracle": args.oracle,
               **({"ppo_steps": args.ppo_steps} if args.oracle == "ppo" else {}),
               "iterations": [{
                   "population": step.population,
                   "meta_equilibrium": {n: float(w) for n, w in
                                        zip(step.population, step.meta_equilibrium) if w > 0},
                   "value": step.value, "exploitability": step.exploitability.mean,
                   "exploitability_ci95": step.exploitability.ci95,
                   "best_response": step.best_response.source
                   or list(step.best_response.seat.pool[0]),
                   "seconds": spent,
               } for step, spent in zip(history, seconds)]}, summary)
    console.print(f"wrote {summary}", highlight=False, soft_wrap=True)
