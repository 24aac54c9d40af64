"""How the package's compiled kernels (the engine's, the network's) are kept and run:
where Numba caches them between processes, and on which threading layer.

Numba's default cache is the package's own ``__pycache__``, which is read-only where the
package is installed system-wide or in a shared environment; there every new process
would spend about half a minute recompiling the kernels. A folder in the user's cache
directory is always writable. An already-set ``NUMBA_CACHE_DIR`` wins.

Where that folder cannot be written either (a read-only or missing home), Numba would
refuse every cached kernel with a traceback at import; the cache then moves to a private
folder in the system's temporary directory, with one warning line.
"""

from __future__ import annotations

import os
import stat
import sys
import tempfile
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
    """Point Numba's kernel cache at the user cache directory unless the user chose one,
    or at a private temporary folder when the chosen one cannot be written.

    Must run before the engine's kernels are decorated; if numba is already imported, its
    parsed configuration is updated too, since it read the environment at import.
    """
    chosen = os.environ.get("NUMBA_CACHE_DIR") or str(user_cache_dir() / "numba")
    cache_dir = chosen if _can_write(Path(chosen)) else _fall_back_from(chosen)
    os.environ["NUMBA_CACHE_DIR"] = cache_dir  # processes started from here inherit it
    numba = sys.modules.get("numba")
    if numba is not None:
        numba.config.CACHE_DIR = cache_dir
    return cache_dir


def _can_write(folder: Path) -> bool:
    """Whether ``folder`` is, or can be made as, a folder this process may write in (what
    Numba checks before it caches there), without making it."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    return existing.is_dir() and os.access(existing, os.W_OK | os.X_OK)


def _fall_back_from(chosen: str) -> str:
    """A private folder for the cache: this user's own one in the temporary directory (kept
    between processes), else a fresh one. Says so in one line on stderr."""
    try:
        cache_dir = _private_temp_folder()
    except OSError:
        cache_dir = tempfile.mkdtemp(prefix="bucket-brigade-numba-")
    print(f"bucket-brigade: warning: cannot write the compiled-kernel cache {chosen!r}; "
          f"using {cache_dir!r}: set NUMBA_CACHE_DIR to a writable folder to keep it",
          file=sys.stderr)
    return cache_dir


def _private_temp_folder() -> str:
    """``TMP/bucket-brigade-numba-UID``, made 0700; refused (OSError) unless it is a real
    folder of this user that no one else may write, since Numba loads code from it."""
    if not hasattr(os, "getuid"):  # Windows: the temporary directory is the user's own
        raise OSError("no user ids here")
    folder = Path(tempfile.gettempdir()) / f"bucket-brigade-numba-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    info = folder.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() \
            or info.st_mode & 0o022 or not os.access(folder, os.W_OK | os.X_OK):
        raise OSError(f"{folder} is not a private folder of this user")
    return str(folder)


def use_workqueue_threads() -> None:
    """Run parallel kernels on Numba's workqueue layer: its OpenMP layer reconfigures the
    OpenMP runtime that PyTorch shares, so merely stepping a game changed
    ``torch.get_num_threads()``; the workqueue layer touches nothing outside Numba. A
    layer the user names in ``NUMBA_THREADING_LAYER`` still wins. Call before the first
    parallel kernel runs."""
    if "NUMBA_THREADING_LAYER" not in os.environ:
        import numba

        numba.config.THREADING_LAYER = "workqueue"
