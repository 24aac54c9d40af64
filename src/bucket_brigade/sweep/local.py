"""The local backend: trials in parallel worker processes on this machine.

Workers are started with 'spawn' (a fresh interpreter each: no forked torch or numba
state) and sit in their own process group, so Ctrl-C in the terminal reaches only the
sweep. The sweep then sets a shared stop event: trials not yet started return at once,
and a training trial turns the event into the trainer's own stop request (the SIGINT
that ``bucket-brigade train`` handles), which ends the run after the current update with
a checkpoint to resume from.

Workers tell the sweep when a trial starts and each time it evaluates, through a queue
that a thread of the sweep reads and prints from as the news arrives; results come back
with the trials' futures.
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
from bucket_brigade.sweep.progress import PROGRESS_KEY, ResultHandler, SweepProgress
from bucket_brigade.sweep.trial import FAILED, PENDING, outcome, run_trial
from bucket_brigade.training.config import SWEEP_TRIAL_THREADS

STARTED, EVALUATED = "started", "evaluated"  # the kinds of news a worker sends
# A fresh interpreter per worker: no forked torch or numba state.
SPAWN = multiprocessing.get_context("spawn")

_stop_event: Any = None  # the sweep's stop event, in a worker process
_news: Any = None  # the queue to the sweep's progress lines, in a worker process
_stop_requested = False  # this worker already asked its current training run to stop


def default_workers() -> int:
    """As many trials as the CPUs hold, given the threads each training run uses."""
    return max(1, (os.cpu_count() or 1) // SWEEP_TRIAL_THREADS)


def run_local(specs: Sequence[TrialSpec], max_parallel: int, progress: SweepProgress) -> bool:
    """Run ``specs`` at most ``max_parallel`` at a time, telling ``progress`` as each
    starts, evaluates and ends; returns True when Ctrl-C (or SIGTERM) stopped the sweep."""
    stop, news = SPAWN.Event(), SPAWN.Queue()
    workers = max(1, min(max_parallel, len(specs)))
    reader = threading.Thread(target=_relay_news, args=(news, specs, progress),
                              name="sweep-progress", daemon=True)
    reader.start()
    try:
        return _run_pool(specs, workers, stop, news, progress.trial_ended)
    finally:
        news.put(None)  # after the pool has shut down: no worker sends anything later
        reader.join()


@contextmanager
def worker_pool(workers: int, initializer: Callable[..., None] | None = None,
                initargs: tuple = ()) -> Iterator[ProcessPoolExecutor]:
    """``workers`` spawned worker processes in their own process group, which die with this
    process; while the pool is open SIGTERM stops this process as Ctrl-C does. The sweep's
    trials and :mod:`bucket_brigade.sweep.jobs` both run on it."""
    with _sigterm_as_interrupt(), ProcessPoolExecutor(
            workers, mp_context=SPAWN, initializer=_start_worker,
            initargs=(os.getpid(), initializer, initargs)) as pool:
        yield pool


def _run_pool(specs: Sequence[TrialSpec], workers: int, stop: Any, news: Any,
              on_result: ResultHandler) -> bool:
    with worker_pool(workers, _hold_channels, (stop, news)) as pool:
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


def _relay_news(news: Any, specs: Sequence[TrialSpec], progress: SweepProgress) -> None:
    """Print the workers' news as it arrives, until the sweep sends None."""
    by_name = {spec.name: spec for spec in specs}
    while (item := news.get()) is not None:
        kind, trial, *details = item
        if kind == STARTED:
            progress.trial_started(by_name[trial])
        else:
            progress.trial_evaluated(trial, *details)


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


def _start_worker(parent_pid: int, initializer: Callable[..., None] | None,
                  initargs: tuple) -> None:
    if hasattr(os, "setpgrp"):
        os.setpgrp()  # out of the terminal's process group: the parent decides when to stop
    die_with_parent(parent_pid)
    if initializer is not None:
        initializer(*initargs)


def _hold_channels(stop: Any, news: Any) -> None:
    """A sweep worker keeps the sweep's stop event and its news queue."""
    global _stop_event, _news
    _stop_event, _news = stop, news


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
    _news.put((STARTED, spec.name))

    def after_update(step: int, metrics: dict[str, float]) -> None:
        if PROGRESS_KEY in metrics:
            _news.put((EVALUATED, spec.name, step, {PROGRESS_KEY: metrics[PROGRESS_KEY]}))
        _stop_when_asked()

    return run_trial(spec, on_metrics=after_update)


def _stop_when_asked() -> None:
    """After each update: if the sweep is stopping, stop this run the way Ctrl-C would."""
    global _stop_requested
    if _stop_event.is_set() and not _stop_requested:
        _stop_requested = True
        signal.raise_signal(signal.SIGINT)
