"""Cheap-talk metrics: how honest agents' signals are and how much they say.

A signal is honest when it equals the mode chosen the same night. Honesty alone
does not make a signal useful: what a teammate can exploit is what tonight's
signal tells about tomorrow's mode, measured here as the mutual information
between an agent's signal on night t and its mode on night t + 1 (0 bits: the
signal says nothing; 1 bit: it announces tomorrow's choice exactly).
"""

from __future__ import annotations

import numpy as np


def mutual_information_bits(first: np.ndarray, second: np.ndarray) -> float:
    """Plug-in estimate, in bits, of the mutual information between two paired sequences
    of small non-negative integers (the empirical joint distribution's MI; 0 for no pairs).

    The plug-in estimate is biased upwards by about (cells - 1) / (2 n ln 2) bits for
    independent variables, negligible for the thousands of pairs of a rollout.
    """
    first, second = np.asarray(first).ravel(), np.asarray(second).ravel()
    if first.shape != second.shape:
        raise ValueError(f"cannot pair {first.size} values with {second.size}")
    if first.size == 0:
        return 0.0
    first, second = first.astype(np.int64), second.astype(np.int64)
    if min(first.min(), second.min()) < 0:
        raise ValueError("mutual_information_bits takes non-negative integer codes")
    width = int(second.max()) + 1
    counts = np.bincount(first * width + second,
                         minlength=(int(first.max()) + 1) * width).reshape(-1, width)
    return mutual_information_from_joint(counts)


def mutual_information_from_joint(joint: np.ndarray) -> float:
    """Mutual information, in bits, of a joint distribution given as a matrix of
    probabilities or counts (normalised here)."""
    joint = np.asarray(joint, dtype=np.float64)
    total = joint.sum()
    if total <= 0:
        return 0.0
    joint = joint / total
    independent = joint.sum(axis=1, keepdims=True) * joint.sum(axis=0, keepdims=True)
    present = joint > 0
    return float(max((joint[present] * np.log2(joint[present] / independent[present])).sum(),
                     0.0))


def signal_next_mode_pairs(signals: np.ndarray, modes: np.ndarray,
                           terminated: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(signal on night t, mode on night t + 1) of every agent-slot of a rollout, from arrays
    [T, E]; ``terminated[t]`` marks a game that ended with step t, whose next step belongs
    to a new game and so makes no pair."""
    signals, modes, terminated = (np.asarray(a) for a in (signals, modes, terminated))
    same_game = ~terminated[:-1].astype(bool)
    return signals[:-1][same_game], modes[1:][same_game]


def honesty(signals: np.ndarray, modes: np.ndarray) -> float:
    """P(signal = mode) over paired arrays (NaN when there are none)."""
    signals, modes = np.asarray(signals), np.asarray(modes)
    return float((signals == modes).mean()) if signals.size else float("nan")


def cheap_talk_metrics(actions: np.ndarray, terminated: np.ndarray) -> dict[str, float]:
    """TensorBoard's cheap_talk/* scalars from a rollout's actions [T, E, (house, mode,
    signal)] and its ``terminated`` flags [T, E]."""
    modes, signals = actions[..., 1], actions[..., 2]
    return {"cheap_talk/honesty": honesty(signals, modes),
            "cheap_talk/mutual_information_bits": mutual_information_bits(
                *signal_next_mode_pairs(signals, modes, terminated))}
