"""Who sits where in a training run, as environments: the run's agent-slots and staggered
game starts."""

from __future__ import annotations

import numpy as np

from bucket_brigade.agents.strategies import names_models_or_mix
from bucket_brigade.envs.vector import (
    BucketBrigadeVectorEnv,
    ConcatVectorEnv,
    OpponentPolicy,
    derived_seed,
    make_vec_env,
)
from bucket_brigade.training.config import TrainConfig
from bucket_brigade.training.models import load_policy
from bucket_brigade.training.opponents import opponent_populations


def make_training_env(config: TrainConfig, seed: int, snapshot: OpponentPolicy | None = None,
                      ) -> BucketBrigadeVectorEnv | ConcatVectorEnv:
    """The run's agent-slots: games of ``num_learners`` learners and ``num_scripted``
    opponents (scripted, seats played greedily by ``opponent_model``, or drawn per game as
    :mod:`~bucket_brigade.training.opponents` says), then (with --league) games of one
    learner whose other seats ``snapshot`` plays. A lone learner sits in ``learner_seat``."""
    scenario = config.resolved_scenario
    opponent_model = None if config.opponent_model is None \
        else load_policy(config.opponent_model).play_seats(config.opponent_agents)
    drawn = config.num_scripted and config.opponent_model is None \
        and names_models_or_mix(config.opponent_policies)
    populations = opponent_populations(config.opponent_policies, config.num_scripted, scenario,
                                       config.num_agents) if drawn else None
    main = make_vec_env(config.num_envs - config.league_slots, scenario,
                        config.num_scripted, None if drawn else config.opponent_policies,
                        config.cheap_talk, seed=seed, num_learners=config.num_learners,
                        opponent_policy=opponent_model, learner_seat=config.learner_seat,
                        opponent_populations=populations)
    if not config.league_slots:
        return main
    league = make_vec_env(config.league_slots, scenario, config.num_agents - 1,
                          cheap_talk=config.cheap_talk, seed=derived_seed(seed, 1),
                          opponent_policy=snapshot, learner_seat=config.learner_seat)
    return ConcatVectorEnv([main, league])


STAGGER_GAME_LENGTHS = 2  # game starts spread over this many shortest games' nights
STAGGER_STREAM = 2  # derived_seed index of the draws (1: the league games' worlds)


def stagger_game_starts(envs: BucketBrigadeVectorEnv | ConcatVectorEnv, seed: int,
                        ) -> np.ndarray:
    """Desynchronise the games' ends, so that each rollout holds games at every stage.

    Freshly reset games all start together and, once the learner plays well, mostly last
    exactly ``min_nights``: they would end together for the whole run, and the losses,
    entropy and explained variance would show a sawtooth that never fades. So each game
    is first advanced by its own number of nights, drawn (seeded by ``seed``) from
    0..STAGGER_GAME_LENGTHS x min_nights, with uniformly random learner actions: game e
    starts (its stream's next game) at warm-up night ``nights - offset[e]``. These nights
    are no learner steps and nothing is trained on them. Returns the observations to act
    on next; ``seed`` is the run's env seed."""
    parts = envs.envs if isinstance(envs, ConcatVectorEnv) else [envs]
    nights = STAGGER_GAME_LENGTHS * parts[0].scenario.min_nights
    rng = np.random.default_rng(derived_seed(seed, STAGGER_STREAM))
    starts = [nights - rng.integers(0, nights + 1, part.num_games) for part in parts]
    sizes = envs.single_action_space.nvec
    for night in range(nights + 1):
        obs = np.concatenate([part.restart_games(start == night)
                              for part, start in zip(parts, starts)])
        if night < nights:
            envs.step(rng.integers(0, sizes, (envs.num_envs, len(sizes))))
    return obs

