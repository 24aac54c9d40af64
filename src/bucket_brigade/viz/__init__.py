"""Pictures for people: an HTML replay viewer of one game and learning-curve figures of runs.

The names below load on first use, so that the command line can import
``bucket_brigade.viz.commands`` without the game engine behind the replays."""

from __future__ import annotations

from bucket_brigade.lazy import lazy_exports

_EXPORTS = {"load_runs": "plots", "plot_runs": "plots", "LabelledReplay": "replay_html",
            "record_replay": "replay_html", "render_page": "replay_html",
            "write_page": "replay_html"}
__all__ = sorted(_EXPORTS)

__getattr__ = lazy_exports(__name__, _EXPORTS)
