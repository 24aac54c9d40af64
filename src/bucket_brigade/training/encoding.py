"""The policy's encoding of raw observations (``PolicyNetwork.encode``: the offsets that
mask pointless actions, and ``StructuredBody.encode``) as compiled passes on the CPU.

In PyTorch the encoding is a dozen passes over the batch (gathers, comparisons, sums),
each with its own temporary tensor; for the rollout's batch of 1,024 observations that
cost as much as the policy's forward pass. The kernels below write each encoded row in
one visit. Every value they write is a small integer, a copied observation entry or
0 x or 1 x the padding logit, as the PyTorch encoding computes it, so they are exactly
that encoding (the tests compare them), which stays the path off the CPU. Like the
house layer's, they run on the calling thread.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from bucket_brigade.game.constants import BURNING


@nb.njit(cache=True, nogil=True)
def encode_observations(obs, onehot_entry, onehot_value, real_entry, ring, last_house_entry,
                        last_mode_entry, signal_entry, me_there, out):
    """Fill ``out`` [B, F + R + H + 1 + H] from ``obs`` [B, obs_dim]: F one-hot features
    (entry ``onehot_entry[f]`` equals ``onehot_value[f]``), R copied real entries, the
    number of burning houses as one-hot over 0..H, then each house's combination number
    (see ``StructuredBody``): the states of houses ``ring[m]`` in base 3, how many others
    worked there, how many others signalled WORK there, and where I was."""
    games = obs.shape[0]
    features, reals, houses = len(onehot_entry), len(real_entry), ring.shape[0]
    agents = len(last_house_entry)
    fires_at, combinations_at = features + reals, features + reals + houses + 1
    for b in range(games):
        row, encoded = obs[b], out[b]
        for f in range(features):
            encoded[f] = 1.0 if row[onehot_entry[f]] == onehot_value[f] else 0.0
        for r in range(reals):
            encoded[features + r] = row[real_entry[r]]
        fires = 0
        for m in range(houses):
            fires += row[m] == BURNING
        for count in range(houses + 1):
            encoded[fires_at + count] = 1.0 if fires == count else 0.0
        for m in range(houses):
            states = (row[ring[m, 0]] * 3 + row[ring[m, 1]]) * 3 + row[ring[m, 2]]
            worked = signalled = 0
            for k in range(1, agents):
                if row[last_house_entry[k]] == m:
                    worked += row[last_mode_entry[k]] == 1
                    signalled += row[signal_entry[k]] == 1
            mine = 0
            if row[last_house_entry[0]] == m:
                mine = 2 if row[last_mode_entry[0]] == 1 else 1
            encoded[combinations_at + m] = ((states * agents + worked) * agents
                                            + signalled) * me_there + mine


@nb.njit(cache=True, nogil=True)
def pointless_offsets(obs, houses, intent_works, house_matters, mask, padding, out):
    """Fill ``out`` [B, K + K x H] with ``padding`` where an action is pointless (see
    ``training.network``) and ``mask`` is on, else 0 (as 0 x ``padding``, so with
    PyTorch's sign): the intents, then each intent's houses."""
    intents = len(intent_works)
    on, off = np.float32(1.0) * padding, np.float32(0.0) * padding
    for b in range(obs.shape[0]):
        fire = False
        for m in range(houses):
            fire |= obs[b, m] == BURNING
        for k in range(intents):
            out[b, k] = on if mask and intent_works[k] and not fire else off
            for m in range(houses):
                pointless = (intent_works[k] and obs[b, m] != BURNING) \
                    or (not house_matters[k] and m != 0)
                out[b, intents + k * houses + m] = on if mask and pointless else off
