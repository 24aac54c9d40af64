"""Where Numba keeps the engine's compiled kernels between processes.

Numba's default is the package's own ``__pycache__``, which is read-only where the package
is installed system-wide or in a shared environment; there every new process would spend
about half a minute recompiling the kernels. A folder in the user's cache directory is
always writable. An already-set ``NUMBA_CACHE_DIR`` wins.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def user_cache_dir() -> Path:
    """The per-user cache directory of this platform (as platformdirs would choose it)."""
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "bucket-brigade" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "bucket-brigade"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "bucket-brigade"


def configure_numba_cache() -> str:
    """Point Numba's kernel cache at the user cache directory unless the user chose one.

    Must run before the engine's kernels are decorated; if numba is already imported, its
    parsed configuration is updated too, since it read the environment at import.
    """
    cache_dir = os.environ.setdefault("NUMBA_CACHE_DIR", str(user_cache_dir() / "numba"))
    numba = sys.modules.get("numba")
    if numba is not None and not numba.config.CACHE_DIR:
        numba.config.CACHE_DIR = cache_dir
    return cache_dir
