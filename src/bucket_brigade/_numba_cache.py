"""How the package's compiled kernels (the engine's, the network's) are kept and run:
where Numba caches them between processes, and on which threading layer.

Numba's default cache is the package's own ``__pycache__``, which is read-only where the
package is installed system-wide or in a shared environment; there every new process
would spend about half a minute recompiling the kernels. A folder in the user's cache
directory is always writable. An already-set ``NUMBA_CACHE_DIR`` wins.
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


def use_workqueue_threads() -> None:
    """Run parallel kernels on Numba's workqueue layer: its OpenMP layer reconfigures the
    OpenMP runtime that PyTorch shares, so merely stepping a game changed
    ``torch.get_num_threads()``; the workqueue layer touches nothing outside Numba. A
    layer the user names in ``NUMBA_THREADING_LAYER`` still wins. Call before the first
    parallel kernel runs."""
    if "NUMBA_THREADING_LAYER" not in os.environ:
        import numba

        numba.config.THREADING_LAYER = "workqueue"
