"""What a training run keeps on disk, and what it resumes from: ``runs/{run}/config.json``,
checkpoints at every ``checkpoint_interval`` steps (and on the way out), the final model,
and the :class:`TrainResult` that says where they went."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import torch
from torch import nn

from bucket_brigade.errors import UsageError
from bucket_brigade.io import exclusive_lock, remove_stale_temp_files, save_json
from bucket_brigade.training.checkpoint import RunPaths, save_torch
from bucket_brigade.training.config import TrainConfig
from bucket_brigade.training.monitor import TrainingMonitor
from bucket_brigade.training.network import check_finite_weights
from bucket_brigade.training.sharing import restore_module


class Stateful(Protocol):
    """What a checkpoint saves and restores of the loop's optimizers and reward scaling."""

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any], /) -> None: ...


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


def network_config(network: nn.Module) -> dict[str, Any]:
    """Constructor arguments that rebuild ``network``'s actor networks (stored in every
    checkpoint)."""
    return network.config


@contextmanager
def claim_run(paths: RunPaths) -> Iterator[None]:
    """Hold the run's lock while it is written, so that a second process with the same run
    name and folder is refused rather than mixed in; on the way in, remove the temporary
    files a killed attempt left (none can be in use while the lock is held; in the shared
    output folder only those of the run's model file, since other runs write there)."""
    with exclusive_lock(paths.lock_path, f"run {paths.run_name!r} in {str(paths.out_dir)!r}"
                        ) as acquired:
        for folder, of_file in paths.temp_file_places:
            remove_stale_temp_files(folder, older_than=acquired, of_file=of_file)
        yield


def check_resumable(checkpoint: dict[str, Any], path: str | Path, config: TrainConfig) -> None:
    """Refuse a checkpoint whose weights or optimizer state do not fit the run's network, as
    one line naming the file, before any work (``load_checkpoint`` checked the rest)."""
    where = f"checkpoint {str(path)!r}"
    try:
        module, networks, optimizer = restore_module(checkpoint["model_state_dict"],
                                                     checkpoint["network"], config)
    except (ValueError, TypeError) as exc:
        raise UsageError(f"{where} does not hold PolicyNetwork weights: {exc}") from None
    check_finite_weights(module, where)
    network = networks[0]  # the learners' networks are alike
    if network.hidden_size != config.hidden_size:
        raise UsageError(f"{where} holds a network of hidden size {network.hidden_size}, "
                         f"its config says {config.hidden_size}")
    if [network.obs_dim, *network.action_dims] != [checkpoint["network"]["obs_dim"],
                                                   *checkpoint["network"]["action_dims"]]:
        raise UsageError(f"{where}: its weights do not match its network entry")
    config.resolved_scenario.check_num_agents(config.num_agents)
    expected = config.resolved_scenario.obs_dim(config.num_agents)
    if network.obs_dim != expected:
        raise UsageError(f"{where} holds a network for observations of size "
                         f"{network.obs_dim}, the run's game gives {expected}")
    try:
        optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
    except (ValueError, KeyError, TypeError, IndexError, RuntimeError) as exc:
        raise UsageError(f"{where} holds an optimizer state that does not fit its network: "
                         f"{' '.join(str(exc).split()) or type(exc).__name__}") from None
    for parameter in module.parameters():
        state = optimizer.state.get(parameter, {})
        shapes = {"exp_avg": parameter.shape, "exp_avg_sq": parameter.shape,
                  "step": torch.Size([])}
        for key, shape in shapes.items():
            if key in state and (not isinstance(state[key], torch.Tensor)
                                 or state[key].shape != shape
                                 or not bool(torch.isfinite(state[key]).all())):
                raise UsageError(f"{where} holds an optimizer state whose {key} does not fit "
                                 "the network's weights")
    for group in optimizer.param_groups:
        settings = [group.get("lr"), group.get("eps"), group.get("weight_decay"),
                    *(group.get("betas") or [None])]
        if not all(isinstance(v, int | float) and not isinstance(v, bool)
                   and math.isfinite(v) for v in settings):
            raise UsageError(f"{where} holds optimizer settings that are not finite numbers")


class RunRecord:
    """The run's files: everything a checkpoint holds is read from (and restored to) the
    objects of the training loop given here."""

    def __init__(self, config: TrainConfig, agent: nn.Module,
                 optimizer: Stateful, normalizer: Stateful,
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
        self.monitor.flush()
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
