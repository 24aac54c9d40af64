"""Counts from any caller (the command line, a file, Python code) checked in one place,
before anything is allocated for them: a count that is not an integer, or outside its
limits, is refused with its name and its valid range, never rounded, wrapped or coerced.
NumPy integers are integers here (made Python ints at this boundary); booleans are not."""

from __future__ import annotations

import numbers
import reprlib
from typing import Any

from bucket_brigade.errors import UsageError

_shown = reprlib.Repr()
_shown.maxstring = _shown.maxother = 60


def shown(value: Any) -> str:
    """``repr(value)``, shortened: error messages quote values from files of any size."""
    return _shown.repr(value)


def check_count(name: str, value: Any, low: int = 1, high: int | None = None) -> int:
    """``value`` as an int if it is an integer in [low, high] (no upper limit when ``high``
    is None), else a UsageError naming ``name``, the value and the range."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) \
            or not low <= value <= (value if high is None else high):
        valid = f">= {low}" if high is None else f"from {low} to {high:,}"
        raise UsageError(f"{name}={shown(value)} must be an integer {valid}")
    return int(value)
