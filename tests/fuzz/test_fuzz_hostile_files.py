"""Fuzzing the input that once hung, exhausted memory or was coerced: special files where a
file goes, weights of extreme or mistyped shapes, NumPy scalar types, huge counts, and a
second command on an output that another one holds. Every command ends with exit 0, or exit
2 and one line, within its time limit; the environments take NumPy integers as integers.
A fast sample runs by default, ``-m slow`` many more."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bucket_brigade.envs import make_env, make_vec_env
from bucket_brigade.game.scenarios import get_scenario
from bucket_brigade.io import exclusive_lock
from bucket_brigade.training.checkpoint import RunPaths
from bucket_brigade.training.network import PolicyNetwork

from .runner import check_cli, time_limit

FAST = settings(max_examples=15, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])
LONG = settings(max_examples=200, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])

# -- special files -----------------------------------------------------------------------
# Every place a command reads a file a user names; FILE is replaced by the special file.
FILE_ARGUMENTS = [
    ["evolve", "--scenario", "FILE.toml", "--generations", "1", "--popsize", "2"],
    ["evaluate", "--scenarios", "FILE.json", "--strategies", "hero"],
    ["evaluate", "--opponents", "FILE.json", "--strategies", "hero"],
    ["evaluate", "FILE.pt", "--scenarios", "easy", "--strategies", "none"],
    ["nash", "--scenario", "based.toml"],
    ["nash", "--strategies", "hero,FILE.pt"],
    ["replay", "--scenario", "FILE.toml"],
    ["replay", "--strategy", "FILE.json"],
    ["replay", "--model", "FILE.pt"],
    ["bench", "env", "--scenario", "FILE.toml"],
    ["train", "--scenario", "FILE.toml"],
    ["train", "--opponent-model", "FILE.pt"],
    ["train", "--resume", "FILE.pt"],
    ["sweep", "FILE.toml"],
]
SPECIAL_FILES = ["fifo", "/dev/null", "/dev/zero", "folder", "socket"]


def make_special(path: Path, kind: str) -> None:
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    elif kind == "socket":
        import socket

        with socket.socket(socket.AF_UNIX) as listening:
            listening.bind(str(path))  # the file stays after the socket closes
    else:
        path.symlink_to(kind)


def _special(argv: list[str], kind: str) -> None:
    def prepare(work: Path) -> None:
        for suffix in (".toml", ".json", ".pt"):
            make_special(work / f"FILE{suffix}", kind)
        (work / "based.toml").write_text('base = "FILE.toml"\n')

    code, err = check_cli(argv, seconds=60, prepare=prepare)
    assert code == 2 and "is not a regular file" in err, err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
@FAST
@given(st.sampled_from(FILE_ARGUMENTS), st.sampled_from(SPECIAL_FILES))
def test_special_files(argv, kind) -> None:
    _special(argv, kind)


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
@pytest.mark.parametrize("kind", SPECIAL_FILES)
@pytest.mark.parametrize("argv", FILE_ARGUMENTS, ids=" ".join)
def test_special_files_everywhere(argv, kind) -> None:
    _special(argv, kind)


# -- weights of extreme or mistyped shapes -----------------------------------------------
SCENARIO = "greedy_neighbor"
GOOD = PolicyNetwork(get_scenario(SCENARIO).obs_dim(4), [10, 2], hidden_size=8).state_dict()
DTYPES = [torch.float32, torch.float16, torch.bfloat16, torch.float64, torch.int32,
          torch.int64, torch.bool, torch.complex64, torch.uint8]
SIZES = st.one_of(st.integers(0, 40), st.sampled_from([10**5, 10**6, 2**31, 2**40]))
# A declared shape costs nothing on disk: one element, expanded.
SHAPES = st.lists(SIZES, max_size=3).filter(lambda shape: np.prod(shape, dtype=float) < 2**62)
WEIGHTS = st.builds(lambda shape, dtype: torch.zeros((), dtype=dtype).expand(tuple(shape)),
                    SHAPES, st.sampled_from(DTYPES))
NETWORK_ENTRIES = st.fixed_dictionaries({
    "obs_dim": st.one_of(SIZES, st.just(GOOD["body.torso.0.weight"].shape[1])),
    "action_dims": st.one_of(st.lists(SIZES, max_size=4), st.just([10, 2])),
    "hidden_size": st.one_of(SIZES, st.integers(-3, 10**13), st.just(8)),
}, optional={"policy": st.sampled_from(["structured", "mlp", "other", 3]),
             "action_mask": st.sampled_from([True, False, "no", 1, None])})


def _weights(changes: dict[str, torch.Tensor], network: dict[str, Any] | None) -> None:
    state = {**GOOD, **changes}
    payload: Any = state if network is None else {"model_state_dict": state, "network": network}

    def prepare(work: Path) -> None:
        torch.save(payload, work / "model_x.pt")

    for argv in (["evaluate", "model_x.pt", "--scenarios", SCENARIO, "--strategies", "none",
                  "--games", "2", "--out-dir", "out"],
                 ["replay", "--model", "model_x.pt", "--scenario", SCENARIO, "--out", "r.html"]):
        check_cli(argv, seconds=60, prepare=prepare)


@FAST
@given(st.dictionaries(st.sampled_from(sorted(GOOD)), WEIGHTS, min_size=1, max_size=2),
       st.one_of(st.none(), NETWORK_ENTRIES))
def test_weights_of_extreme_or_mistyped_shapes(changes, network) -> None:
    _weights(changes, network)


@pytest.mark.slow
@LONG
@given(st.dictionaries(st.sampled_from(sorted(GOOD)), WEIGHTS, min_size=1, max_size=2),
       st.one_of(st.none(), NETWORK_ENTRIES))
def test_weights_of_extreme_or_mistyped_shapes_long(changes, network) -> None:
    _weights(changes, network)


# -- NumPy scalar types ------------------------------------------------------------------
NUMPY_INTEGERS = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32,
                  np.uint64]


def _numpy_scalars(kind: type, value: int) -> None:
    """A NumPy integer is the integer it holds: as a seed (at construction and at reset)
    and as a count; a value its type cannot hold is NumPy's error, never a wrapped seed."""
    try:
        seed = kind(value)
    except OverflowError:
        return
    if int(seed) != value:  # NumPy < 2 wraps some out-of-range values silently
        return
    expected = make_env(SCENARIO, seed=value).reset()[0]
    np.testing.assert_array_equal(make_env(SCENARIO, seed=seed).reset()[0], expected)
    np.testing.assert_array_equal(make_env(SCENARIO).reset(seed=seed)[0], expected)
    vector = make_vec_env(kind(2), SCENARIO, num_opponents=kind(3))
    assert vector.num_envs == 2 and vector.num_agents == 4
    np.testing.assert_array_equal(vector.reset(seed=seed)[0],
                                  make_vec_env(2, SCENARIO).reset(seed=value)[0])


@FAST
@given(st.sampled_from(NUMPY_INTEGERS), st.one_of(st.integers(0, 2**64 - 1),
                                                  st.integers(0, 300)))
def test_numpy_scalar_types(kind, value) -> None:
    _numpy_scalars(kind, value)


@given(st.sampled_from([np.float32(7), np.float64(7.0), np.bool_(True), np.int64(-1),
                        np.str_("7"), np.array([7])]))
@settings(deadline=None, derandomize=True)
def test_numpy_values_that_are_not_seeds(seed) -> None:
    with pytest.raises((TypeError, ValueError), match="seed="):
        make_env(SCENARIO).reset(seed=seed)


# -- huge counts -------------------------------------------------------------------------
# Above every limit (10^12 steps, the memory of any machine) and every seed (2^64 - 1).
HUGE = st.one_of(st.integers(2**64, 10**30), st.sampled_from([2**64, 10**20, 10**30])).map(str)
COUNT_ARGUMENTS = [
    ["bench", "env", "--seconds", "0.01", "--games"],
    ["evolve", "--popsize", "2", "--games", "1", "--generations"],
    ["evolve", "--generations", "1", "--games", "1", "--popsize"],
    ["nash", "--strategies", "hero,free_rider", "--games", "1", "--br-generations"],
    ["nash", "--strategies", "hero,free_rider", "--games", "1", "--br-popsize"],
    ["replay", "--num-opponents"],
    ["replay", "--seed"],
    ["evaluate", "--scenarios", "easy", "--strategies", "hero", "--games", "1",
     "--num-opponents"],
    ["evaluate", "--scenarios", "easy", "--strategies", "hero", "--games"],
    ["train", "--num-envs"],
    ["train", "--steps"],
]


def _huge(argv: list[str], value: str) -> None:
    """Refused before anything is allocated for them: at once, not after memory ran out
    (the short time limit catches a command that builds what a count asks for)."""
    code, err = check_cli([*argv, value], seconds=20)
    assert code == 2, err


@FAST
@given(st.sampled_from(COUNT_ARGUMENTS), HUGE)
def test_huge_counts(argv, value) -> None:
    _huge(argv, value)


@pytest.mark.slow
@LONG
@given(st.sampled_from(COUNT_ARGUMENTS), HUGE)
def test_huge_counts_long(argv, value) -> None:
    _huge(argv, value)


ENVIRONMENT_COUNTS = {
    "make_env num_opponents": lambda n: make_env(SCENARIO, num_opponents=n),
    "make_vec_env num_envs": lambda n: make_vec_env(n, SCENARIO),
    "make_vec_env num_opponents": lambda n: make_vec_env(2, SCENARIO, num_opponents=n),
    "make_vec_env num_learners": lambda n: make_vec_env(n, SCENARIO, num_learners=n),
}


@FAST
@given(st.sampled_from(sorted(ENVIRONMENT_COUNTS)),
       st.one_of(st.integers(10**12, 10**30), st.sampled_from([2**63, 2**64])),
       st.sampled_from([int, np.uint64, float]))
def test_huge_counts_in_the_environments(maker, value, kind) -> None:
    """``make_env(num_opponents=10**12)`` is refused at once, not after building 10^12
    seats (under a time limit: building them would run past it)."""
    try:
        count = kind(value)
    except OverflowError:
        count = value
    with time_limit(20), pytest.raises(ValueError, match=r"must be an integer|games of this size"):
        ENVIRONMENT_COUNTS[maker](count)


# -- two commands, one output ------------------------------------------------------------
RUN_NAMES = st.from_regex(r"[a-z][a-z0-9_.-]{0,20}", fullmatch=True)


def _held(command: str, name: str) -> None:
    """While another process holds the run (or sweep folder) a command would write, the
    command is refused with one line and writes nothing but the lock it found."""
    locks = {"train": RunPaths(Path("out"), name).lock_path,
             "nash": RunPaths(Path("out") / "best_response", "br_hero").lock_path,
             "sweep": Path("out") / name / ".lock"}
    argv = {"train": ["train", "--out-dir", "out", "--run-name", name, "--steps", "128",
                      "--num-envs", "16", "--batch-size", "128", "--cpu"],
            "nash": ["nash", "--strategies", "hero,free_rider", "--games", "2",
                     "--br-generations", "0", "--br-ppo-steps", "2048", "--br-ppo-against",
                     "hero", "--out-dir", "out"],
            "sweep": ["sweep", "sweep.toml", "--out", "out"]}[command]
    held: list[Any] = []

    def prepare(work: Path) -> None:
        (work / "sweep.toml").write_text(f'[sweep]\nname = "{name}"\nsteps = 128\n')
        held.append(exclusive_lock(work / locks[command], "the first command"))
        held[0].__enter__()

    try:
        code, err = check_cli(argv, seconds=60, prepare=prepare)
    finally:
        if held:
            held[0].__exit__(None, None, None)
    assert code == 2 and "in use by another process" in err, err


@FAST
@given(st.sampled_from(["train", "nash", "sweep"]), RUN_NAMES)
def test_a_second_command_on_one_output(command, name) -> None:
    _held(command, name)
