"""evaluate(): fixed games, each played to its end once, with common random numbers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bucket_brigade.envs.vector import make_vec_env
from bucket_brigade.evaluation import compare_with_archetypes, evaluate, paired_difference
from bucket_brigade.game.scripted import ARCHETYPES
from bucket_brigade.training import PolicyNetwork


def test_a_strategy_result_is_reproducible_and_complete() -> None:
    first = evaluate("hero", "greedy_neighbor", "random", 3, games=200, seed=5)
    again = evaluate("hero", "greedy_neighbor", "random", 3, games=200, seed=5)
    np.testing.assert_array_equal(first.scores, again.scores)
    assert first.games == 200 and first.scores.shape == (200,)
    assert first.ci95 == pytest.approx(1.96 * first.scores.std(ddof=1) / np.sqrt(200),
                                       rel=1e-3)
    assert 12 <= first.nights <= 100 and 0 <= first.houses_saved <= 10
    assert 0 < first.work_rate < 1 and first.honesty == 1.0  # hero is always honest


def test_the_repr_is_the_headline_not_every_score() -> None:
    result = evaluate("hero", "greedy_neighbor", "random", 3, games=1000, seed=5)
    text = repr(result)
    assert text.startswith(f"EvaluationResult(mean_score={result.mean_score:.2f} ± "
                           f"{result.ci95:.2f}, games=1000, ")
    assert "work_rate=" in text and len(text) < 200


def test_game_k_does_not_depend_on_the_batch_size() -> None:
    small = evaluate("firefighter", "default", "random", 3, games=20, seed=9)
    large = evaluate("firefighter", "default", "random", 3, games=60, seed=9)
    np.testing.assert_array_equal(small.scores, large.scores[:20])


def test_common_random_numbers_make_paired_differences_tight() -> None:
    """Same games, different seat-0 strategy: the paired CI is narrower than either CI."""
    hero = evaluate("hero", "greedy_neighbor", "random", 3, games=400, seed=1)
    firefighter = evaluate("firefighter", "greedy_neighbor", "random", 3, games=400, seed=1)
    difference, ci95 = paired_difference(hero, firefighter)
    assert difference == pytest.approx(hero.mean_score - firefighter.mean_score)
    assert ci95 < 0.75 * min(hero.ci95, firefighter.ci95)


def first_scores_in_the_env(policy: PolicyNetwork, games: int, seed: int) -> np.ndarray:
    """Seat 0's score in each of the env's games at its first end, the policy playing the
    learner's seat greedily: what evaluate() should find, by another road."""
    env = make_vec_env(games, "easy", 3, "random", seed=seed)
    obs, _ = env.reset(seed=seed)
    scores = np.full(games, np.nan)
    while np.isnan(scores).any():
        obs, _, terminated, _, info = env.step(policy.play(obs)[:, :2])  # no cheap talk
        ended = terminated & np.isnan(scores)
        if ended.any():
            scores[ended] = info["final_info"]["score"][ended]
    return scores


def test_a_policy_plays_seat_zero() -> None:
    torch.manual_seed(0)
    policy = PolicyNetwork(36, [10, 2])
    result = evaluate(policy, "easy", "random", 3, games=50, seed=2)
    np.testing.assert_allclose(result.scores, first_scores_in_the_env(policy, 50, 2),
                               rtol=1e-6)
    # Other weights play other games; sampling is reproducible from the seed.
    torch.manual_seed(1)
    other = evaluate(PolicyNetwork(36, [10, 2]), "easy", "random", 3, games=50, seed=2)
    assert not np.array_equal(other.scores, result.scores)
    sampled = evaluate(policy, "easy", "random", 3, games=50, seed=2, sample=True)
    np.testing.assert_array_equal(
        sampled.scores, evaluate(policy, "easy", "random", 3, games=50, seed=2,
                                 sample=True).scores)
    assert not np.array_equal(sampled.scores, result.scores)
    with pytest.raises(ValueError, match="obs_dim=36"):
        evaluate(policy, "easy", "random", 4, games=5)


def test_compare_lists_the_learner_then_every_strategy() -> None:
    policy = PolicyNetwork(36, [10, 2])
    rows = compare_with_archetypes(policy, "easy", "random", 3, games=20, seed=2)
    assert [row["name"] for row in rows] == ["learner", *ARCHETYPES, "random"]
    assert all("learner_minus" in row for row in rows[1:])


def test_bad_game_count() -> None:
    with pytest.raises(ValueError, match="games=0"):
        evaluate("hero", "easy", "random", 3, games=0)


def test_any_callable_from_observations_to_actions_plays_seat_zero() -> None:
    """The adapter for other libraries' policies: [B, obs_dim] -> [B, 2] or [B, 3]."""
    torch.manual_seed(0)
    policy = PolicyNetwork(36, [10, 2])
    network = evaluate(policy, "easy", "random", 3, games=40, seed=2)
    seen_batches: list[int] = []

    def two_columns(obs: np.ndarray) -> np.ndarray:
        seen_batches.append(len(obs))
        return policy.play(obs)[:, :2]

    as_callable = evaluate(two_columns, "easy", "random", 3, games=40, seed=2)
    np.testing.assert_array_equal(as_callable.scores, network.scores)
    assert set(seen_batches) == {40}  # every game's seat 0 at once
    three = evaluate(lambda obs: policy.play(obs), "easy", "random", 3, games=40, seed=2)
    np.testing.assert_array_equal(three.scores, network.scores)


@pytest.mark.parametrize(("policy", "error", "message"), [
    (lambda obs: np.zeros((len(obs), 4), dtype=int), ValueError, r"shape \(7, 4\)"),
    (lambda obs: np.zeros(len(obs), dtype=int), ValueError, r"expected \(7, 2\)"),
    (lambda obs: np.full((len(obs), 2), 10), ValueError, "10"),
    (42, TypeError, "cannot evaluate 42"),
])
def test_a_bad_callable_is_refused_with_what_it_returned(policy, error, message) -> None:
    with pytest.raises(error, match=message):
        evaluate(policy, "easy", "random", 3, games=7)


def test_a_callable_cannot_be_sampled() -> None:
    with pytest.raises(ValueError, match="sample=True needs a trained policy"):
        evaluate(lambda obs: np.zeros((len(obs), 2), dtype=int), "easy", "random", 3,
                 games=3, sample=True)


def test_planner_opponents_play_against_a_greedy_model() -> None:
    """Planners among the opponents play the model's greedy actions in their continuations;
    a sampling model keeps a generator of its own, which they refuse to run."""
    from bucket_brigade.errors import UsageError

    torch.manual_seed(0)
    policy = PolicyNetwork(36, [10, 2])
    first = evaluate(policy, "greedy_neighbor", "planner@2/2,random", 3, games=4, seed=1)
    again = evaluate(policy, "greedy_neighbor", "planner@2/2,random", 3, games=4, seed=1)
    np.testing.assert_array_equal(first.scores, again.scores)
    with pytest.raises(UsageError, match="seat 0 is a trained policy or client"):
        evaluate(policy, "greedy_neighbor", "planner@2/2", 3, games=4, seed=1, sample=True)
