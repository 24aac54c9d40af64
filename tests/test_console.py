"""Tables printed to a file or a pipe keep every cell on one line."""

from __future__ import annotations

import io

from rich.console import Console
from rich.table import Table

from bucket_brigade.console import print_table


def wide_table() -> Table:
    table = Table(title="wide")
    for k in range(14):
        table.add_column(f"column {k}", justify="right")
    table.add_row(*(f"{100 + k}.32 ± 0.{k:02d}" for k in range(14)))
    return table


def test_a_table_in_a_file_is_as_wide_as_it_needs() -> None:
    out = io.StringIO()
    print_table(wide_table(), Console(file=out, width=80))
    lines = out.getvalue().splitlines()
    row = next(line for line in lines if "100.32" in line)
    for k in range(14):  # every value whole, on the row's one line
        assert f"{100 + k}.32 ± 0.{k:02d}" in row
    assert len({len(line) for line in lines[1:]}) == 1  # the frame is one width throughout


def test_on_a_terminal_the_table_folds_to_its_width() -> None:
    out = io.StringIO()
    print_table(wide_table(), Console(file=out, width=80, force_terminal=True, color_system=None))
    assert max(len(line) for line in out.getvalue().splitlines()) <= 80
