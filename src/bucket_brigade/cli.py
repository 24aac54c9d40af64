"""The ``bucket-brigade`` command line. Each subcommand lives with the code it drives;
this module only wires them up and turns bad input into a one-line error and exit code 2.

Only the subcommand being run gets its options (and imports its module), and heavy
libraries (torch, numba, matplotlib, Ray, CMA-ES) load inside the commands that use
them, so ``--help`` answers at once."""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
import threading
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from importlib import metadata
from typing import Any, NoReturn

from bucket_brigade.cli_args import NEGATIVE_NUMBER
from bucket_brigade.errors import Terminated, UsageError

Command = Callable[[argparse.Namespace], int | None]


def _from_module(module: str, add: str = "add_arguments", run: str = "run"
                 ) -> Callable[[argparse.ArgumentParser], Command]:
    """A subcommand whose options and runner live in ``module`` (imported only when used)."""

    def factory(parser: argparse.ArgumentParser) -> Command:
        loaded = importlib.import_module(module)
        getattr(loaded, add)(parser)
        return getattr(loaded, run)

    return factory


COMMANDS_MODULE = "bucket_brigade.commands"
VIZ = "bucket_brigade.viz.commands"
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], Command]]] = {
    "scenarios": ("list the named scenarios",
                  _from_module(COMMANDS_MODULE, "add_scenarios_arguments", "run_scenarios")),
    "bench": ("measure engine and training speed", _from_module("bucket_brigade.bench")),
    "train": ("train a PPO learner (also experiments/marl/train_gpu.py)",
              _from_module("bucket_brigade.training.cli")),
    "sweep": ("train and evaluate a grid of runs, locally or on Ray",
              _from_module("bucket_brigade.sweep.cli")),
    "evolve": ("evolve a scripted strategy with CMA-ES",
               _from_module(COMMANDS_MODULE, "add_evolve_arguments", "run_evolve")),
    "evaluate": ("evaluate policies and strategies in the same seat",
                 _from_module(COMMANDS_MODULE, "add_evaluate_arguments", "run_evaluate")),
    "seeds": ("learner minus a baseline over training seeds, from train --eval-games runs",
              _from_module(COMMANDS_MODULE, "add_seeds_arguments", "run_seeds")),
    "nash": ("empirical game of strategies: payoffs, equilibria, regrets",
             _from_module("bucket_brigade.analysis.nash_cli")),
    "exploit": ("exploitability of a joint policy: best responses seat by seat, NashConv",
                _from_module("bucket_brigade.analysis.exploit_cli")),
    "psro": ("grow a population towards an equilibrium: meta-equilibria, best responses",
             _from_module("bucket_brigade.analysis.psro_cli")),
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
    """Bad options are one line on stderr and exit code 2, like every other bad input; a
    value such as -inf is a value (then checked by its option), not an unknown option."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = NEGATIVE_NUMBER

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {_one_line(message)} (see {self.prog} --help)\n")


@contextmanager
def _command_signals(ending_process: bool) -> Iterator[None]:
    """While a command runs: SIGTERM raises :class:`Terminated` (unless someone else already
    handles it, or this is not the main thread, where signals cannot be set), and an
    interrupt that lands inside a finaliser (``__del__``, where Python can only report it)
    prints nothing: the run it meant to stop stops anyway. When the command ends the
    process (``ending_process``), later SIGINT / SIGTERM are ignored from then on, so a
    signal during its last steps cannot interrupt them or kill it with another code."""
    previous_hook = sys.unraisablehook

    def report_unraisable(unraisable: Any) -> None:
        if not issubclass(unraisable.exc_type, (KeyboardInterrupt, Terminated)):
            previous_hook(unraisable)

    sys.unraisablehook = report_unraisable
    in_main = threading.current_thread() is threading.main_thread()
    ours = in_main and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL

    def terminate(signum: int, frame: object) -> None:
        raise Terminated

    if ours:
        signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        if ending_process and in_main:
            for signum in (signal.SIGINT, signal.SIGTERM):
                signal.signal(signum, signal.SIG_IGN)
        elif ours:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
        sys.unraisablehook = previous_hook


def _one_line(text: object) -> str:
    return " ".join(str(text).split()) or type(text).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command. Bad input: one line, exit 2. Ctrl-C: exit 130; SIGTERM: exit 143; a
    failed read or write: exit 1. Never a traceback for any of them."""
    prefix = "bucket-brigade"
    try:
        with _command_signals(ending_process=argv is None):
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


if __name__ == "__main__":
    sys.exit(main())
