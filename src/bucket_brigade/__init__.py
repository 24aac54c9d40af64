"""Bucket Brigade: a fast multi-agent RL toolkit for a small cooperation game."""

import os

# PyTorch and the compiled engine share one OpenMP runtime, which reads this once, when
# it loads. Idle OpenMP threads that spin take a core from the training loop on a small
# machine (the trainer alternates between the engine and the network), so they sleep
# unless the user says otherwise.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from bucket_brigade._numba_cache import configure_numba_cache
from bucket_brigade.game.scenarios import SCENARIOS, Scenario, get_scenario, load_scenario

# Before any engine module decorates its kernels: they compile once per user, not per process.
configure_numba_cache()

__all__ = ["SCENARIOS", "Scenario", "get_scenario", "load_scenario"]
__version__ = "0.1.0"
