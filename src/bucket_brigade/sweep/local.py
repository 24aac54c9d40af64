"""The local backend: trials in parallel worker processes on this machine.

Workers are started with 'spawn' (a fresh interpreter each: no forked torch or numba
state) and sit in their own process group, so Ctrl-C in the terminal reaches only the
sweep. The sweep then sets a shared stop event: trials not yet started return at once,
and a training trial turns the event into the trainer's own stop request (the SIGINT
that ``bucket-brigade train`` handles), which ends the run after the current update with
a checkpoint to resume from.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import Any

from bucket_brigade.sweep.config import TrialSpec
from bucket_brigade.sweep.trial import FAILED, PENDING, outcome, run_trial
from bucket_brigade.training.config import SWEEP_TRIAL_THREADS

ResultHandler = Callable[[dict[str, Any]], None]

_stop_event: Any = None  # the sweep's stop event, in a worker process
_stop_requested = False  # this worker already asked its current training run to stop


def default_workers() -> int:
    """As many trials as the CPUs hold, given the threads each training run uses."""
    return max(1, (os.cpu_count() or 1) // SWEEP_TRIAL_THREADS)


def run_local(specs: Sequence[TrialSpec], max_parallel: int, on_result: ResultHandler) -> bool:
    """Run ``specs`` at most ``max_parallel`` at a time, handing each result to
    ``on_result`` as it arrives; returns True when Ctrl-C (or SIGTERM) stopped the sweep."""
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    workers = max(1, min(max_parallel, len(specs)))
    with _sigterm_as_interrupt(), ProcessPoolExecutor(
            workers, mp_context=context, initializer=_start_worker,
            initargs=(stop, os.getpid())) as pool:
        futures: dict[Future, TrialSpec] = {}
        handled: set[Future] = set()
        try:
            for spec in specs:
                futures[pool.submit(_run_in_worker, spec)] = spec
            _collect(futures, handled, on_result)
            return False
        except KeyboardInterrupt:
            stop.set()
            for future in futures:
                future.cancel()
            _collect(futures, handled, on_result)  # running trials stop after their update
            return True


def _collect(futures: dict[Future, TrialSpec], handled: set[Future],
             on_result: ResultHandler) -> None:
    """Hand over each result not handed over yet, as the trials finish."""
    for future in as_completed(futures):
        if future.cancelled() or future in handled:
            continue
        handled.add(future)
        try:
            result = future.result()
        except BrokenProcessPool:
            result = outcome(futures[future], FAILED,
                             error="the worker process died (killed, or out of memory?)")
        on_result(result)


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM stops the sweep as Ctrl-C does (a scheduler's polite kill), and Ctrl-C
    does stop it."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signals only reach the main thread
        return
    # SIGINT too: a background job of a script starts with it ignored.
    previous = {signum: signal.signal(signum, signal.default_int_handler)
                for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _start_worker(stop: Any, sweep_pid: int) -> None:
    global _stop_event
    _stop_event = stop
    if hasattr(os, "setpgrp"):
        os.setpgrp()  # out of the terminal's process group: the sweep decides when to stop
    die_with_parent(sweep_pid)


PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
PARENT_POLL_SECONDS = 1.0


def die_with_parent(parent_pid: int) -> None:
    """End this worker when the sweep process ends, however it ends (even by SIGKILL, which
    leaves it no chance to stop its workers): Linux sends SIGKILL on the parent's death;
    elsewhere a thread notices that the parent is gone."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0:
            if os.getppid() != parent_pid:  # it died before the request was made
                os._exit(1)
            return

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(PARENT_POLL_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()


def _run_in_worker(spec: TrialSpec) -> dict[str, Any]:
    global _stop_requested
    if _stop_event.is_set():
        return outcome(spec, PENDING)
    _stop_requested = False
    return run_trial(spec, on_metrics=_stop_when_asked)


def _stop_when_asked(step: int, metrics: dict[str, float]) -> None:
    """After each update: if the sweep is stopping, stop this run the way Ctrl-C would."""
    global _stop_requested
    if _stop_event.is_set() and not _stop_requested:
        _stop_requested = True
        signal.raise_signal(signal.SIGINT)
