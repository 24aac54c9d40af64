"""What a training run keeps on disk, and what it resumes from: ``runs/{run}/config.json``,
checkpoints at every ``checkpoint_interval`` steps (and on the way out), the final model,
and the :class:`TrainResult` that says where they went."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from bucket_brigade.io import save_json
from bucket_brigade.training.checkpoint import RunPaths, save_torch
from bucket_brigade.training.config import TrainConfig
from bucket_brigade.training.monitor import TrainingMonitor
from bucket_brigade.training.network import PolicyNetwork

if TYPE_CHECKING:
    from bucket_brigade.training.ppo import ReturnNormalizer


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


def network_config(network: PolicyNetwork) -> dict[str, Any]:
    """Constructor arguments that rebuild ``network`` (stored in every checkpoint)."""
    return network.config


class RunRecord:
    """The run's files: everything a checkpoint holds is read from (and restored to) the
    objects of the training loop given here."""

    def __init__(self, config: TrainConfig, agent: PolicyNetwork,
                 optimizer: torch.optim.Optimizer, normalizer: ReturnNormalizer,
                 monitor: TrainingMonitor) -> None:
        self.config = config
        self.paths = monitor.paths
        self.agent, self.optimizer, self.normalizer, self.monitor = \
            agent, optimizer, normalizer, monitor
        # The agent count is recorded, so that loaders can refuse to seat a model elsewhere.
        self.run_config = {**config.to_dict(), "num_agents": config.num_agents,
                           "num_learners": config.num_learners}
        self.last_checkpoint: Path | None = None

    def resume(self, checkpoint: dict[str, Any]) -> None:
        """Restore the loop's state from a checkpoint (a dict from ``load_checkpoint``)."""
        self.agent.load_state_dict(checkpoint["model_state_dict"])
        self.optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
        self.normalizer.load_state_dict(checkpoint["reward_normalizer"])
        self.monitor.load_history(checkpoint["episode_history"])

    def write_config(self) -> None:
        save_json({**self.run_config, "network": network_config(self.agent)},
                  self.paths.config_path)

    def checkpoint_due(self, step: int, stopping: bool) -> bool:
        """After an update that crossed a multiple of ``checkpoint_interval``, the last one,
        or one after which the run stops."""
        interval = self.config.checkpoint_interval
        crossed = step // interval > (step - self.config.batch_size) // interval
        return crossed or step >= self.config.steps or stopping

    def save_checkpoint(self, step: int) -> Path:
        path = self.paths.checkpoint_path(step)
        save_torch(path, {
            "model_state_dict": self.agent.state_dict(),
            "optimizer_state_dict": self.optimizer.state_dict(),
            "step": step,
            "episode_history": self.monitor.history(),
            "reward_normalizer": self.normalizer.state_dict(),
            "network": network_config(self.agent),
            "config": self.run_config,
        })
        self.last_checkpoint = path
        self.monitor.checkpoint_saved(step, path)
        return path

    def finish(self, step: int, device: torch.device, stopped_by: int | None) -> TrainResult:
        """Save the final model (unless a signal stopped the run) and say what was done."""
        model_path = None
        if stopped_by is None:
            save_torch(self.paths.model_path, self.agent.state_dict())
            model_path = self.paths.model_path
        monitor = self.monitor
        return TrainResult(paths=self.paths, config=self.config, device=str(device), step=step,
                           seconds=monitor.seconds, cpu_seconds=monitor.cpu_seconds,
                           steps_per_sec=monitor.steps_per_sec,
                           avg_reward_100ep=monitor.avg_reward_100ep,
                           total_episodes=monitor.total_episodes,
                           last_checkpoint=self.last_checkpoint, model_path=model_path,
                           stopped_by=stopped_by)
