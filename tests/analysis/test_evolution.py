"""CMA-ES evolution of scripted strategies."""

from __future__ import annotations

import numpy as np
import pytest

from bucket_brigade.analysis.evolution import evolve, strategy_fitness
from bucket_brigade.game.scenarios import get_scenario
from bucket_brigade.game.scripted import ARCHETYPES

HELD_OUT_SEED = 12345
HELD_OUT_GAMES = 2000


def test_small_evolution_beats_every_archetype_in_self_play() -> None:
    """Rebuild an evolved strategy with a small budget; on the same held-out games
    (paired, common random numbers) it must out-score every archetype in self-play."""
    scenario = get_scenario("default")
    result = evolve(scenario, generations=20, popsize=10, games=200, seed=0)
    evolved = strategy_fitness(result.params, scenario, 4, None, HELD_OUT_GAMES,
                               HELD_OUT_SEED)
    for name, params in ARCHETYPES.items():
        archetype = strategy_fitness(list(params), scenario, 4, None, HELD_OUT_GAMES,
                                     HELD_OUT_SEED)
        gain = evolved - archetype
        assert gain.mean() > 0, name
        if name != "hero":  # hero (everyone always works) is close to optimal in self-play
            assert gain.mean() > 3 * gain.std(ddof=1) / np.sqrt(HELD_OUT_GAMES), name


def test_same_seed_same_result() -> None:
    first = evolve("easy", generations=3, popsize=4, games=20, seed=7)
    second = evolve("easy", generations=3, popsize=4, games=20, seed=7)
    assert first.params == second.params
    assert first.history == second.history
    assert len(first.history) == 3
    assert all(0.0 <= p <= 1.0 for p in first.params)


def test_against_a_fixed_pool() -> None:
    """The candidate sits in seat 0 against the pool: its held-out fitness is its score
    there, not the self-play team score."""
    scenario = get_scenario("easy")
    result = evolve(scenario, generations=2, popsize=4, games=20, seed=3,
                    opponents="pool:hero,random")
    assert result.mode == "vs pool:hero,random"
    held_out_seed = int(np.random.SeedSequence(3).generate_state(3, dtype=np.uint32)[2])
    against_pool = strategy_fitness(result.params, scenario, 4, "pool:hero,random",
                                    HELD_OUT_GAMES, held_out_seed)
    self_play = strategy_fitness(result.params, scenario, 4, None, HELD_OUT_GAMES,
                                 held_out_seed)
    assert result.fitness == pytest.approx(against_pool.mean(), abs=1e-9)
    assert result.fitness != pytest.approx(self_play.mean(), abs=1e-3)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"generations": 0}, "generations=0"),
    ({"popsize": 1}, "popsize=1"),
    ({"games": 0}, "games=0"),
    ({"generations": 10**18}, "generations=1000000000000000000 must be an integer from 1 to"),
    ({"generations": 2.0}, "generations=2.0 must be an integer"),
    ({"popsize": True}, "popsize=True must be an integer"),
    ({"num_agents": 11}, "num_agents=11"),
])
def test_bad_budgets(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        evolve("easy", **kwargs)


def test_a_planner_can_be_the_opponent() -> None:
    """Fitness against planners is seat 0's score in games where they search: hero's
    against planners over hero differs from its score against plain heroes."""
    scenario = get_scenario("greedy_neighbor")
    against_planners = strategy_fitness(ARCHETYPES["hero"], scenario, 4, "planner@4/2", 12, 1)
    against_heroes = strategy_fitness(ARCHETYPES["hero"], scenario, 4, "hero", 12, 1)
    assert against_planners.shape == (12,)
    assert not np.array_equal(against_planners, against_heroes)
