"""The symmetric N-player empirical game: its solver on games with known equilibria, deviation
gains against brute-force enumeration, and tables played on common random numbers."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from bucket_brigade.analysis.contenders import parse_strategies, play_profile
from bucket_brigade.analysis.empirical_game import (
    PlayedTable,
    SymmetricGame,
    check_on_fresh_games,
    focal_scores,
    fresh_seed,
    join_tables,
    opponent_profiles,
    play_table,
    play_table_in_jobs,
    support_profiles,
    symmetric_equilibria,
)
from bucket_brigade.envs.vector import derived_seed
from bucket_brigade.game.scenarios import MAX_HOUSES, get_scenario
from bucket_brigade.sweep.jobs import job_runner
from bucket_brigade.training.network import PolicyNetwork

VOLUNTEER, IGNORE = 0, 1


def volunteers_dilemma(num_agents: int, benefit: float, cost: float) -> SymmetricGame:
    """Everyone gets ``benefit`` if at least one agent volunteers; volunteering costs ``cost``.
    Its symmetric mixed equilibrium ignores with probability (cost / benefit)^(1 / (N - 1)),
    while "me against N - 1 copies" says cost / benefit."""
    profiles = opponent_profiles(2, num_agents - 1)
    anyone_volunteers = (profiles == VOLUNTEER).any(axis=1)
    payoffs = np.stack([np.full(len(profiles), benefit - cost),
                        np.where(anyone_volunteers, benefit, 0.0)])
    return SymmetricGame(payoffs, num_agents)


def brute_force_gains(game: SymmetricGame, mix: np.ndarray) -> np.ndarray:
    """u_s(x) - x.u(x) by enumerating every ordered choice of the N - 1 others."""
    index = {tuple(p): i for i, p in enumerate(game.profiles.tolist())}
    against = np.zeros(game.num_strategies)
    for others in itertools.product(range(game.num_strategies), repeat=game.num_agents - 1):
        chance = math.prod(mix[k] for k in others)
        against += chance * game.payoffs[:, index[tuple(sorted(others))]]
    return against - mix @ against


def test_profiles_are_the_multisets_of_the_others() -> None:
    assert len(opponent_profiles(9, 3)) == math.comb(9 + 4 - 2, 4 - 1) == 165
    assert opponent_profiles(2, 2).tolist() == [[0, 0], [0, 1], [1, 1]]


@pytest.mark.parametrize("num_agents", [3, 4])
def test_volunteers_dilemma_solver_finds_the_n_player_equilibrium(num_agents: int) -> None:
    benefit, cost = 4.0, 1.0
    game = volunteers_dilemma(num_agents, benefit, cost)
    equilibria = symmetric_equilibria(game)
    ignore = (cost / benefit) ** (1 / (num_agents - 1))
    assert len(equilibria) == 1
    np.testing.assert_allclose(equilibria[0], [1 - ignore, ignore], atol=1e-7)
    assert game.value(equilibria[0]) == pytest.approx(benefit - cost)

    # The "N - 1 copies of t" matrix game's equilibrium ignores with probability c / b ...
    matrix = SymmetricGame(game.copies_view()[:, [0, 1]], 2)
    (matrix_answer,) = symmetric_equilibria(matrix)
    np.testing.assert_allclose(matrix_answer, [1 - cost / benefit, cost / benefit])
    # ... and is no equilibrium of the N-player game: ignoring gains against it.
    ignores = cost / benefit
    ignore_pays = benefit * (1 - ignores ** (num_agents - 1))  # someone else volunteers
    gains = game.deviation_gains(matrix_answer)
    assert gains[IGNORE] == pytest.approx((1 - ignores) * (ignore_pays - (benefit - cost)))
    assert gains[IGNORE] > 0.5


def test_two_player_games_are_the_matrix_games() -> None:
    hawk_dove = SymmetricGame(np.array([[-0.5, 2.0], [0.0, 1.0]]), 2)  # V = 2, C = 3
    (only,) = symmetric_equilibria(hawk_dove)
    np.testing.assert_allclose(only, [2 / 3, 1 / 3], atol=1e-7)
    rock_paper_scissors = SymmetricGame(
        np.array([[0.0, -1.0, 1.0], [1.0, 0.0, -1.0], [-1.0, 1.0, 0.0]]), 2)
    (only,) = symmetric_equilibria(rock_paper_scissors)
    np.testing.assert_allclose(only, [1 / 3] * 3, atol=1e-7)
    coordination = symmetric_equilibria(SymmetricGame(np.array([[2.0, 0.0], [0.0, 1.0]]), 2))
    assert len(coordination) == 3
    for mix in ([1.0, 0.0], [0.0, 1.0], [1 / 3, 2 / 3]):
        assert any(np.allclose(mix, x, atol=1e-7) for x in coordination)


def test_every_equilibrium_found_passes_the_exact_check() -> None:
    rng = np.random.default_rng(3)
    game = SymmetricGame(rng.normal(size=(4, len(opponent_profiles(4, 3)))), 4)
    equilibria = symmetric_equilibria(game)
    assert equilibria  # a finite symmetric game has a symmetric equilibrium (Nash 1951)
    for mix in equilibria:
        assert mix.sum() == pytest.approx(1.0) and (mix >= 0).all()
        assert game.deviation_gains(mix).max() <= 1e-6


@pytest.mark.parametrize(("num_strategies", "num_agents"), [(3, 3), (3, 4), (2, 5)])
def test_deviation_gains_match_brute_force_enumeration(num_strategies: int,
                                                       num_agents: int) -> None:
    rng = np.random.default_rng(num_strategies * 10 + num_agents)
    profiles = opponent_profiles(num_strategies, num_agents - 1)
    game = SymmetricGame(rng.normal(size=(num_strategies, len(profiles))), num_agents)
    mix = rng.dirichlet(np.ones(num_strategies))
    np.testing.assert_allclose(game.deviation_gains(mix), brute_force_gains(game, mix))

    # The per-game paired gains average to the same numbers.
    scores = game.payoffs[..., None] + rng.normal(size=(num_strategies, len(profiles), 50))
    table = PlayedTable([f"s{k}" for k in range(num_strategies)], num_agents, 0, profiles,
                        scores, np.zeros(game.payoffs.shape), np.zeros(game.payoffs.shape))
    gains, ci95 = table.deviation_gains(mix)
    np.testing.assert_allclose(gains, brute_force_gains(table.game(), mix))
    assert (ci95 > 0).all()


def test_a_mix_needs_only_the_profiles_it_can_draw() -> None:
    assert support_profiles(np.array([0.5, 0.0, 0.5]), 2).tolist() == [[0, 0], [0, 2], [2, 2]]


def test_the_focal_agent_sits_in_every_seat_on_shared_games() -> None:
    scenario = get_scenario("greedy_neighbor")
    hero, free_rider, coordinator = parse_strategies("hero,free_rider,coordinator", scenario, 4)
    scores, _, _ = focal_scores(scenario, hero, [free_rider, coordinator, coordinator], 10, 7)
    # Games 0-2 in seat 0, 3-5 in seat 1, then two each in seats 2 and 3, the others in
    # order after the focal agent round the table.
    seat_one = play_profile(scenario, [coordinator, hero, free_rider, coordinator], 3,
                            derived_seed(7, 1))
    np.testing.assert_array_equal(scores[3:6], seat_one.scores[:, 1])
    seat_three = play_profile(scenario, [free_rider, coordinator, coordinator, hero], 2,
                              derived_seed(7, 3))
    np.testing.assert_array_equal(scores[8:], seat_three.scores[:, 3])


def test_table_cells_share_their_games() -> None:
    scenario = get_scenario("greedy_neighbor")
    contenders = parse_strategies("free_rider,hero", scenario, 3)
    table = play_table(contenders, scenario, 3, games=40, seed=5)
    assert table.scores.shape == (2, 3, 40)
    again, _, _ = focal_scores(scenario, contenders[0], [contenders[0], contenders[1]], 40, 5)
    np.testing.assert_array_equal(again, table.scores[0, 1])
    assert table.work_rate[1, 2] > table.work_rate[0, 0]  # heroes work, free riders rest


def test_fresh_games_check_plays_the_support_only() -> None:
    scenario = get_scenario("greedy_neighbor")
    contenders = parse_strategies("free_rider,hero,coordinator", scenario, 3)
    mix = np.array([0.5, 0.5, 0.0])
    gains, ci95, value = check_on_fresh_games(contenders, mix, scenario, 3, 30, seed=9)
    full = play_table(contenders, scenario, 3, 30, seed=9)
    expected, expected_ci = full.deviation_gains(mix)
    np.testing.assert_allclose(gains, expected)
    np.testing.assert_allclose(ci95, expected_ci)
    np.testing.assert_allclose(value, full.game().value(mix))


def test_fresh_games_share_no_stream_with_the_table() -> None:
    seed = 4
    seats = range(MAX_HOUSES)
    table = {derived_seed(seed, r) for r in seats}
    fresh = {derived_seed(fresh_seed(seed), r) for r in seats}
    assert not table & fresh


def assert_same_table(table: PlayedTable, expected: PlayedTable) -> None:
    assert table.names == expected.names and table.seed == expected.seed
    for field in ("profiles", "scores", "work_rate", "honesty"):
        np.testing.assert_array_equal(getattr(table, field), getattr(expected, field))


def test_a_table_played_in_jobs_is_the_serial_table(tmp_path: Path) -> None:
    """Chunks of opponent profiles in worker processes, each on its own copy of the
    contenders (a trained policy among them), give the serial table game by game; so do the
    fresh-game checks."""
    scenario = get_scenario("chain_reaction")
    model_path = tmp_path / "model_tiny.pt"
    torch.save(PolicyNetwork(scenario.obs_dim(4), [10, 2, 2], hidden_size=8).state_dict(),
               model_path)
    contenders = parse_strategies(f"free_rider,hero,{model_path}", scenario, 4)
    serial = play_table(contenders, scenario, 4, games=24, seed=3)
    mix = np.array([0.25, 0.0, 0.75])
    with job_runner("local", workers=2) as runner:
        table = play_table_in_jobs(runner, contenders, scenario, 4, 24, 3)
        checked = check_on_fresh_games(contenders, mix, scenario, 4, 24, 5, runner)
    assert_same_table(table, serial)
    for got, expected in zip(checked, check_on_fresh_games(contenders, mix, scenario, 4, 24, 5)):
        np.testing.assert_array_equal(got, expected)


def test_tables_join_only_when_they_match() -> None:
    scenario = get_scenario("greedy_neighbor")
    contenders = parse_strategies("free_rider,hero", scenario, 3)
    profiles = opponent_profiles(2, 2)
    parts = [play_table(contenders, scenario, 3, 10, 1, profiles[:1]),
             play_table(contenders, scenario, 3, 10, 1, profiles[1:])]
    assert_same_table(join_tables(parts), play_table(contenders, scenario, 3, 10, 1))
    other_seed = play_table(contenders, scenario, 3, 10, 2, profiles[1:])
    with pytest.raises(ValueError, match="differ in strategies, agents, seed or games"):
        join_tables([parts[0], other_seed])


@pytest.mark.slow  # starts a Ray instance
def test_a_table_played_as_ray_tasks_is_the_serial_table() -> None:
    pytest.importorskip("ray", reason="Ray is not installed (pip install 'bucket-brigade[ray]')")
    scenario = get_scenario("easy")
    contenders = parse_strategies("free_rider,hero", scenario, 3)
    with job_runner("ray", workers=2) as runner:
        table = play_table_in_jobs(runner, contenders, scenario, 3, 16, 8)
    assert_same_table(table, play_table(contenders, scenario, 3, 16, 8))
