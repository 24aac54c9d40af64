"""Shared-parameter self-play: every seat of the PettingZoo env plays one MaskablePPO policy.

SuperSuit turns the parallel env into a vector env with one slot per agent
(``pettingzoo_env_to_vec_env_v1``) and concatenates copies of it (``concat_vec_envs_v1``);
SB3 sees each agent as a separate environment. The trained team (the policy in every
seat) is judged greedily on the project's evaluation games next to teams of four
firefighters and of four heroes, with paired 95% CIs, and the policy alone in seat 0
against three random opponents.

    pip install "bucket-brigade[clients]"
    python examples/supersuit_selfplay.py --steps 2000000 --out selfplay.zip
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

import numpy as np
import supersuit as ss
import torch
from sb3_contrib import MaskablePPO
from stable_baselines3.common.utils import set_random_seed
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper, VecMonitor, VecNormalize

from bucket_brigade.agents.strategies import make_seat
from bucket_brigade.confidence import ci95_half_width
from bucket_brigade.engine.batch import GameBatch
from bucket_brigade.envs import parallel_env
from bucket_brigade.envs.masks import action_mask
from bucket_brigade.envs.spaces import full_actions
from bucket_brigade.evaluation import evaluate
from bucket_brigade.game.scenarios import Scenario, get_scenario
from bucket_brigade.game.seat import Seat
from bucket_brigade.training.config import DEFAULT_EVAL_SEED


class ObservationMasks(VecEnvWrapper):
    """Answers MaskablePPO's ``env_method("action_masks")``, which SuperSuit's vector envs
    lack, from the last observations (the mask is a function of the houses they show)."""

    def __init__(self, venv: VecEnv, num_houses: int) -> None:
        super().__init__(venv)
        self.num_houses = num_houses

    def reset(self) -> np.ndarray:
        self._obs = self.venv.reset()
        return self._obs

    def step_wait(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[dict]]:
        self._obs, rewards, dones, infos = self.venv.step_wait()
        return self._obs, rewards, dones, infos

    def has_attr(self, attr_name: str) -> bool:
        return attr_name == "action_masks" or self.venv.has_attr(attr_name)

    def env_method(self, method_name: str, *args: object, indices: object = None,
                   **kwargs: object) -> list:
        if method_name == "action_masks":
            masks = action_mask(self._obs[:, :self.num_houses], cheap_talk=False)
            return list(masks[list(self._get_indices(indices))])
        return self.venv.env_method(method_name, *args, indices=indices, **kwargs)


def make_venv(scenario: Scenario, num_agents: int, copies: int, seed: int,
              gamma: float) -> VecEnv:
    venv = ss.pettingzoo_env_to_vec_env_v1(parallel_env(scenario, num_agents=num_agents))
    venv = ss.concat_vec_envs_v1(venv, copies, num_cpus=0, base_class="stable_baselines3")
    # SuperSuit's ConcatVecEnv has no seed(), so SB3's seed= fails on it: seed the copies
    # here instead (copy i gets seed + i; SB3's first reset keeps these games).
    venv.venv.reset(seed=seed)
    venv = VecMonitor(ObservationMasks(venv, scenario.num_houses))
    return VecNormalize(venv, norm_obs=False, norm_reward=True, gamma=gamma)


def team_scores(policy: Callable[[np.ndarray], np.ndarray] | str, scenario: Scenario,
                num_agents: int, games: int) -> np.ndarray:
    """Mean score of the team per evaluation game: the policy (or a strategy) in every seat."""
    seats = [Seat() if callable(policy) else make_seat(policy, scenario.name)] * num_agents
    batch = GameBatch(scenario, seats, games, seed=DEFAULT_EVAL_SEED)

    def every_seat(obs: np.ndarray) -> np.ndarray:
        actions = policy(obs.reshape(-1, obs.shape[-1]))
        return full_actions(np.asarray(actions), cheap_talk=False).reshape(*obs.shape[:2], 3)

    finished = batch.play_out(every_seat if callable(policy) else None)
    return finished.scores.mean(axis=1)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="greedy_neighbor")
    parser.add_argument("--num-agents", type=int, default=4)
    parser.add_argument("--steps", type=int, default=2_000_000, help="agent-steps")
    parser.add_argument("--copies", type=int, default=16, help="games played side by side")
    parser.add_argument("--n-steps", type=int, default=64, help="rollout length per slot")
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--n-epochs", type=int, default=4)
    parser.add_argument("--gamma", type=float, default=0.95)
    parser.add_argument("--ent-coef", type=float, default=0.01)
    parser.add_argument("--learning-rate", type=float, default=3e-4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--eval-games", type=int, default=500)
    parser.add_argument("--torch-threads", type=int, default=1)
    parser.add_argument("--out", help="where to save the model (.zip)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, float]:
    args = parse_args(argv)
    torch.set_num_threads(args.torch_threads)
    set_random_seed(args.seed)  # the network's initialisation and sampling
    scenario = get_scenario(args.scenario)
    venv = make_venv(scenario, args.num_agents, args.copies, args.seed, args.gamma)
    model = MaskablePPO("MlpPolicy", venv, n_steps=args.n_steps, batch_size=args.batch_size,
                        n_epochs=args.n_epochs, gamma=args.gamma, gae_lambda=0.95,
                        ent_coef=args.ent_coef, learning_rate=args.learning_rate, verbose=1)
    start = time.perf_counter()
    model.learn(total_timesteps=args.steps)
    steps_per_second = model.num_timesteps / (time.perf_counter() - start)
    if args.out:
        model.save(args.out)

    def policy(obs: np.ndarray) -> np.ndarray:
        masks = action_mask(obs[:, :scenario.num_houses], cheap_talk=False)
        return model.predict(obs, deterministic=True, action_masks=masks)[0]

    team = team_scores(policy, scenario, args.num_agents, args.eval_games)
    report: dict[str, float] = {"steps": model.num_timesteps,
                                "steps_per_second": round(steps_per_second),
                                "team_score": float(team.mean()),
                                "team_score_ci95": ci95_half_width(team)}
    for name in ("firefighter", "hero", "random"):
        other = team_scores(name, scenario, args.num_agents, args.eval_games)
        report[f"team_{name}"] = float(other.mean())
        report[f"minus_{name}"] = float((team - other).mean())
        report[f"minus_{name}_ci95"] = ci95_half_width(team - other)
    versus_random = evaluate(policy, scenario, "random", num_opponents=args.num_agents - 1,
                             games=args.eval_games, seed=DEFAULT_EVAL_SEED)
    report["seat0_vs_random"] = versus_random.mean_score
    print(json.dumps(report))
    return report


if __name__ == "__main__":
    main()
