"""The symmetric N-player empirical game: every focal strategy against every multiset of the
other N - 1 agents' strategies, and its symmetric equilibria.

With K strategies and N agents there are C(K + N - 2, N - 1) opponent profiles (165 for
K = 9, N = 4). ``payoffs[s, p]`` is the mean score of one agent playing s while the others
play profile p. Every agent of a symmetric mix x draws its strategy independently, so the
others' profile is drawn from x^(N-1) (a multinomial) and s's expected payoff against x is a
polynomial in x of degree N - 1:

    u_s(x) = sum_p P(p | x) payoffs[s, p],   P(p | x) = (N-1)! / prod_k c_pk! prod_k x_k^c_pk

x is a symmetric Nash equilibrium when no strategy beats x itself: u_s(x) <= x.u(x) for
every s. For N = 2 this is the symmetric matrix game; for N > 2 it is not the matrix game
"s against N - 1 copies of t" (:meth:`SymmetricGame.copies_view`), whose equilibria need not
be equilibria of the game that is played.

The game is seated: agent i's home is house i and houses are owned round-robin, so with 10
houses and 4 agents seats 0 and 1 own three houses and seats 2 and 3 two. A cell therefore
plays its focal agent in every seat equally often (the profile rotated round the table),
which makes the measured game the symmetric one in which seats are drawn at random.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from bucket_brigade.analysis.contenders import Contender, play_profile, use_one_torch_thread
from bucket_brigade.confidence import ci95_half_width
from bucket_brigade.envs.vector import derived_seed
from bucket_brigade.game.scenarios import MAX_HOUSES, Scenario

if TYPE_CHECKING:
    from bucket_brigade.sweep.jobs import JobRunner

MAX_STRATEGIES = 12  # support enumeration visits 2^K - 1 supports
SUPPORT_WEIGHT = 1e-9  # a strategy's weight below this is outside the mix's support
# derived_seed index of the games that check a reported equilibrium: above every rotation's
# index (one per seat, and a game has at most MAX_HOUSES seats), so no check replays the
# table's random streams.
FRESH_GAMES_INDEX = MAX_HOUSES + 1


def opponent_profiles(num_strategies: int, num_others: int) -> np.ndarray:
    """Every multiset of ``num_others`` strategies, as sorted index rows [P, num_others]."""
    rows = list(itertools.combinations_with_replacement(range(num_strategies), num_others))
    return np.array(rows, dtype=np.int64).reshape(len(rows), num_others)


@dataclass(frozen=True)
class SymmetricGame:
    """A symmetric N-player game by its focal payoffs ``payoffs[s, p]`` against opponent
    profile ``opponent_profiles(K, N - 1)[p]``."""

    payoffs: np.ndarray  # [K, P]
    num_agents: int

    def __post_init__(self) -> None:
        size = len(self.payoffs)
        expected = (size, len(opponent_profiles(size, self.num_agents - 1)))
        if self.num_agents < 2 or size == 0 or np.shape(self.payoffs) != expected:
            raise ValueError(f"payoffs of shape {np.shape(self.payoffs)} do not fit "
                             f"{self.num_agents} agents (expected {expected})")

    @property
    def num_strategies(self) -> int:
        return len(self.payoffs)

    @property
    def profiles(self) -> np.ndarray:
        return opponent_profiles(self.num_strategies, self.num_agents - 1)

    def profile_probabilities(self, mix: np.ndarray) -> np.ndarray:
        """P(p | x): how likely N - 1 independent draws from ``mix`` make each profile."""
        return profile_probabilities(self.profiles, mix)

    def payoffs_against(self, mix: np.ndarray) -> np.ndarray:
        """u_s(x) for every s: s's expected payoff when every other agent draws from x."""
        return self.payoffs @ self.profile_probabilities(mix)

    def value(self, mix: np.ndarray) -> float:
        """x.u(x): an agent's expected payoff when everyone draws from x."""
        return float(mix @ self.payoffs_against(mix))

    def deviation_gains(self, mix: np.ndarray) -> np.ndarray:
        """u_s(x) - x.u(x): what one agent gains by playing s while the others draw from x
        (<= 0 for every s exactly when x is a symmetric equilibrium)."""
        against = self.payoffs_against(mix)
        return against - float(mix @ against)

    def copies_view(self) -> np.ndarray:
        """``M[s, t]``: s against N - 1 copies of t, the two-player matrix game that ignores
        that the others draw their strategies independently (a view, not the game)."""
        index = {tuple(p): i for i, p in enumerate(self.profiles.tolist())}
        size = self.num_strategies
        return np.array([[self.payoffs[s, index[(t,) * (self.num_agents - 1)]]
                          for t in range(size)] for s in range(size)])


def profile_probabilities(profiles: np.ndarray, mix: np.ndarray) -> np.ndarray:
    """Multinomial probability of each opponent profile (sorted index rows) under ``mix``."""
    mix = np.asarray(mix, dtype=np.float64)
    counts = np.stack([(profiles == k).sum(axis=1) for k in range(len(mix))], axis=1)
    others = profiles.shape[1]
    coefficients = np.array([math.factorial(others) / math.prod(map(math.factorial, row))
                             for row in counts.tolist()])
    return coefficients * np.prod(mix ** counts, axis=1)


def symmetric_equilibria(game: SymmetricGame, tol: float = 1e-7, starts: int = 4,
                         seed: int = 0) -> list[np.ndarray]:
    """Symmetric Nash equilibria of ``game``, by support enumeration: on a support S the mix
    makes every strategy of S equally good (|S| - 1 polynomial equations and sum x = 1),
    solved by least squares from the uniform mix on S and ``starts`` random ones (seeded);
    a solution counts when its weights are positive and no strategy gains more than ``tol``
    times the largest payoff by deviating (the exact check). Isolated equilibria are found
    as roots; a continuum shows as some of its points.

    Why not a library: OpenSpiel's Nash solvers and its replicator dynamics take two-player
    matrices; Gambit's N-player solvers search every player's strategy separately (K^N
    profiles, (2^K)^N support combinations), not the symmetric mixes; nashpy is two-player.
    """
    from scipy.optimize import least_squares

    size = game.num_strategies
    if size > MAX_STRATEGIES:
        raise ValueError(f"{size} strategies is too many for support enumeration "
                         f"(at most {MAX_STRATEGIES})")
    scale = max(1.0, float(np.abs(game.payoffs).max()))
    rng = np.random.default_rng(seed)
    found: list[np.ndarray] = []

    def accept(mix: np.ndarray) -> None:
        if game.deviation_gains(mix).max() <= tol * scale \
                and not any(np.allclose(mix, other, atol=1e-6) for other in found):
            found.append(mix)

    for support_size in range(1, size + 1):
        for support in itertools.combinations(range(size), support_size):
            idx = list(support)
            if support_size == 1:
                accept(np.eye(size)[idx[0]])
                continue

            def residuals(weights: np.ndarray, idx: list[int] = idx) -> np.ndarray:
                mix = np.zeros(size)
                mix[idx] = weights
                against = game.payoffs_against(mix)[idx]
                return np.append((against[1:] - against[0]) / scale, weights.sum() - 1.0)

            guesses = [np.full(support_size, 1.0 / support_size),
                       *rng.dirichlet(np.ones(support_size), size=starts)]
            for guess in guesses:
                fit = least_squares(residuals, guess, bounds=(0.0, 1.0), xtol=1e-15,
                                    ftol=1e-15, gtol=1e-15)
                if np.abs(fit.fun).max() > tol or fit.x.min() <= SUPPORT_WEIGHT:
                    continue
                mix = np.zeros(size)
                mix[idx] = fit.x / fit.x.sum()
                accept(mix)
    return sorted(found, key=lambda x: -game.value(x))


@dataclass
class PlayedTable:
    """Every focal strategy against the given opponent profiles, game by game (common random
    numbers: every cell plays the same games), for paired confidence intervals."""

    names: list[str]
    num_agents: int
    seed: int
    profiles: np.ndarray  # [P, N - 1] sorted strategy indices
    scores: np.ndarray  # [K, P, G] the focal agent's score
    work_rate: np.ndarray  # [K, P] the focal agent's fraction of nights worked
    honesty: np.ndarray  # [K, P] the focal agent's P(signal = mode)

    @property
    def games(self) -> int:
        return self.scores.shape[-1]

    def game(self) -> SymmetricGame:
        """The mean payoffs as a game (the table must cover every opponent profile)."""
        return SymmetricGame(self.scores.mean(axis=-1), self.num_agents)

    def deviation_gains(self, mix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each strategy's gain over ``mix`` when the others draw from it, per game and paired
        (every profile's games weighted by its probability), and its 95% CI half-width.
        Profiles the table lacks must have probability 0."""
        weights = profile_probabilities(self.profiles, mix)
        if abs(weights.sum() - 1.0) > 1e-9:
            raise ValueError("the table lacks opponent profiles that this mix can draw")
        against = np.einsum("p,kpg->kg", weights, self.scores)  # [K, G]
        gains = against - mix @ against
        return gains.mean(axis=-1), ci95_half_width(gains, axis=-1)


def support_profiles(mix: np.ndarray, num_others: int) -> np.ndarray:
    """The opponent profiles that N - 1 draws from ``mix`` can make."""
    support = np.flatnonzero(np.asarray(mix) > 0)
    rows = itertools.combinations_with_replacement(support.tolist(), num_others)
    return np.array(list(rows), dtype=np.int64).reshape(-1, num_others)


def focal_scores(scenario: Scenario, focal: Contender, others: Sequence[Contender],
                 games: int, seed: int) -> tuple[np.ndarray, float, float]:
    """``focal``'s score in each of ``games`` games against ``others``, the focal agent in
    every seat equally often: rotation r puts it in seat r and the others after it in order,
    on games seeded ``derived_seed(seed, r)``. Also its work rate and honesty there."""
    num_agents = len(others) + 1
    scores, work, honest = [], [], []
    for seat in range(num_agents):
        count = games // num_agents + (seat < games % num_agents)
        if count == 0:
            continue
        order = [*others[num_agents - 1 - seat:], focal, *others[:num_agents - 1 - seat]]
        finished = play_profile(scenario, order, count, derived_seed(seed, seat))
        scores.append(finished.scores[:, seat])
        work.append(finished.work_rate[:, seat])
        honest.append(finished.honesty[:, seat])
    return (np.concatenate(scores), float(np.concatenate(work).mean()),
            float(np.concatenate(honest).mean()))


def play_table(contenders: Sequence[Contender], scenario: Scenario, num_agents: int,
               games: int, seed: int, profiles: np.ndarray | None = None,
               on_cell: Callable[[int, int], None] | None = None) -> PlayedTable:
    """Play every contender as the focal agent against each opponent profile (all of them
    by default; a subset computes one chunk of a large table, so that chunks can run as
    separate jobs), every cell on the same ``games`` games."""
    if isinstance(games, bool) or not isinstance(games, int) or games < 2:
        raise ValueError(f"games={games!r} must be an integer >= 2 (for confidence intervals)")
    scenario.check_num_agents(num_agents)
    if profiles is None:
        profiles = opponent_profiles(len(contenders), num_agents - 1)
    size = len(contenders)
    scores = np.zeros((size, len(profiles), games))
    work, honest = np.zeros((size, len(profiles))), np.zeros((size, len(profiles)))
    for p, profile in enumerate(profiles.tolist()):
        others = [contenders[k] for k in profile]
        for s, focal in enumerate(contenders):
            scores[s, p], work[s, p], honest[s, p] = focal_scores(scenario, focal, others,
                                                                  games, seed)
            if on_cell is not None:
                on_cell(s, p)
    return PlayedTable([c.name for c in contenders], num_agents, seed, profiles, scores,
                       work, honest)


def play_table_in_jobs(runner: JobRunner, contenders: Sequence[Contender], scenario: Scenario,
                       num_agents: int, games: int, seed: int,
                       profiles: np.ndarray | None = None) -> PlayedTable:
    """:func:`play_table` with the opponent profiles split into independent jobs for
    ``runner`` (local processes, Ray tasks). Every chunk plays the games the whole table
    plays (a cell's games depend on the seed alone), so the table is the serial one."""
    from bucket_brigade.sweep.jobs import Job, split

    if profiles is None:
        profiles = opponent_profiles(len(contenders), num_agents - 1)
    jobs = [Job(f"{scenario.name} profiles {chunk[0].tolist()}..{chunk[-1].tolist()}",
                _play_chunk, (contenders, scenario, num_agents, games, seed, chunk))
            for chunk in split(profiles, runner)]
    return join_tables(runner.run(jobs))


def _play_chunk(contenders: Sequence[Contender], scenario: Scenario, num_agents: int,
                games: int, seed: int, profiles: np.ndarray) -> PlayedTable:
    use_one_torch_thread(contenders)  # in the job's own process
    return play_table(contenders, scenario, num_agents, games, seed, profiles)


def join_tables(parts: Sequence[PlayedTable]) -> PlayedTable:
    """The tables of chunks of opponent profiles (same strategies, games and seed) as one."""
    first = parts[0]
    for part in parts[1:]:
        if (part.names, part.num_agents, part.seed, part.games) != \
                (first.names, first.num_agents, first.seed, first.games):
            raise ValueError("the tables to join differ in strategies, agents, seed or games")
    return PlayedTable(first.names, first.num_agents, first.seed,
                       np.concatenate([p.profiles for p in parts]),
                       np.concatenate([p.scores for p in parts], axis=1),
                       np.concatenate([p.work_rate for p in parts], axis=1),
                       np.concatenate([p.honesty for p in parts], axis=1))


def fresh_seed(seed: int) -> int:
    """The seed of the games that check what the table's games (``seed``) found."""
    return derived_seed(seed, FRESH_GAMES_INDEX)


def check_on_fresh_games(contenders: Sequence[Contender], mix: np.ndarray, scenario: Scenario,
                         num_agents: int, games: int, seed: int,
                         runner: JobRunner | None = None,
                         ) -> tuple[np.ndarray, np.ndarray, float]:
    """Every contender's deviation gain against ``mix`` and its paired 95% CI half-width,
    on fresh games seeded ``seed`` (play only the profiles the mix can draw; in jobs for
    ``runner`` if given), and the mix's value there."""
    profiles = support_profiles(mix, num_agents - 1)
    table = (play_table(contenders, scenario, num_agents, games, seed, profiles)
             if runner is None else
             play_table_in_jobs(runner, contenders, scenario, num_agents, games, seed, profiles))
    gains, ci95 = table.deviation_gains(mix)
    weights = profile_probabilities(table.profiles, mix)
    value = float(np.einsum("p,k,kpg->", weights, mix, table.scores) / table.games)
    return gains, ci95, value
