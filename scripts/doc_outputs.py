"""Regenerate the command outputs the docs quote, from fresh runs of the commands they show,
so that the docs cannot drift from the code:

    python scripts/doc_outputs.py sweeps           # docs/sweeps.md: the local sweep's output
    python scripts/doc_outputs.py sweeps --check   # exit 1 if the doc's scores differ from a run
    python scripts/doc_outputs.py clients          # docs/clients.md: the speed table's figures

``sweeps`` runs the sweep file that docs/sweeps.md shows under "Running locally" in a scratch
folder (shown as /tmp/doc in the doc) and puts its console output, abridged, in place of
the console block after it, with the run's wall time. ``clients`` runs each command of the
"learner steps/s" table of docs/clients.md, one after another, and writes the steps/s each
printed, to two significant figures. Speeds depend on the machine and its load: run it on
a quiet machine. The docs are rewritten atomically; nothing is written on a failure.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bucket_brigade.io import atomic_write_text

ROOT = Path(__file__).resolve().parents[1]
SWEEPS_DOC, CLIENTS_DOC = ROOT / "docs" / "sweeps.md", ROOT / "docs" / "clients.md"
SHOWN_SCRATCH = "/tmp/doc"  # how the doc names the folder the sample sweep ran in
SWEEP_FILE = "search.toml"
SPEED_HEADER = "| what | learner steps/s | command |"
RESULT_LINE = re.compile(r"^\[(\d+)/(\d+)\] (\S+): ok (\d+\.\d\d ± \d+\.\d\d)")
TIMING = re.compile(r"\((\d+) s in all for (\d+) trials")


def fenced_block(text: str, after: str, language: str) -> tuple[int, int]:
    """(start, end) of the body of the first ```language block after the heading ``after``."""
    heading = text.index(after)
    opening = text.index(f"```{language}\n", heading) + len(f"```{language}\n")
    return opening, text.index("```", opening)


def command_argv(command: str) -> list[str]:
    """A doc's command line as this Python runs it (``python``, ``bucket-brigade``)."""
    words = shlex.split(command)
    if words[0] == "python":
        return [sys.executable, *words[1:]]
    if words[0] == "bucket-brigade":
        return [sys.executable, "-m", "bucket_brigade", *words[1:]]
    raise ValueError(f"unknown command {words[0]!r} in {command!r}; expected python or "
                     "bucket-brigade")


def run(argv: list[str], cwd: Path) -> str:
    """Run a command with the repository's sources first on the path and the console's
    default width; its output, or an error naming the command."""
    env = {key: value for key, value in os.environ.items() if key not in ("COLUMNS", "LINES")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"),
                                                      env.get("PYTHONPATH")]))
    result = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True,
                            check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{shlex.join(argv)} exited with {result.returncode}:\n"
                           f"{result.stdout[-2000:]}{result.stderr[-2000:]}")
    return result.stdout


def abridge_sweep_output(output: str) -> str:
    """The sweep's console output as the doc shows it: its first lines up to the first
    trial's result, the last result, and the results table's first and last rows."""
    lines = [line.rstrip() for line in output.rstrip("\n").splitlines()]
    results = [k for k, line in enumerate(lines) if RESULT_LINE.match(line)]
    if not results:
        raise ValueError("the sweep printed no 'ok' result line")
    kept = lines[:results[0] + 1]
    if results[-1] != results[0]:
        kept += ["...", lines[results[-1]]]
    table = lines[results[-1] + 1:]
    rows = {k for k, line in enumerate(table) if line.startswith("│")}
    first = last = min(rows)  # the results table's rows, before the best-configuration table
    while last + 1 in rows:
        last += 1
    if last - first > 1:
        table = [*table[:first + 1], "...", *table[last:]]
    return "\n".join(kept + table) + "\n"


def documented_scores(console: str) -> dict[str, str]:
    """The trials' 'score ± CI' that a console block shows, by trial name."""
    return {match.group(3): match.group(4) for line in console.splitlines()
            if (match := RESULT_LINE.match(line))}


def refresh_sweeps(check: bool) -> int:
    text = SWEEPS_DOC.read_text()
    toml_start, toml_end = fenced_block(text, "## Running locally", "toml")
    console_start, console_end = fenced_block(text[toml_end:], "```", "console")
    console_start, console_end = console_start + toml_end, console_end + toml_end
    with tempfile.TemporaryDirectory(prefix="doc-sweep-") as scratch:
        (Path(scratch) / SWEEP_FILE).write_text(text[toml_start:toml_end])
        started = time.perf_counter()
        output = run(command_argv(f"bucket-brigade sweep {SWEEP_FILE}"), Path(scratch))
        seconds = time.perf_counter() - started
        output = output.replace(scratch, SHOWN_SCRATCH)
    fresh = documented_scores(output)
    if check:
        shown = documented_scores(text[console_start:console_end])
        differing = {trial: (score, fresh.get(trial)) for trial, score in shown.items()
                     if fresh.get(trial) != score}
        for trial, (score, now) in differing.items():
            print(f"{trial}: the doc shows {score}, a fresh run gives {now}")
        return 1 if differing or not shown else 0
    console = f"$ bucket-brigade sweep {SWEEP_FILE}\n" + abridge_sweep_output(output)
    text = text[:console_start] + console + text[console_end:]
    text, timings = TIMING.subn(f"({seconds:.0f} s in all for {len(fresh)} trials", text,
                                count=1)
    if not timings:
        raise ValueError(f"{SWEEPS_DOC} has no '(N s in all for K trials' sentence to update")
    atomic_write_text(SWEEPS_DOC, text)
    print(f"wrote {SWEEPS_DOC}: {len(fresh)} trials in {seconds:.0f} s")
    return 0


def steps_per_second(output: str) -> float:
    """The speed a recipe (its last JSON line) or ``bench train`` printed."""
    for line in reversed(output.splitlines()):
        line = line.strip()
        if line.startswith("{") and "steps_per_second" in line:
            return float(json.loads(line)["steps_per_second"])
        if line.startswith("steps_per_sec:"):
            return float(line.split(":", 1)[1].replace(",", ""))
    raise ValueError("the command printed no steps_per_second")


def two_figures(value: float) -> str:
    """``value`` to two significant figures, with thousands separators."""
    digits = len(str(int(value))) if value >= 1 else 1
    return f"{round(value, 2 - digits):,.0f}"


def speed_rows(text: str) -> list[tuple[int, int, str]]:
    """(start, end) of each figure cell of the speed table, and the row's command."""
    start = text.index(SPEED_HEADER)
    end = text.find("\n\n", start)
    rows = []
    offset = start
    for line in text[start:end].splitlines()[2:]:
        offset = text.index(line, offset)
        cells = line.split("|")
        command = cells[3].strip().strip("`")
        figure_start = offset + len("|".join(cells[:2])) + 1
        rows.append((figure_start, figure_start + len(cells[2]), command))
        offset += len(line)
    return rows


def refresh_clients() -> int:
    text = CLIENTS_DOC.read_text()
    figures = []
    for start, end, command in speed_rows(text):
        speed = steps_per_second(run(command_argv(command), ROOT))
        print(f"{two_figures(speed):>8} steps/s  {command}", flush=True)
        figures.append((start, end, f" {two_figures(speed)} "))
    for start, end, cell in reversed(figures):
        text = text[:start] + cell + text[end:]
    atomic_write_text(CLIENTS_DOC, text)
    print(f"wrote {CLIENTS_DOC}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("doc", choices=("sweeps", "clients"))
    parser.add_argument("--check", action="store_true",
                        help="sweeps only: compare the doc's scores with a fresh run, "
                             "write nothing")
    args = parser.parse_args(argv)
    if args.check and args.doc != "sweeps":
        parser.error(f"--check works with sweeps, not {args.doc}")
    return refresh_sweeps(args.check) if args.doc == "sweeps" else refresh_clients()


if __name__ == "__main__":
    sys.exit(main())
