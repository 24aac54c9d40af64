"""``bucket-brigade replay``: one game as a self-contained HTML page that plays it night by night.

The page carries its own CSS, script and the replay JSON, and asks the network for
nothing (the CSS and script are kept in ``templates/`` as files and inlined when a page is
written), so it can be mailed, attached to a report or opened from a laptop with no
connection. The game is the one the engines play for the same seed and seats
(:func:`~bucket_brigade.envs.render.record_game`), so a replay shows exactly a game
that ``evaluate`` scored.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING, Any

from bucket_brigade.agents.planner import PlannerSeat
from bucket_brigade.agents.strategies import (
    DEFAULT_OPPONENTS,
    DEFAULT_REPLAY_STRATEGY,
    cycled,
    make_seat,
    opponent_seats,
    split_opponents,
)
from bucket_brigade.envs.render import Policy, Replay, record_game
from bucket_brigade.errors import UsageError
from bucket_brigade.game.scenarios import Scenario, get_scenario
from bucket_brigade.game.scripted import PARAM_NAMES
from bucket_brigade.game.seat import Seat
from bucket_brigade.io import atomic_write_text
from bucket_brigade.search import single_game_policy

if TYPE_CHECKING:
    from bucket_brigade.training.models import LoadedPolicy

DATA_ELEMENT_ID = "replay-data"
TEMPLATE_DIR = "templates"


@dataclass(frozen=True)
class LabelledReplay:
    """A replay plus the names people know its seats by (strategy names, the model's name)."""

    replay: Replay
    seat_labels: tuple[str, ...]

    def page_data(self) -> dict[str, Any]:
        """What the page embeds: the replay JSON (as ``--json`` writes it) and seat labels."""
        return {"seat_labels": list(self.seat_labels), "param_names": list(PARAM_NAMES),
                "replay": self.replay.to_dict()}


def record_replay(scenario: str | Scenario, seed: int = 0, *, model: LoadedPolicy | None = None,
                  strategy: str | None = None, opponents: str | Sequence[str] | None = None,
                  num_opponents: int = 3, game_index: int = 0) -> LabelledReplay:
    """Play game ``game_index`` of seed ``seed`` with a model (greedy) or a strategy in seat 0.

    Seat 0 defaults to the firefighter archetype; opponents to the default pool, cycled
    over ``num_opponents`` seats as in training and evaluation. Planners may sit in any
    seat; their continuations play the model greedily, as evaluation does.
    """
    if model is not None and strategy is not None:
        raise UsageError(f"give either a model or a strategy for seat 0, not both "
                         f"(model {model.name!r}, strategy {strategy!r})")
    scenario = get_scenario(scenario)
    opponent_names = list(DEFAULT_OPPONENTS) if opponents is None else (
        split_opponents(opponents) if isinstance(opponents, str) else list(opponents))
    seats = opponent_seats(num_opponents, opponent_names, scenario.name)
    labels = cycled(opponent_names, num_opponents)
    policies: dict[int, Policy] = {}
    others = None
    if model is None:
        strategy = DEFAULT_REPLAY_STRATEGY if strategy is None else strategy
        all_seats = [make_seat(strategy, scenario.name), *seats]
    else:
        model.check_fits(scenario, num_opponents + 1)
        all_seats = [Seat(), *seats]

        def others(observations: Any) -> Any:
            """The model's greedy (house, mode, signal), as evaluation plays it, for a
            batch of its observations [B, 1, obs_dim]."""
            return model.network.play(observations[:, 0])[:, None, :]

        policies[0] = lambda observation: others(observation[None, None])[0, 0]
    for agent, seat in enumerate(all_seats):
        if isinstance(seat, PlannerSeat):
            policies[agent] = single_game_policy(scenario, all_seats, agent, seed,
                                                 game_index, others)
    replay = record_game(scenario, all_seats, seed, policies, game_index=game_index,
                         cheap_talk=True)
    return LabelledReplay(replay, (strategy if model is None else model.name, *labels))


def render_page(labelled: LabelledReplay) -> str:
    """The whole HTML document: the page template with its style, script and data inlined."""
    replay = labelled.replay
    title = f"Bucket Brigade replay: {replay.scenario.name}, seed {replay.seed}"
    if replay.game_index:
        title += f", game {replay.game_index}"
    # One pass: a "$name" inside the data (a scenario description) stays text.
    return Template(_template("replay.html")).substitute(
        title=html.escape(title), style=_template("replay.css"), script=_template("replay.js"),
        data_id=DATA_ELEMENT_ID, data=_script_json(labelled.page_data()))


def _script_json(data: Any) -> str:
    """JSON to embed in a ``<script>`` element. "<" only occurs inside JSON strings, where
    \\u003c means the same; so no text in the data ("</script>", "<!--") can end the element."""
    return json.dumps(data, separators=(",", ":")).replace("<", "\\u003c")


def _template(name: str) -> str:
    """A file of the page (HTML, CSS or script), shipped as package data."""
    return resources.files(__package__).joinpath(TEMPLATE_DIR).joinpath(name).read_text(
        encoding="utf-8")


def write_page(labelled: LabelledReplay, path: str | Path) -> Path:
    """Write the page atomically (a browser never opens half of it)."""
    path = Path(path)
    atomic_write_text(path, render_page(labelled))
    return path


def embedded_data(page: str) -> dict[str, Any]:
    """The data a page carries (the inverse of :func:`render_page` for its data)."""
    start_tag = f'<script id="{DATA_ELEMENT_ID}" type="application/json">'
    start = page.index(start_tag) + len(start_tag)
    return json.loads(page[start:page.index("</script>", start)])
