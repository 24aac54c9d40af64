"""What a running sweep prints, from either backend, as it happens: a line when a trial
starts (its swept values), at each of its evaluations while it trains, and when it ends
(its status and score). Every line ends with the seconds since the sweep started.

The backends call these handlers from more than one thread (the local backend's progress
reader, Tune's callbacks), so each line is printed whole under a lock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from rich.console import Console

from bucket_brigade.sweep.config import TrialSpec
from bucket_brigade.sweep.report import configuration
from bucket_brigade.sweep.trial import INTERRUPTED, OK, PENDING

PROGRESS_KEY = "eval/mean_score"  # the trainer's periodic evaluation: a progress line each
ResultHandler = Callable[[dict[str, Any]], None]  # takes a trial's result record


class SweepProgress:
    """The sweep's console lines; ``expected`` trials are to end in this session, and the
    evaluation lines show ``metric`` (a Ray scheduler's or search's) next to the score."""

    def __init__(self, console: Console, expected: int, metric: str = PROGRESS_KEY) -> None:
        self.console = console
        self.expected = expected
        self.shown_keys = tuple(dict.fromkeys((PROGRESS_KEY, metric)))
        self.results: dict[str, dict[str, Any]] = {}  # this session's, by trial name
        self._started = time.perf_counter()
        self._lock = threading.Lock()

    def trial_started(self, spec: TrialSpec) -> None:
        self._print(f"  started {spec.name}: {configuration(spec.params, list(spec.params))}")

    def trial_evaluated(self, trial: str, step: int, scalars: dict[str, float]) -> None:
        values = ", ".join(f"{key} {scalars[key]:.2f}" for key in self.shown_keys
                           if key in scalars)
        self._print(f"  {trial} at step {step:,}: {values}")

    def trial_ended(self, result: dict[str, Any]) -> None:
        """A trial's result record (one that never started, ``pending``, prints nothing)."""
        if result["status"] == PENDING:
            return
        with self._lock:
            self.results[result["trial"]] = result
            ended = len(self.results)
        self._print(f"[{ended}/{self.expected}] {result['trial']}: {result['status']} "
                    f"{_detail(result)}")

    def _print(self, line: str) -> None:
        with self._lock:
            self.console.print(f"{line} ({time.perf_counter() - self._started:,.0f} s)",
                               highlight=False, markup=False, soft_wrap=True)


def _detail(result: dict[str, Any]) -> str:
    """The news about a trial that just ended."""
    if result["status"] == OK:
        return f"{result['mean_score']:.2f} ± {result['ci95']:.2f}"
    if result["status"] == INTERRUPTED:
        return f"at step {result.get('steps', 0):,}, checkpoint kept"
    return result.get("error", "")
