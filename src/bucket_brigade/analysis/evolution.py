"""Evolving scripted strategies with CMA-ES on the batched engine.

Fitness is a strategy's mean score over many games. Within a generation every
candidate plays the same games (the same seed, hence the same world and
opponent draws: common random numbers), so candidates are ranked by their
differences, not by luck.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import cma
import numpy as np

from bucket_brigade.agents.strategies import StrategySpec, make_seat, opponent_seats
from bucket_brigade.checks import check_count
from bucket_brigade.confidence import ci95_half_width
from bucket_brigade.engine.batch import GameBatch
from bucket_brigade.game.rng import check_seed
from bucket_brigade.game.scenarios import Scenario, get_scenario
from bucket_brigade.game.scripted import NUM_PARAMS, PARAM_NAMES
from bucket_brigade.game.seat import Seat
from bucket_brigade.search import with_planners

HELD_OUT_GAMES = 2000
MAX_POPSIZE = 10_000  # candidates are drawn and scored one generation at a time
MAX_GENERATIONS = 100_000  # a seed per generation is drawn before the first one


@dataclass
class EvolutionResult:
    """What an evolution run found and how (saved as JSON)."""

    scenario: str
    params: list[float]
    fitness: float  # mean score of the result on held-out games
    fitness_ci95: float
    history: list[dict[str, float]] = field(default_factory=list)
    mode: str = "self-play"
    num_agents: int = 4
    games: int = 0
    generations: int = 0
    popsize: int = 0
    seed: int = 0
    command: str = ""

    def to_json(self) -> dict:
        data = asdict(self)
        data["named_params"] = dict(zip(PARAM_NAMES, self.params))
        return data


def strategy_fitness(params: Sequence[float], scenario: Scenario, num_agents: int,
                     opponents: Sequence[StrategySpec | Seat] | str | None, games: int,
                     seed: int) -> np.ndarray:
    """Per-game score of ``params``: the mean over all seats in self-play
    (``opponents`` None), else seat 0's score against the opponents."""
    candidate = make_seat(list(params))
    if opponents is None:
        seats = [candidate] * num_agents
    else:
        seats = [candidate, *opponent_seats(num_agents - 1, opponents, scenario.name)]
    batch = GameBatch(scenario, seats, games, seed=seed)
    finished = batch.play_out(with_planners(batch))
    return finished.scores.mean(axis=1) if opponents is None else finished.scores[:, 0]


def check_search_budget(generations: int, popsize: int, games: int, prefix: str = ""
                        ) -> tuple[int, int, int]:
    """The counts of a CMA-ES search, checked before any is spent (``prefix``: how the
    caller names its options, such as ``--br-``); the batch checks the games' memory."""
    return (check_count(f"{prefix}generations", generations, 1, MAX_GENERATIONS),
            check_count(f"{prefix}popsize", popsize, 2, MAX_POPSIZE),
            check_count(f"{prefix}games", games))


def evolve(scenario: str | Scenario, generations: int = 40, popsize: int = 16,
           games: int = 500, seed: int = 0, num_agents: int = 4,
           opponents: Sequence[StrategySpec | Seat] | str | None = None,
           on_generation: Callable[[int, float, float], None] | None = None,
           fitness: Callable[[np.ndarray, int, int], np.ndarray] | None = None,
           ) -> EvolutionResult:
    """Search the 10 scripted parameters (in [0, 1]) for the highest mean score.

    ``fitness(params, games, seed)`` (per-game scores) replaces :func:`strategy_fitness`
    where the candidate meets players the engine cannot script, such as trained policies.
    """
    generations, popsize, games = check_search_budget(generations, popsize, games)
    check_seed(seed)
    scenario = get_scenario(scenario)
    scenario.check_num_agents(num_agents)
    if fitness is None:
        def fitness(params: np.ndarray, games: int, seed: int) -> np.ndarray:
            return strategy_fitness(params, scenario, num_agents, opponents, games, seed)
    es = cma.CMAEvolutionStrategy(
        [0.5] * NUM_PARAMS, 0.3,
        {"bounds": [0.0, 1.0], "popsize": popsize, "seed": seed + 1, "verbose": -9},
    )
    history = []
    seeds = np.random.SeedSequence(seed).generate_state(generations + 1, dtype=np.uint32)
    for generation in range(generations):
        candidates = es.ask()
        scores = [float(fitness(np.clip(x, 0, 1), games, int(seeds[generation])).mean())
                  for x in candidates]
        es.tell(candidates, [-f for f in scores])  # CMA-ES minimises
        history.append({"generation": generation, "best": max(scores),
                        "mean": float(np.mean(scores))})
        if on_generation is not None:
            on_generation(generation, max(scores), float(np.mean(scores)))
    best = np.clip(es.result.xfavorite, 0.0, 1.0)
    held_out = fitness(best, HELD_OUT_GAMES, int(seeds[generations]))
    return EvolutionResult(
        scenario=scenario.name,
        params=[round(float(v), 6) for v in best],
        fitness=float(held_out.mean()),
        fitness_ci95=ci95_half_width(held_out),
        history=history,
        mode="self-play" if opponents is None else f"vs {opponents}",
        num_agents=num_agents,
        games=games,
        generations=generations,
        popsize=popsize,
        seed=seed,
    )
