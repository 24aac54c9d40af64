"""Per-game random streams (SplitMix64), identical in the reference and the fast engine.

Every game owns one 64-bit stream for the world (fires, spread, sparks) and one
per agent seat (scripted decisions and strategy draws). A game's draws never
depend on how many other games share a batch, and one seat's strategy never
shifts another seat's draws, so strategies compared in a seat face the same
opponents and the same world (common random numbers). The reference engine
replays the exact draws of the compiled kernel. The order in which draws are taken is part
of the engine contract and is documented in ``docs/engine.md``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

MASK64 = (1 << 64) - 1
GOLDEN_GAMMA = 0x9E3779B97F4A7C15
MIX_1 = 0xBF58476D1CE4E5B9
MIX_2 = 0x94D049BB133111EB
UNIT = 1.0 / (1 << 53)

WORLD_STREAM = 1


def check_seed(seed: Any) -> int:
    """``seed`` as an int; a seed is the start of 64-bit streams, so it must be an integer in
    [0, 2**64) (a TypeError or ValueError names anything else, never rounds or wraps it)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed={seed!r} must be an integer in [0, 2**64)")
    if not 0 <= seed <= MASK64:
        raise ValueError(f"seed={seed} must be an integer in [0, 2**64)")
    return int(seed)


def agent_stream(agent: int) -> int:
    """Stream id of agent seat ``agent`` (the world is stream 1)."""
    return 2 + agent


def mix64(value: int) -> int:
    """SplitMix64 output function: a bijective scramble of a 64-bit integer."""
    z = (value + GOLDEN_GAMMA) & MASK64
    z = ((z ^ (z >> 30)) * MIX_1) & MASK64
    z = ((z ^ (z >> 27)) * MIX_2) & MASK64
    return z ^ (z >> 31)


def stream_state(seed: int, game: int, stream: int) -> int:
    """Initial state of one game's stream, derived from the batch seed."""
    return mix64(mix64(mix64(seed & MASK64) ^ stream) + game)


def mix64_array(values: np.ndarray) -> np.ndarray:
    """:func:`mix64` of every entry of a uint64 array (wrapping arithmetic, like the kernel)."""
    z = values + np.uint64(GOLDEN_GAMMA)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(MIX_1)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(MIX_2)
    return z ^ (z >> np.uint64(31))


def next_uniforms(states: np.ndarray, count: int) -> np.ndarray:
    """The next ``count`` draws in [0, 1) of every stream in ``states`` (uint64 [M]),
    advancing them in place: the kernel's draws, as arrays."""
    draws = np.empty((len(states), count))
    for k in range(count):
        states += np.uint64(GOLDEN_GAMMA)
        draws[:, k] = (mix64_array(states - np.uint64(GOLDEN_GAMMA)) >> np.uint64(11)) * UNIT
    return draws


def stream_states(seed: int, games: int | np.ndarray, streams: list[int]) -> np.ndarray:
    """Initial states [G, len(streams)] of the given streams of games ``0..games-1`` (or of
    the game indices in the array ``games``): :func:`stream_state`, computed as arrays."""
    indices = np.arange(games, dtype=np.uint64) if np.ndim(games) == 0 \
        else np.asarray(games).astype(np.uint64)
    per_stream = mix64_array(np.uint64(mix64(seed & MASK64))
                             ^ np.asarray(streams, dtype=np.uint64))
    return mix64_array(per_stream[None, :] + indices[:, None])


class SplitMix64:
    """Pure-Python twin of the kernel's generator, used by the reference engine."""

    def __init__(self, state: int) -> None:
        self.state = state & MASK64

    def uniform(self) -> float:
        """Next draw in [0, 1) with 53 random bits."""
        self.state = (self.state + GOLDEN_GAMMA) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * MIX_1) & MASK64
        z = ((z ^ (z >> 27)) * MIX_2) & MASK64
        z ^= z >> 31
        return (z >> 11) * UNIT
