"""Atomic file writes: a temporary file in the target's folder, then ``os.replace``.

A crash or a kill therefore never leaves a half-written file behind, and an
existing file is only ever replaced by a complete new one.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import stat
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, BinaryIO

from bucket_brigade.errors import UsageError

TEMP_SUFFIX = ".tmp"
# atomic_write's temporary files: "." + the target's name + "." + mkstemp's 8 characters.
TEMP_FILE = re.compile(r"\..+\.[a-z0-9_]{8}" + re.escape(TEMP_SUFFIX))


def temp_file_name(name: str) -> str:
    """The longest name :func:`atomic_write` gives the temporary file of a file ``name``."""
    return f".{name}.{'x' * 8}{TEMP_SUFFIX}"


def atomic_write(path: str | Path, write: Callable[[IO[bytes]], None]) -> None:
    """Write ``path`` through a temporary sibling file, then swap it in."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMP_SUFFIX)
    try:
        os.chmod(temp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual file mode
        with os.fdopen(handle, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    atomic_write(path, lambda file: file.write(data))


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode())


def save_json(payload: Any, path: str | Path) -> None:
    atomic_write_text(path, json.dumps(payload, indent=2) + "\n")


MAX_INPUT_BYTES = 1 << 20  # scenario and genome files are a few hundred bytes


def open_input_file(path: str | Path, what: str) -> BinaryIO:
    """``path`` opened for reading if it is a regular file (after links); ``what`` names it
    in the UsageError otherwise. A folder, a FIFO, a socket or a device is refused before it
    is opened: opening a FIFO would wait for a writer forever, and reading a device need
    not end. (Opened without blocking and checked again, in case the file was swapped.)"""
    where = f"{what} {str(path)!r}"
    try:
        regular = stat.S_ISREG(os.stat(path).st_mode)
        handle = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)) if regular else -1
    except FileNotFoundError:
        raise UsageError(f"{where} does not exist") from None
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the path
        raise UsageError(f"cannot read {where}: {getattr(exc, 'strerror', None) or exc}") \
            from None
    if not regular:
        raise UsageError(f"{where} is not a regular file (a folder, device, pipe or socket); "
                         "give a file")
    if not stat.S_ISREG(os.fstat(handle).st_mode):
        os.close(handle)
        raise UsageError(f"{where} is not a regular file (it changed while it was opened)")
    return os.fdopen(handle, "rb")


def read_input_text(path: str | Path, what: str) -> str:
    """The UTF-8 text of a small input file; ``what`` names it in the UsageError for a file
    that is not a regular file (:func:`open_input_file`), cannot be read, is not UTF-8, or
    is larger than MAX_INPUT_BYTES (reading stops there, so a huge file is not read to its
    end)."""
    where = f"{what} {str(path)!r}"
    try:
        with open_input_file(path, what) as file:
            data = file.read(MAX_INPUT_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"cannot read {where}: {exc.strerror or exc}") from None
    if len(data) > MAX_INPUT_BYTES:
        raise UsageError(f"{where} is larger than {MAX_INPUT_BYTES // 1024} KiB")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{where} is not UTF-8 text (byte {exc.start})") from None


def check_writable_output(path: str | Path, *, folder: bool = False) -> Path:
    """Refuse an output path that could not be written, before any work starts: a folder (or
    a device such as /dev/null) where a file goes, a file where a folder goes, or a place
    without write permission. Folders that do not exist yet are fine: writing makes them."""
    path = Path(path)
    what = f"output {'folder' if folder else 'file'} {str(path)!r}"
    existing = path
    if path.exists() or path.is_symlink():
        if folder and not path.is_dir():
            raise UsageError(f"{what} exists and is not a folder")
        if not folder and path.is_dir():
            raise UsageError(f"{what} is a folder; give a file path")
        if not folder and not path.is_file():
            raise UsageError(f"{what} is not a regular file (a device, pipe, socket or broken "
                             "link); give a file path")
        existing = path if folder else path.parent
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise UsageError(f"{what} cannot be made: {str(existing)!r} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(f"{what} cannot be written: no write permission in {str(existing)!r}")
    return path


def remove_stale_temp_files(folder: str | Path, older_than: float,
                            of_file: str | None = None) -> list[Path]:
    """Remove the temporary files of :func:`atomic_write` that a killed process left in
    ``folder`` (only names of its pattern, last changed before ``older_than``, a time
    stamp; with ``of_file``, only those of the file of that name); returns them. Call it
    while holding a lock that keeps every writer of these files away, so none is in use."""
    stale = []
    for path in Path(folder).glob(f".*{TEMP_SUFFIX}"):
        if of_file is not None and not (path.name.startswith(f".{of_file}.") and len(
                path.name) == len(temp_file_name(of_file))):
            continue
        if TEMP_FILE.fullmatch(path.name) and path.is_file() \
                and path.stat().st_mtime < older_than:
            path.unlink(missing_ok=True)
            stale.append(path)
    return stale


@contextmanager
def exclusive_lock(path: str | Path, what: str) -> Iterator[float]:
    """Hold an exclusive lock on the file ``path`` (made if missing) for the ``with`` block;
    yields the time it was acquired. The operating system drops the lock when the process
    ends, however it ends, so a lock file left by a killed process blocks nothing. A lock
    held by another process is a UsageError naming ``what``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise UsageError(f"{what} is in use by another process (it holds the lock "
                             f"{str(path)!r}); wait for it to end or stop it first") from None
        try:
            yield time.time()
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
    finally:
        os.close(handle)
