"""``bucket-brigade train``, stopped for good at a chosen file write, so that a test can
kill it at an exact point rather than after a guessed delay.

    python paused_train.py FD WRITE WHEN OUT_DIR TRAIN_ARGS...

The WRITE-th file the run writes under OUT_DIR (its atomic replace, counted from 1) is the
pause point: WHEN ``before`` pauses with the new file's temporary copy complete but not
yet in place, ``after`` with the file in place. At the pause, the process writes one line
to the file descriptor FD and waits there until it is killed.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path


def main(argv: list[str]) -> int:
    announce_fd, pause_at, when, out_dir, *train_args = argv
    out = Path(out_dir).resolve()
    replace = os.replace
    writes = 0

    def pause() -> None:
        os.write(int(announce_fd), b"paused\n")
        threading.Event().wait()  # until SIGKILL

    def counting_replace(src: str | os.PathLike, dst: str | os.PathLike, **kwargs) -> None:
        nonlocal writes
        if Path(dst).resolve().is_relative_to(out):
            writes += 1
        pausing = writes == int(pause_at) and Path(dst).resolve().is_relative_to(out)
        if pausing and when == "before":
            pause()
        replace(src, dst, **kwargs)
        if pausing and when == "after":
            pause()

    os.replace = counting_replace
    from bucket_brigade.cli import main as bucket_brigade

    return bucket_brigade(["train", "--out-dir", str(out), *train_args])

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
