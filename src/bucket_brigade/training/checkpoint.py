"""Where a run writes its files (the layout train_gpu.py has always used), and how.

Every write goes to a temporary file in the target's folder that then replaces the
target (``os.replace``), so a crash or a kill never leaves a half-written checkpoint,
model or config behind. Checkpoints hold only tensors and plain Python values, so
they load with ``torch.load(path, weights_only=True)``.
"""

from __future__ import annotations

import math
import pickle
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from bucket_brigade.errors import UsageError
from bucket_brigade.io import (
    atomic_write,
    check_writable_output,
    open_input_file,
    temp_file_name,
)
from bucket_brigade.names import check_name_fits

CHECKPOINT_KEYS = ("model_state_dict", "optimizer_state_dict", "step", "episode_history",
                   "reward_normalizer", "network", "config")
CHECKPOINT_NAME = re.compile(r"checkpoint_step_(\d+)\.pt")


@dataclass(frozen=True)
class RunPaths:
    """runs/{run}/ (TensorBoard + config.json), checkpoints/{run}/ and model_{run}.pt."""

    out_dir: Path
    run_name: str

    @property
    def run_dir(self) -> Path:
        return self.out_dir / "runs" / self.run_name

    @property
    def config_path(self) -> Path:
        return self.run_dir / "config.json"

    @property
    def checkpoint_dir(self) -> Path:
        return self.out_dir / "checkpoints" / self.run_name

    @property
    def model_path(self) -> Path:
        return self.out_dir / f"model_{self.run_name}.pt"

    def checkpoint_path(self, step: int) -> Path:
        return self.checkpoint_dir / f"checkpoint_step_{step}.pt"

    def latest_checkpoint(self) -> Path | None:
        """The run's checkpoint with the most steps, or None if it has none."""
        saved = {path: int(match[1]) for path in self.checkpoint_dir.glob("checkpoint_step_*.pt")
                 if (match := CHECKPOINT_NAME.fullmatch(path.name))}
        return max(saved, key=saved.__getitem__) if saved else None

    @property
    def lock_path(self) -> Path:
        """Held by the process that writes the run (outside the folders --overwrite removes)."""
        return self.out_dir / f".{self.run_name}.lock"

    @property
    def temp_file_places(self) -> tuple[tuple[Path, str | None], ...]:
        """Where the run writes files atomically (so a killed run can leave temporary files
        there), each with the one file whose temporary files are the run's, or None where
        all are: the output folder is shared with other runs and a sweep's tables."""
        return (self.out_dir, self.model_path.name), (self.run_dir, None), \
            (self.checkpoint_dir, None)

    def check_writable(self) -> None:
        """Refuse, before any work, a run whose files could not be written: the folders or
        the model path taken by something else, no permission, or names too long."""
        check_writable_output(self.out_dir, folder=True)
        check_writable_output(self.run_dir, folder=True)
        check_writable_output(self.checkpoint_dir, folder=True)
        check_writable_output(self.model_path)
        check_name_fits("--run-name", self.run_name, self.out_dir,
                        temp_file_name(self.model_path.name))

    def existing(self) -> list[Path]:
        """This run's outputs that are already on disk."""
        return [p for p in (self.run_dir, self.checkpoint_dir, self.model_path) if p.exists()]


def save_torch(path: Path, payload: Any) -> None:
    atomic_write(path, lambda file: torch.save(payload, file))


def read_torch_file(path: str | Path, what: str) -> Any:
    """``torch.load`` with ``weights_only``; a missing, unreadable or foreign file is a
    UsageError that names ``what`` it should have been. Torch's own text is never shown:
    it suggests ``weights_only=False``, which would run code from the file."""
    path = Path(path)
    file = open_input_file(path, what)
    try:
        with file, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch warns about some files before refusing them
            return torch.load(file, map_location="cpu", weights_only=True)
    except OSError as exc:
        raise UsageError(f"{what} {str(path)!r} cannot be read: {exc.strerror or exc}") \
            from None
    except pickle.UnpicklingError as exc:
        if "Unsupported global" in str(exc):  # torch refused an object it would have to build
            raise UsageError(f"{what} {str(path)!r} holds objects other than tensors and "
                             "plain values; only files written by bucket-brigade train are "
                             "read") from None
        raise UsageError(f"{what} {str(path)!r} is not a PyTorch file (a checkpoint or "
                         "model_RUN.pt written by bucket-brigade train)") from None
    except Exception:  # torch raises KeyError, RuntimeError, ... on a file it did not write
        raise UsageError(f"{what} {str(path)!r} is not a PyTorch file (a checkpoint or "
                         "model_RUN.pt written by bucket-brigade train)") from None


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint safely (``weights_only``); a missing or broken file is a UsageError."""
    checkpoint = read_torch_file(path, "checkpoint")
    if not isinstance(checkpoint, dict):
        checkpoint = {}
    missing = [key for key in CHECKPOINT_KEYS if key not in checkpoint]
    if missing:
        raise UsageError(f"checkpoint {str(path)!r} is not a training checkpoint "
                         f"(missing {', '.join(missing)})")
    problem = _checkpoint_problem(checkpoint)
    if problem:
        raise UsageError(f"checkpoint {str(path)!r} is damaged: {problem}")
    return checkpoint


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) \
        and math.isfinite(value)


def _checkpoint_problem(checkpoint: dict[str, Any]) -> str | None:
    """What is wrong with the plain values of a checkpoint's entries, or None. (The
    weights and the optimizer's state are checked against the network they must fit, by
    ``bookkeeping.check_resumable``.)"""
    step, history = checkpoint["step"], checkpoint["episode_history"]
    normalizer, network = checkpoint["reward_normalizer"], checkpoint["network"]
    if not _is_int(step) or step < 0:
        return f"step {step!r} is not a non-negative integer"
    if not isinstance(checkpoint["config"], dict):
        return "config is not a table of settings"
    if not isinstance(checkpoint["model_state_dict"], dict) or not all(
            isinstance(k, str) and isinstance(v, torch.Tensor)
            for k, v in checkpoint["model_state_dict"].items()):
        return "model_state_dict is not a table of named tensors"
    optimizer = checkpoint["optimizer_state_dict"]
    if not isinstance(optimizer, dict) or not isinstance(optimizer.get("state"), dict) \
            or not isinstance(optimizer.get("param_groups"), list):
        return "optimizer_state_dict is not an optimizer's state (state, param_groups)"
    if not isinstance(history, dict) or not isinstance(history.get("rewards"), list) \
            or not isinstance(history.get("lengths"), list) \
            or not all(_is_number(r) for r in history["rewards"]) \
            or not all(_is_int(n) for n in history["lengths"]) \
            or not _is_int(history.get("total_episodes")):
        return "episode_history is not {rewards, lengths, total_episodes} of numbers"
    if not isinstance(normalizer, dict) \
            or not all(_is_number(normalizer.get(k)) for k in ("mean", "var", "count")) \
            or normalizer["var"] < 0 or normalizer["count"] <= 0:
        return "reward_normalizer is not {mean, var >= 0, count > 0} of finite numbers"
    if not isinstance(network, dict) or not _is_int(network.get("obs_dim")) \
            or not _is_int(network.get("hidden_size")) \
            or not isinstance(network.get("action_dims"), list) \
            or not all(_is_int(n) for n in network["action_dims"]) \
            or not isinstance(network.get("policy", ""), str) \
            or not isinstance(network.get("action_mask", True), bool):
        return ("network is not {obs_dim, action_dims, hidden_size} of integers with "
                "policy text and action_mask true or false")
    return None
