"""Where a run writes its files (the layout train_gpu.py has always used), and how.

Every write goes to a temporary file in the target's folder that then replaces the
target (``os.replace``), so a crash or a kill never leaves a half-written checkpoint,
model or config behind. Checkpoints hold only tensors and plain Python values, so
they load with ``torch.load(path, weights_only=True)``.
"""

from __future__ import annotations

import pickle
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from bucket_brigade.errors import UsageError
from bucket_brigade.io import atomic_write

CHECKPOINT_KEYS = ("model_state_dict", "optimizer_state_dict", "step", "episode_history",
                   "reward_normalizer", "network", "config")


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

    def existing(self) -> list[Path]:
        """This run's outputs that are already on disk."""
        return [p for p in (self.run_dir, self.checkpoint_dir, self.model_path) if p.exists()]


def save_torch(path: Path, payload: Any) -> None:
    atomic_write(path, lambda file: torch.save(payload, file))


def read_torch_file(path: str | Path, what: str) -> Any:
    """``torch.load`` with ``weights_only``; a missing or unreadable file is a UsageError
    that names ``what`` it should have been."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"{what} {str(path)!r} does not exist")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, pickle.UnpicklingError, zipfile.BadZipFile, EOFError, OSError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UsageError(f"{what} {str(path)!r} cannot be read: {reason}") from None


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint safely (``weights_only``); a missing or broken file is a UsageError."""
    checkpoint = read_torch_file(path, "checkpoint")
    if not isinstance(checkpoint, dict):
        checkpoint = {}
    missing = [key for key in CHECKPOINT_KEYS if key not in checkpoint]
    if missing:
        raise UsageError(f"checkpoint {str(path)!r} is not a training checkpoint "
                         f"(missing {', '.join(missing)})")
    return checkpoint
