"""Who sits where in a training run, as environments: the run's agent-slots, and the
network sized to them."""

from __future__ import annotations

from bucket_brigade.envs.vector import (
    BucketBrigadeVectorEnv,
    ConcatVectorEnv,
    OpponentPolicy,
    derived_seed,
    make_vec_env,
)
from bucket_brigade.training.config import TrainConfig
from bucket_brigade.training.models import load_policy
from bucket_brigade.training.network import PolicyNetwork


def make_training_env(config: TrainConfig, seed: int, snapshot: OpponentPolicy | None = None,
                      ) -> BucketBrigadeVectorEnv | ConcatVectorEnv:
    """The run's agent-slots: games of ``num_learners`` learners and ``num_scripted`` scripted
    opponents (or seats played greedily by ``opponent_model``), then (with --league) games of
    one learner whose other seats ``snapshot`` plays."""
    scenario = config.resolved_scenario
    opponent_model = None if config.opponent_model is None \
        else load_policy(config.opponent_model).network.play
    main = make_vec_env(config.num_envs - config.league_slots, scenario,
                        config.num_scripted, config.opponent_policies, config.cheap_talk,
                        seed=seed, num_learners=config.num_learners,
                        opponent_policy=opponent_model)
    if not config.league_slots:
        return main
    league = make_vec_env(config.league_slots, scenario, config.num_agents - 1,
                          cheap_talk=config.cheap_talk, seed=derived_seed(seed, 1),
                          opponent_policy=snapshot)
    return ConcatVectorEnv([main, league])


def build_network(env: BucketBrigadeVectorEnv | ConcatVectorEnv,
                  config: TrainConfig) -> PolicyNetwork:
    """A fresh policy of the run's kind for the env's observations and actions."""
    return PolicyNetwork(env.single_observation_space.shape[0],
                         [int(n) for n in env.single_action_space.nvec],
                         hidden_size=config.hidden_size, policy=config.policy,
                         action_mask=config.action_mask)
