"""Sweeps over scenarios, seeds, opponents and training settings (``bucket-brigade sweep``),
on this machine or as Ray Tune trials on a cluster.

The public names load on first use (PEP 562), so that the command line comes without torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {"SweepPlan": "config", "TrialSpec": "config", "load_sweep": "config",
            "run_trial": "trial"}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)

