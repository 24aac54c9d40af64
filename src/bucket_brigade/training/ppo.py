"""Proximal Policy Optimization for the learner seat, in the style of CleanRL's ``ppo.py``:
one training loop in which every PPO detail is visible and named.

Each update collects ``num_steps`` nights from each of ``num_envs`` games
(``batch_size = num_envs x num_steps`` learner steps), computes GAE advantages,
then runs ``epochs`` passes of ``minibatches`` clipped-surrogate gradient steps.
Games end only by termination (RULES.md: both end conditions are terminal), so
a ``done`` cuts the bootstrap and the terminal observation is never needed.

Several agents can learn at once (``--learners K``, or ``--self-play``: every seat).
The env flattens (game, learner seat) into its slots, so ``num_envs`` counts
agent-slots (games x K). By default one policy, shared by all learning seats, acts
from each seat's egocentric observation (parameter sharing, as in IPPO); with
``--sharing independent`` each seat has its own (``sharing``), and with ``--critic
central`` the values come from the global state (``critic``). Either way the loop below
runs each learner on its own slots and updates each on its own rows. What surrounds the
algorithm lives beside it: the settings in ``config``, the learners in ``sharing``, the
seats and envs in ``seating``, frozen snapshots in ``league``, clean stops in ``stop``,
and the run's files in ``bookkeeping``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numba
import numpy as np
import torch
from rich.console import Console

from bucket_brigade.training.bookkeeping import RunRecord, TrainResult
from bucket_brigade.training.checkpoint import RunPaths
from bucket_brigade.training.config import TrainConfig
from bucket_brigade.training.exploration import (
    bias_work,
    entropy_coefficient,
    mask_on_at,
    set_action_mask,
)
from bucket_brigade.training.gradients import FlatGradients
from bucket_brigade.training.league import League
from bucket_brigade.training.monitor import MetricsCallback, TrainingMonitor
from bucket_brigade.training.network import PolicyNetwork
from bucket_brigade.training.seating import make_training_env, stagger_game_starts
from bucket_brigade.training.sharing import Agent, Learners
from bucket_brigade.training.signals import cheap_talk_metrics
from bucket_brigade.training.stop import StopRequest


def select_device(force_cpu: bool, threads: int) -> torch.device:
    """CUDA when there is one (unless --cpu), else the CPU; PyTorch and the engine's kernels
    (Numba) both run on ``threads`` threads, which the run keeps to its end."""
    device = torch.device("cuda" if torch.cuda.is_available() and not force_cpu else "cpu")
    torch.set_num_threads(threads)
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    return device


def compute_gae(rewards: torch.Tensor, values: torch.Tensor, terminated: torch.Tensor,
                next_value: torch.Tensor, gamma: float, gae_lambda: float,
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """Generalised advantage estimates and value targets over a [T, E] rollout.

    ``terminated[t]`` says the game ended with step t (so step t + 1 belongs to a new
    game and must not be bootstrapped); ``next_value`` [E] is V of the observation
    after the last step. Returns (advantages, returns = advantages + values).
    """
    num_steps = rewards.shape[0]
    advantages = torch.zeros_like(rewards)
    last_advantage = torch.zeros_like(next_value)
    for t in reversed(range(num_steps)):
        following_value = next_value if t == num_steps - 1 else values[t + 1]
        not_done = 1.0 - terminated[t]
        delta = rewards[t] + gamma * following_value * not_done - values[t]
        last_advantage = delta + gamma * gae_lambda * not_done * last_advantage
        advantages[t] = last_advantage
    return advantages, advantages + values


class ReturnNormalizer:
    """Divides rewards by the running standard deviation of the discounted return, as
    gymnasium's ``NormalizeReward`` (which CleanRL uses), so value targets stay near unit
    scale whatever the scenario's reward magnitudes.

    Kept rather than wrapping the env in ``gymnasium.wrappers.vector.NormalizeReward``:
    that wrapper (gymnasium 1.4) drops the accumulated return on a game's last step
    (``acc * gamma * (1 - terminated) + reward``, in float32) where this keeps it until
    after the update, so every run's results would change; its running statistics are
    plain attributes with no state-dict API for checkpoints; and as a wrapper it would
    also learn from the random-action nights of the staggered starts."""

    def __init__(self, num_envs: int, gamma: float, epsilon: float = 1e-8) -> None:
        self.gamma = gamma
        self.epsilon = epsilon
        self.returns = np.zeros(num_envs)
        self.mean, self.var, self.count = 0.0, 1.0, 1e-4

    def __call__(self, rewards: np.ndarray, terminated: np.ndarray) -> np.ndarray:
        self.returns = self.returns * self.gamma + rewards
        self._update(self.returns)
        self.returns[terminated] = 0.0
        return rewards / math.sqrt(self.var + self.epsilon)

    def _update(self, batch: np.ndarray) -> None:
        """Chan et al.'s parallel update of the running mean and variance."""
        batch_mean, batch_var, batch_count = float(batch.mean()), float(batch.var()), batch.size
        delta = batch_mean - self.mean
        total = self.count + batch_count
        self.mean += delta * batch_count / total
        self.var = (self.var * self.count + batch_var * batch_count
                    + delta**2 * self.count * batch_count / total) / total
        self.count = total

    def state_dict(self) -> dict[str, float]:
        return {"mean": self.mean, "var": self.var, "count": self.count}

    def load_state_dict(self, state: dict[str, float]) -> None:
        self.mean, self.var, self.count = state["mean"], state["var"], state["count"]


def ppo_update(agent: Agent, optimizer: torch.optim.Optimizer,
               gradients: FlatGradients, config: TrainConfig,
               inputs: torch.Tensor, actions: torch.Tensor, logprobs: torch.Tensor,
               values: torch.Tensor, advantages: torch.Tensor, returns: torch.Tensor,
               ent_coef: float | None = None) -> dict[str, float]:
    """``epochs`` passes over the flattened batch in shuffled minibatches; returns the
    losses of the last minibatch and the clip fraction over all (losses/* in TensorBoard).
    ``ent_coef``: this update's entropy coefficient (``config.ent_coef`` when not given).

    The rows are [B], or for independent learners (``sharing.SeatStack``) [K, B], seat k's
    rows: each seat's advantages are normalised and its losses averaged over its own rows,
    and the loss minimised is the sum of the seats' (so each seat's gradient is its own);
    the losses reported are the seats' mean."""
    ent_coef = config.ent_coef if ent_coef is None else ent_coef
    batch_size = advantages.shape[-1]
    minibatch_size = batch_size // config.minibatches
    clipfracs = []
    for _ in range(config.epochs):
        # One minibatch is the whole batch, whose order does not matter: no shuffled copy.
        order = torch.randperm(batch_size, device=inputs.device) \
            if config.minibatches > 1 else None
        for start in range(0, batch_size, minibatch_size):
            mb = slice(None) if order is None else order[start:start + minibatch_size]
            _, new_logprob, entropy, new_value = agent.act(inputs[..., mb, :],
                                                           actions[..., mb, :])
            log_ratio = new_logprob - logprobs[..., mb]
            ratio = log_ratio.exp()
            with torch.no_grad():
                approx_kl = ((ratio - 1) - log_ratio).mean(-1)  # the k3 estimator of KL
                clipfracs.append(((ratio - 1.0).abs() > config.clip_coef).float().mean())

            mb_advantages = advantages[..., mb]
            mb_advantages = (mb_advantages - mb_advantages.mean(-1, keepdim=True)) \
                / (mb_advantages.std(-1, keepdim=True) + 1e-8)

            # Clipped surrogate objective (as a loss: the larger of the two negatives).
            policy_loss = torch.max(
                -mb_advantages * ratio,
                -mb_advantages * torch.clamp(ratio, 1 - config.clip_coef, 1 + config.clip_coef),
            ).mean(-1)

            # Value loss, optionally clipped around the rollout's value estimates.
            mb_values, mb_returns = values[..., mb], returns[..., mb]
            if config.clip_vloss:
                unclipped = (new_value - mb_returns) ** 2
                clipped_value = mb_values + torch.clamp(new_value - mb_values,
                                                        -config.clip_coef, config.clip_coef)
                clipped = (clipped_value - mb_returns) ** 2
                value_loss = 0.5 * torch.max(unclipped, clipped).mean(-1)
            else:
                value_loss = 0.5 * ((new_value - mb_returns) ** 2).mean(-1)

            entropy_bonus = entropy.mean(-1)
            loss = policy_loss - ent_coef * entropy_bonus + config.vf_coef * value_loss

            gradients.zero_()  # optimizer.zero_grad(), on one flat tensor (training.gradients)
            loss.sum().backward()
            gradients.clip_norm_(config.max_grad_norm)  # nn.utils.clip_grad_norm_, the same
            optimizer.step()

    variance = returns.var(-1)
    explained = torch.where(variance > 0, 1 - (returns - values).var(-1) / variance, torch.nan)
    return {
        "losses/policy_loss": policy_loss.mean().item(),
        "losses/value_loss": value_loss.mean().item(),
        "losses/entropy": entropy_bonus.mean().item(),
        "losses/approx_kl": approx_kl.mean().item(),
        "losses/clipfrac": torch.stack(clipfracs).mean().item(),
        "losses/explained_variance": explained.mean().item(),
    }


def train(config: TrainConfig, checkpoint: dict[str, Any] | None = None,
          console: Console | None = None, on_metrics: MetricsCallback | None = None,
          until: Callable[[int, PolicyNetwork], bool] | None = None) -> TrainResult:
    """Train from scratch, or from ``checkpoint`` (a dict from ``load_checkpoint``) up to
    ``config.steps``; ``console`` shows progress, ``on_metrics(step, scalars)`` receives each
    update's TensorBoard scalars, and ``until(step, network)``, asked after each update,
    ends the run early when it returns True. SIGINT / SIGTERM end the run early with a
    checkpoint."""
    config.validate()
    device = select_device(config.cpu, config.cpu_threads)
    torch.manual_seed(config.seed)
    start_step = int(checkpoint["step"]) if checkpoint else 0

    # A resumed run plays fresh games: the env's seed moves on with the step count.
    league: League | None = None  # needs the network, which needs the env: bound below
    envs = make_training_env(config, config.seed + start_step, lambda obs: league(obs))
    learners = Learners(envs, config, device)
    if config.work_bias and not checkpoint:
        bias_work(learners.module, config.work_bias)
    normalizer = ReturnNormalizer(config.num_envs, config.gamma)
    monitor = TrainingMonitor(RunPaths(Path(config.out_dir), config.run_name), config,
                              start_step=start_step, console=console, on_metrics=on_metrics)
    record = RunRecord(config, learners.module, learners.optimizer, normalizer, monitor)
    if checkpoint:
        record.resume(checkpoint)
    masked = mask_on_at(config, start_step)
    if config.action_mask_steps is not None:  # a resumed run keeps the mask's schedule (a
        set_action_mask(learners.module, masked)  # stack of seats loads no buffer)
    if config.league_slots:  # (only with one shared policy, a plain PolicyNetwork)
        league = League(learners.module, config.seed + start_step)
    record.write_config()

    envs.reset(seed=config.seed + start_step)
    next_obs = stagger_game_starts(envs, config.seed + start_step)
    with torch.inference_mode():
        next_inputs = learners.encode(next_obs, envs)
    # Rollout storage, allocated once, on the training device; observations are kept
    # encoded (PolicyNetwork.encode), as the network reads them.
    num_steps, num_envs = config.num_steps, config.num_envs
    inputs_buf = torch.zeros((num_steps, num_envs, next_inputs.shape[1]), device=device)
    action_dims = len(envs.single_action_space.nvec)
    actions_buf = torch.zeros((num_steps, num_envs, action_dims), dtype=torch.long,
                              device=device)
    logprobs_buf = torch.zeros((num_steps, num_envs), device=device)
    values_buf = torch.zeros((num_steps, num_envs), device=device)
    rewards_buf = np.zeros((num_steps, num_envs), dtype=np.float32)
    terminated_buf = np.zeros((num_steps, num_envs), dtype=np.float32)

    global_step = start_step
    stop = StopRequest()
    reached = False
    with stop.installed(), monitor.running():
        while global_step < config.steps and stop.signal is None and not reached:
            if config.anneal_lr:
                learners.set_learning_rate(config.lr * max(1.0 - global_step / config.steps, 0.0))
            ent_coef = entropy_coefficient(config, global_step)
            if league is not None:
                league.draw()
            if masked and not mask_on_at(config, global_step):  # the curriculum's switch
                masked = False
                set_action_mask(learners.module, False)
                record.write_config()  # its network entry: unmasked from here on
                with torch.inference_mode():
                    next_inputs = learners.encode(next_obs, envs)

            # 1. Rollout: num_steps nights of every game, each learner on its slots.
            for t in range(num_steps):
                inputs_buf[t] = next_inputs
                with torch.inference_mode():
                    actions_buf[t], logprobs_buf[t], values_buf[t] = \
                        learners.sample(next_inputs)
                next_obs, reward, terminated, _, info = envs.step(actions_buf[t].cpu().numpy())
                with torch.inference_mode():  # the step's one copy, encoded once
                    next_inputs = learners.encode(next_obs, envs)
                rewards_buf[t] = normalizer(reward, terminated)
                terminated_buf[t] = terminated
                if "final_info" in info:
                    monitor.record_episodes(info["final_info"])
            global_step += config.batch_size

            # 2. Advantages: GAE over the rollout, bootstrapped from V(next_obs).
            with torch.no_grad():
                advantages, returns = compute_gae(
                    torch.from_numpy(rewards_buf).to(device), values_buf,
                    torch.from_numpy(terminated_buf).to(device), learners.value(next_inputs),
                    config.gamma, config.gae_lambda)

            # 3. Optimise the clipped PPO objective, each learner on its slots' rows.
            diagnostics = ppo_update(
                learners.agent, learners.adam, learners.gradients, config,
                *(learners.rows(buffer) for buffer in (
                    inputs_buf, actions_buf, logprobs_buf, values_buf, advantages, returns)),
                ent_coef=ent_coef)
            diagnostics["charts/learning_rate"] = learners.adam.param_groups[0]["lr"]
            if config.anneal_ent:
                diagnostics["charts/ent_coef"] = ent_coef
            if config.action_mask_steps is not None:
                diagnostics["charts/action_mask"] = float(masked)
            if config.cheap_talk:
                diagnostics.update(cheap_talk_metrics(actions_buf.cpu().numpy(), terminated_buf))
            if league is not None:
                diagnostics["league/snapshots"] = len(league.snapshots)
            monitor.end_update(global_step, diagnostics)
            reached = until is not None and until(global_step, learners.seat_network(0))

            if record.checkpoint_due(global_step, stopping=stop.signal is not None or reached):
                record.save_checkpoint(global_step)
                if league is not None:
                    league.add(learners.module)

    return record.finish(global_step, device, stop.signal)
