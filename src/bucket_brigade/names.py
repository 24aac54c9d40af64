"""Names that become one component of a file path: scenario, strategy, run, trial and sweep
names. They are checked here, in one place, so that no name from a file or the command line
can reach outside the output folder (``..``, ``/``) or put control characters into a path or
onto a terminal."""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path
from typing import Any

from bucket_brigade.errors import UsageError

MAX_NAME_LENGTH = 100  # leaves room for prefixes and suffixes under the usual 255-byte limit
DEFAULT_NAME_MAX = 255  # bytes per file name on ext4, APFS, NTFS, ...
VALID_NAMES = (f"1 to {MAX_NAME_LENGTH} characters of UTF-8 text, no '/' or '\\', no control "
               "characters, not '.' or '..'")


def check_path_name(kind: str, value: Any) -> str:
    """``value`` if it is safe as one path component, else a UsageError naming ``kind``."""
    if not isinstance(value, str):
        raise UsageError(f"{kind} {value!r} must be a string: {VALID_NAMES}")
    # A name the command line could not decode (not UTF-8) holds surrogates: refused too,
    # since it could not be written into config.json or printed.
    bad = (not value or len(value) > MAX_NAME_LENGTH or value in (".", "..")
           or "/" in value or "\\" in value
           or any(unicodedata.category(c) in ("Cc", "Cs") for c in value))
    if bad:
        raise UsageError(f"{kind} {value!r} is not a valid name: {VALID_NAMES}")
    return value


def check_name_fits(kind: str, value: str, folder: str | Path, longest_file: str) -> None:
    """Refuse ``value`` when ``longest_file`` (the longest file name it makes in ``folder``,
    temporary files included) is longer than the file system there allows: checked before
    any work, not when the file is written."""
    existing = Path(folder).absolute()
    while not existing.is_dir() and existing != existing.parent:
        existing = existing.parent
    try:
        limit = os.pathconf(existing, "PC_NAME_MAX")
    except (OSError, ValueError):  # the file system does not say: the usual limit
        limit = DEFAULT_NAME_MAX
    length = len(os.fsencode(longest_file))
    if length > limit:
        raise UsageError(f"{kind} {value!r} is too long: the file name {longest_file!r} "
                         f"({length} bytes) exceeds the {limit}-byte "
                         f"limit of the file system at {str(existing)!r}")
