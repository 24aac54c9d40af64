"""Stable-Baselines3 PPO or sb3-contrib MaskablePPO against scripted opponents, then scored.

One learner (seat 0) against three opponents; the trained model is judged greedily on the
project's evaluation games (the ones ``bucket-brigade train`` reports on) next to ``hero``
in the same seat, with the paired 95% CI of the difference.

``--vec dummy`` is SB3's stock way: ``make_vec_env`` builds ``--n-envs`` copies of the
Gymnasium env (``make_env``), stepped one after the other. ``--vec batched`` (default)
wraps the project's vector env, which steps all games in one compiled call: the same
games, several times the steps per second (the adapter is ``BatchedVecEnv`` below).

    pip install "bucket-brigade[clients]"
    python examples/sb3_ppo.py --algo maskable --steps 2000000 --out sb3_maskable.zip
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch
from sb3_contrib import MaskablePPO
from stable_baselines3 import PPO
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import VecEnv, VecMonitor, VecNormalize

from bucket_brigade.envs import ENV_ID, BucketBrigadeVectorEnv
from bucket_brigade.envs.masks import action_mask
from bucket_brigade.evaluation import evaluate, paired_difference
from bucket_brigade.game.scenarios import get_scenario
from bucket_brigade.training.config import DEFAULT_EVAL_SEED


class BatchedVecEnv(VecEnv):
    """SB3's VecEnv interface over a Gymnasium vector env of the project (which resets
    each game in the step it ends); ``env_method("action_masks")`` feeds MaskablePPO."""

    def __init__(self, env: BucketBrigadeVectorEnv) -> None:
        self.env = env
        super().__init__(env.num_envs, env.single_observation_space, env.single_action_space)

    def reset(self) -> np.ndarray:
        obs, _ = self.env.reset(seed=self._seeds[0])  # seed() seeds the whole batch
        self._reset_seeds()
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = actions

    def step_wait(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[dict]]:
        obs, rewards, terminated, truncated, info = self.env.step(self._actions)
        infos: list[dict] = [{} for _ in range(self.num_envs)]
        for i in np.flatnonzero(info.get("_final_obs", ())):
            infos[i]["terminal_observation"] = info["final_obs"][i]
        return obs, rewards, terminated | truncated, infos

    def close(self) -> None:
        self.env.close()

    def get_attr(self, attr_name: str, indices: object = None) -> list:
        return [getattr(self.env, attr_name)] * len(self._get_indices(indices))

    def set_attr(self, attr_name: str, value: object, indices: object = None) -> None:
        setattr(self.env, attr_name, value)

    def env_method(self, method_name: str, *args: object, indices: object = None,
                   **kwargs: object) -> list:
        if method_name == "action_masks":
            return list(self.env.action_masks()[list(self._get_indices(indices))])
        raise AttributeError(f"BatchedVecEnv has no per-env method {method_name!r}")

    def env_is_wrapped(self, wrapper_class: type, indices: object = None) -> list[bool]:
        return [False] * len(self._get_indices(indices))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--algo", choices=("maskable", "ppo"), default="maskable")
    parser.add_argument("--scenario", default="greedy_neighbor")
    parser.add_argument("--opponents", default="random")
    parser.add_argument("--vec", choices=("batched", "dummy"), default="batched")
    parser.add_argument("--steps", type=int, default=2_000_000)
    parser.add_argument("--n-envs", type=int, default=64)
    parser.add_argument("--n-steps", type=int, default=64, help="rollout length per env")
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--n-epochs", type=int, default=4)
    parser.add_argument("--gamma", type=float, default=0.95)
    parser.add_argument("--ent-coef", type=float, default=0.01)
    parser.add_argument("--learning-rate", type=float, default=3e-4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--eval-games", type=int, default=500)
    parser.add_argument("--torch-threads", type=int, default=1,
                        help="PyTorch CPU threads; more than one is slower for this small net")
    parser.add_argument("--out", help="where to save the model (.zip)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, float]:
    args = parse_args(argv)
    torch.set_num_threads(args.torch_threads)
    scenario = get_scenario(args.scenario)
    env_kwargs = {"scenario": scenario, "opponents": args.opponents}
    if args.vec == "dummy":  # n_envs copies, seeded seed + i, each in a Monitor
        env = make_vec_env(ENV_ID, n_envs=args.n_envs, seed=args.seed, env_kwargs=env_kwargs)
    else:
        env = VecMonitor(BatchedVecEnv(BucketBrigadeVectorEnv(args.n_envs, **env_kwargs)))
    # Scale the rewards (not the observations: the policy is then usable on raw ones).
    env = VecNormalize(env, norm_obs=False, norm_reward=True, gamma=args.gamma)
    algo = MaskablePPO if args.algo == "maskable" else PPO
    model = algo("MlpPolicy", env, n_steps=args.n_steps, batch_size=args.batch_size,
                 n_epochs=args.n_epochs, gamma=args.gamma, gae_lambda=0.95,
                 ent_coef=args.ent_coef, learning_rate=args.learning_rate, seed=args.seed,
                 verbose=1)
    start = time.perf_counter()
    model.learn(total_timesteps=args.steps)
    steps_per_second = model.num_timesteps / (time.perf_counter() - start)
    if args.out:
        model.save(args.out)

    def policy(obs: np.ndarray) -> np.ndarray:
        """Greedy actions [B, 2] for observations [B, obs_dim]: the evaluation adapter."""
        if args.algo == "maskable":
            masks = action_mask(obs[:, :scenario.num_houses], cheap_talk=False)
            return model.predict(obs, deterministic=True, action_masks=masks)[0]
        return model.predict(obs, deterministic=True)[0]

    games = {"games": args.eval_games, "seed": DEFAULT_EVAL_SEED}
    learner = evaluate(policy, scenario, args.opponents, **games)
    hero = evaluate("hero", scenario, args.opponents, **games)
    minus_hero, ci95 = paired_difference(learner, hero)
    report = {"algo": args.algo, "steps": model.num_timesteps,
              "steps_per_second": round(steps_per_second), "score": learner.mean_score,
              "score_ci95": learner.ci95, "work_rate": learner.work_rate,
              "hero": hero.mean_score, "minus_hero": minus_hero, "minus_hero_ci95": ci95}
    print(json.dumps(report))
    return report


if __name__ == "__main__":
    main()
