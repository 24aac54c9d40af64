"""Argument types shared by every subcommand's parser (argparse only: no heavy import)."""

from __future__ import annotations

import argparse
import re

# What argparse takes for a negative number rather than an option: its own rule (-3, -.5)
# misses -inf, -nan and -1e5, which then read as an unknown option with a puzzling message.
NEGATIVE_NUMBER = re.compile(r"^-(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$|^-(inf|infinity|nan)$",
                             re.IGNORECASE)


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


def path_text(text: str) -> str:
    """A file or folder path: an empty one is refused, not read as the working folder or
    the default."""
    if not text.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is an empty path; give a file or folder")
    return text
