"""``bucket-brigade nash``: options, progress, the printed tables and the files written.

The game theory itself is in :mod:`bucket_brigade.analysis.empirical_game` (the N-player
game, its equilibria), :mod:`bucket_brigade.analysis.alpharank` and
:mod:`bucket_brigade.analysis.nash` (best responses); this module drives them.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from rich.console import Console
from rich.table import Table

from bucket_brigade.agents.planner import SYNTAX as PLANNER_SYNTAX
from bucket_brigade.agents.planner import PlannerSeat
from bucket_brigade.agents.strategies import make_seat, split_opponents
from bucket_brigade.analysis.contenders import Contender, parse_strategies, use_one_torch_thread
from bucket_brigade.cli_args import count, path_text
from bucket_brigade.confidence import ci95_half_width
from bucket_brigade.console import print_table
from bucket_brigade.game.scenarios import Scenario, get_scenario
from bucket_brigade.sweep.jobs import add_job_arguments, check_job_arguments, job_runner

SCENARIO_FIELD = "{scenario}"  # in a study's --strategies: each scenario's name

if TYPE_CHECKING:  # the engine (numba) loads when games are played, not for --help
    from bucket_brigade.analysis.empirical_game import PlayedTable, SymmetricGame
    from bucket_brigade.sweep.jobs import JobRunner
    from bucket_brigade.training.config import TrainConfig


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scenario", default="default",
                        help="scenario name or .toml/.json file (default: default)")
    parser.add_argument("--strategies", default="archetypes,random,evolved",
                        help="comma list: 'archetypes' (all six), random, evolved, strategy "
                             "specs, model files *.pt (*.pt@K: seat K's network of a model "
                             "with one per seat, else seat 0's) (default: "
                             "archetypes,random,evolved)")
    parser.add_argument("--agents", type=count, default=4,
                        help="agents per game (default: 4)")
    parser.add_argument("--games", type=count, default=1000,
                        help="games per payoff cell (focal strategy x opponent profile), the "
                             "same games for every cell (default: 1000)")
    parser.add_argument("--fresh-games", type=count, default=None,
                        help="games per cell of the fresh games that check every reported "
                             "equilibrium and gain (default: --games)")
    parser.add_argument("--seed", type=count, default=0,
                        help="seed of the table's games; the fresh games' seed is derived "
                             "from it (default: 0)")
    add_cmaes_arguments(parser, "; 0 skips exploitability")
    parser.add_argument("--br-ppo-steps", type=count, default=0,
                        help="also train a PPO best response for this many steps against each "
                             "strategy (cheap talk on), saved under OUT_DIR/best_response; 0 "
                             "skips it (default: 0)")
    parser.add_argument("--br-ppo-against", default=None, metavar="LIST",
                        help="with --br-ppo-steps: only against these of the --strategies, a "
                             "comma list of their names; a model file's name is its stem, "
                             "model_RUN for model_RUN.pt (default: all)")
    add_planner_argument(parser, "also judge this planner as a best response to each "
                         "strategy (model files included), on the fresh games")
    parser.add_argument("--out-dir", type=path_text, default=None,
                        help="where nash.json and the copies view's results.json/.csv and "
                             "heatmap.png go (default: experiments/nash/SCENARIO)")
    add_job_arguments(parser, "the games of the table and of its checks (chunks of opponent "
                              "profiles, the same results on every backend)")


def add_cmaes_arguments(parser: argparse.ArgumentParser, note: str = "") -> None:
    """The CMA-ES best-response search's budget (nash, exploit, psro)."""
    parser.add_argument("--br-generations", type=count, default=10,
                        help=f"CMA-ES generations of each best-response search{note} "
                             "(default: 10)")
    parser.add_argument("--br-popsize", type=count, default=8,
                        help="CMA-ES candidates per generation (default: 8)")
    parser.add_argument("--br-games", type=count, default=200,
                        help="games per best-response candidate (and opponent profile) "
                             "(default: 200)")


def add_planner_argument(parser: argparse.ArgumentParser, help_text: str,
                         default: str | None = None) -> None:
    """The planner judged as a best response (nash, exploit)."""
    parser.add_argument("--br-planner", default=default, metavar="PLANNER",
                        help=f"{help_text}: {PLANNER_SYNTAX}, e.g. planner@128 "
                             f"(default: {default or 'none'})")


def planner_oracle(name: str | None, scenario: str) -> Contender | None:
    """The ``--br-planner`` contender, refused now unless it names a planner."""
    if name is None:
        return None
    seat = make_seat(name, scenario)
    if not isinstance(seat, PlannerSeat):
        raise ValueError(f"--br-planner {name!r} is not a planner; write {PLANNER_SYNTAX}")
    return Contender(seat.name, seat=seat)


def check_cmaes_budget(args: argparse.Namespace) -> None:
    """The CMA-ES search's counts, checked before the first game (not after the table)."""
    from bucket_brigade.analysis.evolution import check_search_budget

    if args.br_generations:
        check_search_budget(args.br_generations, args.br_popsize, args.br_games, "--br-")


@contextlib.contextmanager
def claimed_runs(configs: Iterable[TrainConfig]) -> Iterator[None]:
    """Hold every PPO best-response run's lock from before the first game to the end, as
    train holds its run's: a second command on the same output folder is refused at once
    instead of deleting a run that is training."""
    from bucket_brigade.training.bookkeeping import claim_run
    from bucket_brigade.training.checkpoint import RunPaths

    with contextlib.ExitStack() as runs:
        for config in configs:
            runs.enter_context(claim_run(RunPaths(Path(config.out_dir), config.run_name)))
        yield


def run(args: argparse.Namespace) -> None:
    from bucket_brigade.analysis.empirical_game import MAX_STRATEGIES
    from bucket_brigade.analysis.nash import best_response_config
    from bucket_brigade.analysis.tournament import check_tables_writable
    from bucket_brigade.io import check_writable_output

    scenario = get_scenario(args.scenario)
    scenario.check_num_agents(args.agents)
    check_cmaes_budget(args)
    check_job_arguments(args.backend, args.workers, args.address)
    contenders = parse_strategies(args.strategies, scenario, args.agents)
    planner = planner_oracle(args.br_planner, scenario.name)
    if len(contenders) > MAX_STRATEGIES:
        raise ValueError(f"--strategies lists {len(contenders)} strategies; at most "
                         f"{MAX_STRATEGIES}")
    fresh_games = args.fresh_games or args.games
    if fresh_games < 2:
        raise ValueError(f"--fresh-games {fresh_games} must be >= 2 (for confidence intervals)")
    out_dir = Path(args.out_dir or f"experiments/nash/{scenario.name}")
    check_tables_writable(out_dir)
    check_writable_output(out_dir / "nash.json")
    others = args.agents - 1
    ppo_runs = {c.name: best_response_config([c] * others, args.scenario, args.br_ppo_steps,
                                             out_dir / "best_response", "br_" + c.name,
                                             args.seed + 2)
                for c in _ppo_targets(args, contenders)}
    with claimed_runs(ppo_runs.values()), \
            job_runner(args.backend, args.workers, args.address) as runner:
        _play_and_write(args, scenario, contenders, ppo_runs, planner, fresh_games, out_dir,
                        runner)


def nash_job(options: dict, scenario: str, out_dir: str) -> str:
    """``nash`` with ``options`` (its arguments, as a dict) on one scenario, as one job of a
    study over scenarios: its table is played in the job's process, and ``{scenario}`` in
    the strategies (a model file per scenario) becomes the scenario's name. Returns the path
    of the nash.json it wrote."""
    run(argparse.Namespace(**{
        **options, "scenario": scenario, "out_dir": out_dir, "backend": "serial",
        "workers": None, "address": None,
        "strategies": options["strategies"].replace(SCENARIO_FIELD, scenario)}))
    return str(Path(out_dir) / "nash.json")


def _play_and_write(args: argparse.Namespace, scenario: Scenario, contenders: list[Contender],
                    ppo_runs: dict[str, TrainConfig], planner: Contender | None,
                    fresh_games: int, out_dir: Path, runner: JobRunner) -> None:
    """The N-player game, its equilibria checked on fresh games, α-Rank and the best
    responses; nash.json and the copies view's tables."""
    from bucket_brigade.analysis.alpharank import alpharank
    from bucket_brigade.analysis.empirical_game import (
        check_on_fresh_games,
        fresh_seed,
        play_table_in_jobs,
        symmetric_equilibria,
    )
    from bucket_brigade.analysis.nash import (
        cmaes_best_response,
        deviation_from_symmetric,
        judge,
        ppo_best_response,
    )
    from bucket_brigade.analysis.tournament import write_tables
    from bucket_brigade.io import save_json

    others = args.agents - 1
    use_one_torch_thread(contenders)
    console = Console()
    size = len(contenders)
    table = _play_with_progress(console, runner, contenders, scenario, args.agents,
                                args.games, args.seed)
    game = table.game()
    equilibria = symmetric_equilibria(game)
    if not equilibria:
        raise ValueError("no symmetric equilibrium found (degenerate payoffs)")
    ranking = alpharank(game)
    check_seed = fresh_seed(args.seed)
    console.print(f"checking {len(equilibria)} equilibria and every pure profile on fresh "
                  f"games (seed {check_seed}, {fresh_games:,} per cell) ...", highlight=False)
    checked = [check_on_fresh_games(contenders, mix, scenario, args.agents, fresh_games,
                                    check_seed, runner) for mix in equilibria]
    pure = play_table_in_jobs(runner, contenders, scenario, args.agents, fresh_games,
                              check_seed, np.repeat(np.arange(size)[:, None], others, axis=1))
    rows = _rows(table, game, pure, equilibria[0], checked[0], ranking)
    for contender, row in zip(contenders, rows):
        play = deviation_from_symmetric(scenario, contender, args.agents)
        if args.br_generations:
            console.print(f"CMA-ES best response to {contender.name} ...", highlight=False)
            responder = cmaes_best_response(play, scenario, args.agents, args.br_generations,
                                            args.br_popsize, args.br_games, args.seed + 1)
            gain = judge(play, contender, responder, fresh_games, check_seed)
            row.update(exploitability=gain.mean, exploitability_ci95=gain.ci95,
                       best_response=list(responder.seat.pool[0]))
        if contender.name in ppo_runs:
            console.print(f"PPO best response to {contender.name} ({args.br_ppo_steps:,} "
                          "steps) ...", highlight=False)
            responder = ppo_best_response(ppo_runs[contender.name])
            gain = judge(play, contender, responder, fresh_games, check_seed)
            row.update(ppo_exploitability=gain.mean, ppo_exploitability_ci95=gain.ci95,
                       ppo_best_response=responder.source)
        if planner is not None:
            console.print(f"{planner.name} as a best response to {contender.name} ...",
                          highlight=False)
            gain = judge(play, contender, planner, fresh_games, check_seed)
            row.update(planner_exploitability=gain.mean, planner_exploitability_ci95=gain.ci95)
    _print_equilibria(console, game, table.names, equilibria, checked)
    _print_rows(console, scenario.name, args.agents, rows)

    copies = game.copies_view()
    title = (f"{scenario.name}: focal agent's score, row strategy vs {others} copies of the "
             f"column strategy (a view, not the game), {args.games} games")
    cells = [{"focal": table.names[s], "others": table.names[t],
              "mean_score": float(copies[s, t])}
             for s, t in itertools.product(range(size), repeat=2)]
    paths = write_tables(cells, out_dir, "focal", ("others",), title)
    summary = out_dir / "nash.json"
    save_json({
        "scenario": scenario.name, "agents": args.agents, "games": args.games,
        "fresh_games": fresh_games, "seed": args.seed, "fresh_seed": check_seed,
        "strategies": table.names,
        "opponent_profiles": [[table.names[k] for k in p] for p in table.profiles.tolist()],
        "payoffs": game.payoffs.tolist(),
        "ci95": ci95_half_width(table.scores, axis=-1).tolist(),
        "copies_view": copies.tolist(),
        "equilibria": [_equilibrium_record(game, table.names, mix, check)
                       for mix, check in zip(equilibria, checked)],
        "alpharank": dict(zip(table.names, map(float, ranking))),
        "rows": rows}, summary)
    for path in [*paths, summary]:
        console.print(f"wrote {path}", highlight=False, soft_wrap=True)


def _play_with_progress(console: Console, runner: JobRunner, contenders: Sequence[Contender],
                        scenario: Scenario, num_agents: int, games: int,
                        seed: int) -> PlayedTable:
    from bucket_brigade.analysis.empirical_game import opponent_profiles, play_table_in_jobs

    profiles = opponent_profiles(len(contenders), num_agents - 1)
    cells = len(contenders) * len(profiles)
    console.print(f"[bold]{scenario.name}[/]: {len(contenders)} strategies x {len(profiles)} "
                  f"opponent profiles = {cells:,} cells, {games:,} games each, {num_agents} "
                  f"agents, seed {seed}, on {runner.parallelism} worker"
                  f"{'s' if runner.parallelism > 1 else ''}", highlight=False)
    return play_table_in_jobs(runner, contenders, scenario, num_agents, games, seed, profiles)


def _rows(table: PlayedTable, game: SymmetricGame, pure: PlayedTable, main: np.ndarray,
          main_check: tuple[np.ndarray, np.ndarray, float], ranking: np.ndarray) -> list[dict]:
    """One row per strategy: self-play, the best deviation from everyone playing it (chosen
    on the table's games, its gain measured on fresh ones), its place in the first
    equilibrium and its α-Rank mass."""
    copies = game.copies_view()
    copies_index = [int(np.flatnonzero((table.profiles == s).all(axis=1))[0])
                    for s in range(len(table.names))]
    main_gains, main_ci = main_check[0], main_check[1]
    rows = []
    for s, name in enumerate(table.names):
        cell = copies_index[s]
        deviation = int(np.argmax(copies[:, s] - copies[s, s]))
        fresh_gains = pure.scores[deviation, s] - pure.scores[s, s]
        rows.append({
            "strategy": name, "self_play_score": float(copies[s, s]),
            "self_play_ci95": float(ci95_half_width(table.scores[s, cell])),
            "work_rate": float(table.work_rate[s, cell]),
            "honesty": float(table.honesty[s, cell]),
            "pure_regret": float(fresh_gains.mean()),
            "pure_regret_ci95": float(ci95_half_width(fresh_gains)),
            "best_deviation": table.names[deviation],
            "equilibrium_weight": float(main[s]),
            "gain_vs_equilibrium": float(main_gains[s]),
            "gain_vs_equilibrium_ci95": float(main_ci[s]),
            "alpharank": float(ranking[s]),
        })
    return rows


def _equilibrium_record(game: SymmetricGame, names: list[str], mix: np.ndarray,
                        check: tuple[np.ndarray, np.ndarray, float]) -> dict:
    gains, ci95, fresh_value = check
    return {"mix": {n: float(w) for n, w in zip(names, mix) if w > 0},
            "value": game.value(mix), "fresh_value": fresh_value,
            "deviation_gains": {n: {"gain": float(g), "ci95": float(c)}
                                for n, g, c in zip(names, gains, ci95)}}


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


def _print_equilibria(console: Console, game: SymmetricGame, names: list[str],
                      equilibria: list[np.ndarray],
                      checked: list[tuple[np.ndarray, np.ndarray, float]]) -> None:
    for k, (mix, (gains, ci95, fresh_value)) in enumerate(zip(equilibria, checked)):
        support = ", ".join(f"{n} {w:.3f}" for n, w in zip(names, mix) if w > 0)
        best = int(np.argmax(gains))
        console.print(f"symmetric equilibrium {k + 1} of the {game.num_agents}-player game: "
                      f"{support} (value {game.value(mix):.2f}; on fresh games "
                      f"{fresh_value:.2f}, best deviation {names[best]} "
                      f"{gains[best]:+.2f} ± {ci95[best]:.2f})",
                      highlight=False, soft_wrap=True)


def _print_rows(console: Console, scenario: str, num_agents: int, rows: list[dict]) -> None:
    table = Table(title=f"{scenario}: is everyone playing s stable? (95% CIs, paired, on "
                        "fresh games)",
                  caption=f"pure regret: the best listed deviation's gain when the other "
                          f"{num_agents - 1} play s; vs eq.: gain of s against others drawn "
                          "from equilibrium 1; exploitability: CMA-ES best response's gain")
    columns = ["strategy", "self-play score", "work", "honesty", "pure regret",
               "best deviation", "eq. weight", "gain vs eq.", "α-Rank", "exploitability"]
    with_ppo = any("ppo_exploitability" in r for r in rows)
    if with_ppo:
        columns.append("PPO best response")
        table.caption += "; PPO best response: its gain"
    with_planner = any("planner_exploitability" in r for r in rows)
    if with_planner:
        columns.append("planner best response")
        table.caption += "; planner best response: its gain"
    for column in columns:
        table.add_column(column, justify="left" if column in ("strategy", "best deviation")
                         else "right", no_wrap=True)
    for r in rows:
        cells = [r["strategy"], f"{r['self_play_score']:.2f} ± {r['self_play_ci95']:.2f}",
                 f"{r['work_rate']:.2f}", f"{r['honesty']:.2f}", _gain(r, "pure_regret"),
                 r["best_deviation"], f"{r['equilibrium_weight']:.3f}",
                 _gain(r, "gain_vs_equilibrium"), f"{r['alpharank']:.3f}",
                 _gain(r, "exploitability")]
        table.add_row(*cells, *([_gain(r, "ppo_exploitability")] if with_ppo else []),
                      *([_gain(r, "planner_exploitability")] if with_planner else []))
    print_table(table, console)


def _gain(row: dict, key: str) -> str:
    return f"{row[key]:+.2f} ± {row[key + '_ci95']:.2f}" if key in row else "-"
