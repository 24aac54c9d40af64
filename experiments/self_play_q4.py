"""Does any seat free-ride while the others work? Self-play sweeps (examples/self_play_q4.toml
and its unmasked twin) measured seat by seat, then tabulated per scenario, sharing scheme
and action mask.

Every finished trial's joint policy plays ``--games`` fresh games, each seat by its own
network (an independent run's) or told its seat (a seat-aware one), greedily
(experiments/seat_scores.py); its team score, per-seat scores and per-seat work rates on
fire nights go to OUT/TRIAL.json, written as each trial is measured and skipped when
there, so the command can be run again while a sweep goes on. With ``--exploit-seeds``,
the trials of those training seeds also get ``bucket-brigade exploit`` (CMA-ES best
responses in every seat, on a smaller budget than its default: :data:`EXPLOIT_BUDGET`)
into OUT/exploit/TRIAL/, skipped where its ``exploit.json`` is; any ``exploit.json``
there (a PPO best response's too) joins its trial's row.

    python experiments/self_play_q4.py experiments/sweeps/self_play_q4 --exploit-seeds 1
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from seat_scores import seat_scores  # experiments/ is this script's folder

from bucket_brigade.confidence import holm_adjusted, two_sided_p
from bucket_brigade.errors import UsageError
from bucket_brigade.game.scenarios import SCENARIOS
from bucket_brigade.io import read_input_text, save_json
from bucket_brigade.sweep.trial import OK, RESULT_FILE
from bucket_brigade.training.choices import SHARING_MODES
from bucket_brigade.training.models import MODEL_PREFIX

OUT_FOLDER = "seat_figures"  # OUT's default, inside the (first) sweep's folder
# A seat free-rides when the busiest seat works on at least BUSY of the fire nights and
# it works on less than FREE_RIDE_SHARE of the busiest seat's rate.
BUSY = 0.5
FREE_RIDE_SHARE = 0.5
EXPLOIT_BUDGET = ("--oracles", "cmaes", "--br-generations", "5", "--br-popsize", "8",
                  "--br-games", "100", "--games", "1000")
HEADER = ("| scenario | sharing | mask | seeds | team score: mean (lowest, highest seed) | "
          "work rate on fire nights by seat (mean over seeds) | largest seat-to-seat gap "
          "(worst seed) | runs with a free-riding seat | exploitability: largest seat's gain "
          "(where), NashConv |\n|---|---|---|---|---|---|---|---|---|")
ALPHA = 0.05  # a best response's gain is marked where Holm's correction keeps it below this


def finished_trials(sweep_dir: Path) -> list[dict]:
    """The result records of a sweep folder's finished trials, whichever sweep files ran
    them (a trial's name is a hash of its settings, so files may share a folder)."""
    if not (sweep_dir / "runs").is_dir():
        raise UsageError(f"{str(sweep_dir)!r} is not a sweep's folder (it has no runs/)")
    results = []
    for path in sorted((sweep_dir / "runs").glob(f"*/{RESULT_FILE}")):
        try:
            result = json.loads(read_input_text(path, "trial result"))
        except ValueError:  # a damaged record: the sweep runs that trial again
            continue
        if isinstance(result, dict) and result.get("status") == OK:
            results.append(result)
    return results


def measure(sweep_dirs: Iterable[Path], out: Path, games: int, seed: int) -> list[dict]:
    """Each finished trial's figures, measuring (and writing) those not yet in ``out``."""
    records = []
    for sweep_dir in sweep_dirs:
        for trial in finished_trials(sweep_dir):
            path = out / f"{trial['trial']}.json"
            if not path.exists():
                model = sweep_dir / f"{MODEL_PREFIX}{trial['trial']}.pt"
                figures = seat_scores(str(model), trial["scenario"], games, seed)
                save_json({"trial": trial["trial"], "scenario": trial["scenario"],
                           "seed": trial["seed"], "sharing": trial["config"]["sharing"],
                           "action_mask": trial["config"]["action_mask"], "games": games,
                           "games_seed": seed, **figures}, path)
                print(f"measured {trial['trial']}: team score {figures['team_score']:.2f}",
                      file=sys.stderr)
            records.append(json.loads(path.read_text()))
    return records


def exploit(sweep_dirs: Iterable[Path], out: Path, seeds: Sequence[int],
            schemes: Sequence[str] = SHARING_MODES) -> None:
    """``bucket-brigade exploit`` on each finished trial of ``seeds`` and sharing
    ``schemes`` that has none yet, scheme by scheme in the order given (a shared network,
    one search, is the cheapest)."""
    from bucket_brigade.cli import main as cli

    trials = [(sweep_dir, trial) for sweep_dir in sweep_dirs
              for trial in finished_trials(sweep_dir)]
    for scheme in schemes:
        for sweep_dir, trial in trials:
            folder = out / trial["trial"]
            if trial["seed"] in seeds and trial["config"]["sharing"] == scheme \
                    and not (folder / "exploit.json").exists():
                model = sweep_dir / f"{MODEL_PREFIX}{trial['trial']}.pt"
                code = cli(["exploit", "--scenario", trial["scenario"], "--profile",
                            str(model), *EXPLOIT_BUDGET, "--out-dir", str(folder)])
                if code:
                    raise UsageError(f"exploit of {trial['trial']} ended with exit status "
                                     f"{code}")


def free_riders(work_rates: Sequence[float]) -> list[int]:
    """The seats that free-ride while another works (see :data:`BUSY`)."""
    busiest = max(work_rates)
    if busiest < BUSY:
        return []
    return [seat for seat, rate in enumerate(work_rates) if rate < FREE_RIDE_SHARE * busiest]


def searched_gains(exploit_dir: Path, trials: Iterable[str]) -> dict[tuple, tuple[float, float]]:
    """Every best response's (gain, CI half-width) in the trials' exploit.json files, by
    (trial, seat, oracle)."""
    gains = {}
    for trial in trials:
        path = exploit_dir / trial / "exploit.json"
        if path.exists():
            for row in json.loads(path.read_text())["seats"]:
                gains[trial, row["seat"], row["oracle"]] = row["gain"], row["gain_ci95"]
    return gains


def significant_gains(gains: dict[tuple, tuple[float, float]]) -> set[tuple]:
    """The gains above 0 after Holm's correction over all of them (one-sided tests, normal
    approximation): with this many searches, a few CIs clear of 0 are chance."""
    keys = list(gains)
    one_sided = [two_sided_p(mean, ci) / 2 if mean > 0 else 1.0
                 for mean, ci in (gains[key] for key in keys)]
    adjusted = holm_adjusted(one_sided) if keys else []
    return {key for key, p in zip(keys, adjusted) if p < ALPHA}


def exploitability(exploit_dir: Path, trials: Iterable[tuple[int, str]],
                   significant: set[tuple] = frozenset()) -> str:
    """Per measured seed and oracle: the largest seat's gain (a symmetric profile's one
    gain; marked * where it is in ``significant``) and NashConv, the sum of the seats'
    positive gains (N times a symmetric profile's), computed from the seats' rows so that
    files written when ``exploit`` still summed signed gains read the same (its per-seat
    CIs are in exploit.json)."""
    found = []
    for seed, trial in sorted(trials):
        path = exploit_dir / trial / "exploit.json"
        if not path.exists():
            continue
        summary = json.loads(path.read_text())
        parts = []
        for oracle in ("cmaes", "ppo"):
            gains = [r for r in summary["seats"] if r["oracle"] == oracle]
            if not gains:
                continue
            best = max(gains, key=lambda r: r["gain"])
            where = "every seat" if best["seat"] == "all" else f"seat {best['seat']}"
            total = sum(max(r["gain"], 0.0) for r in gains) * (
                summary["agents"] if best["seat"] == "all" else 1)
            mark = " *" if (trial, best["seat"], oracle) in significant else ""
            parts.append(f"{oracle} {best['gain']:+.2f} ± {best['gain_ci95']:.2f}{mark} "
                         f"({where}), NashConv {total:+.2f}")
        found.append(f"{'; '.join(parts)} [seed {seed}]")
    return "<br>".join(found) or "not measured"


def table(records: Sequence[dict], exploit_dir: Path) -> list[str]:
    """One markdown row per (scenario, sharing, mask): mask on first, then by sharing
    scheme, the named scenarios in their usual order (any others after them)."""
    groups: dict[tuple[str, str, bool], list[dict]] = defaultdict(list)
    for record in records:
        groups[record["scenario"], record["sharing"], record["action_mask"]].append(record)
    scenarios = list(dict.fromkeys([*SCENARIOS, *(record["scenario"] for record in records)]))
    gains = searched_gains(exploit_dir, (record["trial"] for record in records))
    significant = significant_gains(gains)
    rows = [HEADER]
    for (scenario, sharing, mask), runs in sorted(groups.items(), key=lambda item: (
            not item[0][2], SHARING_MODES.index(item[0][1]), scenarios.index(item[0][0]))):
        runs.sort(key=lambda r: r["seed"])
        teams = [r["team_score"] for r in runs]
        rates = np.array([r["seat_work_rates"] for r in runs])
        gaps = rates.max(axis=1) - rates.min(axis=1)
        riding = {r["seed"]: free_riders(r["seat_work_rates"]) for r in runs}
        who = ", ".join(f"seed {seed}: seat {'+'.join(map(str, seats))}"
                        for seed, seats in riding.items() if seats)
        seeds_and_trials = [(r["seed"], r["trial"]) for r in runs]
        rows.append(
            f"| {scenario} | {sharing} | {'on' if mask else 'off'} | {len(runs)} "
            f"| {np.mean(teams):.2f} ({min(teams):.2f}, {max(teams):.2f}) "
            f"| {' / '.join(f'{rate:.2f}' for rate in rates.mean(axis=0))} "
            f"| {gaps.max():.2f} (seed {runs[int(gaps.argmax())]['seed']}) "
            f"| {sum(map(bool, riding.values()))} of {len(runs)}{f' ({who})' if who else ''} "
            f"| {exploitability(exploit_dir, seeds_and_trials, significant)} |")
    if gains:
        rows += ["", f"*: above 0 after Holm's correction over the table's {len(gains)} "
                 f"searched gains (every seat, oracle and trial; one-sided, {ALPHA:.0%})"]
    return rows


def _scheme(word: str) -> str:
    if word.strip() not in SHARING_MODES:
        raise UsageError(f"--exploit-sharing: {word.strip()!r} is not one of "
                         f"{', '.join(SHARING_MODES)}")
    return word.strip()


def _seed(word: str) -> int:
    try:
        return int(word)
    except ValueError:
        raise UsageError(f"--exploit-seeds: {word.strip()!r} is not a training seed (an "
                         "integer)") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sweeps", nargs="+", type=Path, help="sweep folders (OUT/NAME)")
    parser.add_argument("--games", type=int, default=1000,
                        help="fresh games per trial (default: 1000)")
    parser.add_argument("--seed", type=int, default=0, help="the games' seed (default: 0)")
    parser.add_argument("--out", type=Path, default=None,
                        help=f"where the figures go (default: FIRST_SWEEP/{OUT_FOLDER})")
    parser.add_argument("--exploit-seeds", default="",
                        help="comma list of training seeds whose trials get CMA-ES best "
                             "responses (default: none)")
    parser.add_argument("--exploit-sharing", default=",".join(SHARING_MODES),
                        help="comma list of the sharing schemes whose trials get them, in "
                             f"that order (default: {','.join(SHARING_MODES)})")
    args = parser.parse_args(argv)
    out = args.out or args.sweeps[0] / OUT_FOLDER
    try:
        if args.games < 2:
            raise UsageError(f"--games {args.games} must be >= 2 (for confidence intervals)")
        seeds = [_seed(word) for word in args.exploit_seeds.split(",") if word.strip()]
        schemes = [_scheme(word) for word in args.exploit_sharing.split(",") if word.strip()]
        records = measure(args.sweeps, out, args.games, args.seed)
        exploit(args.sweeps, out / "exploit", seeds, schemes)
    except UsageError as exc:
        print(f"self_play_q4: error: {exc}", file=sys.stderr)
        return 2
    print("\n".join(table(records, out / "exploit")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
