"""``bucket-brigade sweep CONFIG.toml``: run a sweep file's trials, skip the finished ones,
write the results table and plot."""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from typing import TYPE_CHECKING

from rich.console import Console

from bucket_brigade.cli_args import count, path_text
from bucket_brigade.errors import UsageError
from bucket_brigade.io import exclusive_lock, save_json
from bucket_brigade.sweep.config import SweepPlan, TrialSpec, load_sweep
from bucket_brigade.training.stop import handle_interrupts

# The modules that run trials load torch: the functions that run the command import them,
# so that the parser and --help answer at once.
if TYPE_CHECKING:
    from bucket_brigade.sweep.progress import SweepProgress

BACKENDS = ("local", "ray")
EXIT_FAILED, EXIT_INTERRUPTED = 1, 130
LOCK_FILE = ".lock"  # held by the sweep process that writes the folder


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.description = (
        "Train and evaluate every trial of a sweep file: a [grid] (and optional [random]\n"
        "search) over scenarios, seeds, opponents and any training setting.\n\n"
        "Writes under OUT/NAME/: each trial's runs/, checkpoints/ and model_TRIAL.pt, its\n"
        "runs/TRIAL/result.json, then results.csv, best.csv and results.png. Run it again\n"
        "to skip finished trials and resume stopped ones. Exit status: 0 all finished,\n"
        "1 some trial failed, 130 stopped by Ctrl-C. See docs/sweeps.md.")
    parser.add_argument("config", metavar="CONFIG.toml", help="the sweep file")
    parser.add_argument("--backend", choices=BACKENDS, default="local",
                        help="local: worker processes on this machine; ray: Ray Tune trials "
                             "(default: local)")
    parser.add_argument("--address", metavar="ADDR",
                        help="with --backend ray: the Ray cluster to join (auto, or "
                             "HOST:6379; default: start a Ray instance on this machine)")
    parser.add_argument("--max-parallel", type=count, metavar="N",
                        help="trials at a time (default: local, one per CPU; ray, as many "
                             "as the cluster's resources fit)")
    parser.add_argument("--out", type=path_text, metavar="DIR",
                        help="folder for the sweep's folder, replacing [sweep] out")


def run(args: argparse.Namespace) -> int:
    if args.address is not None and args.backend != "ray":
        raise UsageError(f"--address {args.address!r} needs --backend ray")
    if args.max_parallel is not None and args.max_parallel < 1:
        raise UsageError(f"--max-parallel {args.max_parallel} must be >= 1")
    plan = load_sweep(args.config, out=args.out)
    search = plan.ray.search != "grid"
    if search and args.backend != "ray":
        raise UsageError(f"[ray] search = {plan.ray.search!r} needs --backend ray")
    if args.backend == "ray":
        from bucket_brigade.sweep.ray_backend import check_ray_settings, import_ray

        import_ray()  # before anything is written
        check_ray_settings(plan.ray)
    handle_interrupts()
    with exclusive_lock(plan.sweep_dir / LOCK_FILE, f"sweep folder {str(plan.sweep_dir)!r}"):
        return _run_sweep(args, plan, search)


def _run_sweep(args: argparse.Namespace, plan: SweepPlan, search: bool) -> int:
    """The sweep, once its folder is this process's alone."""
    from bucket_brigade.sweep.local import default_workers
    from bucket_brigade.sweep.progress import SweepProgress
    from bucket_brigade.sweep.report import trial_rows, write_report
    from bucket_brigade.sweep.trial import FAILED, damaged_result, is_finished, result_path

    todo = [spec for spec in plan.trials if not is_finished(spec)]
    save_json({"name": plan.name, "source": str(args.config), "swept": list(plan.swept),
               "trials": [{"name": s.name, "params": s.params, "config": s.config}
                          for s in plan.trials]}, plan.sweep_dir / "sweep.json")

    console = Console()
    parallel = args.max_parallel or (default_workers() if args.backend == "local" else None)
    dropped = f", {plan.duplicates} repeated random draws dropped" if plan.duplicates else ""
    planned = (f"{plan.samples} trials proposed by {plan.ray.search}" if search else
               f"{len(plan.trials)} trials{dropped}; {len(plan.trials) - len(todo)} already "
               f"finished, {len(todo)} to run")
    scheduler = f", {plan.ray.scheduler.upper()} on {plan.ray.metric}" \
        if args.backend == "ray" and plan.ray.scheduler != "fifo" else ""
    console.print(
        f"[bold]Sweep {plan.name}[/]: {planned} on {args.backend}{scheduler} "
        f"({parallel or 'as resources allow'} at a time) -> {plan.sweep_dir}",
        highlight=False)
    expected = plan.samples if search else len(todo)
    for spec in todo:
        if damaged_result(spec):
            console.print(f"{spec.name}: {result_path(spec)} cannot be read as a result; "
                          "running the trial again", highlight=False, soft_wrap=True)

    progress = SweepProgress(console, expected, plan.ray.metric)
    interrupted = False
    try:
        if todo or search:
            interrupted, ran = _run_backend(args, plan, todo, parallel, progress)
            plan = replace(plan, trials=tuple(ran)) if search else plan
    except KeyboardInterrupt:
        interrupted = True
    rows = trial_rows(plan, progress.results)
    for path in write_report(plan, rows, console):
        console.print(f"wrote {path}", highlight=False)
    if interrupted:
        console.print("Stopped: run the same command again to skip the finished trials and "
                      "resume the others from their checkpoints.")
        return EXIT_INTERRUPTED
    return EXIT_FAILED if any(row["status"] == FAILED for row in rows) else 0


def _run_backend(args: argparse.Namespace, plan: SweepPlan, todo: list[TrialSpec],
                 parallel: int | None, progress: SweepProgress) -> tuple[bool, list[TrialSpec]]:
    """Run ``todo`` on the chosen backend: whether it was interrupted, and the trials run
    (with a Ray search algorithm, those it proposed)."""
    from bucket_brigade.sweep.local import run_local
    from bucket_brigade.sweep.ray_backend import run_ray

    if args.backend == "ray":
        return run_ray(plan, todo, name=time.strftime("tune_%Y%m%d-%H%M%S"),
                       storage_path=str(plan.sweep_dir / "ray"),
                       address=args.address, max_parallel=parallel, progress=progress)
    return run_local(todo, parallel, progress), todo
