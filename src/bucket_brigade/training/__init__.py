"""PPO training of a learner seat against scripted opponents (``bucket-brigade train``).

The public names load on first use (PEP 562), so that the command line and the settings
(:mod:`~bucket_brigade.training.config`) come without torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "PolicyNetwork": "network", "TrainConfig": "config", "TrainResult": "bookkeeping",
    "benchmark_training": "bench", "compute_gae": "ppo", "train": "ppo",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)

