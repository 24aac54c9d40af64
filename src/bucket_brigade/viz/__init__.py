"""Pictures for people: an HTML replay viewer of one game and learning-curve figures of runs."""

from bucket_brigade.viz.plots import load_runs, plot_runs
from bucket_brigade.viz.replay_html import LabelledReplay, record_replay, render_page, write_page

__all__ = ["LabelledReplay", "load_runs", "plot_runs", "record_replay", "render_page",
           "write_page"]
