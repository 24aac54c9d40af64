"""The ``bucket-brigade`` command line. Each subcommand lives with the code it drives;
this module only wires them up and turns bad input into a one-line error and exit code 2."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from bucket_brigade.errors import UsageError

Command = Callable[[argparse.Namespace], int | None]


def _scenarios_command(parser: argparse.ArgumentParser) -> Command:
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")

    def run(args: argparse.Namespace) -> None:
        from bucket_brigade.reporting import print_scenarios

        print_scenarios(as_json=args.json)

    return run


def _bench_command(parser: argparse.ArgumentParser) -> Command:
    from bucket_brigade.bench import add_arguments, run

    add_arguments(parser)
    return run


def _train_command(parser: argparse.ArgumentParser) -> Command:
    from bucket_brigade.training.cli import add_arguments, run

    add_arguments(parser)
    return run


COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], Command]]] = {
    "scenarios": ("list the named scenarios", _scenarios_command),
    "bench": ("measure engine and training speed", _bench_command),
    "train": ("train a PPO learner (the seed's train_gpu.py)", _train_command),
}


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, Command]]:
    parser = argparse.ArgumentParser(
        prog="bucket-brigade",
        description="Bucket Brigade: fast multi-agent RL on a cooperation game.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    runners: dict[str, Command] = {}
    for name, (help_text, factory) in COMMANDS.items():
        runners[name] = factory(sub.add_parser(name, help=help_text, description=help_text))
    return parser, runners


def main(argv: Sequence[str] | None = None) -> int:
    parser, runners = build_parser()
    args = parser.parse_args(argv)
    try:
        return runners[args.command](args) or 0
    except (UsageError, ValueError) as exc:
        print(f"bucket-brigade {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
