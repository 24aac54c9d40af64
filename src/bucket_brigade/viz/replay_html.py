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

import numpy as np

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
    from bucket_brigade.training.network import PolicyNetwork

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
    over ``num_opponents`` seats as in training and evaluation. A model with a network per
    seat (an independent run's) plays seats 0 to K-1, each with its own network, and the
    opponents the seats after them. Planners may sit in any opponent seat (or seat 0 with
    ``strategy``); their continuations play the model greedily, as evaluation does.
    """
    if model is not None and strategy is not None:
        raise UsageError(f"give either a model or a strategy for seat 0, not both "
                         f"(model {model.name!r}, strategy {strategy!r})")
    scenario = get_scenario(scenario)
    networks = [] if model is None else model.seats or [model.network]
    num_agents = num_opponents + 1
    if model is not None:
        model.check_fits(scenario, num_agents)
        if len(networks) > 1 and opponents is not None and len(networks) >= num_agents:
            raise UsageError(f"model {model.name!r} plays all {num_agents} seats, with a "
                             f"network for each: no seat is left for --opponents; name one "
                             f"network for seat 0 with MODEL.pt@K")
    opponent_names = list(DEFAULT_OPPONENTS) if opponents is None else (
        split_opponents(opponents) if isinstance(opponents, str) else list(opponents))
    networks = networks[:num_agents]
    others = num_agents - max(len(networks), 1)  # the opponents' seats
    seats = opponent_seats(others, opponent_names, scenario.name) if others else []
    labels = cycled(opponent_names, others)
    policies: dict[int, Policy] = {}
    played_by_model = None
    if model is None:
        strategy = DEFAULT_REPLAY_STRATEGY if strategy is None else strategy
        all_seats = [make_seat(strategy, scenario.name), *seats]
        model_labels = [strategy]
    else:
        all_seats = [*(Seat() for _ in networks), *seats]

        def played_by_model(observations: Any) -> Any:
            """The model's greedy (house, mode, signal) in its seats, as evaluation plays
            it, for a batch of their observations [B, len(networks), obs_dim]."""
            return np.stack([network.play(observations[:, k])
                             for k, network in enumerate(networks)], axis=1)

        policies.update({k: _greedy(network) for k, network in enumerate(networks)})
        model_labels = [model.name] if len(networks) == 1 \
            else [f"{model.name}@{k}" for k in range(len(networks))]
    for agent, seat in enumerate(all_seats):
        if isinstance(seat, PlannerSeat):
            policies[agent] = single_game_policy(scenario, all_seats, agent, seed,
                                                 game_index, played_by_model)
    replay = record_game(scenario, all_seats, seed, policies, game_index=game_index,
                         cheap_talk=True)
    return LabelledReplay(replay, (*model_labels, *labels))


def _greedy(network: PolicyNetwork) -> Policy:
    """A network's greedy action for one observation."""
    return lambda observation: network.play(observation[None])[0]


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
