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
    result = evolve("easy", generations=2, popsize=4, games=20, opponents="pool:hero,random")
    assert result.mode == "vs pool:hero,random"


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"generations": 0}, "generations=0"),
    ({"popsize": 1}, "popsize=1"),
    ({"games": 0}, "games=0"),
    ({"num_agents": 11}, "num_agents=11"),
])
def test_bad_budgets(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        evolve("easy", **kwargs)
