"""PPO training of a learner seat against scripted opponents (``bucket-brigade train``).

The public names load on first use (PEP 562), so that the command line and the settings
(:mod:`~bucket_brigade.training.config`) come without torch.
"""

from __future__ import annotations

from bucket_brigade.lazy import lazy_exports

_EXPORTS = {
    "PolicyNetwork": "network", "TrainConfig": "config", "TrainResult": "bookkeeping",
    "benchmark_training": "bench", "time_to_quality": "bench", "compute_gae": "ppo", "train": "ppo",
}
__all__ = sorted(_EXPORTS)

__getattr__ = lazy_exports(__name__, _EXPORTS)
