"""Regenerate, or check, the command outputs the docs quote, from fresh runs of the commands
they show, so that a documented output is one the code printed and cannot drift from it.

    python scripts/doc_outputs.py              # rewrite every block (all but ``clients``)
    python scripts/doc_outputs.py --check      # exit 1, naming the blocks that differ
    python scripts/doc_outputs.py sweeps       # only these (replay, learning-curves,
                                               #   evaluate, sweeps, clients)

A block in a doc between ``<!-- doc-output: NAME -->`` and ``<!-- /doc-output -->`` is
written from an example below: its commands run in a fresh folder (the docs' ``/tmp/demo``)
and the block shows the commands and what they printed. ``sweeps`` runs the sweep file that
docs/sweeps.md shows under "Running locally" in a scratch folder (shown as /tmp/doc) and puts
its console output, abridged, in the console block after it, with the run's wall time; its
``--check`` compares the trials' scores. ``clients`` runs each command of the "learner
steps/s" table of docs/clients.md and writes the steps/s each printed, to two significant
figures; speeds depend on the machine and its load, so it runs only when named, on a quiet
machine, and has no ``--check``. Docs are rewritten atomically; nothing is written on a
failure. ``tests/scripts/test_doc_outputs.py`` runs ``--check`` (marked slow).
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
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
from bucket_brigade.io import atomic_write_text  # noqa: E402 - the checkout's, as above

DEMO = "/tmp/demo"  # the folder the documented commands write to
WIDTH = 92  # characters of a wrapped output line in a bash block
BEGIN = re.compile(r"^<!-- doc-output: (?P<name>[\w-]+) -->$")
END = "<!-- /doc-output -->"


@dataclass(frozen=True)
class Step:
    """A command as the doc shows it ("\\\n" continues a line), or a comment ("# ...")."""

    text: str
    show_output: bool = False


@dataclass(frozen=True)
class Example:
    doc: str
    steps: tuple[Step, ...]
    style: str = "bash"  # bash: output as "# " comments; text: "$ command" then its output


CURVES_TRAIN = "bucket-brigade train --steps 20000 --out-dir /tmp/demo --cpu --eval-interval 4096"
EXAMPLES = {
    "replay": Example("docs/pictures.md", (
        Step("# seat 0 plays the firefighter archetype against the default opponents"),
        Step("bucket-brigade replay --scenario default --seed 1 --out game.html --json game.json",
             show_output=True),
        Step("# other strategies: 5 opponents cycling through liar, hero, free_rider"),
        Step("bucket-brigade replay --scenario hard --seed 4 --opponents liar,hero,free_rider "
             "\\\n    --num-opponents 5 --out hard.html", show_output=True),
    )),
    "learning-curves": Example("docs/pictures.md", (
        Step("# three short CPU runs: two seeds of one setting, and one with another learning "
             "rate"),
        Step(f"{CURVES_TRAIN} \\\n    --run-name tiny_s1 --seed 1"),
        Step(f"{CURVES_TRAIN} \\\n    --run-name tiny_s2 --seed 2"),
        Step(f"{CURVES_TRAIN} \\\n    --run-name tiny_lr1e-3 --seed 1 --lr 1e-3"),
        Step("# every run under a folder: the two seeds as one curve with a band"),
        Step("bucket-brigade plot /tmp/demo/runs --out curves.png", show_output=True),
        Step("# runs named one by one, only the reward and the losses, no smoothing, as SVG"),
        Step("bucket-brigade plot /tmp/demo/runs/tiny_s1 /tmp/demo/runs/tiny_lr1e-3 \\\n"
             "    --tags episode/reward,losses/ --smoothing 0 --out losses.svg", show_output=True),
    )),
    "evaluate": Example("docs/pictures.md", (
        Step("bucket-brigade evaluate --scenarios easy,greedy_neighbor --opponents random "
             "\\\n    --strategies hero,firefighter,free_rider,evolved --games 1000 "
             "--out-dir /tmp/demo/eval", show_output=True),
    ), style="text"),
}


SWEEPS_DOC, CLIENTS_DOC = ROOT / "docs" / "sweeps.md", ROOT / "docs" / "clients.md"
SHOWN_SCRATCH = "/tmp/doc"  # how docs/sweeps.md names the folder the sample sweep ran in
SWEEP_FILE = "search.toml"
SPEED_HEADER = "| what | learner steps/s | command |"
FAILED_TRIAL = re.compile(r"^\[\d+/\d+\] \S+: (?!ok )")
RESULT_LINE = re.compile(r"^\[(\d+)/(\d+)\] (\S+): ok (\d+\.\d\d ± \d+\.\d\d)")
TIMING = re.compile(r"\((\d+) s in all for (\d+) trials")


def run_example(example: Example, work: Path) -> str:
    """The block's text: the example's commands, each followed by what it printed if shown."""
    lines = []
    for step in example.steps:
        if step.text.startswith("#"):
            lines.append(step.text)
            continue
        lines.append(("$ " if example.style == "text" else "") + step.text)
        command = step.text.replace("\\\n", " ").replace(DEMO, str(work))
        output = run(command_argv(command), work, columns=80).replace(str(work), DEMO)
        if not step.show_output:
            continue
        if example.style == "text":
            lines += [line.rstrip() for line in output.splitlines()]
        else:
            for line in output.splitlines():
                lines += textwrap.wrap(line, WIDTH - 2, initial_indent="# ",
                                       subsequent_indent="#   ", break_on_hyphens=False)
    return "\n".join([f"```{example.style}", *lines, "```"])


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


def run(argv: list[str], cwd: Path, columns: int | None = None) -> str:
    """Run a command with the repository's sources first on the path, at the console's
    default width or ``columns``; its output, or an error naming the command."""
    env = {key: value for key, value in os.environ.items() if key not in ("COLUMNS", "LINES")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"),
                                                      env.get("PYTHONPATH")]))
    if columns is not None:
        env["COLUMNS"] = str(columns)
    result = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True,
                            check=False)
    if result.returncode != 0:  # a sweep's failed trials first: the tail's table cuts them
        failed = [line for line in result.stdout.splitlines() if FAILED_TRIAL.match(line)]
        raise RuntimeError(f"{shlex.join(argv)} exited with {result.returncode}:\n"
                           + "".join(f"{line}\n" for line in failed)
                           + f"{result.stdout[-2000:]}{result.stderr[-2000:]}")
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


def blocks(text: str) -> dict[str, tuple[int, int]]:
    """Each generated block of a doc: name -> (first, last) line index of its content."""
    found, lines = {}, text.split("\n")
    for k, line in enumerate(lines):
        match = BEGIN.match(line)
        if match:
            end = lines.index(END, k)
            found[match["name"]] = (k + 1, end)
    return found


def refresh_examples(names: list[str], check: bool) -> list[str]:
    """Rewrite (or only compare) the named examples' blocks; the ones that differed."""
    stale = []
    for name in names:
        example = EXAMPLES[name]
        path = ROOT / example.doc
        text = path.read_text()
        where = blocks(text).get(name)
        if where is None:
            raise SystemExit(f"{example.doc} has no block <!-- doc-output: {name} -->")
        with tempfile.TemporaryDirectory() as work:
            fresh = run_example(example, Path(work))
        lines = text.split("\n")
        if "\n".join(lines[where[0]:where[1]]) == fresh:
            continue
        stale.append(f"{example.doc}: {name}")
        if not check:
            lines[where[0]:where[1]] = [fresh]
            atomic_write_text(path, "\n".join(lines))
    for entry in stale:
        print(("differs from a fresh run: " if check else "rewrote ") + entry)
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 if a block differs from a fresh run")
    choices = [*EXAMPLES, "sweeps", "clients"]
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"only these (default: all but clients; from {', '.join(choices)})")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(choices))
    if unknown:
        parser.error(f"unknown output {unknown[0]!r}; choose from {', '.join(choices)}")
    if args.check and "clients" in args.names:
        parser.error("--check works with every output but clients (speeds vary by machine)")
    names = args.names or choices[:-1]
    stale = refresh_examples([name for name in names if name in EXAMPLES], args.check)
    failed = bool(stale) and args.check
    if "sweeps" in names:
        failed = refresh_sweeps(args.check) != 0 or failed
    if "clients" in names:
        refresh_clients()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
