"""Argument types shared by every subcommand's parser (argparse only: no heavy import)."""

from __future__ import annotations

import argparse


def count(text: str) -> int:
    """A count written as 200000, 200_000 or 2e5; a fraction or a negative is refused."""
    try:
        value = float(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value.is_integer():
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number")
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is negative; give a count >= 0")
    return int(value)
