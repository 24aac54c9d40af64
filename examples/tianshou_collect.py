"""Tianshou's Collector on the batched env: a 40-line adapter, and its speed (``--vec
batched``) next to Tianshou's own DummyVectorEnv over make_env copies (``--vec dummy``).

Tianshou resets each sub-env itself when its episode ends (``env.reset(env_id=ids)``) and
steps them through ``env.step(actions, ids)``. ``TianshouVectorEnv`` gives it those calls
over one ``ManualResetVectorEnv`` (the batched env with Gymnasium's manual-reset
convention), so a collection step is one kernel call for every game. Collect by steps
(``collect(n_step=...)``), which steps every env each time; score a trained policy with
``bucket_brigade.evaluation.evaluate`` (see docs/clients.md) rather than by collecting
episodes, where Tianshou stops stepping the envs that are done.

    python examples/tianshou_collect.py --vec batched --n-envs 64 --steps 262144

prints one JSON line with the environment steps per second through Collector.collect, with
a uniformly random MultiDiscrete policy (collection only: nothing learns here).
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import gymnasium as gym
import numpy as np
from tianshou.algorithm.algorithm_base import Policy
from tianshou.data import Batch, Collector, VectorReplayBuffer
from tianshou.env import DummyVectorEnv

from bucket_brigade.envs import ManualResetVectorEnv, make_env, make_vec_env


class TianshouVectorEnv:
    """Tianshou's vector-env calls (``len``, ``reset(env_id)``, ``step(action, env_id)``)
    over a ManualResetVectorEnv."""

    is_async = False

    def __init__(self, env: ManualResetVectorEnv) -> None:
        self.env = env
        self.action_space = [env.single_action_space] * env.num_envs  # one per env, as Tianshou's
        self.observation_space = [env.single_observation_space] * env.num_envs

    def __len__(self) -> int:
        return self.env.num_envs

    def reset(self, env_id: Any = None, **kwargs: Any) -> tuple[np.ndarray, np.ndarray]:
        if env_id is None:
            obs, info = self.env.reset(**kwargs)
            return obs, per_env(info, range(len(self)))
        ids = np.atleast_1d(np.asarray(env_id))
        mask = np.zeros(len(self), dtype=bool)
        mask[ids] = True
        obs, info = self.env.reset(options={"reset_mask": mask})
        return obs[ids], per_env(info, ids)

    def step(self, action: np.ndarray, env_id: Any = None
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        if env_id is not None and not np.array_equal(np.sort(env_id), np.arange(len(self))):
            raise ValueError("every env steps at once (one kernel call): collect by n_step")
        obs, rewards, terminated, truncated, info = self.env.step(np.asarray(action))
        return obs, rewards, terminated, truncated, per_env(info, range(len(self)))

    def close(self) -> None:
        self.env.close()


def per_env(info: dict[str, Any], ids: Any) -> np.ndarray:
    """Gymnasium's vector info (arrays, with ``_key`` masks) as Tianshou's array of dicts."""
    keys = [key for key in info if not key.startswith("_")]
    return np.array([{key: info[key][i] for key in keys
                      if f"_{key}" not in info or info[f"_{key}"][i]} for i in ids],
                    dtype=object)


class UniformPolicy(Policy):
    """Uniformly random MultiDiscrete actions (Tianshou's RandomActionPolicy takes
    Discrete and Box spaces only)."""

    def __init__(self, action_space: gym.spaces.MultiDiscrete, seed: int) -> None:
        super().__init__(action_space=action_space)
        self.nvec = np.asarray(action_space.nvec)
        self.rng = np.random.default_rng(seed)

    def forward(self, batch: Any, state: Any = None, **kwargs: Any) -> Batch:
        actions = self.rng.integers(0, self.nvec, size=(len(batch.obs), len(self.nvec)))
        return Batch(act=actions, state=state)


def steps_per_second(env: Any, policy: Policy, steps: int) -> float:
    collector = Collector(policy, env, VectorReplayBuffer(steps, len(env)))
    collector.reset()
    collector.collect(n_step=len(env) * 16)  # warm-up: compiled kernels, buffers
    start = time.perf_counter()
    collected = collector.collect(n_step=steps).n_collected_steps
    return collected / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vec", choices=("batched", "dummy"), default="batched")
    parser.add_argument("--scenario", default="greedy_neighbor")
    parser.add_argument("--n-envs", type=int, default=64)
    parser.add_argument("--steps", type=int, default=262_144)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    if args.vec == "batched":
        env: Any = TianshouVectorEnv(ManualResetVectorEnv(
            make_vec_env(args.n_envs, args.scenario, seed=args.seed)))
    else:
        env = DummyVectorEnv([lambda i=i: make_env(args.scenario, seed=args.seed + i)
                              for i in range(args.n_envs)])
    policy = UniformPolicy(make_env(args.scenario).action_space, args.seed)
    report = {"vec": args.vec, "n_envs": args.n_envs, "steps": args.steps,
              "steps_per_second": round(steps_per_second(env, policy, args.steps))}
    print(json.dumps(report))
    return report


if __name__ == "__main__":
    main()
