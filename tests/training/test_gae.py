"""GAE against a rollout worked out by hand, including a game that ends mid-rollout."""

from __future__ import annotations

import pytest
import torch

from bucket_brigade.training import compute_gae


def test_gae_matches_a_hand_computed_rollout() -> None:
    # One game over three steps; it ends with step 1, so step 2 starts a new game.
    gamma, lam = 0.9, 0.5
    rewards = torch.tensor([[1.0], [2.0], [3.0]])
    values = torch.tensor([[0.5], [1.0], [2.0]])
    terminated = torch.tensor([[0.0], [1.0], [0.0]])
    next_value = torch.tensor([4.0])
    # Step 2: delta = 3 + 0.9 * 4 - 2 = 4.6; nothing follows it in the rollout.
    # Step 1: terminal, so delta = 2 - 1 = 1 and the advantage does not look ahead.
    # Step 0: delta = 1 + 0.9 * 1.0 - 0.5 = 1.4; advantage = 1.4 + 0.9 * 0.5 * 1 = 1.85.
    advantages, returns = compute_gae(rewards, values, terminated, next_value, gamma, lam)
    assert advantages[:, 0].tolist() == pytest.approx([1.85, 1.0, 4.6])
    assert returns[:, 0].tolist() == pytest.approx([2.35, 2.0, 6.6])


def test_lambda_one_and_no_termination_gives_discounted_returns() -> None:
    rewards = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    values = torch.zeros(2, 2)
    terminated = torch.zeros(2, 2)
    _, returns = compute_gae(rewards, values, terminated, torch.tensor([10.0, 1.0]), 0.5, 1.0)
    assert returns[:, 0].tolist() == pytest.approx([1 + 0.5 + 0.25 * 10, 1 + 0.5 * 10])
    assert returns[:, 1].tolist() == pytest.approx([0.25, 0.5])
