"""What a run reports while it trains: TensorBoard scalars (the names ``train_gpu.py``
has always written, plus PPO diagnostics), the episode history kept in checkpoints, a
live progress bar and status lines.

Episodes finish by the dozen every step, so they are aggregated: ``episode/*`` is the
mean over the episodes finished since the previous update, ``eval/*`` the mean over
those finished since the previous ``--eval-interval`` point. With several learners,
``selfplay/team_score`` (mean score of all a game's agents) and
``selfplay/work_rate_agent_{i}`` (learner seat i) are per-update means too; with cheap
talk, ``eval/signal_honesty`` is logged too, and the trainer adds ``cheap_talk/*`` from
each rollout's actions. A metric that means nothing in a run is not logged.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

if TYPE_CHECKING:
    from bucket_brigade.training.checkpoint import RunPaths
    from bucket_brigade.training.config import TrainConfig

EVENT_FILE_MARK = "events.out.tfevents"
HISTORY_LENGTH = 1000  # episodes kept in checkpoints
ROLLING_WINDOW = 100  # train/avg_reward_100ep
EVAL_METRICS = {  # TensorBoard name -> final_info key
    "eval/mean_score": "score",
    "eval/houses_saved": "houses_saved",
    "eval/work_rate": "work_rate",
}
# Only with cheap talk: without it a signal is the mode played, honest by construction.
CHEAP_TALK_EVAL_METRICS = {"eval/signal_honesty": "honesty"}
# The scalars TensorBoard's hyperparameter table shows next to each run's settings.
HPARAM_METRICS = ("eval/mean_score", "train/avg_reward_100ep", "episode/reward")
# Called with (step, scalars) after each update's scalars are logged, e.g. to feed a
# hyperparameter-search service such as Ray Tune.
MetricsCallback = Callable[[int, dict[str, float]], None]


class _EpisodeSums:
    """Running sums of finished-episode statistics between two log points."""

    def __init__(self, keys: tuple[str, ...]) -> None:
        self.keys = keys
        self.reset()

    def reset(self) -> None:
        self.count = 0
        self.sums = dict.fromkeys(self.keys, 0.0)

    def add(self, values: dict[str, np.ndarray]) -> None:
        self.count += len(values[self.keys[0]])
        for key in self.keys:
            self.sums[key] += float(values[key].sum())

    def means(self) -> dict[str, float]:
        return {key: total / self.count for key, total in self.sums.items()}


@contextmanager
def _writer_thread_errors_raised_here() -> Iterator[None]:
    """TensorBoard writes events from a thread of its own. When a write fails there (a full
    disk), that thread ends with a traceback on stderr, and the writer raises the same error
    at its next call, in the training loop, where the command line reports it as one line.
    This keeps the thread's traceback off the terminal; any other thread's is shown."""
    shown = threading.excepthook

    def hook(args: threading.ExceptHookArgs) -> None:
        if not (isinstance(args.exc_value, OSError)
                and type(args.thread).__name__ == "_AsyncWriterThread"):
            shown(args)

    threading.excepthook = hook
    try:
        yield
    finally:
        threading.excepthook = shown


class TrainingMonitor:
    """Collects episode statistics and writes them out; ``console=None`` keeps it silent."""

    def __init__(self, paths: RunPaths, config: TrainConfig, start_step: int = 0,
                 console: Console | None = None, on_metrics: MetricsCallback | None = None,
                 ) -> None:
        self.paths = paths
        self.config = config
        self.start_step = start_step
        self.step = start_step
        self.console = console
        self.on_metrics = on_metrics
        self.total_episodes = 0
        self.rewards: deque[float] = deque(maxlen=HISTORY_LENGTH)
        self.lengths: deque[int] = deque(maxlen=HISTORY_LENGTH)
        self._since_update = _EpisodeSums(("score", "nights"))
        self._eval_metrics = EVAL_METRICS | (CHEAP_TALK_EVAL_METRICS if config.cheap_talk
                                             else {})
        self._since_eval = _EpisodeSums(tuple(self._eval_metrics.values()))
        # With several learners: selfplay/team_score and selfplay/work_rate_agent_{i}.
        self._team = _EpisodeSums(("team_score",))
        self._seat_work = np.zeros(config.num_learners)
        self._seat_episodes = np.zeros(config.num_learners)
        self._writer: Any = None
        self._progress: Progress | None = None
        self._task: Any = None
        self._started = self._cpu_started = 0.0
        self._stopped: float | None = None
        self._warm: tuple[int, float] | None = None  # (step, clock) after the first update
        self.cpu_seconds = 0.0  # process CPU time of the training loop, once it ended

    # -- episode history (kept in checkpoints) ----------------------------------------------
    def history(self) -> dict[str, Any]:
        return {"rewards": list(self.rewards), "lengths": list(self.lengths),
                "total_episodes": self.total_episodes}

    def load_history(self, history: dict[str, Any]) -> None:
        self.rewards.extend(float(r) for r in history["rewards"])
        self.lengths.extend(int(n) for n in history["lengths"])
        self.total_episodes = int(history["total_episodes"])

    @property
    def avg_reward_100ep(self) -> float:
        recent = list(self.rewards)[-ROLLING_WINDOW:]
        return float(np.mean(recent)) if recent else float("nan")

    # -- the run ------------------------------------------------------------------------
    @contextmanager
    def running(self) -> Iterator[TrainingMonitor]:
        """Open the event file and the progress bar for the training loop; close both after,
        even on an error, and freeze the clock (``seconds``, ``steps_per_sec``)."""
        from torch.utils.tensorboard import SummaryWriter

        with _writer_thread_errors_raised_here():
            # A resumed run drops the events logged after its checkpoint (it logs them again).
            earlier_files = sorted(self.paths.run_dir.glob(f"{EVENT_FILE_MARK}*"))
            self._writer = SummaryWriter(
                str(self.paths.run_dir),
                purge_step=self.start_step + 1 if self.start_step else None)
            if not any(map(_opens_with_hparams, earlier_files)):
                self._write_hparams()
            self._started = time.perf_counter()
            self._cpu_started = time.process_time()
            if self.console is not None and self.console.is_terminal:
                self._progress = Progress(
                    TextColumn(f"[bold]{self.paths.run_name}"), BarColumn(),
                    MofNCompleteColumn(), TextColumn("steps"),
                    TextColumn("{task.fields[rate]:>8,.0f} steps/s"),
                    TextColumn("reward(100) {task.fields[reward]:>7.2f}"),
                    TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                    console=self.console, refresh_per_second=4)
                self._task = self._progress.add_task(
                    "train", total=self.config.steps, completed=self.start_step, rate=0.0,
                    reward=float("nan"))
                self._progress.start()
            try:
                yield self
                self._writer.flush()  # raises here what the writer's thread could not write
            finally:
                self._stopped = time.perf_counter()
                self.cpu_seconds = time.process_time() - self._cpu_started
                if self._progress is not None:
                    self._progress.stop()
                self._writer.close()  # its thread ends here, inside the hook

    def record_episodes(self, final_info: dict[str, np.ndarray]) -> None:
        """Take in the games that just ended (the env's ``info["final_info"]``)."""
        mask = final_info["_score"]
        finished = {key: final_info[key][mask] for key in (*self._since_eval.keys, "nights")}
        self.total_episodes += int(mask.sum())
        self.rewards.extend(finished["score"].tolist())
        self.lengths.extend(finished["nights"].tolist())
        self._since_update.add(finished)
        self._since_eval.add(finished)
        if self.config.num_learners > 1:
            self._team.add({"team_score": final_info["team_score"][mask]})
            seats = final_info["agent"][mask]
            size = self.config.num_learners
            self._seat_work += np.bincount(seats, final_info["work_rate"][mask], minlength=size)
            self._seat_episodes += np.bincount(seats, minlength=size)

    @property
    def seconds(self) -> float:
        """Time spent in the training loop so far (this session only, on a resumed run)."""
        return (self._stopped or time.perf_counter()) - self._started

    @property
    def steps_per_sec(self) -> float:
        """Learner steps per second after the first update, which also compiles (or loads)
        the kernels and warms torch up; until a second update ends, over the whole loop."""
        now = self._stopped or time.perf_counter()
        since_step, since = self._warm if self._warm and self.step > self._warm[0] \
            else (self.start_step, self._started)
        return (self.step - since_step) / (now - since) if now > since else 0.0

    def end_update(self, step: int, diagnostics: dict[str, float]) -> None:
        previous, self.step = self.step, step
        if self._warm is None:
            self._warm = (step, time.perf_counter())
        scalars = dict(diagnostics)
        if self._since_update.count:
            means = self._since_update.means()
            scalars["episode/reward"] = means["score"]
            scalars["episode/length"] = means["nights"]
            self._since_update.reset()
        if self._team.count:
            scalars["selfplay/team_score"] = self._team.means()["team_score"]
            for seat in np.flatnonzero(self._seat_episodes):
                scalars[f"selfplay/work_rate_agent_{seat}"] = \
                    self._seat_work[seat] / self._seat_episodes[seat]
            self._team.reset()
            self._seat_work[:] = self._seat_episodes[:] = 0
        if self.rewards:
            scalars["train/avg_reward_100ep"] = self.avg_reward_100ep
        scalars["train/steps_per_sec"] = self.steps_per_sec
        scalars["train/total_episodes"] = self.total_episodes
        interval = self.config.eval_interval
        if step // interval > previous // interval and self._since_eval.count:
            means = self._since_eval.means()
            scalars.update({name: means[key] for name, key in self._eval_metrics.items()})
            self._since_eval.reset()
        self._write_scalars(scalars, step)
        if self.on_metrics is not None:
            self.on_metrics(step, scalars)
        if self._progress is not None:
            self._progress.update(self._task, completed=min(step, self.config.steps),
                                  rate=self.steps_per_sec, reward=self.avg_reward_100ep)

    def _write_scalars(self, scalars: dict[str, float], step: int) -> None:
        """All of an update's scalars as one event (a summary with one value each), which
        TensorBoard reads as it reads ``add_scalar``'s one event per scalar: writing an event
        costs about 50 µs of Python (its checksum is computed byte by byte), a dozen of
        them 2% of an update at the default settings."""
        from tensorboard.compat.proto.summary_pb2 import Summary
        from torch.utils.tensorboard.summary import scalar

        values = [value for name, number in scalars.items() for value in scalar(name, number).value]
        self._writer.file_writer.add_summary(Summary(value=values), step)

    def flush(self) -> None:
        """Put the events logged so far on disk (TensorBoard's writer queues them): called
        before each checkpoint, so that a run killed after it has every step up to it."""
        self._writer.flush()

    def _write_hparams(self) -> None:
        """The run's settings for TensorBoard's HPARAMS tab, once per run: at its start, on
        disk before the first update (a run stopped before that gets them when resumed).
        They are the settings it started with; ``config.json`` follows a resume's changes."""
        from torch.utils.tensorboard.summary import hparams

        settings = {name: "none" if value is None else value
                    for name, value in self.config.to_dict().items()}
        experiment, session_start, _ = hparams(settings, dict.fromkeys(HPARAM_METRICS, 0.0))
        for summary in (experiment, session_start):
            self._writer.file_writer.add_summary(summary)
        self._writer.flush()

    def checkpoint_saved(self, step: int, path: Path) -> None:
        """The periodic status line, printed with every checkpoint."""
        if self.console is None:
            return
        self.console.print(
            f"step {step:,}/{self.config.steps:,} ({100 * step / self.config.steps:.1f}%) | "
            f"avg reward (100 ep) {self.avg_reward_100ep:.2f} | "
            f"episodes {self.total_episodes:,} | {self.steps_per_sec:,.0f} steps/s | "
            f"checkpoint {path}", highlight=False, soft_wrap=True)


def _opens_with_hparams(event_file: Path) -> bool:
    """Whether an event file starts with a run's hyperparameters, as
    :meth:`TrainingMonitor._write_hparams` writes them: after the file's version records
    and, in a resumed run's file, its purge record (a handful of records in all). The loader
    stops quietly at a damaged record: such a file counts as one without them."""
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
    from tensorboard.plugins.hparams.metadata import EXPERIMENT_TAG

    first_events = zip(range(8), EventFileLoader(str(event_file)).Load())
    return any(value.tag == EXPERIMENT_TAG for _, event in first_events
               for value in event.summary.value)
