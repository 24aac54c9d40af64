"""Command-line glue for ``bucket-brigade replay`` and ``bucket-brigade plot``."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from bucket_brigade.agents.planner import SYNTAX as PLANNER_SYNTAX
from bucket_brigade.agents.strategies import (
    DEFAULT_OPPONENTS,
    DEFAULT_REPLAY_STRATEGY,
    STRATEGY_NAMES,
)
from bucket_brigade.cli_args import count, path_text
from bucket_brigade.errors import UsageError
from bucket_brigade.viz.plots import DEFAULT_RUNS_DIR, DEFAULT_SMOOTHING

if TYPE_CHECKING:
    from bucket_brigade.training.models import LoadedPolicy

DEFAULT_REPLAY_SCENARIO = "trivial_cooperation"


def add_replay_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default=None,
                        help="trained policy in seat 0 (checkpoint or model_RUN.pt), playing "
                             "its most likely action; a model with a network per seat plays "
                             "seats 0 to K-1, each with its own (MODEL.pt@K: seat K's network "
                             "in seat 0)")
    parser.add_argument("--strategy", default=None,
                        help=f"scripted strategy in seat 0 instead of a model: "
                             f"{', '.join(STRATEGY_NAMES)}, evolved:<scenario>, "
                             f"{PLANNER_SYNTAX} (rollout search), a genome "
                             f".json or 10 numbers (default: {DEFAULT_REPLAY_STRATEGY})")
    parser.add_argument("--scenario", default=None,
                        help="scenario name or .toml/.json file (default: with --model, the "
                             "scenario it was trained on where its run says so; else "
                             f"{DEFAULT_REPLAY_SCENARIO})")
    parser.add_argument("--seed", type=count, default=0, help="seed of the game (default: 0)")
    parser.add_argument("--game", type=count, default=0,
                        help="which game of that seed: game k is the k-th game `evaluate` "
                             "plays with the same seed (default: 0)")
    parser.add_argument("--opponents", default=None,
                        help="opponent strategies, cycled over the seats (comma list, "
                             f"pool:a,b last) (default: {','.join(DEFAULT_OPPONENTS)})")
    parser.add_argument("--num-opponents", type=count, default=3,
                        help="opponents in the game (default: 3)")
    parser.add_argument("--out", type=path_text, default="replay.html",
                        help="the HTML page to write (default: replay.html)")
    parser.add_argument("--json", type=path_text, default=None, metavar="PATH",
                        help="also write the replay as JSON here")


def run_replay(args: argparse.Namespace) -> None:
    from bucket_brigade.io import check_writable_output
    from bucket_brigade.viz.replay_html import record_replay, write_page

    if args.model is not None and args.strategy is not None:
        raise UsageError("give --model or --strategy for seat 0, not both")
    for path in (args.out, args.json):
        if path is not None:
            check_writable_output(path)
    model = None
    if args.model is not None:
        from bucket_brigade.training.models import load_policy

        model = load_policy(args.model)
    scenario, chosen_because = replay_scenario(args.scenario, model)
    labelled = record_replay(scenario, args.seed, model=model, strategy=args.strategy,
                             opponents=args.opponents, num_opponents=args.num_opponents,
                             game_index=args.game)
    path = write_page(labelled, args.out)
    replay = labelled.replay
    if args.json is not None:
        print(f"wrote {replay.save(args.json)}")
    print(f"wrote {path}: {replay.scenario.name}{chosen_because}, seed {args.seed}, "
          f"game {args.game}, {replay.nights} nights; seat 0 ({labelled.seat_labels[0]}) scored "
          f"{replay.scores[0]:.2f}")


def replay_scenario(requested: str | None, model: LoadedPolicy | None) -> tuple[str, str]:
    """The scenario a replay plays, and why when it was not asked for: a model plays the
    game it learned unless told otherwise (its observations only fit that game's size)."""
    if requested is not None:
        return requested, ""
    if model is None:
        return DEFAULT_REPLAY_SCENARIO, ""
    if model.trained_on is None:
        return DEFAULT_REPLAY_SCENARIO, (" (the model's training scenario is unknown, no run "
                                         "config found; give --scenario)")
    return model.trained_on, " (the scenario the model was trained on)"


def add_plot_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dirs", nargs="*", metavar="RUN_DIR", default=[DEFAULT_RUNS_DIR],
                        help="a run folder (runs/RUN) or a folder of runs; several are "
                             "overlaid, and runs whose settings differ only in the seed are "
                             f"drawn as their mean and range (default: {DEFAULT_RUNS_DIR})")
    parser.add_argument("--out", type=path_text, default="curves.png",
                        help="the figure to write: .png, .svg or .pdf (default: curves.png)")
    parser.add_argument("--smoothing", type=float, default=DEFAULT_SMOOTHING,
                        help="TensorBoard-style smoothing weight in [0, 1); 0 draws the raw "
                             f"curves only (default: {DEFAULT_SMOOTHING})")
    parser.add_argument("--tags", default=None,
                        help="comma list of tags or tag prefixes ending in '/' to draw, e.g. "
                             "episode/reward,losses/ (default: every tag)")


def run_plot(args: argparse.Namespace) -> None:
    from bucket_brigade.io import check_writable_output
    from bucket_brigade.viz.plots import group_runs, load_runs, plot_runs

    if not 0 <= args.smoothing < 1:
        raise UsageError(f"--smoothing={args.smoothing} must be in [0, 1)")
    check_writable_output(args.out)
    tags = None if args.tags is None else [t.strip() for t in args.tags.split(",") if t.strip()]
    runs = load_runs(args.run_dirs)
    drawn = plot_runs(runs, args.out, smoothing=args.smoothing, tags=tags)
    groups = group_runs(runs)
    print(f"wrote {args.out}: {len(drawn)} panels ({', '.join(drawn)}) for {len(runs)} "
          f"run{'s' if len(runs) > 1 else ''} ({'; '.join(group.label for group in groups)})")
