"""experiments/ceiling.py: hero, a learner and planners on the same games, paired."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[2] / "experiments" / "ceiling.py"


def _script():
    spec = importlib.util.spec_from_file_location("ceiling", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_one_row_per_seat_and_cell(capsys: pytest.CaptureFixture[str]) -> None:
    code = _script().main(["--cells", "easy/random;greedy_neighbor/hero,random",
                           "--planners", "planner@2/2,planner@2/2:free_rider", "--games", "12"])
    lines = capsys.readouterr().out.splitlines()
    assert code == 0 and lines[0].startswith(
        "| cell | seat 0 | score | minus hero | minus the planner above |")
    rows = [[text.strip() for text in line.strip("|").split("|")] for line in lines[2:]]
    assert [row[:2] for row in rows] == [
        [cell, seat] for cell in ("easy vs random", "greedy_neighbor vs hero,random")
        for seat in ("hero", "planner@2/2", "planner@2/2:free_rider")]
    assert rows[1][3].startswith(("+", "-")) and " ± " in rows[1][3]
    # Each planner against the one listed before it, on the same games.
    assert rows[1][4] == "" and rows[2][4].startswith(("+", "-")) and " ± " in rows[2][4]


@pytest.mark.parametrize(("cells", "message"), [
    ("nowhere/random", "unknown scenario"),
    ("easy", "cell 'easy' is not SCENARIO/OPPONENTS"),
])
def test_bad_cells_are_refused(cells: str, message: str,
                               capsys: pytest.CaptureFixture[str]) -> None:
    assert _script().main(["--cells", cells]) == 2
    assert message in capsys.readouterr().err
