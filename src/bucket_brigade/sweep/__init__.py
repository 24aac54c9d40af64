"""Sweeps over scenarios, seeds, opponents and training settings (``bucket-brigade sweep``),
on this machine or as Ray Tune trials on a cluster.

The public names load on first use (PEP 562), so that the command line comes without torch.
"""

from __future__ import annotations

from bucket_brigade.lazy import lazy_exports

_EXPORTS = {"SweepPlan": "config", "TrialSpec": "config", "load_sweep": "config",
            "run_trial": "trial"}
__all__ = sorted(_EXPORTS)

__getattr__ = lazy_exports(__name__, _EXPORTS)
