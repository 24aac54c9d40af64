"""Proximal Policy Optimization for the learner seat, in the style of CleanRL's ``ppo.py``:
one training loop in which every PPO detail is visible and named.

Each update collects ``num_steps`` nights from each of ``num_envs`` games
(``batch_size = num_envs x num_steps`` learner steps), computes GAE advantages,
then runs ``epochs`` passes of ``minibatches`` clipped-surrogate gradient steps.
Games end only by termination (RULES.md: both end conditions are terminal), so
a ``done`` cuts the bootstrap and the terminal observation is never needed.

Several agents can learn at once (``--learners K``, or ``--self-play``: every seat):
one policy, shared by all learning seats, acts from each seat's egocentric
observation (parameter sharing, as in IPPO). The env flattens (game, learner seat)
into its slots, so ``num_envs`` counts agent-slots (games x K) and the loop below is
the same for one learner or many. With ``--league P`` a fraction P of the slots
are the learner's seat in games whose other seats are played by a frozen snapshot
of the learner itself, drawn each update from its last ``LEAGUE_SIZE`` checkpoints
(the starting weights until the first checkpoint; a resumed run starts its league
afresh from the resumed weights).
"""

from __future__ import annotations

import copy
import math
import signal
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numba
import numpy as np
import torch
from rich.console import Console
from torch import nn

from bucket_brigade.agents.strategies import opponent_seats
from bucket_brigade.analysis.signals import cheap_talk_metrics
from bucket_brigade.envs.spaces import full_actions
from bucket_brigade.envs.vector import (
    BucketBrigadeVectorEnv,
    ConcatVectorEnv,
    OpponentPolicy,
    derived_seed,
    make_vec_env,
)
from bucket_brigade.errors import UsageError
from bucket_brigade.game.scenarios import get_scenario
from bucket_brigade.io import save_json
from bucket_brigade.training.checkpoint import RunPaths, save_torch
from bucket_brigade.training.models import load_policy
from bucket_brigade.training.monitor import MetricsCallback, TrainingMonitor
from bucket_brigade.training.network import (
    DEFAULT_HIDDEN_SIZE,
    DEFAULT_POLICY,
    POLICIES,
    PolicyNetwork,
)

CPU_THREADS = 1
LEAGUE_SIZE = 5  # snapshots (from the latest checkpoints) that league games draw from


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a run; saved as runs/{run}/config.json and in checkpoints."""

    steps: int = 10_000_000
    scenario: str = "trivial_cooperation"
    opponents: int = 3
    opponent_policies: str | None = None  # None: the default opponents of agents.strategies
    opponent_model: str | None = None  # a trained policy file that plays the opponent seats
    cheap_talk: bool = False
    run_name: str = "run"
    out_dir: str = "experiments/marl"
    seed: int = 1
    batch_size: int = 2048
    num_envs: int = 1024
    epochs: int = 4
    minibatches: int = 1
    lr: float = 3e-4
    anneal_lr: bool = True
    gamma: float = 0.9
    gae_lambda: float = 0.8
    clip_coef: float = 0.2
    clip_vloss: bool = True
    ent_coef: float = 0.03
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5
    hidden_size: int = DEFAULT_HIDDEN_SIZE
    policy: str = DEFAULT_POLICY  # the network's body: training.network.POLICIES
    action_mask: bool = True  # no probability on pointless actions (training.network)
    checkpoint_interval: int = 100_000
    eval_interval: int = 10_000
    cpu: bool = False
    self_play: bool = False  # every seat learns: opponents + 1 learners, none scripted
    learners: int = 1  # learning seats 0..K-1, one shared policy; `opponents` are scripted
    league: float = 0.0  # fraction of agent-slots in games against frozen snapshots

    @property
    def num_learners(self) -> int:
        return self.opponents + 1 if self.self_play else self.learners

    @property
    def num_scripted(self) -> int:
        return 0 if self.self_play else self.opponents

    @property
    def num_agents(self) -> int:
        return self.num_learners + self.num_scripted

    @property
    def league_slots(self) -> int:
        """Agent-slots (one learner each) in games against a frozen snapshot."""
        return round(self.league * self.num_envs)

    @property
    def num_steps(self) -> int:
        """Nights collected from each game per update."""
        return self.batch_size // self.num_envs

    @property
    def minibatch_size(self) -> int:
        return self.batch_size // self.minibatches

    def validate(self) -> None:
        """Refuse settings that cannot run, with a message that names the value."""
        # Scripted opponents are optional when other seats learn.
        least = {"opponents": 0 if self.learners > 1 else 1}
        for name in ("steps", "opponents", "batch_size", "num_envs", "epochs", "minibatches",
                     "hidden_size", "checkpoint_interval", "eval_interval", "learners"):
            value = getattr(self, name)
            low = least.get(name, 1)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise UsageError(f"--{name.replace('_', '-')} {value!r} must be a "
                                 f"{'positive' if low else 'non-negative'} integer")
        for name in ("lr", "clip_coef", "max_grad_norm"):
            if not getattr(self, name) > 0:
                raise UsageError(f"--{name.replace('_', '-')} {getattr(self, name)!r} must be > 0")
        for name in ("gamma", "gae_lambda"):
            if not 0 <= getattr(self, name) <= 1:
                raise UsageError(f"--{name.replace('_', '-')} {getattr(self, name)!r} must be "
                                 "in [0, 1]")
        for name in ("ent_coef", "vf_coef"):
            if not getattr(self, name) >= 0:
                raise UsageError(f"--{name.replace('_', '-')} {getattr(self, name)!r} must be "
                                 ">= 0")
        if self.policy not in POLICIES:
            raise UsageError(f"--policy {self.policy!r} is not one of {', '.join(POLICIES)}")
        if self.batch_size % self.num_envs:
            raise UsageError(f"--batch-size {self.batch_size} is not a multiple of --num-envs "
                             f"{self.num_envs} (the batch is num_envs x steps per game)")
        if self.batch_size % self.minibatches:
            raise UsageError(f"--batch-size {self.batch_size} does not split into --minibatches "
                             f"{self.minibatches} equal minibatches")
        if not self.run_name or any(c in self.run_name for c in "/\\") \
                or self.run_name in (".", ".."):
            raise UsageError(f"--run-name {self.run_name!r} must be a plain folder name")
        if self.self_play and self.learners != 1:
            raise UsageError(f"--self-play already makes all --opponents + 1 seats learn; it "
                             f"does not combine with --learners {self.learners}")
        if not 0 <= self.league < 1:
            raise UsageError(f"--league {self.league!r} must be in [0, 1): the fraction of "
                             "agent-slots in games against frozen snapshots")
        if self.league and not self.league_slots:
            raise UsageError(f"--league {self.league!r} gives no slot of --num-envs "
                             f"{self.num_envs}")
        main_slots = self.num_envs - self.league_slots
        if main_slots < self.num_learners or main_slots % self.num_learners:
            raise UsageError(f"--num-envs {self.num_envs} (less {self.league_slots} league "
                             f"slots) is not a multiple of the {self.num_learners} learners "
                             "per game (slots = games x learners)")
        scenario = get_scenario(self.scenario)
        scenario.check_num_agents(self.num_agents)
        if self.opponent_model is not None:
            if self.opponent_policies is not None:
                raise UsageError(f"--opponent-model {self.opponent_model!r} and "
                                 f"--opponent-policies {self.opponent_policies!r} both name "
                                 "the opponents; give one")
            if not self.num_scripted:
                raise UsageError(f"--opponent-model {self.opponent_model!r} plays the "
                                 "opponent seats, but every seat learns here")
            load_policy(self.opponent_model).check_fits(scenario, self.num_agents)
        elif self.num_scripted:
            opponent_seats(self.num_scripted, self.opponent_policies, scenario.name)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


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
    scale whatever the scenario's reward magnitudes."""

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


@dataclass
class TrainResult:
    """What a run did and where it wrote it."""

    paths: RunPaths
    config: TrainConfig
    device: str
    step: int
    seconds: float
    cpu_seconds: float
    steps_per_sec: float
    avg_reward_100ep: float
    total_episodes: int
    last_checkpoint: Path | None
    model_path: Path | None  # None when the run was interrupted
    stopped_by: int | None = None  # the signal number that stopped the run, if any


class StopRequest:
    """Turns SIGINT / SIGTERM into a request to stop at the end of the current update, so
    the checkpoint saved on the way out is a consistent one; a second signal stops at once."""

    def __init__(self) -> None:
        self.signal: int | None = None

    def handle(self, signum: int, frame: Any) -> None:
        if self.signal is not None:
            raise KeyboardInterrupt
        self.signal = signum

    @contextmanager
    def installed(self) -> Iterator[StopRequest]:
        if threading.current_thread() is not threading.main_thread():
            yield self  # signals only reach the main thread
            return
        previous = {s: signal.signal(s, self.handle) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield self
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)


def select_device(force_cpu: bool) -> torch.device:
    """CUDA when there is one (unless --cpu), else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() and not force_cpu else "cpu")


def make_training_env(config: TrainConfig, seed: int, snapshot: OpponentPolicy | None = None,
                      ) -> BucketBrigadeVectorEnv | ConcatVectorEnv:
    """The run's agent-slots: games of ``num_learners`` learners and ``num_scripted`` scripted
    opponents (or seats played greedily by ``opponent_model``), then (with --league) games of
    one learner whose other seats ``snapshot`` plays."""
    opponent_model = None if config.opponent_model is None \
        else load_policy(config.opponent_model).network.play
    main = make_vec_env(config.num_envs - config.league_slots, config.scenario,
                        config.num_scripted, config.opponent_policies, config.cheap_talk,
                        seed=seed, num_learners=config.num_learners,
                        opponent_policy=opponent_model)
    if not config.league_slots:
        return main
    league = make_vec_env(config.league_slots, config.scenario, config.num_agents - 1,
                          cheap_talk=config.cheap_talk, seed=derived_seed(seed, 1),
                          opponent_policy=snapshot)
    return ConcatVectorEnv([main, league])


class League:
    """Frozen copies of the learner, one per recent checkpoint; ``draw`` picks the one that
    plays (sampling its actions) the opponent seats of every league game until the next."""

    def __init__(self, agent: PolicyNetwork, seed: int) -> None:
        self.opponent = copy.deepcopy(agent).requires_grad_(False)
        self.snapshots: deque[dict[str, torch.Tensor]] = deque(maxlen=LEAGUE_SIZE)
        self.rng = np.random.default_rng(seed)
        self.add(agent)

    def add(self, agent: PolicyNetwork) -> None:
        self.snapshots.append({k: v.detach().clone() for k, v in agent.state_dict().items()})

    def draw(self) -> None:
        self.opponent.load_state_dict(self.snapshots[int(self.rng.integers(len(self.snapshots)))])

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        device = next(self.opponent.parameters()).device
        with torch.inference_mode():
            action = self.opponent.action_and_value(
                torch.from_numpy(np.ascontiguousarray(obs)).to(device))[0]
        return full_actions(action.cpu().numpy(), self.opponent.cheap_talk)


def build_network(env: BucketBrigadeVectorEnv | ConcatVectorEnv,
                  config: TrainConfig) -> PolicyNetwork:
    return PolicyNetwork(env.single_observation_space.shape[0],
                         [int(n) for n in env.single_action_space.nvec],
                         hidden_size=config.hidden_size, policy=config.policy,
                         action_mask=config.action_mask)


def network_config(network: PolicyNetwork) -> dict[str, Any]:
    """Constructor arguments that rebuild ``network`` (stored in every checkpoint)."""
    return network.config


def ppo_update(agent: PolicyNetwork, optimizer: torch.optim.Optimizer, config: TrainConfig,
               inputs: torch.Tensor, actions: torch.Tensor, logprobs: torch.Tensor,
               values: torch.Tensor, advantages: torch.Tensor, returns: torch.Tensor,
               ) -> dict[str, float]:
    """``epochs`` passes over the flattened batch in shuffled minibatches; returns the
    losses of the last minibatch and the clip fraction over all (losses/* in TensorBoard)."""
    batch_size = inputs.shape[0]
    clipfracs = []
    for _ in range(config.epochs):
        # One minibatch is the whole batch, whose order does not matter: no shuffled copy.
        order = torch.randperm(batch_size, device=inputs.device) \
            if config.minibatches > 1 else None
        for start in range(0, batch_size, config.minibatch_size):
            mb = slice(None) if order is None else order[start:start + config.minibatch_size]
            _, new_logprob, entropy, new_value = agent.act(inputs[mb], actions[mb])
            log_ratio = new_logprob - logprobs[mb]
            ratio = log_ratio.exp()
            with torch.no_grad():
                approx_kl = ((ratio - 1) - log_ratio).mean()  # the k3 estimator of KL
                clipfracs.append(((ratio - 1.0).abs() > config.clip_coef).float().mean())

            mb_advantages = advantages[mb]
            mb_advantages = (mb_advantages - mb_advantages.mean()) / (mb_advantages.std() + 1e-8)

            # Clipped surrogate objective (as a loss: the larger of the two negatives).
            policy_loss = torch.max(
                -mb_advantages * ratio,
                -mb_advantages * torch.clamp(ratio, 1 - config.clip_coef, 1 + config.clip_coef),
            ).mean()

            # Value loss, optionally clipped around the rollout's value estimates.
            if config.clip_vloss:
                unclipped = (new_value - returns[mb]) ** 2
                clipped_value = values[mb] + torch.clamp(new_value - values[mb],
                                                         -config.clip_coef, config.clip_coef)
                clipped = (clipped_value - returns[mb]) ** 2
                value_loss = 0.5 * torch.max(unclipped, clipped).mean()
            else:
                value_loss = 0.5 * ((new_value - returns[mb]) ** 2).mean()

            entropy_bonus = entropy.mean()
            loss = policy_loss - config.ent_coef * entropy_bonus + config.vf_coef * value_loss

            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(agent.parameters(), config.max_grad_norm, foreach=True)
            optimizer.step()

    variance = returns.var()
    explained = 1 - (returns - values).var() / variance if variance > 0 else torch.nan
    return {
        "losses/policy_loss": policy_loss.item(),
        "losses/value_loss": value_loss.item(),
        "losses/entropy": entropy_bonus.item(),
        "losses/approx_kl": approx_kl.item(),
        "losses/clipfrac": torch.stack(clipfracs).mean().item(),
        "losses/explained_variance": float(explained),
    }


def train(config: TrainConfig, checkpoint: dict[str, Any] | None = None,
          console: Console | None = None, on_metrics: MetricsCallback | None = None,
          ) -> TrainResult:
    """Train from scratch, or from ``checkpoint`` (a dict from ``load_checkpoint``) up to
    ``config.steps``; ``console`` shows progress, ``on_metrics(step, scalars)`` receives each
    update's TensorBoard scalars. SIGINT / SIGTERM end the run early with a checkpoint."""
    config.validate()
    paths = RunPaths(Path(config.out_dir), config.run_name)
    device = select_device(config.cpu)
    if device.type == "cpu":
        # One thread each: the matrices are small, and the env and the network take turns.
        torch.set_num_threads(CPU_THREADS)
        numba.set_num_threads(CPU_THREADS)
    torch.manual_seed(config.seed)

    start_step = int(checkpoint["step"]) if checkpoint else 0
    # A resumed run plays fresh games: the env's seed moves on with the step count.
    league: League | None = None  # needs the network, which needs the env: bound below
    envs = make_training_env(config, config.seed + start_step, lambda obs: league(obs))
    agent = build_network(envs, config).to(device)
    optimizer = torch.optim.Adam(agent.parameters(), lr=config.lr, eps=1e-5,
                                 fused=device.type == "cpu" or None)
    normalizer = ReturnNormalizer(config.num_envs, config.gamma)
    monitor = TrainingMonitor(paths, config, start_step=start_step, console=console,
                              on_metrics=on_metrics)
    if checkpoint:
        agent.load_state_dict(checkpoint["model_state_dict"])
        optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
        normalizer.load_state_dict(checkpoint["reward_normalizer"])
        monitor.load_history(checkpoint["episode_history"])
    if config.league_slots:
        league = League(agent, config.seed + start_step)
    # The agent count is recorded, so that loaders can refuse to seat a model elsewhere.
    run_config = {**config.to_dict(), "num_agents": config.num_agents,
                  "num_learners": config.num_learners}
    save_json({**run_config, "network": network_config(agent)}, paths.config_path)

    def save_checkpoint(step: int) -> Path:
        path = paths.checkpoint_path(step)
        save_torch(path, {
            "model_state_dict": agent.state_dict(),
            "optimizer_state_dict": optimizer.state_dict(),
            "step": step,
            "episode_history": monitor.history(),
            "reward_normalizer": normalizer.state_dict(),
            "network": network_config(agent),
            "config": run_config,
        })
        return path

    next_obs_np, _ = envs.reset(seed=config.seed + start_step)
    next_obs = torch.from_numpy(next_obs_np).to(device)
    # Rollout storage, allocated once, on the training device; observations are kept
    # encoded (PolicyNetwork.encode), as the network reads them.
    num_steps, num_envs = config.num_steps, config.num_envs
    inputs_buf = torch.zeros((num_steps, num_envs, agent.encode(next_obs).shape[1]),
                             device=device)
    actions_buf = torch.zeros((num_steps, num_envs, len(agent.action_dims)), dtype=torch.long,
                              device=device)
    logprobs_buf = torch.zeros((num_steps, num_envs), device=device)
    values_buf = torch.zeros((num_steps, num_envs), device=device)
    rewards_buf = np.zeros((num_steps, num_envs), dtype=np.float32)
    terminated_buf = np.zeros((num_steps, num_envs), dtype=np.float32)

    global_step = start_step
    last_checkpoint: Path | None = None
    stop = StopRequest()
    with stop.installed(), monitor.running():
        while global_step < config.steps and stop.signal is None:
            if config.anneal_lr:
                optimizer.param_groups[0]["lr"] = config.lr * max(
                    1.0 - global_step / config.steps, 0.0)
            if league is not None:
                league.draw()

            # 1. Rollout: num_steps nights of every game with the current policy.
            for t in range(num_steps):
                with torch.inference_mode():
                    inputs_buf[t] = agent.encode(next_obs)
                    action, logprob, _, value = agent.act(inputs_buf[t])
                actions_buf[t] = action
                logprobs_buf[t] = logprob
                values_buf[t] = value
                next_obs_np, reward, terminated, _, info = envs.step(action.cpu().numpy())
                next_obs = torch.from_numpy(next_obs_np).to(device)  # the step's one copy
                rewards_buf[t] = normalizer(reward, terminated)
                terminated_buf[t] = terminated
                if "final_info" in info:
                    monitor.record_episodes(info["final_info"])
            global_step += config.batch_size

            # 2. Advantages: GAE over the rollout, bootstrapped from V(next_obs).
            with torch.no_grad():
                next_value = agent.value(next_obs)
                advantages, returns = compute_gae(
                    torch.from_numpy(rewards_buf).to(device), values_buf,
                    torch.from_numpy(terminated_buf).to(device), next_value,
                    config.gamma, config.gae_lambda)

            # 3. Optimise the clipped PPO objective on the flattened batch.
            diagnostics = ppo_update(
                agent, optimizer, config,
                inputs_buf.flatten(0, 1), actions_buf.flatten(0, 1),
                logprobs_buf.reshape(-1), values_buf.reshape(-1), advantages.reshape(-1),
                returns.reshape(-1))
            diagnostics["charts/learning_rate"] = optimizer.param_groups[0]["lr"]
            if config.cheap_talk:
                diagnostics.update(cheap_talk_metrics(actions_buf.cpu().numpy(), terminated_buf))
            if league is not None:
                diagnostics["league/snapshots"] = len(league.snapshots)
            monitor.end_update(global_step, diagnostics)

            crossed = global_step // config.checkpoint_interval \
                > (global_step - config.batch_size) // config.checkpoint_interval
            if crossed or global_step >= config.steps or stop.signal is not None:
                last_checkpoint = save_checkpoint(global_step)
                monitor.checkpoint_saved(global_step, last_checkpoint)
                if league is not None:
                    league.add(agent)

    model_path = None
    if stop.signal is None:
        save_torch(paths.model_path, agent.state_dict())
        model_path = paths.model_path
    return TrainResult(paths=paths, config=config, device=str(device), step=global_step,
                       seconds=monitor.seconds, cpu_seconds=monitor.cpu_seconds,
                       steps_per_sec=monitor.steps_per_sec,
                       avg_reward_100ep=monitor.avg_reward_100ep,
                       total_episodes=monitor.total_episodes, last_checkpoint=last_checkpoint,
                       model_path=model_path, stopped_by=stop.signal)
