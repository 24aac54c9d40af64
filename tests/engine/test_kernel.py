"""Compiled helpers beside the night kernel: a scripted seat's choices on their own, and the
probability of an observed choice (the planner's likelihood), checked against each other."""

from __future__ import annotations

import itertools

import numpy as np

from bucket_brigade.engine import kernel
from bucket_brigade.game.scripted import EXPLORATION, NUM_PARAMS

HOUSES, AGENTS, GAMES, SAMPLES, AGENT = 7, 3, 40, 4, 1


def random_states(seed: int) -> tuple[np.ndarray, ...]:
    """Houses, locations, signals and fatigue targets of GAMES arbitrary states, the first
    five without any fire."""
    rng = np.random.default_rng(seed)
    houses = rng.integers(0, 3, (GAMES, HOUSES)).astype(np.int8)
    houses[:5] = 0
    locations = rng.integers(0, HOUSES, (GAMES, AGENTS))
    signals = rng.integers(0, 2, (GAMES, AGENTS)).astype(np.int8)
    last_target = np.where(rng.random((GAMES, AGENTS)) < 0.5, locations, -1)
    return houses, locations, signals, last_target


def likelihood_table(state: tuple[np.ndarray, ...], params: np.ndarray) -> np.ndarray:
    """P(house, mode, signal) [GAMES, SAMPLES, H, 2, 2] of every action."""
    table = np.zeros((GAMES, SAMPLES, HOUSES, 2, 2))
    for house, mode, signal in itertools.product(range(HOUSES), range(2), range(2)):
        observed = np.tile([house, mode, signal], (GAMES, 1)).astype(np.int64)
        out = np.zeros((GAMES, SAMPLES))
        kernel.scripted_likelihoods(AGENT, *state, params, observed,
                                    np.zeros((GAMES, HOUSES)), out)
        table[:, :, house, mode, signal] = out
    return table


def test_the_likelihoods_of_all_actions_sum_to_one() -> None:
    params = np.random.default_rng(1).random((GAMES, SAMPLES, NUM_PARAMS))
    params[:, 0, EXPLORATION] = 0.0  # some samples never explore: zeros appear
    table = likelihood_table(random_states(0), params)
    np.testing.assert_allclose(table.sum(axis=(2, 3, 4)), 1.0, atol=1e-12)
    assert (table[:, 0] == 0).any()


def test_the_likelihood_is_how_often_the_seat_chooses_each_action() -> None:
    state = random_states(2)
    params = np.random.default_rng(3).random((GAMES, SAMPLES, NUM_PARAMS))
    expected = likelihood_table(state, params)[:, 0]
    seat_params = np.zeros((GAMES, AGENTS, NUM_PARAMS))
    seat_params[:, AGENT] = params[:, 0]
    streams = np.zeros((GAMES, 1 + AGENTS), dtype=np.uint64)
    streams[:, 1 + AGENT] = np.arange(GAMES, dtype=np.uint64) * np.uint64(7919)
    chosen = np.zeros((GAMES, 3), dtype=np.int64)
    draws = 4_000
    counts = np.zeros_like(expected)
    for _ in range(draws):
        kernel.scripted_seat_actions(AGENT, *state, seat_params, streams,
                                     np.zeros((GAMES, HOUSES)), chosen)
        counts[np.arange(GAMES), chosen[:, 0], chosen[:, 1], chosen[:, 2]] += 1
    frequency = counts / draws
    # Within 5 standard errors of a binomial frequency (and exact for impossible actions).
    tolerance = 5 * np.sqrt(expected * (1 - expected) / draws) + 1e-12
    assert (np.abs(frequency - expected) <= tolerance).all()
