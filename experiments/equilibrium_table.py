"""The tables of docs/equilibrium.md from the ``nash.json`` files of ``bucket-brigade nash``
runs: per scenario, the N-player game's equilibria (each with its best deviation's gain on
fresh games), α-Rank's leaders and universal free-riding's regret; with ``--exploit-dir``,
the self-play policy's row instead (its pure regret and the exploitability that
``bucket-brigade exploit`` measured).

    python experiments/equilibrium_table.py /tmp/eq/nash/*/nash.json

With ``--scenarios`` it first runs ``nash`` on each scenario as one job of the chosen
backend (``--backend serial|local|ray``, ``--workers``, ``--address``), writing
OUT_DIR/SCENARIO/nash.json; a scenario whose nash.json exists is not run again, so a
stopped study resumes. The other options are nash's; ``{scenario}`` in ``--strategies`` is
replaced by each scenario's name:

    python experiments/equilibrium_table.py --scenarios all --out-dir /tmp/eq/nash9 \\
        --strategies archetypes,random,evolved,/tmp/eq/model_sp_{scenario}.pt \\
        --games 1000 --br-generations 0 --backend local --workers 2 \\
        --exploit-dir /tmp/eq/exploit
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bucket_brigade.analysis import nash_cli
from bucket_brigade.analysis.nash_cli import SCENARIO_FIELD
from bucket_brigade.game.scenarios import SCENARIOS, get_scenario
from bucket_brigade.sweep.jobs import Job, check_job_arguments, job_runner

FREE_RIDER = "universal_free_rider"
SELF_PLAY = "PPO"  # the self-play policy's name in the self-play table
SHOWN_EQUILIBRIA = 3  # the self-play table lists the first few
HEADER = ("| scenario | equilibria of the N-player game (mix; value) | best deviation from the "
          "first, on fresh games | α-Rank (top two) | universal_free_rider: pure regret "
          "(best deviation); CMA-ES best response gain |\n|---|---|---|---|---|")
SELF_PLAY_HEADER = (
    "| scenario | equilibria of the game (mix; value) | self-play policy: pure regret (best "
    "deviation) | α-Rank (top two) | CMA-ES best response gain | PPO best response gain | "
    "NashConv (PPO, N x its gain) |\n|---|---|---|---|---|---|---|")


def _gain(value: dict, mean: str = "gain", ci95: str = "ci95") -> str:
    return f"{value[mean]:+.2f} ± {value[ci95]:.2f}"


def _equilibria(summary: dict, shown: int | None = None, rename: dict | None = None) -> str:
    rename = rename or {}
    listed = summary["equilibria"][:shown]
    text = "; ".join(
        " + ".join(f"{rename.get(name, name)} {weight:.2f}" for name, weight in sorted(
            e["mix"].items(), key=lambda item: -item[1]))
        + f" ({e['value']:.2f})" for e in listed)
    return text + ("; ..." if len(summary["equilibria"]) > len(listed) else "")


def _leaders(summary: dict, rename: dict | None = None) -> str:
    rename = rename or {}
    ranking = sorted(summary["alpharank"].items(), key=lambda item: -item[1])[:2]
    return ", ".join(f"{rename.get(n, n)} {m:.2f}" for n, m in ranking)


def _pure_regret(row: dict, rename: dict | None = None) -> str:
    """The best listed deviation from everyone playing the row's strategy, on fresh games
    ("none gains" when none gained on the table's games)."""
    if row["best_deviation"] == row["strategy"]:
        return "none gains"
    name = (rename or {}).get(row["best_deviation"], row["best_deviation"])
    return f"{_gain(row, 'pure_regret', 'pure_regret_ci95')} ({name})"


def summary_row(summary: dict) -> str:
    """One markdown row for one scenario's ``nash.json``."""
    first = summary["equilibria"][0]["deviation_gains"]
    deviation, gain = max(first.items(), key=lambda item: item[1]["gain"])
    row = next(r for r in summary["rows"] if r["strategy"] == FREE_RIDER)
    exploit = (_gain(row, "exploitability", "exploitability_ci95")
               if "exploitability" in row else "-")
    best = "none gains" if gain["gain"] == gain["ci95"] == 0 else \
        f"{deviation} {_gain(gain)}"
    return (f"| {summary['scenario']} | {_equilibria(summary)} | {best} | {_leaders(summary)}"
            f" | {_gain(row, 'pure_regret', 'pure_regret_ci95')} ({row['best_deviation']}); "
            f"{exploit} |")


def self_play_row(summary: dict, exploit: dict) -> str:
    """One markdown row for a self-play policy: its scenario's ``nash.json`` (the policy is
    one of the strategies) and the ``exploit.json`` of the symmetric profile it makes."""
    policy = exploit["profile"][0]
    rename = {policy: SELF_PLAY}
    row = next(r for r in summary["rows"] if r["strategy"] == policy)
    gains = {seat["oracle"]: seat for seat in exploit["seats"]}
    cells = [_gain(gains[oracle], "gain", "gain_ci95") if oracle in gains else "-"
             for oracle in ("cmaes", "ppo")]
    nash_conv = exploit["nash_conv"].get("ppo")
    return (f"| {summary['scenario']} | {_equilibria(summary, SHOWN_EQUILIBRIA, rename)} | "
            f"{_pure_regret(row, rename)} | {_leaders(summary, rename)} | {cells[0]} | "
            f"{cells[1]} | {_gain(nash_conv, 'value') if nash_conv else '-'} |")


def run_scenarios(args: argparse.Namespace, names: list[str]) -> list[Path]:
    """Run nash on every scenario of ``names`` whose nash.json is missing, each as a job."""
    options = {k: v for k, v in vars(args).items()
               if k not in ("files", "scenarios", "exploit_dir")}
    files = [Path(args.out_dir) / name / "nash.json" for name in names]
    jobs = [Job(f"nash {name}", nash_cli.nash_job, (options, name, str(path.parent)))
            for name, path in zip(names, files) if not path.exists()]
    with job_runner(args.backend, args.workers, args.address) as runner:
        runner.run(jobs, on_done=lambda job, path: print(f"{job.name}: wrote {path}"))
    return files


def check_scenarios(args: argparse.Namespace) -> list[str]:
    """The scenarios of ``--scenarios``, each with its strategies checked, before any job."""
    from bucket_brigade.analysis.contenders import parse_strategies

    names = list(SCENARIOS) if args.scenarios == "all" else \
        [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown or not names:
        raise ValueError(f"--scenarios: {(unknown or [args.scenarios])[0]!r} is not 'all' or "
                         f"a comma list of {', '.join(SCENARIOS)}")
    if args.out_dir is None:
        raise ValueError("--scenarios needs --out-dir")
    check_job_arguments(args.backend, args.workers, args.address)
    for name in names:
        parse_strategies(args.strategies.replace(SCENARIO_FIELD, name), get_scenario(name),
                         args.agents)
    return names


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, help="nash.json files")
    parser.add_argument("--scenarios", default=None, metavar="LIST",
                        help="run nash first on these scenarios ('all' or a comma list), "
                             "each as one job, into OUT_DIR/SCENARIO/")
    parser.add_argument("--exploit-dir", type=Path, default=None, metavar="DIR",
                        help="print the self-play table: DIR/SCENARIO/exploit.json of each "
                             "scenario's self-play policy (exploit --profile MODEL)")
    nash_cli.add_arguments(parser)
    args = parser.parse_args(argv)
    if not args.files and not args.scenarios:
        parser.error("give nash.json files or --scenarios")
    try:
        names = check_scenarios(args) if args.scenarios else []
    except (ValueError, FileNotFoundError) as error:
        parser.error(str(error))
    files = args.files + (run_scenarios(args, names) if names else [])
    summaries = [json.loads(path.read_text()) for path in files]
    if args.exploit_dir is None:
        print(HEADER)
        for summary in summaries:
            print(summary_row(summary))
        return
    print(SELF_PLAY_HEADER)
    for summary in summaries:
        exploit = args.exploit_dir / summary["scenario"] / "exploit.json"
        print(self_play_row(summary, json.loads(exploit.read_text())))


if __name__ == "__main__":
    main()
