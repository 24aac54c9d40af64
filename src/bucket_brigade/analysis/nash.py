"""Best responses and exploitability: how much one agent gains by deviating from a profile.

A profile names who plays each seat (scripted strategies, trained policies); it is
*symmetric* when every seat plays the same strategy. A best-response oracle searches for
a deviation of one seat with the others fixed:

* CMA-ES over the 10 scripted parameters (cheap; limited to the scripted strategies' form);
* PPO with the default network, trained from scratch against the others (not tied to the
  scripted form; it may also lie with cheap talk), in the deviating seat; against a
  meta-strategy (PSRO) every other agent draws its player at the start of each game.

A seat's gain is the best response's score less the profile's own, on fresh games that
the search never saw, paired game by game; NashConv is the sum of the seats' gains. A
symmetric profile needs one best response: it is played in every seat equally often (as
the symmetric empirical game plays its focal agent), and NashConv is N times its gain.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from bucket_brigade.agents.strategies import MIX_PREFIX, STRATEGY_NAMES, make_seat
from bucket_brigade.analysis.contenders import Contender, play_profile
from bucket_brigade.analysis.empirical_game import focal_scores
from bucket_brigade.confidence import ci95_half_width
from bucket_brigade.errors import UsageError
from bucket_brigade.game.scenarios import Scenario

if TYPE_CHECKING:
    from bucket_brigade.training.ppo import TrainConfig

# A deviator's per-game scores: play(candidate, games, seed).
Deviation = Callable[[Contender, int, int], np.ndarray]


@dataclass(frozen=True)
class Gain:
    """A best response's gain over the profile's own play, on fresh games (paired)."""

    per_game: np.ndarray  # [G]

    @property
    def mean(self) -> float:
        return float(self.per_game.mean())

    @property
    def ci95(self) -> float:
        return ci95_half_width(self.per_game)


def deviation_in_seat(scenario: Scenario, profile: Sequence[Contender], seat: int,
                      ) -> Deviation:
    """Seat ``seat``'s scores when a candidate replaces its player, the others as given."""
    def play(candidate: Contender, games: int, seed: int) -> np.ndarray:
        players = [*profile[:seat], candidate, *profile[seat + 1:]]
        return play_profile(scenario, players, games, seed).scores[:, seat]
    return play


def deviation_from_symmetric(scenario: Scenario, contender: Contender, num_agents: int,
                             ) -> Deviation:
    """A candidate's scores against N - 1 copies of ``contender``, in every seat equally."""
    def play(candidate: Contender, games: int, seed: int) -> np.ndarray:
        return focal_scores(scenario, candidate, [contender] * (num_agents - 1), games, seed)[0]
    return play


def deviation_against_mix(scenario: Scenario, contenders: Sequence[Contender], mix: np.ndarray,
                          num_agents: int) -> Deviation:
    """A candidate's expected scores when each other agent draws its strategy from ``mix``
    over ``contenders`` independently: per game, the profiles the mix can draw weighted by
    their probability, every profile on the same games."""
    from bucket_brigade.analysis.empirical_game import profile_probabilities, support_profiles

    profiles = support_profiles(mix, num_agents - 1)
    weights = profile_probabilities(profiles, mix)

    def play(candidate: Contender, games: int, seed: int) -> np.ndarray:
        return sum(weight * focal_scores(scenario, candidate, [contenders[k] for k in profile],
                                         games, seed)[0]
                   for weight, profile in zip(weights, profiles.tolist()))
    return play


def nash_conv(gains: Sequence[Gain], num_agents: int) -> Gain:
    """The sum of every seat's gain, game by game (all judged on the same games); one gain
    for all seats (a symmetric profile's) counts N times. A seat whose response scored
    below its own player counts 0: its player is the better response found, and a seat's
    regret is never negative, so it cannot cancel another seat's gain."""
    total = sum(g.per_game if g.mean > 0 else np.zeros_like(g.per_game) for g in gains)
    return Gain(total * (num_agents if len(gains) == 1 else 1))


def judge(play: Deviation, incumbent: Contender, responder: Contender, games: int,
          seed: int) -> Gain:
    """The responder's gain over the incumbent in the same place, on the same games."""
    return Gain(play(responder, games, seed) - play(incumbent, games, seed))


def cmaes_best_response(play: Deviation, scenario: Scenario, num_agents: int,
                        generations: int, popsize: int, games: int, seed: int) -> Contender:
    """The scripted strategy that CMA-ES finds best in the deviator's place."""
    from bucket_brigade.analysis.evolution import evolve

    def fitness(params: np.ndarray, count: int, fitness_seed: int) -> np.ndarray:
        return play(scripted(params), count, fitness_seed)

    result = evolve(scenario, generations, popsize, games, seed, num_agents, fitness=fitness)
    return scripted(np.array(result.params))


def scripted(params: Sequence[float]) -> Contender:
    """A scripted strategy given by its 10 parameters."""
    return Contender("CMA-ES best response", seat=make_seat(list(params)))


def best_response_config(others: Sequence[Contender], scenario: str, steps: int,
                         out_dir: Path, run_name: str, seed: int, learner_seat: int = 0,
                         ) -> TrainConfig:
    """The PPO run that seeks a best response in seat ``learner_seat`` against ``others``
    in the other seats, in order: scripted strategies or trained policies (played
    greedily), each seat its own, with cheap talk so that it may also lie."""
    return _best_response_run(",".join(player_spec(c) for c in others), len(others),
                              scenario, steps, out_dir, run_name, seed, learner_seat)


def mix_best_response_config(population: Sequence[Contender], mix: np.ndarray,
                             num_agents: int, scenario: str, steps: int, out_dir: Path,
                             run_name: str, seed: int) -> TrainConfig:
    """The PPO run that seeks a best response to a meta-strategy: each of the N - 1 other
    agents draws its player from ``mix`` over ``population`` at the start of every game,
    independently (the game is symmetric, so the learner stays in seat 0)."""
    entries = ",".join(f"{player_spec(c)}={float(w)!r}" for c, w in zip(population, mix)
                       if w > 0)
    return _best_response_run(MIX_PREFIX + entries, num_agents - 1, scenario, steps, out_dir,
                              run_name, seed, learner_seat=0)


def _best_response_run(opponents: str, num_opponents: int, scenario: str, steps: int,
                       out_dir: Path, run_name: str, seed: int, learner_seat: int,
                       ) -> TrainConfig:
    from bucket_brigade.training.ppo import TrainConfig

    config = TrainConfig(
        steps=steps, scenario=scenario, opponents=num_opponents, opponent_policies=opponents,
        cheap_talk=True, seed=seed, out_dir=str(out_dir), learner_seat=learner_seat,
        run_name=re.sub(r"[^\w.-]", "_", run_name))
    config.validate()
    return config


def player_spec(player: Contender) -> str:
    """How an opponent list names ``player``: its model file, the strategy's name where it
    is one, else its 10 parameters."""
    if player.source is not None:
        return player.source
    if player.seat is None:
        raise UsageError(f"a PPO best response needs a model file for {player.name!r}")
    if player.name in STRATEGY_NAMES or len(player.seat.pool) != 1 \
            or player.seat.pool[0] is None:
        return player.name
    return ",".join(repr(float(v)) for v in player.seat.pool[0])


def ppo_best_response(config: TrainConfig) -> Contender:
    """Train the run of :func:`best_response_config` (replacing its earlier files) and
    return the trained policy, acting greedily."""
    from bucket_brigade.training.checkpoint import RunPaths
    from bucket_brigade.training.models import load_policy
    from bucket_brigade.training.ppo import train

    for path in RunPaths(Path(config.out_dir), config.run_name).existing():
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    model_path = train(config).model_path
    return Contender("PPO best response", policy=load_policy(model_path).network,
                     source=str(model_path))
