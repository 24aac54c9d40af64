"""``bucket-brigade bench``: rerunnable speed measurements of the engine and the trainer.

Figures are printed, never asserted: they depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import numpy as np

from bucket_brigade.agents.strategies import DEFAULT_OPPONENTS, make_seat, opponent_seats
from bucket_brigade.checks import check_count
from bucket_brigade.cli_args import count
from bucket_brigade.errors import UsageError
from bucket_brigade.game.reference import ReferenceGame
from bucket_brigade.game.scenarios import get_scenario
from bucket_brigade.game.seat import Seat
from bucket_brigade.training.choices import CRITICS, SHARING_MODES
from bucket_brigade.training.config import TrainConfig

SCENARIO = "trivial_cooperation"  # the default game of both measurements
QUALITY_SCENARIO = "greedy_neighbor"  # where a learner must beat hero for --to-quality
ENGINE_GAMES = 4096
PLANNER_GAMES = 1000
ACTION_BLOCK = 64  # pre-drawn random learner actions, reused cyclically
MAX_SECONDS = 3600.0  # an hour per engine is more than any measurement needs


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", choices=("env", "train", "planner"), help="what to measure")
    parser.add_argument("--scenario", help=f"scenario name (default: {SCENARIO}; "
                                           f"{QUALITY_SCENARIO} with --to-quality)")
    parser.add_argument("--games", type=count, default=None,
                        help=f"games in the batch for `env` (default: {ENGINE_GAMES}) or played by "
                             f"`planner` (default: {PLANNER_GAMES})")
    parser.add_argument("--strategy", default="planner",
                        help="the planner of `planner`, seat 0 (default: planner, 32 "
                             "continuations per candidate action)")
    parser.add_argument("--seconds", type=float, default=3.0,
                        help="measuring time per engine (default: 3)")
    parser.add_argument("--steps", type=count,
                        help="learner steps for `train` (default: 1M; with --to-quality "
                             "the most it trains, default: 5M)")
    parser.add_argument("--seed", type=count, default=1, help="the run's seed (default: 1)")
    parser.add_argument("--threads", type=count,
                        help="CPU threads of the training for `train` (default: the "
                             "trainer's, 1; 0: every core this process may use)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    learners = parser.add_argument_group("several learners (`train`, as its options)")
    learners.add_argument("--self-play", action="store_true",
                          help="every seat learns (default: one learner)")
    learners.add_argument("--sharing", choices=SHARING_MODES, default=TrainConfig.sharing,
                          help=f"the learning seats' parameters (default: "
                               f"{TrainConfig.sharing})")
    learners.add_argument("--critic", choices=CRITICS, default=TrainConfig.critic,
                          help=f"the value function's input (default: {TrainConfig.critic})")
    quality = parser.add_argument_group(
        "time to quality (`train --to-quality`): training seconds until the greedy policy "
        "beats --baseline in its seat, paired over the same games, 95% CI above --margin")
    quality.add_argument("--to-quality", action="store_true",
                         help="measure the time to quality instead of steps/s")
    quality.add_argument("--opponent-policies", default="random",
                         help="the opponents of the training and of the checks "
                              "(default: random)")
    quality.add_argument("--baseline", default="hero",
                         help="the scripted strategy to beat (default: hero)")
    quality.add_argument("--margin", type=float, default=0.0,
                         help="points by which the learner must beat it (default: 0)")
    quality.add_argument("--eval-games", type=count, default=1000,
                         help="games of each check (default: 1000)")
    quality.add_argument("--eval-every", type=count, default=100_000,
                         help="learner steps between checks (default: 100_000)")


def run(args: argparse.Namespace) -> None:
    if args.to_quality and args.target != "train":
        raise UsageError("--to-quality measures `bench train`, not `bench env`")
    if args.threads is not None and args.target != "train":
        raise UsageError("--threads sets the training's threads (`bench train`); `bench env` "
                         "runs on the Numba threads of the process (NUMBA_NUM_THREADS)")
    threads = {} if args.threads is None else {"threads": args.threads}
    learners = {"self_play": True} if args.self_play else {}
    learners |= {name: getattr(args, name) for name in ("sharing", "critic")
                 if getattr(args, name) != getattr(TrainConfig, name)}
    if learners and (args.target != "train" or args.to_quality):
        raise UsageError("--self-play, --sharing and --critic set the learners of `bench "
                         "train` (steps/s), not of `bench env` or --to-quality")
    if args.target == "env":
        figures = benchmark_engine(args.scenario or SCENARIO,
                                   ENGINE_GAMES if args.games is None else args.games,
                                   args.seconds)
    elif args.target == "planner":
        figures = benchmark_planner(args.scenario or QUALITY_SCENARIO, args.strategy,
                                    args.opponent_policies,
                                    PLANNER_GAMES if args.games is None else args.games,
                                    args.seed)
    elif args.to_quality:
        from bucket_brigade.training import time_to_quality

        if args.eval_games < 2 or args.eval_every < 1:
            raise UsageError(f"--eval-games {args.eval_games} must be >= 2 and --eval-every "
                             f"{args.eval_every} >= 1")
        if not 0 <= args.margin < float("inf"):  # also refuses nan
            raise UsageError(f"--margin {args.margin} must be a number >= 0")
        make_seat(args.baseline, args.scenario or QUALITY_SCENARIO)  # a bad name fails now
        figures = time_to_quality(scenario=args.scenario or QUALITY_SCENARIO,
                                  opponents=args.opponent_policies, baseline=args.baseline,
                                  max_steps=args.steps or 5_000_000,
                                  eval_games=args.eval_games, eval_every=args.eval_every,
                                  margin=args.margin, seed=args.seed, **threads)
    else:
        from bucket_brigade.training import benchmark_training

        figures = benchmark_training(scenario=args.scenario or SCENARIO,
                                     steps=args.steps or 1_000_000, seed=args.seed,
                                     **threads, **learners)
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        for key, value in figures.items():
            print(f"{key:>28}: {value:,.1f}" if isinstance(value, float) else
                  f"{key:>28}: {value}")


def benchmark_engine(scenario_name: str = "trivial_cooperation", num_games: int = 4096,
                     seconds: float = 3.0, seed: int = 0) -> dict[str, Any]:
    """Game-nights per second: a uniformly random learner against the default opponents."""
    num_games = check_count("--games", num_games)
    if not 0 < seconds <= MAX_SECONDS:  # also refuses nan, which compares False
        raise UsageError(f"--seconds={seconds} must be > 0 and <= {MAX_SECONDS:g}")
    # numba: loaded when a bench runs
    from bucket_brigade.engine.batch import GameBatch, check_batch_memory

    scenario = get_scenario(scenario_name)
    seats = [Seat(), *opponent_seats(3, DEFAULT_OPPONENTS)]
    action_shape = (ACTION_BLOCK, num_games, 1, 3)
    # The actions' block is allocated before the batch: both are checked first.
    check_batch_memory(num_games, scenario, seats,
                       extra_bytes_per_game=ACTION_BLOCK * 3 * np.dtype(np.int64).itemsize)
    rng = np.random.default_rng(seed)
    actions = np.empty(action_shape, dtype=np.int64)
    actions[..., 0] = rng.integers(0, scenario.num_houses, actions.shape[:-1])
    actions[..., 1] = rng.integers(0, 2, actions.shape[:-1])
    actions[..., 2] = actions[..., 1]

    batch = GameBatch(scenario, seats, num_games, seed=seed)
    batch.step(actions[0])  # compile (or load the cached kernel) before timing
    nights, elapsed = _time_loop(lambda k: batch.step(actions[k % ACTION_BLOCK]), seconds)
    fast = nights * num_games / elapsed

    game = ReferenceGame(scenario, seats, seed=seed)
    flat = actions[:, 0, 0]

    def reference_night(k: int) -> None:
        game.step({0: tuple(int(v) for v in flat[k % ACTION_BLOCK])})
        if game.done:
            game.reset()

    ref_nights, ref_elapsed = _time_loop(reference_night, min(seconds, 2.0))
    slow = ref_nights / ref_elapsed
    return {
        "scenario": scenario.name,
        "games_in_batch": num_games,
        "batched_game_nights_per_sec": fast,
        "reference_game_nights_per_sec": slow,
        "speedup": fast / slow,
        "microseconds_per_50_night_game": 50e6 / fast,
    }


def benchmark_planner(scenario_name: str = QUALITY_SCENARIO, strategy: str = "planner",
                      opponents: str = "random", num_games: int = PLANNER_GAMES,
                      seed: int = 1) -> dict[str, Any]:
    """Wall time of ``num_games`` whole games with a planner in seat 0, and the
    continuation game-nights per second its search played in the engine."""
    if num_games < 1:
        raise UsageError(f"--games={num_games} must be >= 1")
    from bucket_brigade.agents.planner import PlannerSeat
    from bucket_brigade.engine.batch import GameBatch  # numba: loaded when a bench runs
    from bucket_brigade.search import PlannedPlay

    scenario = get_scenario(scenario_name)
    seats = [make_seat(strategy, scenario.name), *opponent_seats(3, opponents, scenario.name)]
    if not isinstance(seats[0], PlannerSeat):
        raise UsageError(f"--strategy {strategy!r} is not a planner; write planner[@K[/D]]")

    def play(games: int) -> tuple[PlannedPlay, Any, float]:
        batch = GameBatch(scenario, seats, games, seed=seed)
        policy = PlannedPlay(batch)
        start = time.perf_counter()
        finished = batch.play_out(policy)
        return policy, finished, time.perf_counter() - start

    play(2)  # compile (or load the cached kernels) before timing
    policy, finished, elapsed = play(num_games)
    simulated = policy.game_nights_simulated
    return {
        "scenario": scenario.name,
        "strategy": seats[0].name,
        "opponents": opponents,
        "games": num_games,
        "seconds": elapsed,
        "real_game_nights": int(finished.nights.sum()),
        "simulated_game_nights": simulated,
        "simulated_game_nights_per_sec": simulated / elapsed,
        "mean_score": float(finished.scores[:, 0].mean()),
    }


def _time_loop(body, seconds: float) -> tuple[int, float]:
    """Call body(k) for k = 0, 1, ... in chunks until ``seconds`` have passed."""
    count = 0
    start = time.perf_counter()
    while True:
        for _ in range(16):
            body(count)
            count += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return count, elapsed
