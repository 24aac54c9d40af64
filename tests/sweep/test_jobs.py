"""The job runner: results in the jobs' order on every backend (whichever finishes first),
a job's error raised where the jobs were run, bad choices refused before anything runs, and
the split into chunks."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from bucket_brigade.errors import UsageError
from bucket_brigade.sweep.jobs import Job, SerialRunner, job_runner, split


def square(value: int, wait_for: Path | None = None) -> tuple[int, int]:
    """value², and the process that computed it; first waits for the file ``wait_for``."""
    while wait_for is not None and not wait_for.exists():
        time.sleep(0.01)
    return value * value, os.getpid()


def fail(value: int) -> None:
    raise ValueError(f"bad value {value}")


def square_jobs(signal: Path | None = None) -> list[Job]:
    """Five jobs; with ``signal`` the first waits for that file to exist."""
    return [Job(f"square {v}", square, (v,), {"wait_for": signal if v == 0 else None})
            for v in range(5)]


def test_serial_jobs_run_here_in_order() -> None:
    heard = []
    jobs = square_jobs()
    with job_runner() as runner:
        results = runner.run(jobs, on_done=lambda job, result: heard.append(job.name))
    assert [r[0] for r in results] == [0, 1, 4, 9, 16]
    assert {r[1] for r in results} == {os.getpid()}
    assert heard == [job.name for job in jobs]


def test_local_jobs_run_in_worker_processes_and_come_back_in_order(tmp_path: Path) -> None:
    heard = []
    signal = tmp_path / "second_job_heard"

    def hear(job: Job, result: object) -> None:
        heard.append(job.name)
        if job.name == "square 1":  # only now may the first job end
            signal.write_text("heard")

    jobs = square_jobs(signal)
    with job_runner("local", workers=2) as runner:
        assert runner.parallelism == 2
        results = runner.run(jobs, on_done=hear)
        again = runner.run(square_jobs()[2:])  # the same workers serve a second batch
    assert [r[0] for r in results] == [0, 1, 4, 9, 16] and [r[0] for r in again] == [4, 9, 16]
    assert os.getpid() not in {r[1] for r in results + again}
    assert sorted(heard) == sorted(job.name for job in jobs)
    # The first job ended after the second was heard, yet its result comes first.
    assert heard.index("square 1") < heard.index("square 0")


def untrained_network(seed: int) -> object:
    import torch

    from bucket_brigade.training.network import PolicyNetwork

    torch.manual_seed(seed)
    return PolicyNetwork(36, [10, 2], hidden_size=8)


def test_a_network_made_by_a_job_works_after_its_worker_is_gone() -> None:
    """Results come back by value: a PyTorch network handed over in shared memory crashed
    the process that played it once the worker had ended."""
    import numpy as np

    with job_runner("local", workers=1) as runner:
        (network,) = runner.run([Job("network", untrained_network, (3,))])
    observations = np.random.default_rng(0).random((4, 36), dtype=np.float32)
    np.testing.assert_array_equal(network.play(observations),
                                  untrained_network(3).play(observations))


@pytest.mark.parametrize("backend", ["serial", "local"])
def test_a_failing_job_raises_its_error(backend: str) -> None:
    with job_runner(backend) as runner, pytest.raises(ValueError, match="bad value 3"):
        runner.run([Job("fails", fail, (3,))])


@pytest.mark.parametrize(("choices", "message"), [
    ({"backend": "cluster"}, "--backend 'cluster' is not one of serial, local, ray"),
    ({"backend": "serial", "workers": 2}, "--workers 2 needs --backend local or ray"),
    ({"backend": "local", "workers": 0}, "--workers 0 must be >= 1"),
    ({"backend": "local", "address": "auto"}, "--address 'auto' needs --backend ray"),
])
def test_bad_choices_are_refused(choices: dict, message: str) -> None:
    with pytest.raises(UsageError, match=message), job_runner(**choices):
        pytest.fail("the runner opened")


def test_split_keeps_every_item_once_in_order() -> None:
    items = list(range(10))
    assert split(items, SerialRunner()) == [items]

    class Four:
        parallelism = 4

    chunks = split(items, Four())
    assert len(chunks) == 10 and [x for c in chunks for x in c] == items
    Four.parallelism = 2
    chunks = split(items, Four())
    assert len(chunks) == 8 and [x for c in chunks for x in c] == items
    assert all(chunks)


@pytest.mark.slow  # starts a Ray instance
def test_ray_jobs_come_back_in_order() -> None:
    pytest.importorskip("ray", reason="Ray is not installed (pip install 'bucket-brigade[ray]')")
    # Ray's workers import a job's function by its module: this test's module is not on
    # their path, so the jobs call builtins.
    with job_runner("ray", workers=2) as runner:
        assert runner.parallelism == 2
        results = runner.run([Job(f"square {v}", pow, (v, 2)) for v in range(5)])
        with pytest.raises(Exception, match="invalid literal"):
            runner.run([Job("fails", int, ("x",))])
    assert results == [0, 1, 4, 9, 16]
