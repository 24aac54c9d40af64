"""The equilibrium question: the empirical symmetric game of a set of strategies.

Payoff ``M[s, t]`` is the mean score of ONE focal agent playing s while the other
N-1 agents all play t, over the same G games for every cell (one seed: common
random numbers, so the differences between cells are far less noisy than the
cells). Read as a symmetric two-player matrix game ("me" against "everyone
else"), its symmetric Nash equilibria are the mixes x with ``(M x)_s <= x'Mx``
for every s, found exactly by support enumeration. Three regrets answer "is s
stable?":

* pure regret: the gain of the best listed deviation from the profile where
  everyone plays s, ``max_t M[t, s] - M[s, s]`` (s is an empirical equilibrium
  when it is <= 0), with a paired 95% CI;
* regret against the equilibrium mix x: ``x'Mx - (M x)_s``;
* exploitability: the gain of a best response found by CMA-ES over the scripted
  parameters against everyone else playing s (it may find deviations no listed
  strategy makes), and optionally that of a PPO learner trained against it (which
  is not limited to the scripted strategies' form, and may lie) and that of a planner
  (:mod:`bucket_brigade.search`: rollouts against everyone else playing s, whose name
  it knows; no training, and not limited to any policy's form).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from bucket_brigade.agents.strategies import make_seat, split_opponents
from bucket_brigade.confidence import ci95_half_width
from bucket_brigade.game.scenarios import Scenario
from bucket_brigade.game.scripted import ARCHETYPES
from bucket_brigade.game.seat import Seat

if TYPE_CHECKING:
    from bucket_brigade.engine.batch import FinishedGames
    from bucket_brigade.training.network import PolicyNetwork
    from bucket_brigade.training.ppo import TrainConfig

ARCHETYPES_ALIAS = "archetypes"
MODEL_SUFFIX = ".pt"
MAX_STRATEGIES = 16  # support enumeration visits 2^S - 1 supports


@dataclass(frozen=True)
class Contender:
    """One strategy of the game: a scripted seat, or a trained policy acting greedily."""

    name: str
    seat: Seat | None = None
    policy: PolicyNetwork | None = None
    source: str | None = None  # the policy's file


def parse_strategies(text: str, scenario: Scenario, num_agents: int) -> list[Contender]:
    """``archetypes`` (the six archetypes), ``random``, ``evolved``, any strategy spec of
    agents.strategies, and model files (``*.pt``), as a comma list."""
    from bucket_brigade.training.models import load_policy

    names: list[str] = []
    for token in split_opponents(text):
        names.extend(ARCHETYPES if token == ARCHETYPES_ALIAS else [token])
    if not names:
        raise ValueError("--strategies names no strategy; give a comma list such as "
                         "'archetypes,random,evolved' or model files")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"strategy {repeated[0]!r} is listed twice")
    contenders = []
    for name in names:
        if name.endswith(MODEL_SUFFIX):
            model = load_policy(name)
            model.check_fits(scenario, num_agents)
            contenders.append(Contender(name=model.name, policy=model.network, source=name))
        else:
            contenders.append(Contender(name=name, seat=make_seat(name, scenario.name)))
    return contenders


def play_profile(scenario: Scenario, players: Sequence[Contender], games: int,
                 seed: int) -> FinishedGames:
    """Play ``games`` games with ``players[i]`` in seat i, each to its first end. Trained
    policies sit in external seats and act greedily, so results depend on weights alone;
    planners search (:mod:`bucket_brigade.search`)."""
    from bucket_brigade.engine.batch import GameBatch  # numba: loaded when games are played
    from bucket_brigade.search import with_planners

    seats = [p.seat if p.seat is not None else Seat() for p in players]
    batch = GameBatch(scenario, seats, games, seed=seed)
    external = [p for p in players if p.seat is None]
    slots_of: dict[int, tuple[PolicyNetwork, list[int]]] = {}
    for slot, player in enumerate(external):
        slots_of.setdefault(id(player.policy), (player.policy, []))[1].append(slot)
    networks = _greedy_driver(list(slots_of.values()), batch.obs_dim) if external else None
    return batch.play_out(with_planners(batch, networks))


def _greedy_driver(drivers: list[tuple[PolicyNetwork, list[int]]], obs_dim: int,
                   ) -> Callable[[np.ndarray], np.ndarray]:
    """A play_out policy: each network picks the greedy actions of its external slots."""

    def act(obs: np.ndarray) -> np.ndarray:
        actions = np.zeros((*obs.shape[:2], 3), dtype=np.int64)
        for network, slots in drivers:
            chosen = network.play(obs[:, slots].reshape(-1, obs_dim))
            actions[:, slots] = chosen.reshape(len(obs), len(slots), 3)
        return actions

    return act


@dataclass
class EmpiricalGame:
    """Focal-agent results of every (s, t) profile; ``scores`` keeps the games for paired CIs."""

    names: list[str]
    scenario: str
    num_agents: int
    seed: int
    scores: np.ndarray  # [S, T, G] the focal agent's score
    work_rate: np.ndarray  # [S, T] the focal agent's fraction of nights worked
    honesty: np.ndarray  # [S, T] the focal agent's P(signal = mode)
    team_score: np.ndarray  # [S, T] mean score of all N agents

    @property
    def games(self) -> int:
        return self.scores.shape[-1]

    @property
    def payoffs(self) -> np.ndarray:
        return self.scores.mean(axis=-1)

    @property
    def ci95(self) -> np.ndarray:
        return ci95_half_width(self.scores, axis=-1)

    def pure_regret(self, s: int) -> tuple[float, float, str]:
        """Gain of the best listed deviation from everyone playing s, its paired 95% CI
        half-width, and the deviation's name (0 and s's own name when none gains)."""
        gains = self.scores[:, s, :] - self.scores[s, s, :]
        means = gains.mean(axis=-1)
        best = int(np.argmax(means))
        return float(means[best]), ci95_half_width(gains[best]), self.names[best]


def empirical_game(contenders: Sequence[Contender], scenario: Scenario, num_agents: int,
                   games: int, seed: int,
                   on_cell: Callable[[int, int], None] | None = None) -> EmpiricalGame:
    """Play every (focal s, others t) cell on the same ``games`` games."""
    if isinstance(games, bool) or not isinstance(games, int) or games < 2:
        raise ValueError(f"games={games!r} must be an integer >= 2 (for confidence intervals)")
    scenario.check_num_agents(num_agents)
    size = len(contenders)
    scores = np.zeros((size, size, games))
    work, honest, team = (np.zeros((size, size)) for _ in range(3))
    for s, t in itertools.product(range(size), repeat=2):
        finished = play_profile(scenario, [contenders[s], *[contenders[t]] * (num_agents - 1)],
                                games, seed)
        scores[s, t] = finished.scores[:, 0]
        work[s, t] = finished.work_rate[:, 0].mean()
        honest[s, t] = finished.honesty[:, 0].mean()
        team[s, t] = finished.scores.mean()
        if on_cell is not None:
            on_cell(s, t)
    return EmpiricalGame([c.name for c in contenders], scenario.name, num_agents, seed, scores,
                         work, honest, team)


def symmetric_equilibria(payoffs: np.ndarray, tol: float = 1e-9) -> list[np.ndarray]:
    """Every symmetric Nash equilibrium x of the symmetric game with row payoffs ``payoffs``
    (isolated ones; from a continuum, one point per support), by support enumeration: on a
    support S the mix makes all of S equally good, ``M[S, S] x_S = v``, with x_S > 0 and no
    strategy outside S better than v."""
    payoffs = np.asarray(payoffs, dtype=np.float64)
    size = len(payoffs)
    if payoffs.shape != (size, size) or size == 0:
        raise ValueError(f"payoffs must be a non-empty square matrix, got shape {payoffs.shape}")
    if size > MAX_STRATEGIES:
        raise ValueError(f"{size} strategies is too many for support enumeration "
                         f"(at most {MAX_STRATEGIES})")
    # Hand-written rather than nashpy's support enumeration: nashpy solves the bimatrix game
    # (M, M') over every pair of row and column supports and has no symmetric restriction
    # (x = y, one support), which is all this needs. On the tests' games the symmetric
    # equilibria among nashpy's answers are these; on a random 9 x 9 game nashpy 0.0.43
    # took 248 s and returned one equilibrium where this finds five (each with no gain
    # from any deviation), and up to MAX_STRATEGIES = 16 strategies are allowed here.
    scale = tol * max(1.0, float(np.abs(payoffs).max()))
    found: list[np.ndarray] = []
    for support_size in range(1, size + 1):
        for support in itertools.combinations(range(size), support_size):
            idx = list(support)
            system = np.zeros((support_size + 1, support_size + 1))
            system[:support_size, :support_size] = payoffs[np.ix_(idx, idx)]
            system[:support_size, -1] = -1.0  # M x - v = 0
            system[-1, :support_size] = 1.0  # sum x = 1
            rhs = np.zeros(support_size + 1)
            rhs[-1] = 1.0
            solution = np.linalg.lstsq(system, rhs, rcond=None)[0]
            if not np.allclose(system @ solution, rhs, atol=1e-7) \
                    or (solution[:support_size] <= tol).any():
                continue
            mix = np.zeros(size)
            mix[idx] = solution[:support_size]
            if regret_against(payoffs, mix).min() >= -scale \
                    and not any(np.allclose(mix, other, atol=1e-6) for other in found):
                found.append(mix)
    return found


def regret_against(payoffs: np.ndarray, mix: np.ndarray) -> np.ndarray:
    """Per strategy s: ``x'Mx - (M x)_s``, what s loses against the mix x compared with
    playing x itself (>= 0 everywhere exactly when x is a symmetric equilibrium)."""
    against = payoffs @ mix
    return float(mix @ against) - against


def exploitability(contender: Contender, reference: np.ndarray, scenario: Scenario,
                   num_agents: int, generations: int, popsize: int, games: int,
                   seed: int, eval_seed: int) -> tuple[float, float, list[float]]:
    """Gain of a CMA-ES best response (scripted parameters) over ``contender`` itself,
    against N-1 copies of ``contender``: the best response is searched on its own games,
    then judged on the empirical game's games (``reference``: contender's own scores there,
    seed ``eval_seed``), paired. Returns (gain, its 95% CI half-width, the parameters)."""
    from bucket_brigade.analysis.evolution import evolve

    others = [contender] * (num_agents - 1)

    def fitness(params: np.ndarray, count: int, fitness_seed: int) -> np.ndarray:
        candidate = Contender("best response", seat=make_seat(list(params)))
        return play_profile(scenario, [candidate, *others], count, fitness_seed).scores[:, 0]

    result = evolve(scenario, generations, popsize, games, seed, num_agents, fitness=fitness)
    gains = fitness(np.array(result.params), len(reference), eval_seed) - reference
    return (float(gains.mean()), ci95_half_width(gains),
            result.params)


def best_response_config(contender: Contender, scenario: str, num_agents: int, steps: int,
                         out_dir: Path, seed: int) -> TrainConfig:
    """The PPO run that seeks a best response to ``contender``: a learner against N-1 copies
    of it (greedy, if it is a trained policy), with cheap talk so that it may also lie."""
    from bucket_brigade.training.ppo import TrainConfig

    config = TrainConfig(
        steps=steps, scenario=scenario, opponents=num_agents - 1,
        opponent_policies=contender.name if contender.source is None else None,
        opponent_model=contender.source, cheap_talk=True, seed=seed, out_dir=str(out_dir),
        run_name="br_" + re.sub(r"[^\w.-]", "_", contender.name))
    config.validate()
    return config


def ppo_exploitability(contender: Contender, config: TrainConfig, reference: np.ndarray,
                       eval_seed: int) -> dict[str, float | str]:
    """Gain of a PPO best response (trained by ``config``, from :func:`best_response_config`)
    over ``contender`` itself, judged greedily on the empirical game's games (``reference``,
    seed ``eval_seed``), paired. A rerun replaces the run's earlier files: call it holding
    the run's lock (``training.bookkeeping.claim_run``), as ``nash`` does. Returns the gain,
    its 95% CI half-width, the best response's model file, and how often it worked and
    signalled honestly there, as fields of a ``nash.json`` row."""
    import shutil

    from bucket_brigade.training.checkpoint import RunPaths
    from bucket_brigade.training.models import load_policy
    from bucket_brigade.training.ppo import train

    for path in RunPaths(Path(config.out_dir), config.run_name).existing():
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    model_path = train(config).model_path
    responder = Contender("PPO best response", policy=load_policy(model_path).network)
    others = [contender] * (config.num_agents - 1)
    finished = play_profile(config.resolved_scenario, [responder, *others],
                            len(reference), eval_seed)
    gains = finished.scores[:, 0] - reference
    return {"ppo_exploitability": float(gains.mean()),
            "ppo_exploitability_ci95": ci95_half_width(gains),
            "ppo_best_response": str(model_path),
            "ppo_best_response_work_rate": float(finished.work_rate[:, 0].mean()),
            "ppo_best_response_honesty": float(finished.honesty[:, 0].mean())}


def planner_exploitability(contender: Contender, planner: Contender, reference: np.ndarray,
                           scenario: Scenario, num_agents: int, eval_seed: int,
                           ) -> dict[str, float]:
    """Gain of a planner in the focal seat over ``contender`` itself, against N-1 copies of
    ``contender``, on the empirical game's games (``reference``: contender's own scores
    there, seed ``eval_seed``), paired; as fields of a ``nash.json`` row."""
    finished = play_profile(scenario, [planner, *[contender] * (num_agents - 1)],
                            len(reference), eval_seed)
    gains = finished.scores[:, 0] - reference
    return {"planner_exploitability": float(gains.mean()),
            "planner_exploitability_ci95": ci95_half_width(gains),
            "planner_best_response_work_rate": float(finished.work_rate[:, 0].mean())}


def analyse(game: EmpiricalGame) -> tuple[list[np.ndarray], list[dict]]:
    """The game's symmetric equilibria (highest value first) and one row per strategy:
    self-play payoff, pure regret, weight in and regret against the first equilibrium."""
    payoffs = game.payoffs
    equilibria = sorted(symmetric_equilibria(payoffs), key=lambda x: -float(x @ payoffs @ x))
    if not equilibria:
        raise ValueError("no symmetric equilibrium found (degenerate payoffs)")
    main = equilibria[0]
    against = np.maximum(regret_against(payoffs, main), 0.0)  # >= 0 up to rounding
    rows = []
    for s, name in enumerate(game.names):
        gain, gain_ci, deviation = game.pure_regret(s)
        rows.append({
            "strategy": name, "self_play_score": float(payoffs[s, s]),
            "self_play_ci95": float(game.ci95[s, s]),
            "team_score": float(game.team_score[s, s]), "work_rate": float(game.work_rate[s, s]),
            "honesty": float(game.honesty[s, s]), "pure_regret": gain,
            "pure_regret_ci95": gain_ci, "best_deviation": deviation,
            "equilibrium_weight": float(main[s]), "regret_vs_equilibrium": float(against[s]),
        })
    return equilibria, rows
