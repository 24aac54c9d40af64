"""The ``bucket-brigade`` command line. Each subcommand lives with the code it drives;
this module only wires them up and turns bad input into a one-line error and exit code 2.

Only the subcommand being run gets its options (and imports its module), and heavy
libraries (torch, numba, matplotlib, Ray, CMA-ES) load inside the commands that use
them, so ``--help`` answers at once."""

from __future__ import annotations

import argparse
import importlib
import shlex
import signal
import sys
import threading
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from importlib import metadata
from typing import NoReturn

from bucket_brigade.cli_args import count
from bucket_brigade.errors import Terminated, UsageError

Command = Callable[[argparse.Namespace], int | None]


def _scenarios_command(parser: argparse.ArgumentParser) -> Command:
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")

    def run(args: argparse.Namespace) -> None:
        from bucket_brigade.reporting import print_scenarios

        print_scenarios(as_json=args.json)

    return run


def _evolve_command(parser: argparse.ArgumentParser) -> Command:
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
    parser.add_argument("--out", default=None,
                        help="output JSON (default: experiments/evolved/<scenario>.json)")

    def run(args: argparse.Namespace) -> None:
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        from bucket_brigade.analysis.evolution import HELD_OUT_GAMES, evolve
        from bucket_brigade.game.scenarios import get_scenario
        from bucket_brigade.io import check_writable_output, save_json

        scenario = get_scenario(args.scenario)
        out = check_writable_output(args.out or f"experiments/evolved/{scenario.name}.json")
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

    return run


def _evaluate_command(parser: argparse.ArgumentParser) -> Command:
    parser.add_argument("models", nargs="*", metavar="MODEL",
                        help="trained policies: checkpoints or model_{run}.pt files")
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
    parser.add_argument("--matrix", action="store_true",
                        help="generalization: every MODEL on every scenario (scenario x "
                             "scenario table)")
    parser.add_argument("--out-dir", default="experiments/eval",
                        help="where results.json, results.csv and heatmap.png go "
                             "(default: experiments/eval)")

    def run(args: argparse.Namespace) -> None:
        from pathlib import Path

        from bucket_brigade.agents.strategies import make_seat, split_opponents
        from bucket_brigade.analysis.tournament import (
            COMPARISON_STRATEGIES,
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
        if args.matrix:
            if not models:
                raise UsageError("--matrix needs at least one MODEL")
            rows = generalization_matrix(models, scenarios, opponents[0], args.num_opponents,
                                         args.games, args.seed)
            row_key, columns = "candidate", ("scenario",)
            title = f"Generalization: mean score vs {opponents[0]} opponents"
        else:
            rows = run_tournament(models, scenarios, opponents, args.num_opponents,
                                  args.games, args.seed, strategies)
            row_key, columns = "candidate", ("scenario", "opponents")
            title = f"Evaluation over {args.games} games per cell, seed {args.seed}"
        print_rows(rows, title)
        for path in write_tables(rows, Path(args.out_dir), row_key, columns, title):
            print(f"wrote {path}")

    return run


def _from_module(module: str, add: str = "add_arguments", run: str = "run"
                 ) -> Callable[[argparse.ArgumentParser], Command]:
    """A subcommand whose options and runner live in ``module`` (imported only when used)."""

    def factory(parser: argparse.ArgumentParser) -> Command:
        loaded = importlib.import_module(module)
        getattr(loaded, add)(parser)
        return getattr(loaded, run)

    return factory


VIZ = "bucket_brigade.viz.commands"
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], Command]]] = {
    "scenarios": ("list the named scenarios", _scenarios_command),
    "bench": ("measure engine and training speed", _from_module("bucket_brigade.bench")),
    "train": ("train a PPO learner (also experiments/marl/train_gpu.py)",
              _from_module("bucket_brigade.training.cli")),
    "sweep": ("train and evaluate a grid of runs, locally or on Ray",
              _from_module("bucket_brigade.sweep.cli")),
    "evolve": ("evolve a scripted strategy with CMA-ES", _evolve_command),
    "evaluate": ("evaluate policies and strategies in the same seat", _evaluate_command),
    "nash": ("empirical game of strategies: payoffs, equilibria, regrets",
             _from_module("bucket_brigade.analysis.nash_cli")),
    "replay": ("write one game as a self-contained HTML replay",
               _from_module(VIZ, "add_replay_arguments", "run_replay")),
    "plot": ("plot learning curves of training runs",
             _from_module(VIZ, "add_plot_arguments", "run_plot")),
}


def build_parser(commands: Collection[str] = tuple(COMMANDS),
                 ) -> tuple[argparse.ArgumentParser, dict[str, Command]]:
    """The parser and the runners of ``commands`` (default: all); the other subcommands are
    listed in ``--help`` but get no options, so their modules stay unloaded."""
    parser = _OneLineParser(
        prog="bucket-brigade",
        description="Bucket Brigade: fast multi-agent RL on a cooperation game.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    runners: dict[str, Command] = {}
    for name, (help_text, factory) in COMMANDS.items():
        command_parser = sub.add_parser(name, help=help_text, description=help_text)
        if name in commands:
            runners[name] = factory(command_parser)
    return parser, runners


def package_version() -> str:
    """The installed distribution's version; the package's own when it runs from a source tree."""
    try:
        return metadata.version("bucket-brigade")
    except metadata.PackageNotFoundError:
        from bucket_brigade import __version__

        return __version__


def _command_named(argv: Sequence[str]) -> list[str]:
    """The subcommand in ``argv`` (none or one): its first word that is not an option (the
    top-level parser's options take no value)."""
    return [word for word in argv if not word.startswith("-")][:1]


class _OneLineParser(argparse.ArgumentParser):
    """Bad options are one line on stderr and exit code 2, like every other bad input."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {_one_line(message)} (see {self.prog} --help)\n")


@contextmanager
def _sigterm_raises() -> Iterator[None]:
    """Turn SIGTERM into :class:`Terminated` while a command runs, unless someone else
    already handles it (or this is not the main thread, where signals cannot be set)."""
    if threading.current_thread() is not threading.main_thread() \
            or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return

    def terminate(signum: int, frame: object) -> None:
        raise Terminated

    signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _one_line(text: object) -> str:
    return " ".join(str(text).split()) or type(text).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command. Bad input: one line, exit 2. Ctrl-C: exit 130; SIGTERM: exit 143; a
    failed read or write: exit 1. Never a traceback for any of them."""
    prefix = "bucket-brigade"
    try:
        with _sigterm_raises():
            words = sys.argv[1:] if argv is None else argv
            parser, runners = build_parser(_command_named(words))
            args = parser.parse_args(words)
            args.argv = None if argv is None else list(argv)
            prefix = f"bucket-brigade {args.command}"
            return runners[args.command](args) or 0
    except (UsageError, ValueError) as exc:
        print(f"{prefix}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"{prefix}: error: {_one_line(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{prefix}: interrupted", file=sys.stderr)
        return 130
    except Terminated:
        print(f"{prefix}: terminated", file=sys.stderr)
        return 143
    finally:
        if argv is None and threading.current_thread() is threading.main_thread():
            # The process ends now: a signal during its shutdown must not interrupt it.
            for signum in (signal.SIGINT, signal.SIGTERM):
                signal.signal(signum, signal.SIG_IGN)


if __name__ == "__main__":
    sys.exit(main())
