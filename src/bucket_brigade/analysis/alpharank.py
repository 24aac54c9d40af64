"""α-Rank (Omidshafiei et al. 2019) of a symmetric N-player game: a ranking by evolutionary
dynamics rather than by equilibrium, as a second opinion on the equilibria.

Each seat is a population whose agents all play one strategy; a mutant strategy in one seat
takes over that population, at infinite selection intensity (the limit α-Rank ranks by),
with probability 1 - eps when it scores more there than the residents and eps when it
scores less (1/2 on a tie), so that the chain stays irreducible. The chain over the K^N
monomorphic profiles has a unique stationary distribution; a strategy's mass is the share
of time the chain spends with seat 0 playing it (every seat gives the same numbers: the
game is symmetric). This is the multi-population model of OpenSpiel's
``egt.alpharank.compute(..., use_inf_alpha=True)``, built here as a sparse chain: OpenSpiel
builds it densely and solves it by a full eigendecomposition, which for K = 9 strategies and
N = 4 agents (6,561 profiles) takes most of an hour; the tests check that the two agree.
Finite intensities are left out: those large enough to rank on these scores (gaps of a few
points) make some profiles all but absorbing, which neither solver handles reliably.
"""

from __future__ import annotations

import numpy as np

from bucket_brigade.analysis.empirical_game import SymmetricGame

INFINITE_ALPHA_EPS = 0.01  # OpenSpiel's default inf_alpha_eps
TIE = 1e-14  # payoff differences below this are ties (as OpenSpiel's)
MAX_POWER_STEPS = 1_000_000
POWER_TOLERANCE = 1e-13  # L1 change of the distribution in one step


def seat_payoff_tensor(game: SymmetricGame) -> np.ndarray:
    """``T[s_0, ..., s_{N-1}]``: seat 0's payoff when seat i plays s_i (seat k's tensor is
    the same with the axes 0 and k swapped)."""
    size, num_agents = game.num_strategies, game.num_agents
    index = {tuple(p): i for i, p in enumerate(game.profiles.tolist())}
    joint = np.indices((size,) * num_agents).reshape(num_agents, -1).T
    lookup = [index[tuple(sorted(row[1:]))] for row in joint.tolist()]
    return game.payoffs[joint[:, 0], lookup].reshape((size,) * num_agents)


def fixation_probability(gain: np.ndarray) -> np.ndarray:
    """Chance that a mutant scoring ``gain`` more than the residents takes over its seat."""
    gain = np.asarray(gain, dtype=np.float64)
    return np.where(np.abs(gain) <= TIE, 0.5,
                    np.where(gain > 0, 1 - INFINITE_ALPHA_EPS, INFINITE_ALPHA_EPS))


def alpharank(game: SymmetricGame) -> np.ndarray:
    """Each strategy's α-Rank mass (summing to 1)."""
    from scipy.sparse import coo_matrix

    size, num_agents = game.num_strategies, game.num_agents
    if size == 1:
        return np.ones(1)
    tensor = seat_payoff_tensor(game)
    shape = (size,) * num_agents
    states = np.arange(size ** num_agents)
    joint = np.array(np.unravel_index(states, shape))  # [N, S]
    eta = 1.0 / (num_agents * (size - 1))
    rows, cols, values = [], [], []
    for seat in range(num_agents):
        own = np.swapaxes(tensor, 0, seat).reshape(-1)  # seat's payoff, indexed by profile
        for shift in range(1, size):
            mutant = joint.copy()
            mutant[seat] = (mutant[seat] + shift) % size
            target = np.ravel_multi_index(tuple(mutant), shape)
            rows.append(states)
            cols.append(target)
            values.append(eta * fixation_probability(own[target] - own))
    moves = coo_matrix((np.concatenate(values), (np.concatenate(rows), np.concatenate(cols))),
                       shape=(len(states), len(states))).tocsr()
    stay = 1.0 - np.asarray(moves.sum(axis=1)).ravel()
    chain = moves + coo_matrix((stay, (states, states)), shape=moves.shape)
    # pi C = pi by power iteration: every move has probability at least eta * eps and every
    # state keeps some mass in place, so the chain mixes and this converges. (A sparse
    # direct solve fills in badly on the K^N grid: 20 to 50 s for K = 9, N = 4, against
    # about a second here.)
    step = chain.T.tocsr()
    stationary = np.full(len(states), 1.0 / len(states))
    for _ in range(MAX_POWER_STEPS):
        following = step @ stationary
        if np.abs(following - stationary).sum() < POWER_TOLERANCE:
            break
        stationary = following
    else:
        raise RuntimeError(f"α-Rank's chain did not settle in {MAX_POWER_STEPS:,} steps")
    return following.reshape(shape).sum(axis=tuple(range(1, num_agents)))
