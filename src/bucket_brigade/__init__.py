"""Bucket Brigade: a fast multi-agent RL toolkit for a small cooperation game."""

from bucket_brigade._numba_cache import configure_numba_cache
from bucket_brigade.game.scenarios import SCENARIOS, Scenario, get_scenario, load_scenario

# Before any engine module decorates its kernels: they compile once per user, not per process.
configure_numba_cache()

__all__ = ["SCENARIOS", "Scenario", "get_scenario", "load_scenario"]
__version__ = "0.1.0"
