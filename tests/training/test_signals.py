"""Cheap-talk metrics: the mutual-information estimate on cases with a known answer."""

from __future__ import annotations

import numpy as np
import pytest

from bucket_brigade.training.signals import (
    honesty,
    mutual_information_bits,
    mutual_information_from_joint,
    signal_next_mode_pairs,
)


def test_independent_sequences_carry_about_no_information() -> None:
    rng = np.random.default_rng(0)
    first, second = rng.integers(0, 2, 100_000), rng.integers(0, 2, 100_000)
    # Plug-in bias for a 2x2 table is about 1 / (2 n ln 2) = 7e-6 bits; the spread is similar.
    assert mutual_information_bits(first, second) < 1e-3


def test_identical_fair_bits_carry_one_bit() -> None:
    bits = np.tile([0, 1], 500)
    assert mutual_information_bits(bits, bits) == pytest.approx(1.0)
    assert mutual_information_bits(bits, 1 - bits) == pytest.approx(1.0)  # a consistent liar


def test_known_two_by_two_joint() -> None:
    # P = [[0.4, 0.1], [0.1, 0.4]]: uniform marginals, MI = 1 - H(0.2) bits.
    joint = np.array([[0.4, 0.1], [0.1, 0.4]])
    expected = 1 + 0.2 * np.log2(0.2) + 0.8 * np.log2(0.8)
    assert mutual_information_from_joint(joint) == pytest.approx(expected)
    first = np.repeat([0, 0, 1, 1], [40, 10, 10, 40])
    second = np.repeat([0, 1, 0, 1], [40, 10, 10, 40])
    assert mutual_information_bits(first, second) == pytest.approx(expected)


def test_constant_signal_says_nothing() -> None:
    assert mutual_information_bits(np.zeros(50), np.arange(50) % 2) == 0.0
    assert mutual_information_bits(np.array([]), np.array([])) == 0.0


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot pair 3 values with 2"):
        mutual_information_bits(np.zeros(3), np.zeros(2))
    with pytest.raises(ValueError, match="non-negative"):
        mutual_information_bits(np.array([-1, 0]), np.array([0, 1]))


def test_pairs_never_cross_a_game_end() -> None:
    signals = np.array([[1, 0], [0, 1], [1, 1]])  # [T=3, E=2]
    modes = np.array([[0, 0], [1, 0], [0, 1]])
    terminated = np.array([[0, 1], [0, 0], [1, 0]])
    signal_t, mode_next = signal_next_mode_pairs(signals, modes, terminated)
    # slot 0: (1 -> 1), (0 -> 0); slot 1: step 0 ended a game, then (1 -> 1).
    assert sorted(zip(signal_t.tolist(), mode_next.tolist())) == [(0, 0), (1, 1), (1, 1)]
    assert honesty(signals, modes) == pytest.approx(2 / 6)
