"""Regenerate, or check, the command examples in the docs whose output is shown.

A block in a doc between ``<!-- doc-output: NAME -->`` and ``<!-- /doc-output -->`` is
written by this script: it runs the example's commands in a fresh folder (the docs'
``/tmp/demo``) and puts the commands and the output they printed in the block, so that
a documented output is one the code printed, never one typed in by hand.

    python scripts/doc_outputs.py           # rewrite every block from fresh runs
    python scripts/doc_outputs.py --check   # exit 1, naming the blocks that differ

``tests/scripts/test_doc_outputs.py`` runs ``--check`` (marked slow: it trains small runs).
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
import tempfile
import textwrap
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


def run_example(example: Example, work: Path) -> str:
    """The block's text: the example's commands, each followed by what it printed if shown."""
    lines = []
    for step in example.steps:
        if step.text.startswith("#"):
            lines.append(step.text)
            continue
        lines.append(("$ " if example.style == "text" else "") + step.text)
        output = _run(step.text, work)
        if not step.show_output:
            continue
        if example.style == "text":
            lines += [line.rstrip() for line in output.splitlines()]
        else:
            for line in output.splitlines():
                lines += textwrap.wrap(line, WIDTH - 2, initial_indent="# ",
                                       subsequent_indent="#   ", break_on_hyphens=False)
    return "\n".join([f"```{example.style}", *lines, "```"])


def _run(command: str, work: Path) -> str:
    """Run one documented command in ``work`` (standing in for /tmp/demo); its stdout, with
    the folder written back as /tmp/demo."""
    words = shlex.split(command.replace("\\\n", " ").replace(DEMO, str(work)))
    assert words[0] == "bucket-brigade", command
    env = {**os.environ, "COLUMNS": "80", "PYTHONPATH": os.pathsep.join(
        filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-m", "bucket_brigade", *words[1:]], cwd=work,
                          env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{command!r} failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout.replace(str(work), DEMO)


def blocks(text: str) -> dict[str, tuple[int, int]]:
    """Each generated block of a doc: name -> (first, last) line index of its content."""
    found, lines = {}, text.split("\n")
    for k, line in enumerate(lines):
        match = BEGIN.match(line)
        if match:
            end = lines.index(END, k)
            found[match["name"]] = (k + 1, end)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 if a block differs from a fresh run")
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"only these examples (default: all of {', '.join(EXAMPLES)})")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(EXAMPLES))
    if unknown:
        parser.error(f"unknown example {unknown[0]!r}; choose from {', '.join(EXAMPLES)}")
    stale = []
    for name in args.names or EXAMPLES:
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
        if not args.check:
            lines[where[0]:where[1]] = [fresh]
            atomic_write_text(path, "\n".join(lines))
    for entry in stale:
        print(("differs from a fresh run: " if args.check else "rewrote ") + entry)
    return 1 if stale and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
