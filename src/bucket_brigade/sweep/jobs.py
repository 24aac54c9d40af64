"""Independent jobs on the sweep's backends: in this process (serial), in worker processes on
this machine (local), or as Ray tasks on a local Ray instance or a cluster (ray).

A job is a module-level function with its arguments; on the local and Ray backends both
travel by pickle to another process or machine, so they must pickle, and a job must not
rely on state of the process that made it. The results come back in the order of the jobs,
whichever finished first, so a computation split into jobs gives the serial result.

A study that outgrows one machine moves to a Ray cluster by the backend alone: ``--backend
ray --address HOST:6379`` (or ``RAY_ADDRESS``) instead of ``--backend local``, with this
package installed on every node.
"""

from __future__ import annotations

import argparse
import itertools
import os
import pickle
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from bucket_brigade.cli_args import count
from bucket_brigade.errors import UsageError

JOB_BACKENDS = ("serial", "local", "ray")
JOB_CPUS = 1  # each job plays its games on one core
JOBS_PER_WORKER = 4  # chunks per worker when work is split: the last jobs finish together


@dataclass(frozen=True)
class Job:
    """``function(*args, **kwargs)``, named for messages."""

    name: str
    function: Callable[..., Any]
    args: tuple = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)

    def run(self) -> Any:
        return self.function(*self.args, **self.kwargs)


DoneHandler = Callable[[Job, Any], None]


class JobRunner(Protocol):
    """Runs jobs; ``parallelism`` says how many run at once, to size the chunks of a split."""

    parallelism: int

    def run(self, jobs: Sequence[Job], on_done: DoneHandler | None = None) -> list[Any]:
        """Every job's result, in the order of ``jobs``; ``on_done`` hears of each as it
        finishes. A job's exception is raised here."""


def add_job_arguments(parser: argparse.ArgumentParser, what: str) -> None:
    """``--backend``, ``--workers`` and ``--address`` for a command that splits into jobs."""
    parser.add_argument("--backend", choices=JOB_BACKENDS, default="serial",
                        help=f"where {what} run: serial, in this process; local, worker "
                             "processes on this machine; ray, Ray tasks (default: serial)")
    parser.add_argument("--workers", type=count, default=None, metavar="N",
                        help="with --backend local or ray: jobs at a time (default: local, one "
                             "per CPU; ray, as many as the cluster's CPUs hold)")
    parser.add_argument("--address", metavar="ADDR", default=None,
                        help="with --backend ray: the Ray cluster to join (auto, or HOST:6379; "
                             "default: $RAY_ADDRESS, else a Ray instance on this machine)")


def check_job_arguments(backend: str, workers: int | None, address: str | None) -> None:
    """Refuse inconsistent choices before anything runs (and Ray when it is missing)."""
    if backend not in JOB_BACKENDS:
        raise UsageError(f"--backend {backend!r} is not one of {', '.join(JOB_BACKENDS)}")
    if workers is not None and workers < 1:
        raise UsageError(f"--workers {workers} must be >= 1")
    if backend == "serial" and workers not in (None, 1):
        raise UsageError(f"--workers {workers} needs --backend local or ray")
    if address is not None and backend != "ray":
        raise UsageError(f"--address {address!r} needs --backend ray")
    if backend == "ray":
        from bucket_brigade.sweep.ray_backend import import_ray

        import_ray()


@contextmanager
def job_runner(backend: str = "serial", workers: int | None = None,
               address: str | None = None) -> Iterator[JobRunner]:
    """A runner for the chosen backend, open for the block: the local backend's worker
    processes and the Ray instance are started once for all the jobs run in it."""
    check_job_arguments(backend, workers, address)
    if backend == "serial":
        yield SerialRunner()
    elif backend == "local":
        from bucket_brigade.sweep.local import worker_pool

        processes = workers or os.cpu_count() or 1
        with worker_pool(processes) as pool:
            yield PoolRunner(pool, processes)
    else:
        from bucket_brigade.sweep.ray_backend import import_ray, ray_instance

        ray = import_ray()
        with ray_instance(ray, address or os.environ.get("RAY_ADDRESS") or None):
            cpus = int(ray.cluster_resources().get("CPU", 1)) // JOB_CPUS
            yield RayRunner(ray, workers or max(1, cpus))


def split(items: Sequence[Any], runner: JobRunner) -> list[Sequence[Any]]:
    """``items`` in consecutive chunks for ``runner``: one for a serial runner, else about
    JOBS_PER_WORKER per job that runs at once (none empty)."""
    parts = 1 if runner.parallelism == 1 else min(len(items),
                                                 runner.parallelism * JOBS_PER_WORKER)
    bounds = [round(i * len(items) / max(parts, 1)) for i in range(parts + 1)]
    return [items[a:b] for a, b in itertools.pairwise(bounds) if b > a]


class SerialRunner:
    """Each job in this process, one after another."""

    parallelism = 1

    def run(self, jobs: Sequence[Job], on_done: DoneHandler | None = None) -> list[Any]:
        results = []
        for job in jobs:
            results.append(job.run())
            if on_done is not None:
                on_done(job, results[-1])
        return results


def _run_job(job: Job) -> Any:
    return job.run()


def _run_pickled_job(job: bytes) -> bytes:
    return pickle.dumps(pickle.loads(job).run())


class PoolRunner:
    """Jobs in the local backend's worker processes. Ctrl-C (or SIGTERM) cancels the jobs
    not started, waits for the running ones and raises KeyboardInterrupt."""

    def __init__(self, pool: Any, workers: int) -> None:
        self.pool, self.parallelism = pool, workers

    def run(self, jobs: Sequence[Job], on_done: DoneHandler | None = None) -> list[Any]:
        from concurrent.futures import as_completed
        from concurrent.futures.process import BrokenProcessPool

        # Jobs and results pickled here by value: multiprocessing's own pickler hands
        # PyTorch tensors over through shared memory, which a worker died receiving and
        # which is gone (a crash on first use) once the process that made them ends.
        futures = {self.pool.submit(_run_pickled_job, pickle.dumps(job)): i
                   for i, job in enumerate(jobs)}
        results: list[Any] = [None] * len(jobs)
        try:
            for future in as_completed(futures):
                index = futures[future]
                try:
                    results[index] = pickle.loads(future.result())
                except BrokenProcessPool:
                    raise RuntimeError(f"job {jobs[index].name}: the worker process died "
                                       "(killed, or out of memory?)") from None
                if on_done is not None:
                    on_done(jobs[index], results[index])
        except BaseException:
            for future in futures:
                future.cancel()
            raise
        return results


class RayRunner:
    """Jobs as Ray tasks of JOB_CPUS CPUs each, at most ``limit`` at a time. Ctrl-C cancels
    them and raises KeyboardInterrupt."""

    def __init__(self, ray: Any, limit: int) -> None:
        self.ray, self.parallelism = ray, limit

    def run(self, jobs: Sequence[Job], on_done: DoneHandler | None = None) -> list[Any]:
        remote = self.ray.remote(num_cpus=JOB_CPUS, max_retries=0)(_run_job)
        waiting = list(range(len(jobs)))[::-1]
        running: dict[Any, int] = {}
        results: list[Any] = [None] * len(jobs)
        try:
            while waiting or running:
                while waiting and len(running) < self.parallelism:
                    index = waiting.pop()
                    running[remote.remote(jobs[index])] = index
                (ready,), _ = self.ray.wait(list(running), num_returns=1)
                index = running.pop(ready)
                results[index] = self.ray.get(ready)
                if on_done is not None:
                    on_done(jobs[index], results[index])
        except BaseException:
            for ref in running:
                self.ray.cancel(ref, force=True)
            raise
        return results
