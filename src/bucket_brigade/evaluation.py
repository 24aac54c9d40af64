"""Judge a learner: play a fixed set of games with it in seat 0 and summarise its results.

Every seat draws from its own random stream, so whoever sits in seat 0 (a trained
policy or any scripted strategy) meets the same world and the same opponents'
draws in game k of a given seed: comparisons between candidates use common random
numbers, which makes their differences far less noisy than their scores.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from bucket_brigade.agents.strategies import StrategySpec, make_seat, opponent_seats
from bucket_brigade.confidence import ci95_half_width
from bucket_brigade.engine.batch import GameBatch, check_actions
from bucket_brigade.envs.spaces import full_actions
from bucket_brigade.game.scenarios import Scenario, get_scenario
from bucket_brigade.game.scripted import ARCHETYPES, RANDOM
from bucket_brigade.game.seat import Seat
from bucket_brigade.search import with_planners

if TYPE_CHECKING:
    import torch

LEARNER = 0
# Any policy of another library: observations [B, obs_dim] (float32) to actions [B, 2]
# (house, mode) or [B, 3] (house, mode, signal), e.g. an SB3 model's greedy ``predict``.
ActionFunction = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True, repr=False)
class EvaluationResult:
    """Seat 0's results over ``games`` games; ``scores`` keeps the per-game scores for
    paired comparisons between candidates evaluated on the same seed."""

    games: int
    mean_score: float
    ci95: float  # half-width of the normal 95% confidence interval of mean_score
    houses_saved: float
    nights: float
    work_rate: float
    honesty: float
    scores: np.ndarray

    def __repr__(self) -> str:
        """The headline figures; the per-game scores stay in ``scores``."""
        return (f"EvaluationResult(mean_score={self.mean_score:.2f} ± {self.ci95:.2f}, "
                f"games={self.games}, houses_saved={self.houses_saved:.2f}, "
                f"nights={self.nights:.2f}, work_rate={self.work_rate:.2f}, "
                f"honesty={self.honesty:.2f})")

    def summary(self) -> dict[str, float]:
        """The headline figures, as plain floats."""
        return {"games": self.games, "mean_score": self.mean_score, "ci95": self.ci95,
                "houses_saved": self.houses_saved, "nights": self.nights,
                "work_rate": self.work_rate, "honesty": self.honesty}


def evaluate(policy_or_strategy: torch.nn.Module | StrategySpec | ActionFunction,
             scenario: str | Scenario, opponents: Sequence[StrategySpec | Seat] | str | None,
             num_opponents: int = 3, games: int = 1000, seed: int = 0,
             sample: bool = False) -> EvaluationResult:
    """Play ``games`` games (game k is game k of a batch seeded ``seed``), each to its end.

    A trained :class:`~bucket_brigade.training.PolicyNetwork` acts greedily by default
    (the most likely house and mode, and signal with cheap talk), so a result is a
    property of the weights alone; ``sample=True`` draws its actions instead, from a
    generator seeded with ``seed``. A strategy name (or ``pool:...``) makes seat 0
    scripted; ``planner...`` seats (in seat 0 or among the opponents) search by rollouts
    (:mod:`bucket_brigade.search`), playing a greedy trained policy in seat 0 in their
    continuations (a sampling one or a callable, which may keep state, they refuse). Any
    other callable is a client policy
    (:data:`ActionFunction`): it gets seat 0's observations of every game at once and
    returns their actions.
    """
    if isinstance(games, bool) or not isinstance(games, int) or games < 1:
        raise ValueError(f"games={games!r} must be an integer >= 1")
    scenario = get_scenario(scenario)
    scripted = isinstance(policy_or_strategy, (str, Seat, Sequence))
    learner_seat = make_seat(policy_or_strategy, scenario.name) if scripted else Seat()
    batch = GameBatch(scenario, [learner_seat,
                                 *opponent_seats(num_opponents, opponents, scenario.name)],
                      games, seed=seed)
    driver, greedy_model = None, False
    if not scripted:
        import torch

        driver = _learner_driver(policy_or_strategy, scenario, batch.obs_dim, sample, seed)
        greedy_model = not sample and isinstance(policy_or_strategy, torch.nn.Module)
    finished = batch.play_out(with_planners(batch, driver, known_others=greedy_model))
    scores = finished.scores[:, LEARNER]
    return EvaluationResult(
        games=games, mean_score=float(scores.mean()), ci95=ci95_half_width(scores),
        houses_saved=float(finished.houses_saved.mean()), nights=float(finished.nights.mean()),
        work_rate=float(finished.work_rate[:, LEARNER].mean()),
        honesty=float(finished.honesty[:, LEARNER].mean()), scores=scores)


def sampled_actions(policy: torch.nn.Module, obs: np.ndarray,
                    generator: torch.Generator | None = None) -> np.ndarray:
    """A trained policy's sampled (house, mode, signal) [B, 3] for raw observations
    [B, obs_dim], on NumPy arrays: the sampling counterpart of ``PolicyNetwork.play``
    (without cheap talk its signal is its mode)."""
    import torch

    device = next(policy.parameters()).device
    with torch.inference_mode():
        chosen = policy.sample_action(torch.from_numpy(np.ascontiguousarray(obs)).to(device),
                                      generator)
    return full_actions(chosen.cpu().numpy(), policy.cheap_talk)


def _learner_driver(policy: torch.nn.Module | ActionFunction, scenario: Scenario, obs_dim: int,
                    sample: bool, seed: int) -> Callable[[np.ndarray], np.ndarray]:
    """A play_out policy for the learner's seat, the batch's one external seat."""
    import torch

    if not isinstance(policy, torch.nn.Module):
        if not callable(policy):
            raise TypeError(f"cannot evaluate {policy!r}: expected a strategy name, a trained "
                            "policy or a callable from observations to actions")
        if sample:
            raise ValueError("sample=True needs a trained policy; a callable picks its "
                             "own actions")
        return lambda obs: _client_actions(policy, obs[:, LEARNER], scenario.num_houses)

    if policy.obs_dim != obs_dim:
        raise ValueError(f"policy obs_dim={policy.obs_dim} does not fit this game's "
                         f"observations of length {obs_dim} (check the number of opponents)")
    action_dims = list(policy.action_dims)
    expected = [scenario.num_houses, 2]
    if action_dims not in (expected, [*expected, 2]):
        raise ValueError(f"policy action_dims={action_dims} do not fit this scenario; "
                         f"expected {expected} or {[*expected, 2]} (cheap talk)")
    if not sample:
        return lambda obs: policy.play(obs[:, LEARNER])[:, None, :]
    generator = torch.Generator(next(policy.parameters()).device).manual_seed(seed)
    return lambda obs: sampled_actions(policy, obs[:, LEARNER], generator)[:, None, :]


def _client_actions(policy: ActionFunction, obs: np.ndarray, num_houses: int) -> np.ndarray:
    """A client policy's actions, checked, as the learner seat's (house, mode, signal)
    [B, 1, 3]."""
    actions = np.asarray(policy(obs))
    if actions.ndim != 2 or len(actions) != len(obs) or actions.shape[1] not in (2, 3):
        raise ValueError(f"the policy returned actions of shape {actions.shape} for "
                         f"{len(obs)} observations; expected ({len(obs)}, 2) = (house, mode) "
                         f"or ({len(obs)}, 3) = (house, mode, signal)")
    full = full_actions(actions, actions.shape[1] == 3)
    return check_actions(full[:, None, :], (len(obs), 1), num_houses)


def paired_difference(first: EvaluationResult, second: EvaluationResult) -> tuple[float, float]:
    """Mean of ``first - second`` game by game, and the half-width of its 95% CI; valid for
    two evaluations on the same games (same scenario, opponents, seed and count)."""
    if first.games != second.games:
        raise ValueError(f"cannot pair {first.games} games with {second.games}")
    diff = first.scores - second.scores
    return float(diff.mean()), ci95_half_width(diff)


def compare_with_archetypes(policy: torch.nn.Module, scenario: str | Scenario,
                            opponents: Sequence[StrategySpec | Seat] | str | None,
                            num_opponents: int = 3, games: int = 1000, seed: int = 0,
                            ) -> list[dict[str, float | str]]:
    """The learning check: the policy, then every archetype and ``random``, in seat 0 of the
    same games; each row carries the learner's paired advantage over that strategy."""
    learner = evaluate(policy, scenario, opponents, num_opponents, games, seed)
    rows: list[dict[str, float | str]] = [{"name": "learner", **learner.summary()}]
    for name in (*ARCHETYPES, RANDOM):
        result = evaluate(name, scenario, opponents, num_opponents, games, seed)
        advantage, ci95 = paired_difference(learner, result)
        rows.append({"name": name, **result.summary(), "learner_minus": advantage,
                     "learner_minus_ci95": ci95})
    return rows
