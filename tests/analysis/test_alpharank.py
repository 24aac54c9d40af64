"""α-Rank of symmetric N-player games: OpenSpiel's answer on small games and a dominant
strategy's win."""

from __future__ import annotations

import numpy as np
import pytest

from bucket_brigade.analysis.alpharank import alpharank, seat_payoff_tensor
from bucket_brigade.analysis.empirical_game import SymmetricGame, opponent_profiles


def random_game(num_strategies: int, num_agents: int, seed: int) -> SymmetricGame:
    rng = np.random.default_rng(seed)
    profiles = opponent_profiles(num_strategies, num_agents - 1)
    return SymmetricGame(rng.normal(size=(num_strategies, len(profiles))), num_agents)


@pytest.mark.parametrize(("num_strategies", "num_agents"), [(3, 2), (3, 3), (4, 3), (2, 4)])
def test_matches_openspiel(num_strategies: int, num_agents: int) -> None:
    openspiel_alpharank = pytest.importorskip("open_spiel.python.egt.alpharank")
    game = random_game(num_strategies, num_agents, seed=num_strategies * num_agents)
    tensor = seat_payoff_tensor(game)
    tables = [np.swapaxes(tensor, 0, seat) for seat in range(num_agents)]
    _, _, pi, _, _ = openspiel_alpharank.compute(tables, use_inf_alpha=True, inf_alpha_eps=0.01)
    expected = pi.reshape((num_strategies,) * num_agents).sum(
        axis=tuple(range(1, num_agents)))
    np.testing.assert_allclose(alpharank(game), expected, atol=1e-9)


def test_seat_tensor_reads_the_focal_payoffs() -> None:
    game = random_game(3, 4, seed=1)
    tensor = seat_payoff_tensor(game)
    index = {tuple(p): i for i, p in enumerate(game.profiles.tolist())}
    assert tensor[2, 0, 1, 0] == game.payoffs[2, index[(0, 0, 1)]]
    assert tensor[2, 1, 0, 0] == tensor[2, 0, 0, 1]  # the others' order does not matter


def test_a_dominant_strategy_takes_nearly_all_the_mass() -> None:
    profiles = opponent_profiles(3, 3)
    payoffs = np.zeros((3, len(profiles)))
    payoffs[1] = 1.0  # strategy 1 beats the others whatever they play
    ranking = alpharank(SymmetricGame(payoffs, 4))
    assert ranking[1] > 0.9 and ranking.sum() == pytest.approx(1.0)
