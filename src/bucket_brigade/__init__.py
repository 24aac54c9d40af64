"""Bucket Brigade: a fast multi-agent RL toolkit for a small cooperation game."""

from bucket_brigade.game.scenarios import SCENARIOS, Scenario, get_scenario, load_scenario

__all__ = ["SCENARIOS", "Scenario", "get_scenario", "load_scenario"]
__version__ = "0.1.0"
