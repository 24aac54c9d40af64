"""Sweeps over scenarios, seeds, opponents and training settings (``bucket-brigade sweep``),
on this machine or as Ray Tune trials on a cluster."""

from bucket_brigade.sweep.config import SweepPlan, TrialSpec, load_sweep
from bucket_brigade.sweep.trial import run_trial

__all__ = ["SweepPlan", "TrialSpec", "load_sweep", "run_trial"]
