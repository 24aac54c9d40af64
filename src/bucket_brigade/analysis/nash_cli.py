"""``bucket-brigade nash``: options, progress, the printed tables and the files written.

The game theory itself (the empirical game, equilibria, regrets, exploitability) is in
:mod:`bucket_brigade.analysis.nash`; this module only drives it from the command line.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from rich.console import Console
from rich.table import Table

from bucket_brigade.agents.planner import PlannerSeat
from bucket_brigade.agents.strategies import make_seat, split_opponents
from bucket_brigade.analysis.nash import (
    MAX_STRATEGIES,
    Contender,
    EmpiricalGame,
    analyse,
    best_response_config,
    empirical_game,
    exploitability,
    parse_strategies,
    planner_exploitability,
    ppo_exploitability,
)
from bucket_brigade.cli_args import count, path_text
from bucket_brigade.console import print_table
from bucket_brigade.game.scenarios import Scenario, get_scenario

if TYPE_CHECKING:
    from bucket_brigade.training.config import TrainConfig


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scenario", default="default",
                        help="scenario name or .toml/.json file (default: default)")
    parser.add_argument("--strategies", default="archetypes,random,evolved",
                        help="comma list: 'archetypes' (all six), random, evolved, strategy "
                             "specs, model files *.pt (default: archetypes,random,evolved)")
    parser.add_argument("--agents", type=count, default=4,
                        help="agents per game (default: 4)")
    parser.add_argument("--games", type=count, default=1000,
                        help="games per payoff cell, the same for every cell (default: 1000)")
    parser.add_argument("--seed", type=count, default=0, help="seed of the games (default: 0)")
    parser.add_argument("--br-generations", type=count, default=10,
                        help="CMA-ES generations of each best-response search; 0 skips "
                             "exploitability (default: 10)")
    parser.add_argument("--br-popsize", type=count, default=8,
                        help="CMA-ES candidates per generation (default: 8)")
    parser.add_argument("--br-games", type=count, default=200,
                        help="games per best-response candidate (default: 200)")
    parser.add_argument("--br-ppo-steps", type=count, default=0,
                        help="also train a PPO best response for this many steps against each "
                             "strategy (cheap talk on), saved under OUT_DIR/best_response; 0 "
                             "skips it (default: 0)")
    parser.add_argument("--br-ppo-against", default=None, metavar="LIST",
                        help="with --br-ppo-steps: only against these of the --strategies, a "
                             "comma list of their names; a model file's name is its stem, "
                             "model_RUN for model_RUN.pt (default: all)")
    parser.add_argument("--br-planner", default=None, metavar="PLANNER",
                        help="also judge this planner (e.g. planner, planner@128) as a best "
                             "response to each scripted strategy: its gain over the strategy "
                             "itself against N-1 copies of it (default: none)")
    parser.add_argument("--out-dir", type=path_text, default=None,
                        help="where results.json/.csv, heatmap.png and nash.json go "
                             "(default: experiments/nash/SCENARIO)")


def run(args: argparse.Namespace) -> None:
    from bucket_brigade.analysis.evolution import check_search_budget
    from bucket_brigade.analysis.tournament import check_tables_writable
    from bucket_brigade.io import check_writable_output

    scenario = get_scenario(args.scenario)
    scenario.check_num_agents(args.agents)
    if args.br_generations:  # checked here, before the table's games, not after them
        check_search_budget(args.br_generations, args.br_popsize, args.br_games, "--br-")
    contenders = parse_strategies(args.strategies, scenario, args.agents)
    planner = _planner(args.br_planner, scenario.name)
    if len(contenders) > MAX_STRATEGIES:
        raise ValueError(f"--strategies lists {len(contenders)} strategies; at most "
                         f"{MAX_STRATEGIES}")
    out_dir = Path(args.out_dir or f"experiments/nash/{scenario.name}")
    check_tables_writable(out_dir)
    check_writable_output(out_dir / "nash.json")
    ppo_runs = {c.name: best_response_config(c, args.scenario, args.agents, args.br_ppo_steps,
                                             out_dir / "best_response", args.seed + 2)
                for c in _ppo_targets(args, contenders)}
    with contextlib.ExitStack() as runs:
        if ppo_runs:  # held to the end, as train holds its run's: one process per run
            from bucket_brigade.training.bookkeeping import claim_run
            from bucket_brigade.training.checkpoint import RunPaths

            for config in ppo_runs.values():
                runs.enter_context(claim_run(RunPaths(Path(config.out_dir), config.run_name)))
        _play_and_write(args, scenario, contenders, ppo_runs, planner, out_dir)


def _play_and_write(args: argparse.Namespace, scenario: Scenario, contenders: list[Contender],
                    ppo_runs: dict[str, TrainConfig], planner: Contender | None,
                    out_dir: Path) -> None:
    """The empirical game, its analysis and the best responses; the tables and nash.json."""
    from bucket_brigade.analysis.tournament import write_tables
    from bucket_brigade.io import save_json

    console = Console()
    console.print(f"[bold]{scenario.name}[/]: {len(contenders)}x{len(contenders)} cells, "
                  f"{args.games:,} games each, {args.agents} agents, seed {args.seed}",
                  highlight=False)
    game = empirical_game(contenders, scenario, args.agents, args.games, args.seed)
    equilibria, rows = analyse(game)
    if args.br_generations:
        for s, (contender, row) in enumerate(zip(contenders, rows)):
            console.print(f"best response to {contender.name} ...", highlight=False)
            gain, ci95, params = exploitability(
                contender, game.scores[s, s], scenario, args.agents, args.br_generations,
                args.br_popsize, args.br_games, args.seed + 1, args.seed)
            row.update(exploitability=gain, exploitability_ci95=ci95, best_response=params)
    for s, (contender, row) in enumerate(zip(contenders, rows)):
        if contender.name in ppo_runs:
            console.print(f"PPO best response to {contender.name} ({args.br_ppo_steps:,} "
                          "steps) ...", highlight=False)
            row.update(ppo_exploitability(contender, ppo_runs[contender.name],
                                          game.scores[s, s], args.seed))
    if planner is not None:
        for s, (contender, row) in enumerate(zip(contenders, rows)):
            if contender.seat is None:
                continue  # a trained policy: the planner's continuations cannot play it
            console.print(f"{planner.name} as a best response to {contender.name} ...",
                          highlight=False)
            row.update(planner_exploitability(contender, planner, game.scores[s, s],
                                              scenario, args.agents, args.seed))
    _print_analysis(console, game, equilibria, rows)

    title = (f"{scenario.name}: focal agent's score, row strategy vs {args.agents - 1} x "
             f"column strategy, {args.games} games")
    cells = [{"focal": game.names[s], "others": game.names[t],
              "mean_score": float(game.payoffs[s, t]), "ci95": float(game.ci95[s, t]),
              "work_rate": float(game.work_rate[s, t]), "honesty": float(game.honesty[s, t]),
              "team_score": float(game.team_score[s, t])}
             for s, t in itertools.product(range(len(game.names)), repeat=2)]
    paths = write_tables(cells, out_dir, "focal", ("others",), title)
    summary = out_dir / "nash.json"
    save_json({"scenario": scenario.name, "agents": args.agents, "games": args.games,
               "seed": args.seed, "strategies": game.names,
               "payoffs": game.payoffs.tolist(), "ci95": game.ci95.tolist(),
               "equilibria": [{"mix": dict(zip(game.names, map(float, x))),
                               "value": float(x @ game.payoffs @ x)} for x in equilibria],
               "rows": rows}, summary)
    for path in [*paths, summary]:
        console.print(f"wrote {path}", highlight=False, soft_wrap=True)


def _planner(name: str | None, scenario: str) -> Contender | None:
    """The ``--br-planner`` contender, refused now unless it names a planner."""
    if name is None:
        return None
    seat = make_seat(name, scenario)
    if not isinstance(seat, PlannerSeat):
        raise ValueError(f"--br-planner {name!r} is not a planner; write "
                         "planner[@K[/D]][~P][+Z][:BASE]")
    return Contender(seat.name, seat=seat)


def _ppo_targets(args: argparse.Namespace, contenders: Sequence[Contender],
                 ) -> list[Contender]:
    """The strategies that get a PPO best response (none without --br-ppo-steps)."""
    if args.br_ppo_against is not None and not args.br_ppo_steps:
        raise ValueError("--br-ppo-against needs --br-ppo-steps N > 0")
    if not args.br_ppo_steps:
        return []
    if args.br_ppo_against is None:
        return list(contenders)
    names = [c.name for c in contenders]
    chosen = split_opponents(args.br_ppo_against)
    if not chosen:
        raise ValueError(f"--br-ppo-against {args.br_ppo_against!r} names no strategy")
    for name in chosen:
        if name not in names:
            raise ValueError(f"--br-ppo-against: {name!r} is not one of the strategies "
                             f"({', '.join(names)})")
    return [c for c in contenders if c.name in chosen]


def _print_analysis(console: Console, game: EmpiricalGame, equilibria: list[np.ndarray],
                    rows: list[dict]) -> None:
    for k, mix in enumerate(equilibria):
        support = ", ".join(f"{n} {w:.3f}" for n, w in zip(game.names, mix) if w > 0)
        console.print(f"symmetric equilibrium {k + 1}: {support} (value "
                      f"{mix @ game.payoffs @ mix:.2f})", highlight=False, soft_wrap=True)
    table = Table(title=f"{game.scenario}: is everyone playing s stable? (95% CIs, paired)",
                  caption="pure regret: best listed deviation's gain when all others play s; "
                          "exploitability: CMA-ES best response's gain")
    columns = ["strategy", "self-play score", "work", "honesty", "pure regret",
               "best deviation", "eq. weight", "regret vs eq.", "exploitability"]
    with_ppo = any("ppo_exploitability" in r for r in rows)
    if with_ppo:
        columns.append("PPO best response")
        table.caption += "; PPO best response: its gain and work rate"
    with_planner = any("planner_exploitability" in r for r in rows)
    if with_planner:
        columns.append("planner best response")
        table.caption += "; planner best response: its gain and work rate"
    for column in columns:
        table.add_column(column, justify="left" if column in ("strategy", "best deviation")
                         else "right", no_wrap=True)
    for r in rows:
        cells = [r["strategy"], f"{r['self_play_score']:.2f} ± {r['self_play_ci95']:.2f}",
                 f"{r['work_rate']:.2f}", f"{r['honesty']:.2f}",
                 f"{r['pure_regret']:+.2f} ± {r['pure_regret_ci95']:.2f}",
                 r["best_deviation"], f"{r['equilibrium_weight']:.3f}",
                 f"{r['regret_vs_equilibrium']:.2f}", _gain(r, "exploitability")]
        ppo = _gain(r, "ppo_exploitability")
        if "ppo_best_response_work_rate" in r:
            ppo += f" (works {r['ppo_best_response_work_rate']:.2f})"
        planned = _gain(r, "planner_exploitability")
        if "planner_best_response_work_rate" in r:
            planned += f" (works {r['planner_best_response_work_rate']:.2f})"
        table.add_row(*cells, *([ppo] if with_ppo else []),
                      *([planned] if with_planner else []))
    print_table(table, console)


def _gain(row: dict, key: str) -> str:
    return f"{row[key]:+.2f} ± {row[key + '_ci95']:.2f}" if key in row else "-"
