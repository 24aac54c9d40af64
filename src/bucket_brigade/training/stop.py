"""Stopping a run cleanly: SIGINT / SIGTERM end it at the end of the current update."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bucket_brigade.errors import Terminated


class StopRequest:
    """Turns SIGINT / SIGTERM into a request to stop at the end of the current update, so
    the checkpoint saved on the way out is a consistent one; a second signal stops at once."""

    def __init__(self) -> None:
        self.signal: int | None = None

    def handle(self, signum: int, frame: Any) -> None:
        if self.signal is not None:
            # Once is enough: the exception below unwinds through cleanup code, where a
            # third signal must not raise again.
            for handled in (signal.SIGINT, signal.SIGTERM):
                signal.signal(handled, signal.SIG_IGN)
            raise Terminated if signum == signal.SIGTERM else KeyboardInterrupt
        self.signal = signum

    @contextmanager
    def installed(self) -> Iterator[StopRequest]:
        if threading.current_thread() is not threading.main_thread():
            yield self  # signals only reach the main thread
            return
        previous = {s: signal.signal(s, self.handle) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield self
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)


def handle_interrupts() -> None:
    """Make Ctrl-C raise KeyboardInterrupt even where the process started with SIGINT
    ignored (a background job of a non-interactive shell), so that it stops cleanly."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.default_int_handler)
