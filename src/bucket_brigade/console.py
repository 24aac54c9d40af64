"""Printing rich tables so that no cell is ever broken across lines in a file or a pipe."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

UNBOUNDED = 100_000  # characters: wide enough to measure any table at its natural width


def print_table(table: Table, console: Console | None = None) -> None:
    """Print ``table``: folded to the terminal's width on a terminal, and at its natural
    width (every cell on one line) anywhere else, where rich would otherwise assume 80
    columns and break numbers such as ``107.32 ± 0.41`` over two lines of a log file."""
    console = console or Console()
    if console.is_terminal:
        console.print(table)
        return
    natural = Console(width=UNBOUNDED).measure(table).maximum
    Console(file=console.file, width=max(console.width, natural)).print(table)
