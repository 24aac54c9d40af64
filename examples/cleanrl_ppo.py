"""CleanRL's single-file PPO pattern, written against the project's vector env, with masks.

Everything is in this file: an MLP actor-critic with one categorical head per action
dimension (house, mode), the env's ``info["action_mask"]`` applied to the logits, GAE,
the clipped objective. The games run in one compiled call per step
(``make_vec_env``), which resets each game in the step it ends. The greedy policy is
judged on the project's evaluation games next to ``hero`` in the same seat.

    python examples/cleanrl_ppo.py --total-timesteps 2000000
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch
from torch import nn
from torch.distributions import Categorical

from bucket_brigade.envs import make_vec_env
from bucket_brigade.envs.masks import action_mask
from bucket_brigade.evaluation import evaluate, paired_difference
from bucket_brigade.training.config import DEFAULT_EVAL_SEED

MASKED_LOGIT = -1e8


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="greedy_neighbor")
    parser.add_argument("--opponents", default="random")
    parser.add_argument("--total-timesteps", type=int, default=2_000_000)
    parser.add_argument("--num-envs", type=int, default=64)
    parser.add_argument("--num-steps", type=int, default=64)
    parser.add_argument("--num-minibatches", type=int, default=4)
    parser.add_argument("--update-epochs", type=int, default=4)
    parser.add_argument("--learning-rate", type=float, default=3e-4)
    parser.add_argument("--gamma", type=float, default=0.95)
    parser.add_argument("--gae-lambda", type=float, default=0.95)
    parser.add_argument("--clip-coef", type=float, default=0.2)
    parser.add_argument("--ent-coef", type=float, default=0.01)
    parser.add_argument("--vf-coef", type=float, default=0.5)
    parser.add_argument("--max-grad-norm", type=float, default=0.5)
    parser.add_argument("--reward-scale", type=float, default=0.1,
                        help="rewards are multiplied by this (they reach +-10 a night)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--eval-games", type=int, default=500)
    parser.add_argument("--torch-threads", type=int, default=1)
    return parser.parse_args(argv)


class Agent(nn.Module):
    def __init__(self, obs_dim: int, nvec: list[int]) -> None:
        super().__init__()
        self.nvec = nvec
        self.critic = nn.Sequential(nn.Linear(obs_dim, 64), nn.Tanh(), nn.Linear(64, 64),
                                    nn.Tanh(), nn.Linear(64, 1))
        self.actor = nn.Sequential(nn.Linear(obs_dim, 64), nn.Tanh(), nn.Linear(64, 64),
                                   nn.Tanh(), nn.Linear(64, sum(nvec)))

    def value(self, obs: torch.Tensor) -> torch.Tensor:
        return self.critic(obs).squeeze(-1)

    def heads(self, obs: torch.Tensor, mask: torch.Tensor) -> list[Categorical]:
        logits = self.actor(obs).masked_fill(~mask, MASKED_LOGIT)
        return [Categorical(logits=part) for part in torch.split(logits, self.nvec, dim=-1)]

    def act(self, obs: torch.Tensor, mask: torch.Tensor, action: torch.Tensor | None = None
            ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        heads = self.heads(obs, mask)
        if action is None:
            action = torch.stack([head.sample() for head in heads], dim=-1)
        log_prob = sum(head.log_prob(action[:, i]) for i, head in enumerate(heads))
        entropy = sum(head.entropy() for head in heads)
        return action, log_prob, entropy, self.value(obs)

    def greedy(self, obs: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return torch.stack([head.probs.argmax(-1) for head in self.heads(obs, mask)], dim=-1)


def main(argv: list[str] | None = None) -> dict[str, float]:
    args = parse_args(argv)
    torch.set_num_threads(args.torch_threads)
    torch.manual_seed(args.seed)
    envs = make_vec_env(args.num_envs, args.scenario, opponents=args.opponents, seed=args.seed)
    obs_dim = envs.single_observation_space.shape[0]
    nvec = [int(n) for n in envs.single_action_space.nvec]
    agent = Agent(obs_dim, nvec)
    optimizer = torch.optim.Adam(agent.parameters(), lr=args.learning_rate, eps=1e-5)

    shape = (args.num_steps, args.num_envs)
    obs_buf = torch.zeros((*shape, obs_dim))
    mask_buf = torch.zeros((*shape, sum(nvec)), dtype=torch.bool)
    action_buf = torch.zeros((*shape, len(nvec)), dtype=torch.long)
    logprob_buf, reward_buf, done_buf, value_buf = (torch.zeros(shape) for _ in range(4))

    raw_obs, info = envs.reset(seed=args.seed)
    next_obs, next_mask = torch.from_numpy(raw_obs), torch.from_numpy(info["action_mask"])
    next_done = torch.zeros(args.num_envs)
    batch_size = args.num_envs * args.num_steps
    minibatch_size = batch_size // args.num_minibatches
    updates = args.total_timesteps // batch_size
    scores: list[float] = []
    start = time.perf_counter()
    for update in range(1, updates + 1):
        for step in range(args.num_steps):
            obs_buf[step], mask_buf[step], done_buf[step] = next_obs, next_mask, next_done
            with torch.no_grad():
                action, log_prob, _, value = agent.act(next_obs, next_mask)
            action_buf[step], logprob_buf[step], value_buf[step] = action, log_prob, value
            raw_obs, reward, terminated, truncated, info = envs.step(action.numpy())
            reward_buf[step] = torch.from_numpy(reward) * args.reward_scale
            next_obs, next_mask = torch.from_numpy(raw_obs), torch.from_numpy(info["action_mask"])
            next_done = torch.from_numpy(terminated | truncated).float()
            if "final_info" in info:
                scores.extend(info["final_info"]["score"][info["_final_info"]].tolist())

        with torch.no_grad():  # generalised advantage estimation
            next_value = agent.value(next_obs)
            advantages = torch.zeros(shape)
            last = torch.zeros(args.num_envs)
            for t in reversed(range(args.num_steps)):
                not_done = 1.0 - (next_done if t == args.num_steps - 1 else done_buf[t + 1])
                following = next_value if t == args.num_steps - 1 else value_buf[t + 1]
                delta = reward_buf[t] + args.gamma * following * not_done - value_buf[t]
                last = delta + args.gamma * args.gae_lambda * not_done * last
                advantages[t] = last
            returns = advantages + value_buf

        flat = [b.reshape(batch_size, *b.shape[2:]) for b in
                (obs_buf, mask_buf, action_buf, logprob_buf, advantages, returns)]
        b_obs, b_mask, b_actions, b_logprobs, b_advantages, b_returns = flat
        for _ in range(args.update_epochs):
            for index in torch.randperm(batch_size).split(minibatch_size):
                _, new_logprob, entropy, new_value = agent.act(b_obs[index], b_mask[index],
                                                               b_actions[index])
                ratio = (new_logprob - b_logprobs[index]).exp()
                adv = b_advantages[index]
                adv = (adv - adv.mean()) / (adv.std() + 1e-8)
                policy_loss = torch.max(-adv * ratio, -adv * ratio.clamp(
                    1 - args.clip_coef, 1 + args.clip_coef)).mean()
                value_loss = 0.5 * ((new_value - b_returns[index]) ** 2).mean()
                loss = policy_loss - args.ent_coef * entropy.mean() + args.vf_coef * value_loss
                optimizer.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(agent.parameters(), args.max_grad_norm)
                optimizer.step()
        if update % 10 == 0 and scores:
            print(f"step {update * batch_size}  score {np.mean(scores[-500:]):.1f}  "
                  f"{update * batch_size / (time.perf_counter() - start):.0f} steps/s",
                  flush=True)
    steps_per_second = updates * batch_size / (time.perf_counter() - start)

    def policy(obs: np.ndarray) -> np.ndarray:
        """Greedy masked actions [B, 2] for observations [B, obs_dim]."""
        houses = obs[:, :envs.scenario.num_houses]
        with torch.no_grad():
            return agent.greedy(torch.from_numpy(obs),
                                torch.from_numpy(action_mask(houses, False))).numpy()

    games = {"games": args.eval_games, "seed": DEFAULT_EVAL_SEED}
    learner = evaluate(policy, args.scenario, args.opponents, **games)
    hero = evaluate("hero", args.scenario, args.opponents, **games)
    minus_hero, ci95 = paired_difference(learner, hero)
    report = {"steps": updates * batch_size, "steps_per_second": round(steps_per_second),
              "score": learner.mean_score, "score_ci95": learner.ci95,
              "work_rate": learner.work_rate, "hero": hero.mean_score,
              "minus_hero": minus_hero, "minus_hero_ci95": ci95}
    print(json.dumps(report))
    return report


if __name__ == "__main__":
    main()
