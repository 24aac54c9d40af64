"""Fuzzing the command line: scenario files, genome files and option values of cheap
commands. A fast sample runs by default; ``-m slow`` runs many more examples, and the
heavier commands (evolve, nash, evaluate) on every generated scenario file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .runner import check_cli, write_scenario
from .strategies import GENOMES, HOSTILE_TEXT, NUMBERS, TEXT, scenario_files

FAST = settings(max_examples=15, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])
LONG = settings(max_examples=400, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])


def _scenario_setup(data: dict[str, object], other: dict[str, object], suffix: str):
    """Write the file under test (``self`` + suffix) and a second one it may name as base."""
    def prepare(work: Path) -> None:
        write_scenario(work / f"self{suffix}", data)
        write_scenario(work / "other.json", {**other, "base": "self" + suffix})
    return prepare


def _bench_scenario(data: dict[str, object], other: dict[str, object], suffix: str) -> None:
    check_cli(["bench", "env", "--scenario", f"self{suffix}", "--games", "1", "--seconds",
               "0.005", "--json"], prepare=_scenario_setup(data, other, suffix))


@FAST
@given(scenario_files, scenario_files, st.sampled_from([".toml", ".json"]))
def test_scenario_files(data, other, suffix) -> None:
    _bench_scenario(data, other, suffix)


@pytest.mark.slow
@LONG
@given(scenario_files, scenario_files, st.sampled_from([".toml", ".json"]))
def test_scenario_files_long(data, other, suffix) -> None:
    _bench_scenario(data, other, suffix)


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario_files, st.sampled_from([".toml", ".json"]),
       st.sampled_from(["evolve", "nash", "evaluate"]))
def test_scenario_files_in_every_command(data, suffix, command) -> None:
    argv = {"evolve": ["evolve", "--scenario", f"s{suffix}", "--generations", "1",
                       "--popsize", "2", "--games", "1", "--out", "out/g.json"],
            "nash": ["nash", "--scenario", f"s{suffix}", "--strategies", "hero,free_rider",
                     "--games", "1", "--br-generations", "0", "--out-dir", "out"],
            "evaluate": ["evaluate", "--scenarios", f"s{suffix}", "--strategies", "hero",
                         "--opponents", "random", "--games", "1", "--out-dir", "out"]}[command]
    check_cli(argv, seconds=120, prepare=lambda work: write_scenario(work / f"s{suffix}", data))


def _replay_genome(genome: object) -> None:
    check_cli(["replay", "--strategy", "genome.json", "--out", "out/r.html"],
              prepare=lambda work: (work / "genome.json").write_text(json.dumps(genome)))


@FAST
@given(GENOMES)
def test_genome_files(genome) -> None:
    _replay_genome(genome)


@pytest.mark.slow
@LONG
@given(GENOMES)
def test_genome_files_long(genome) -> None:
    _replay_genome(genome)


OPTION_TEXT = st.one_of(TEXT, NUMBERS.map(str), st.lists(
    st.one_of(HOSTILE_TEXT, st.sampled_from(["hero", "random", "evolved", "0.5", "pool:hero"])),
    max_size=12).map(",".join))


def _evaluate(opponents: str, strategies: str, games: str, seed: str, extra: list[str]) -> None:
    check_cli(["evaluate", "--scenarios", "easy", "--opponents", opponents, "--strategies",
               strategies, "--games", games, "--seed", seed, "--out-dir", "out", *extra])


EVALUATE_ARGS = (OPTION_TEXT, OPTION_TEXT, st.one_of(st.integers(-2, 3).map(str), TEXT),
                 st.one_of(st.integers().map(str), TEXT),
                 st.lists(st.sampled_from(["--matrix", "--num-opponents", "0", "9", "x.pt"]),
                          max_size=3))


@settings(max_examples=15, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(*EVALUATE_ARGS)
def test_evaluate_arguments(opponents, strategies, games, seed, extra) -> None:
    _evaluate(opponents, strategies, games, seed, extra)


@pytest.mark.slow
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(*EVALUATE_ARGS)
def test_evaluate_arguments_long(opponents, strategies, games, seed, extra) -> None:
    _evaluate(opponents, strategies, games, seed, extra)


@FAST
@given(st.one_of(st.integers(-3, 0).map(str), TEXT), st.one_of(st.integers().map(str), TEXT),
       st.one_of(st.integers().map(str), TEXT), st.one_of(st.integers().map(str), TEXT),
       st.one_of(TEXT, st.sampled_from(["easy", "../../x.toml", "a.json"])))
def test_evolve_refusals(generations, popsize, games, seed, scenario) -> None:
    """Zero or fewer generations (or none that parse) are always refused, and quickly."""
    code, _ = check_cli(["evolve", "--generations", generations, "--popsize", popsize,
                         "--games", games, "--seed", seed, "--scenario", scenario,
                         "--out", "out/g.json"], seconds=60)
    assert code == 2


@FAST
@given(st.one_of(st.floats(), st.floats(0.0001, 0.005)).map(repr))
def test_bench_env_seconds(seconds) -> None:
    check_cli(["bench", "env", "--games", "1", "--seconds", seconds], seconds=20)


@FAST
@given(st.lists(st.one_of(TEXT, st.sampled_from(["--json", "--help", "-h", "--"])),
                max_size=3))
def test_scenarios_arguments(args) -> None:
    check_cli(["scenarios", *args])
