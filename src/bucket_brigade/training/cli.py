"""``bucket-brigade train`` (also ``experiments/marl/train_gpu.py``, the same options).

Every training option defaults to ``None`` on the command line so that a resumed run
can tell the options given now from the ones saved in its checkpoint; the defaults
shown in ``--help`` are those of :class:`~bucket_brigade.training.config.TrainConfig`.
"""

from __future__ import annotations

import argparse
import shutil
import time
from dataclasses import fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich import box
from rich.console import Console
from rich.table import Table

from bucket_brigade.agents.strategies import (
    DEFAULT_OPPONENTS,
    is_mix,
    seated_opponents,
)
from bucket_brigade.cli_args import count, path_text
from bucket_brigade.console import print_table
from bucket_brigade.errors import UsageError
from bucket_brigade.training.choices import CRITICS, POLICIES, SHARING_MODES
from bucket_brigade.training.config import DEFAULT_EVAL_SEED, LEAGUE_SIZE, TrainConfig
from bucket_brigade.training.stop import handle_interrupts

# The modules that train, save and load load torch: the functions that run the command
# import them, so that the parser and --help answer at once.
if TYPE_CHECKING:
    from bucket_brigade.training.bookkeeping import TrainResult
    from bucket_brigade.training.checkpoint import RunPaths

DEFAULTS = TrainConfig()
MAX_EVAL_GAMES = 10**7
# Settings that shape the network or the game; a resumed run must keep them.
FIXED_ON_RESUME = ("scenario", "opponents", "opponent_policies", "opponent_model",
                   "cheap_talk", "hidden_size", "policy", "action_mask", "run_name", "self_play",
                   "learners", "sharing", "critic", "learner_seat", "work_bias",
                   "action_mask_steps")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    d = DEFAULTS
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.description = (
        "Train a PPO learner (agent 0, or --learner-seat) against scripted opponents.\n\n"
        "Writes under --out-dir: runs/RUN/ (TensorBoard events, config.json),\n"
        "checkpoints/RUN/checkpoint_step_N.pt and model_RUN.pt (final weights).\n"
        "Ctrl-C or SIGTERM saves a checkpoint and exits with 130 / 143.")
    seed = parser.add_argument_group("options of experiments/marl/train_gpu.py")
    seed.add_argument("--steps", type=count, metavar="N",
                      help=f"total learner steps (game-nights) to train for (default: "
                           f"{d.steps:_}; with --resume: the run's own target)")
    seed.add_argument("--scenario", help=f"scenario name or .toml/.json file (default: "
                                         f"{d.scenario})")
    seed.add_argument("--opponents", type=count, metavar="N",
                      help=f"number of opponent agents (default: {d.opponents})")
    seed.add_argument("--run-name", help="name of this run (default: SCENARIO_YYYYmmdd-HHMMSS)")
    seed.add_argument("--batch-size", type=count, metavar="N",
                      help=f"learner steps per PPO update = --num-envs x nights per game "
                           f"(default: {d.batch_size})")
    seed.add_argument("--epochs", type=count, metavar="N",
                      help=f"PPO epochs per batch (default: {d.epochs})")
    seed.add_argument("--lr", type=float, help=f"Adam learning rate (default: {d.lr})")
    seed.add_argument("--checkpoint-interval", type=count, metavar="N",
                      help=f"steps between checkpoints (default: {d.checkpoint_interval:_})")
    seed.add_argument("--eval-interval", type=count, metavar="N",
                      help=f"steps between eval/* TensorBoard points (default: "
                           f"{d.eval_interval:_})")
    seed.add_argument("--cpu", action="store_true", default=None,
                      help="train on the CPU even when CUDA is available")
    seed.add_argument("--threads", type=count, metavar="N",
                      help=f"CPU threads for PyTorch and the games (default: {d.threads}; "
                           "0: every core this process may use)")

    run = parser.add_argument_group("run")
    run.add_argument("--seed", type=count, help=f"random seed (default: {d.seed})")
    run.add_argument("--out-dir", type=path_text,
                     help=f"where runs/, checkpoints/ and model_RUN.pt go (default: {d.out_dir})")
    run.add_argument("--resume", metavar="CHECKPOINT",
                     help="continue a run from its checkpoint up to --steps (same run folder)")
    run.add_argument("--overwrite", action="store_true",
                     help="delete an existing run of the same name first")
    run.add_argument("--opponent-policies", metavar="LIST",
                     help="opponent strategies, cycled over the seats: archetype names, "
                          "random, comma lists, model files (*.pt, played greedily in their "
                          "seat), or pool:a,b,c (one seat drawing per game); or "
                          "mix:a=0.5,b=0.3,model.pt=0.2 (every seat draws a player per game "
                          "with these weights) "
                          f"(default: {','.join(DEFAULT_OPPONENTS)})")
    run.add_argument("--opponent-model", metavar="PATH",
                     help="a trained policy (model_RUN.pt or a checkpoint) plays every opponent "
                          "seat, greedily, instead of --opponent-policies")
    run.add_argument("--learner-seat", type=count, metavar="S",
                     help="the learner's seat (one learner); the opponents fill the other "
                          f"seats in order (default: {d.learner_seat})")
    run.add_argument("--cheap-talk", action="store_true", default=None,
                     help="let the learner choose its signal (action (house, mode, signal))")

    multi = parser.add_argument_group(
        "several learners (--num-envs counts agent-slots = games x learners)")
    multi.add_argument("--self-play", action="store_true", default=None,
                       help="every seat learns: --opponents + 1 learners, no scripted agent")
    multi.add_argument("--learners", type=count, metavar="K",
                       help=f"learning seats 0..K-1; --opponents then counts the scripted "
                            f"ones (default: {d.learners})")
    multi.add_argument("--league", type=float, metavar="P",
                       help="fraction of agent-slots in games whose other seats are played by "
                            f"a frozen snapshot from the last {LEAGUE_SIZE} checkpoints, drawn "
                            f"each update (default: {d.league})")
    multi.add_argument("--sharing", choices=SHARING_MODES,
                       help="the learning seats' parameters: one network for all (shared), "
                            "one that also reads its seat's index (shared-id), or a network "
                            f"and optimizer per seat (independent) (default: {d.sharing})")
    multi.add_argument("--critic", choices=CRITICS,
                       help="the value function's input: the learner's observation (local, "
                            "IPPO) or the game's global state and the learner's seat "
                            f"(central, MAPPO) (default: {d.critic})")
    run.add_argument("--eval-games", type=count, default=0, metavar="N",
                     help="after training, play N fixed games with the learner and with every "
                          "archetype in its seat, print the table, save evaluation.json "
                          "(default: 0, skip)")
    run.add_argument("--eval-seed", type=count, default=DEFAULT_EVAL_SEED,
                     help=f"seed of the --eval-games games (default: {DEFAULT_EVAL_SEED})")

    ppo = parser.add_argument_group("PPO")
    ppo.add_argument("--num-envs", type=count, metavar="N",
                     help=f"games played side by side (default: {d.num_envs})")
    ppo.add_argument("--minibatches", type=count, metavar="N",
                     help=f"minibatches per epoch (default: {d.minibatches})")
    ppo.add_argument("--gamma", type=float, help=f"discount factor (default: {d.gamma})")
    ppo.add_argument("--gae-lambda", type=float,
                     help=f"GAE lambda (default: {d.gae_lambda})")
    ppo.add_argument("--clip-coef", type=float,
                     help=f"surrogate (and value) clipping range (default: {d.clip_coef})")
    ppo.add_argument("--clip-vloss", action=argparse.BooleanOptionalAction,
                     help=f"clip the value loss too (default: {d.clip_vloss})")
    ppo.add_argument("--ent-coef", type=float,
                     help=f"entropy bonus coefficient (default: {d.ent_coef})")
    ppo.add_argument("--anneal-ent", action=argparse.BooleanOptionalAction,
                     help="decay the entropy coefficient linearly from --ent-coef to 0 at "
                          f"--steps (default: {d.anneal_ent})")
    ppo.add_argument("--vf-coef", type=float,
                     help=f"value loss coefficient (default: {d.vf_coef})")
    ppo.add_argument("--max-grad-norm", type=float,
                     help=f"gradient norm clipping (default: {d.max_grad_norm})")
    ppo.add_argument("--anneal-lr", action=argparse.BooleanOptionalAction,
                     help=f"decay the learning rate linearly to 0 (default: {d.anneal_lr})")
    ppo.add_argument("--hidden-size", type=count, metavar="N",
                     help=f"width of the network's hidden layers (default: {d.hidden_size})")
    ppo.add_argument("--policy", choices=POLICIES,
                     help="the network: structured (one-hot torso and a shared per-house "
                          f"layer) or mlp (CleanRL-style, raw observation) (default: {d.policy})")
    ppo.add_argument("--action-mask", action=argparse.BooleanOptionalAction,
                     help="no probability on pointless actions: WORK when no house burns, "
                          "working at a house that does not burn, a resting silent agent "
                          f"away from home (default: {d.action_mask})")
    ppo.add_argument("--action-mask-steps", type=count, metavar="N",
                     help="a curriculum: the action mask for the updates that start before "
                          "step N only, then none; the run saves an unmasked policy "
                          "(default: the mask for the whole run)")
    ppo.add_argument("--work-bias", type=float, metavar="X",
                     help="added to the WORK intent's initial logit, so a fresh policy works "
                          "with probability sigmoid(X) where WORK is allowed, 0.5 at 0 "
                          f"(default: {d.work_bias})")


def _given(args: argparse.Namespace) -> dict[str, Any]:
    """The TrainConfig fields set on the command line."""
    return {f.name: getattr(args, f.name) for f in fields(TrainConfig)
            if getattr(args, f.name, None) is not None}


def config_from_args(args: argparse.Namespace) -> tuple[TrainConfig, dict[str, Any] | None]:
    """The run's settings and, with --resume, its checkpoint, all checked: refuses bad
    values, a damaged checkpoint and output paths that could not be written."""
    from bucket_brigade.training.bookkeeping import check_resumable
    from bucket_brigade.training.checkpoint import RunPaths, load_checkpoint

    given = _given(args)
    if args.resume:
        checkpoint = load_checkpoint(args.resume)
        try:
            saved = TrainConfig.from_dict(checkpoint["config"])
            saved.validate()
        except (TypeError, UsageError) as exc:
            raise UsageError(f"checkpoint {args.resume!r} is damaged: its config does not "
                             f"fit ({exc})") from None
        problem = saved.kind_problem()
        if problem:
            raise UsageError(f"checkpoint {args.resume!r} is damaged: in its config, "
                             f"{problem}")
        for name in FIXED_ON_RESUME:
            if name in given and given[name] != getattr(saved, name):
                raise UsageError(f"--{name.replace('_', '-')} {given[name]!r} differs from the "
                                 f"resumed run's {getattr(saved, name)!r}; it cannot change")
        given.setdefault("out_dir", _resumed_out_dir(Path(args.resume), saved))
        config = replace(saved, **given)
        config.validate()
        check_resumable(checkpoint, args.resume, config)
    else:
        checkpoint = None
        scenario_name = Path(given.get("scenario", DEFAULTS.scenario)).stem  # a file: its stem
        given.setdefault("run_name", f"{scenario_name}_{time.strftime('%Y%m%d-%H%M%S')}")
        config = replace(DEFAULTS, **given)
        config.validate()
    RunPaths(Path(config.out_dir), config.run_name).check_writable()
    return config, checkpoint


def _resumed_out_dir(checkpoint_path: Path, saved: TrainConfig) -> str:
    """The folder the resumed run was written to: read off where its checkpoint lies
    (OUT/checkpoints/RUN/checkpoint_step_N.pt), whatever the working folder is now; the
    saved --out-dir for a checkpoint moved out of that layout."""
    folder = checkpoint_path.absolute().parent
    if folder.name == saved.run_name and folder.parent.name == "checkpoints":
        return str(folder.parent.parent)
    return saved.out_dir


def run(args: argparse.Namespace) -> int:
    from bucket_brigade.training.bookkeeping import claim_run
    from bucket_brigade.training.checkpoint import RunPaths

    handle_interrupts()
    if not 0 <= args.eval_games <= MAX_EVAL_GAMES:
        raise UsageError(f"--eval-games {args.eval_games} must be from 0 to {MAX_EVAL_GAMES:,}")
    if not 0 <= args.eval_seed < 2**64:
        raise UsageError(f"--eval-seed {args.eval_seed} must be an integer in [0, 2**64)")
    config, checkpoint = config_from_args(args)
    if args.eval_games and not config.judged_against_scripted():
        raise UsageError(f"--eval-games {args.eval_games} compares with scripted opponents, "
                         "the learner in seat 0; against models, a mix or in another seat "
                         "use bucket-brigade nash --strategies or exploit --profile")
    paths = RunPaths(Path(config.out_dir), config.run_name)
    _check_new_run(paths, checkpoint, args.overwrite)  # before the lock: a refusal writes nothing
    with claim_run(paths):
        existing = paths.existing()
        if existing and not checkpoint:
            _check_new_run(paths, checkpoint, args.overwrite)  # made since the first check
            for path in existing:  # every check passed: the new run starts now
                shutil.rmtree(path) if path.is_dir() else path.unlink()
        console = Console()
        result = _train(config, checkpoint, console)
    evaluation = None
    if args.eval_games and result.model_path is not None:
        evaluation = _evaluate(result, args.eval_games, args.eval_seed, console)
    _print_summary(console, result, evaluation)
    return 128 + result.stopped_by if result.stopped_by else 0


def _check_new_run(paths: RunPaths, checkpoint: dict[str, Any] | None, overwrite: bool) -> None:
    """Refuse to start a new run over an existing one unless asked to --overwrite it; for a
    run without its final model (killed, or stopped), name the option that finishes it."""
    existing = paths.existing()
    if not existing or checkpoint or overwrite:
        return
    latest = None if paths.model_path.exists() else paths.latest_checkpoint()
    if latest is not None:
        raise UsageError(f"run {paths.run_name!r} already exists without its final model; "
                         f"finish it with --resume {latest} (its latest checkpoint), or "
                         "choose another --run-name or --overwrite it")
    raise UsageError(f"run {paths.run_name!r} already exists ({existing[0]}); choose "
                     "another --run-name, --resume one of its checkpoints or --overwrite it")


def _train(config: TrainConfig, checkpoint: dict[str, Any] | None,
           console: Console) -> TrainResult:
    from bucket_brigade.training.ppo import train

    start = int(checkpoint["step"]) if checkpoint else 0
    if checkpoint and start >= config.steps:
        console.print(f"[bold]Finishing {config.run_name}[/]: its checkpoint is at step "
                      f"{start:,}, --steps {config.steps:,}; writing the final model from it",
                      highlight=False, soft_wrap=True)
        return train(config, checkpoint, console=console)
    console.print(
        f"[bold]{'Resuming' if checkpoint else 'Training'} {config.run_name}[/]: "
        f"{config.scenario}, {_seating(config)}, "
        f"steps {start:,} -> {config.steps:,}, batch {config.batch_size} = "
        f"{config.num_envs} {'games' if config.num_learners == 1 else 'agent-slots'} x "
        f"{config.num_steps} nights", highlight=False, soft_wrap=True)
    return train(config, checkpoint, console=console)


def _seating(config: TrainConfig) -> str:
    """Who plays: "learner vs 3 opponents (random, random, firefighter)", "self-play, 4
    learners", ...: the strategies of the seats that play, not the whole list."""
    if config.opponent_model:
        played_by = f"model {config.opponent_model}"
    elif is_mix(config.opponent_policies):
        played_by = f"each drawn per game from {config.opponent_policies}"
    else:
        played_by = ", ".join(seated_opponents(config.num_scripted, config.opponent_policies))
    scripted = f"{config.num_scripted} opponent{'s' if config.num_scripted > 1 else ''} " \
               f"({played_by})"
    if config.self_play:
        text = f"self-play, {config.num_learners} learners"
    elif config.num_learners > 1:
        text = f"{config.num_learners} learners" + (f" vs {scripted}" if config.num_scripted
                                                    else "")
    else:
        text = f"learner{f' in seat {config.learner_seat}' if config.learner_seat else ''} " \
               f"vs {scripted}"
    if config.sharing != "shared":
        text += f", {config.sharing} parameters"
    if config.critic != "local":
        text += f", {config.critic} critic"
    return text + (f", league {config.league:g}" if config.league else "")


def _evaluate(result: TrainResult, games: int, seed: int, console: Console) -> Path:
    """Learner vs every archetype in its seat, same games; the table and evaluation.json."""
    from bucket_brigade.training.models import compare_run_with_archetypes, save_comparison

    config = result.config
    console.print(f"Evaluating on {games:,} games (seed {seed}) ...")
    seating = (config.resolved_scenario, *config.evaluation_seating)
    table_rows = compare_run_with_archetypes(result.model_path, *seating, games=games,
                                             seed=seed)
    opponents = ", ".join(seated_opponents(*reversed(config.evaluation_seating)))
    table = Table(box=box.SIMPLE_HEAD,
                  title=f"{config.scenario}: seat 0 vs {opponents}; {games:,} games",
                  caption="95% CIs; learner - it: paired by game")
    for column in ("seat 0", "score", "learner - it", "saved", "nights", "work"):
        table.add_column(column, justify="left" if column == "seat 0" else "right",
                         no_wrap=True)
    for row in table_rows:
        diff = "" if row["name"] == "learner" else \
            f"{row['learner_minus']:+.2f} ± {row['learner_minus_ci95']:.2f}"
        table.add_row(row["name"], f"{row['mean_score']:.2f} ± {row['ci95']:.2f}", diff,
                      f"{row['houses_saved']:.2f}", f"{row['nights']:.2f}",
                      f"{row['work_rate']:.2f}")
    print_table(table, console)
    return save_comparison(table_rows, result.paths.run_dir, *seating, games=games, seed=seed)


def _print_summary(console: Console, result: TrainResult, evaluation: Path | None) -> None:
    """Where everything went; plain lines that never wrap paths, so they can be copied."""
    from bucket_brigade.training.bench import peak_rss_mb

    paths = result.paths
    state = "finished" if result.stopped_by is None else f"stopped by signal {result.stopped_by}"
    rows = [
        ("run", f"{paths.run_name} ({state})"),
        ("steps", f"{result.step:,} ({result.steps_per_sec:,.0f} steps/s after the first "
                  f"update's warm-up; {result.seconds:,.1f} s on {result.device}, peak memory "
                  f"{peak_rss_mb():,.0f} MB)"),
        ("episodes", f"{result.total_episodes:,}; avg reward (last 100) "
                     f"{result.avg_reward_100ep:.2f}"),
        ("tensorboard", f"{paths.run_dir}  (tensorboard --logdir {paths.run_dir.parent})"),
        ("config", str(paths.config_path)),
        ("checkpoint", str(result.last_checkpoint or "none new (the run was at --steps)")),
    ]
    if result.model_path is not None:
        rows.append(("final model", str(result.model_path)))
    else:
        rows.append(("resume with", f"bucket-brigade train --resume {result.last_checkpoint}"))
    if evaluation is not None:
        rows.append(("evaluation", str(evaluation)))
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        console.print(f"  [bold]{label:<{width}}[/]  {value}", highlight=False, soft_wrap=True)
