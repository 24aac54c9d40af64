"""The opponent seats of a run that trains against trained models or a weighted mix.

``--opponent-policies`` names the opponents: scripted strategies cycled over the seats
(the kernel plays those), where an entry may also be a model file (``*.pt``, played
greedily in that seat), or ``mix:NAME=WEIGHT,...``, a population that every opponent seat
draws from independently at the start of each game (an empirical game's meta-strategy).
The last two become :class:`~bucket_brigade.envs.drawn_opponents.Population` seats.
"""

from __future__ import annotations

from bucket_brigade.agents.planner import PlannerSeat
from bucket_brigade.agents.strategies import (
    cycled,
    is_mix,
    is_model_name,
    make_seat,
    parse_mix,
    split_opponents,
)
from bucket_brigade.envs.drawn_opponents import Policy, Population
from bucket_brigade.errors import UsageError
from bucket_brigade.game.scenarios import Scenario
from bucket_brigade.game.seat import Seat


def opponent_populations(text: str, num_opponents: int, scenario: Scenario,
                         num_agents: int) -> list[Population]:
    """One population per opponent seat, in seat order; models are loaded (and checked
    against the game) once each."""
    if is_mix(text):
        entries = parse_mix(text)
        players = tuple(_player(name, scenario, num_agents) for name, _ in entries)
        return [Population(players, tuple(w for _, w in entries))] * num_opponents
    names = split_opponents(text)
    players = {name: _player(name, scenario, num_agents) for name in dict.fromkeys(names)}
    return [Population((players[name],), (1.0,)) for name in cycled(names, num_opponents)]


def _player(name: str, scenario: Scenario, num_agents: int) -> Seat | Policy:
    from bucket_brigade.training.models import load_policy  # loads torch

    if is_model_name(name):
        model = load_policy(name)
        model.check_fits(scenario, num_agents)
        return model.network.play
    seat = make_seat(name, scenario.name)
    if isinstance(seat, PlannerSeat):
        raise UsageError(f"opponent {name!r}: a planner searches only in evaluation, replays, "
                         "evolve and nash, not as a training's opponent")
    return seat
