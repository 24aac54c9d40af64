"""PSRO (policy-space response oracles, Lanctot et al. 2017) for the symmetric game: grow a
population towards an equilibrium.

Each iteration plays the population's N-player empirical game (only the cells that the
newest strategy adds: every cell plays the same seeded games, so earlier cells stand),
solves it for a symmetric meta-equilibrium x (the one of highest value,
:func:`symmetric_equilibria`), asks an oracle for a best response to x (every other agent
drawing its strategy from x independently) and adds it to the population. The best
response's gain over x, judged on fresh games, is x's exploitability as far as the oracle
can see (a lower bound of the true one; NashConv is N times it). When the oracle finds no
gain, x is an equilibrium of the game as far as the oracle can tell, and PSRO stops.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from bucket_brigade.analysis.contenders import Contender
from bucket_brigade.analysis.empirical_game import (
    SymmetricGame,
    focal_scores,
    fresh_seed,
    opponent_profiles,
    symmetric_equilibria,
)
from bucket_brigade.analysis.nash import Deviation, Gain, deviation_against_mix
from bucket_brigade.game.scenarios import Scenario
from bucket_brigade.sweep.jobs import Job, JobRunner, SerialRunner, split


@dataclass(frozen=True)
class Target:
    """What an oracle responds to: the meta-strategy ``mix`` over ``population`` (every
    other agent drawing from it per game), and a candidate's scores in the deviator's place
    (``play(candidate, games, seed)``). ``iteration`` counts from 1."""

    population: list[Contender]
    mix: np.ndarray
    play: Deviation
    iteration: int


# oracle(target, seed): a contender that scores well in the deviator's place.
Oracle = Callable[[Target, int], Contender]


@dataclass(frozen=True)
class Iteration:
    """One PSRO iteration: the population's meta-equilibrium and the response it got."""

    population: list[str]
    meta_equilibrium: np.ndarray  # weights over the population
    value: float  # the meta-equilibrium's value on the table's games
    exploitability: Gain  # the best response's gain over it, on fresh games
    best_response: Contender


def psro(initial: Sequence[Contender], scenario: Scenario, num_agents: int, iterations: int,
         games: int, fresh_games: int, seed: int, oracle: Oracle,
         on_iteration: Callable[[Iteration], None] | None = None,
         runner: JobRunner | None = None) -> list[Iteration]:
    """Run up to ``iterations`` iterations from the ``initial`` population; stops early
    when a best response gains nothing (its 95% CI reaches below 0). Every table plays
    seed ``seed``, its checks the fresh games of :func:`fresh_seed`; iteration k's oracle gets
    seed ``seed + k + 1``. ``runner`` plays each table's new cells as jobs (the same
    numbers on every backend)."""
    population = list(initial)
    history: list[Iteration] = []
    cells: dict[tuple[int, tuple[int, ...]], float] = {}
    for k in range(iterations):
        game = grown_game(population, cells, scenario, num_agents, games, seed, runner)
        mix = symmetric_equilibria(game)[0]
        play = deviation_against_mix(scenario, population, mix, num_agents)
        responder = oracle(Target(population.copy(), mix, play, k + 1), seed + k + 1)
        responder = replace(responder, name=f"best response {k + 1}")
        judging = fresh_seed(seed)
        meta_scores = sum(w * play(p, fresh_games, judging)
                          for w, p in zip(mix, population) if w > 0)
        gain = Gain(play(responder, fresh_games, judging) - meta_scores)
        step = Iteration([p.name for p in population], mix, game.value(mix), gain, responder)
        history.append(step)
        if on_iteration is not None:
            on_iteration(step)
        if gain.mean - gain.ci95 <= 0:
            break
        population.append(responder)
    return history


def grown_game(population: Sequence[Contender], cells: dict[tuple[int, tuple[int, ...]], float],
               scenario: Scenario, num_agents: int, games: int, seed: int,
               runner: JobRunner | None = None) -> SymmetricGame:
    """The population's empirical game, playing only the cells missing from ``cells``
    (focal index, opponent profile) -> mean score, which it fills in: each cell plays the
    same ``games`` games of ``seed``, as :func:`play_table`'s cells do, in chunks run as
    jobs of ``runner`` (default: in this process)."""
    profiles = [tuple(p) for p in opponent_profiles(len(population), num_agents - 1).tolist()]
    missing = [(s, profile) for s in range(len(population)) for profile in profiles
               if (s, profile) not in cells]
    if missing:
        runner = runner or SerialRunner()
        chunks = split(missing, runner)
        jobs = [Job(f"cells {k + 1} of {len(chunks)}", play_cells,
                    (scenario, list(population), list(chunk), games, seed))
                for k, chunk in enumerate(chunks)]
        for chunk, means in zip(chunks, runner.run(jobs)):
            cells.update(zip(chunk, means))
    return SymmetricGame(np.array([[cells[s, p] for p in profiles]
                                   for s in range(len(population))]), num_agents)


def play_cells(scenario: Scenario, population: Sequence[Contender],
               cells: Sequence[tuple[int, tuple[int, ...]]], games: int,
               seed: int) -> list[float]:
    """The mean score of each (focal index, opponent profile) cell on ``games`` games of
    ``seed``: a job of :func:`grown_game`."""
    return [float(focal_scores(scenario, population[s], [population[k] for k in profile],
                               games, seed)[0].mean()) for s, profile in cells]
