"""Names that become one component of a file path: scenario, strategy, run, trial and sweep
names. They are checked here, in one place, so that no name from a file or the command line
can reach outside the output folder (``..``, ``/``) or put control characters into a path or
onto a terminal."""

from __future__ import annotations

import unicodedata
from typing import Any

from bucket_brigade.errors import UsageError

MAX_NAME_LENGTH = 100  # leaves room for prefixes and suffixes under the usual 255-byte limit
VALID_NAMES = (f"1 to {MAX_NAME_LENGTH} characters, no '/' or '\\', no control characters, "
               "not '.' or '..'")


def check_path_name(kind: str, value: Any) -> str:
    """``value`` if it is safe as one path component, else a UsageError naming ``kind``."""
    if not isinstance(value, str):
        raise UsageError(f"{kind} {value!r} must be a string: {VALID_NAMES}")
    bad = (not value or len(value) > MAX_NAME_LENGTH or value in (".", "..")
           or "/" in value or "\\" in value
           or any(unicodedata.category(c) == "Cc" for c in value))
    if bad:
        raise UsageError(f"{kind} {value!r} is not a valid name: {VALID_NAMES}")
    return value
