"""Views of a game for people: a text picture of one night and JSON replays of whole games.

A :class:`Snapshot` is what a spectator sees after a night: absolute house
states, every agent's last action and the running scores. The environments
build one from agent 0's observation, whose egocentric frame is the absolute
one (RULES.md). A :class:`Replay` stores one snapshot per night of a game;
:func:`record_game` plays it with the reference engine, which agrees with the
batched engine draw for draw and, unlike it, does not restart a game the
moment it ends, so the final night stays visible.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bucket_brigade.agents.strategies import StrategySpec, make_seat
from bucket_brigade.envs.spaces import check_action
from bucket_brigade.game.constants import BURNING, RUINED, SAFE, WORK
from bucket_brigade.game.observation import ObservationLayout
from bucket_brigade.game.reference import ReferenceGame
from bucket_brigade.game.scenarios import Scenario, get_scenario
from bucket_brigade.game.seat import Seat
from bucket_brigade.io import atomic_write_text, read_input_text

HOUSE_SYMBOLS = {SAFE: ".", BURNING: "F", RUINED: "x"}
MODE_NAMES = ("REST", "WORK")
REPLAY_FORMAT = "bucket-brigade-replay"
REPLAY_VERSION = 1

Policy = Callable[[np.ndarray], Any]


@dataclass(frozen=True)
class Snapshot:
    """The public state after ``night`` nights (night 0: everyone rested at home)."""

    night: int
    houses: tuple[int, ...]
    locations: tuple[int, ...]  # absolute house each agent chose last night
    modes: tuple[int, ...]
    signals: tuple[int, ...]
    scores: tuple[float, ...]  # cumulative rewards so far

    @classmethod
    def from_observation(cls, observation: np.ndarray, num_houses: int, night: int,
                         scores: Sequence[float]) -> Snapshot:
        """Read agent 0's observation, which lists houses and agents in absolute order
        (``scores`` holds one entry per agent, which gives the agent count)."""
        layout = ObservationLayout(num_houses, len(scores))
        values = np.asarray(observation[: layout.scenario_info.start]).astype(np.int64).tolist()
        return cls(
            night=int(night),
            houses=tuple(values[layout.houses]),
            signals=tuple(values[layout.signals]),
            locations=tuple(values[layout.locations]),
            modes=tuple(values[layout.last_modes]),
            scores=tuple(float(s) for s in scores),
        )

    def state(self) -> np.ndarray:
        """The global state of RULES.md: houses, locations, signals, night (float32)."""
        return np.array([*self.houses, *self.locations, *self.signals, self.night],
                        dtype=np.float32)


def render_text(snapshot: Snapshot, title: str = "") -> str:
    """A few lines of text: the ring of houses, then each agent's last action and score."""
    houses = snapshot.houses
    num_agents = len(snapshot.locations)
    width = len(str(len(houses) - 1)) + 1

    def row(label: str, cells: Sequence[object]) -> str:
        return f"{label:<6}" + "".join(f"{cell!s:>{width}}" for cell in cells)

    counts = f"safe {houses.count(SAFE)}  burning {houses.count(BURNING)}  " \
             f"ruined {houses.count(RUINED)}"
    lines = [f"{title + '  ' if title else ''}night {snapshot.night}  |  {counts}",
             row("house", range(len(houses))) + f"   (a ring: {len(houses) - 1} touches 0)",
             row("state", [HOUSE_SYMBOLS[h] for h in houses]),
             row("owner", [j % num_agents for j in range(len(houses))])]
    for i in range(num_agents):
        mode, signal = snapshot.modes[i], snapshot.signals[i]
        lines.append(f"agent {i}  at house {snapshot.locations[i]:>{width - 1}}  "
                     f"{MODE_NAMES[mode]}  signal {MODE_NAMES[signal]}  "
                     f"score {snapshot.scores[i]:8.2f}"
                     + ("  (signal differs from mode)" if signal != mode else ""))
    lines.append(f"legend: {HOUSE_SYMBOLS[SAFE]} safe  {HOUSE_SYMBOLS[BURNING]} burning  "
                 f"{HOUSE_SYMBOLS[RUINED]} ruined")
    return "\n".join(lines)


HOUSE_COLOURS = {SAFE: (60, 160, 75), BURNING: (235, 95, 20), RUINED: (70, 70, 70)}
AGENT_COLOURS = ((40, 110, 230), (230, 190, 30), (200, 60, 200), (30, 200, 200))
CELL = 16  # pixels per house


def render_rgb(snapshot: Snapshot) -> np.ndarray:
    """An RGB frame (uint8 [H, W, 3]) of one night, cheap enough for video recorders.

    The top row holds the ring of houses opened into a strip (house 0 on the left),
    coloured by state: green safe, orange burning, grey ruined. Below it one row per
    agent marks the house it chose last night in its colour: a filled cell for WORK,
    a frame for REST; a white dot in the cell says it signalled WORK.
    """
    num_houses, num_agents = len(snapshot.houses), len(snapshot.locations)
    frame = np.full(((1 + num_agents) * CELL, num_houses * CELL, 3), 255, dtype=np.uint8)
    inner = slice(1, CELL - 1)
    for j, state in enumerate(snapshot.houses):
        frame[inner, j * CELL:(j + 1) * CELL][:, inner] = HOUSE_COLOURS[state]
    for i, house in enumerate(snapshot.locations):
        colour = AGENT_COLOURS[i % len(AGENT_COLOURS)]
        cell = frame[(1 + i) * CELL:(2 + i) * CELL, house * CELL:(house + 1) * CELL]
        if snapshot.modes[i] == WORK:
            cell[inner, inner] = colour
        else:
            cell[1:3, inner] = cell[-3:-1, inner] = colour
            cell[inner, 1:3] = cell[inner, -3:-1] = colour
        if snapshot.signals[i] == WORK:
            cell[CELL // 2 - 2:CELL // 2 + 2, CELL // 2 - 2:CELL // 2 + 2] = 255
    return frame


@dataclass(frozen=True)
class Replay:
    """A whole game: ``frames[0]`` is the start, ``frames[t]`` the state after night t."""

    scenario: Scenario
    seed: int
    game_index: int
    strategies: tuple[tuple[float, ...] | None, ...]  # per agent; None for external seats
    frames: tuple[Snapshot, ...]
    rewards: tuple[tuple[float, ...], ...]  # rewards[t - 1]: every agent's reward on night t

    @property
    def num_agents(self) -> int:
        return len(self.strategies)

    @property
    def nights(self) -> int:
        return len(self.rewards)

    @property
    def scores(self) -> tuple[float, ...]:
        return self.frames[-1].scores

    def render(self, night: int) -> str:
        """The text picture after ``night`` nights (0 = the start)."""
        if not 0 <= night <= self.nights:
            raise ValueError(f"night={night} is outside this replay's 0..{self.nights}")
        return render_text(self.frames[night], title=self.scenario.name)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data; ``final`` repeats end-of-game statistics for viewers."""
        last, played = self.frames[-1], self.frames[1:]
        return {
            "format": REPLAY_FORMAT,
            "version": REPLAY_VERSION,
            "scenario": self.scenario.to_dict(),
            "seed": self.seed,
            "game_index": self.game_index,
            "strategies": [None if s is None else list(s) for s in self.strategies],
            "start": _frame_dict(self.frames[0]),
            "nights": [{**_frame_dict(frame), "rewards": list(rewards)}
                       for frame, rewards in zip(played, self.rewards, strict=True)],
            "final": {
                "scores": list(last.scores),
                "houses_saved": last.houses.count(SAFE),
                "houses_ruined": last.houses.count(RUINED),
                "nights": self.nights,
                "work_rate": [sum(f.modes[i] == WORK for f in played) / len(played)
                              for i in range(self.num_agents)],
                "honesty": [sum(f.modes[i] == f.signals[i] for f in played) / len(played)
                            for i in range(self.num_agents)],
            },
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Replay:
        """Inverse of :meth:`to_dict` (``final`` is recomputed, not read)."""
        if not isinstance(data, dict) or data.get("format") != REPLAY_FORMAT:
            raise ValueError(f"not a {REPLAY_FORMAT} (missing \"format\": {REPLAY_FORMAT!r})")
        if data.get("version") != REPLAY_VERSION:
            raise ValueError(f"replay version {data.get('version')!r} is not supported; "
                             f"expected {REPLAY_VERSION}")
        try:
            return cls(
                scenario=Scenario(**data["scenario"]),
                seed=int(data["seed"]),
                game_index=int(data["game_index"]),
                strategies=tuple(None if s is None else tuple(float(v) for v in s)
                                 for s in data["strategies"]),
                frames=tuple(_frame_from_dict(f) for f in [data["start"], *data["nights"]]),
                rewards=tuple(tuple(float(r) for r in f["rewards"]) for f in data["nights"]),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"malformed replay: {exc!r}") from None

    def save(self, path: str | Path) -> Path:
        """Write the replay as JSON atomically (a reader never sees half a file)."""
        atomic_write_text(path, json.dumps(self.to_dict()))
        return Path(path)

    @classmethod
    def load(cls, path: str | Path) -> Replay:
        text = read_input_text(path, "replay")
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"replay {str(path)!r} is not valid JSON: {exc}") from None
        return cls.from_dict(data)


def record_game(scenario: str | Scenario, seats: Sequence[Seat | StrategySpec],
                seed: int = 0, policy: Policy | Mapping[int, Policy] | None = None, *,
                game_index: int = 0, cheap_talk: bool = False) -> Replay:
    """Play game ``game_index`` of the batch seeded ``seed`` and record every night.

    ``seats`` holds a :class:`Seat` or a strategy spec per agent; ``Seat()`` is an
    external seat, played by ``policy``: a callable from that agent's observation
    (float32) to its action, (house, mode) or, with ``cheap_talk``, (house, mode,
    signal), or one such callable per external agent (a mapping from its index). The
    game is the one the environments play with the same seed and seats.
    """
    scenario = get_scenario(scenario)
    resolved = [make_seat(seat, scenario.name) for seat in seats]
    external = [i for i, seat in enumerate(resolved) if seat.external]
    policies = policy if isinstance(policy, Mapping) else dict.fromkeys(external, policy)
    unplayed = [i for i in external if policies.get(i) is None]
    if unplayed:
        raise ValueError(f"agents {unplayed} have external seats; pass a policy to play them")
    game = ReferenceGame(scenario, resolved, int(seed), int(game_index))
    frames = [_snapshot(game)]
    rewards: list[tuple[float, ...]] = []
    while not game.done:
        actions = {}
        for i in external:
            observation = np.asarray(game.observation(i), dtype=np.float32)
            try:
                checked = check_action(policies[i](observation), scenario.num_houses,
                                       cheap_talk)
            except ValueError as exc:
                raise ValueError(f"policy for agent {i}: {exc}") from None
            actions[i] = tuple(int(v) for v in checked)
        rewards.append(tuple(game.step(actions)))
        frames.append(_snapshot(game))
    return Replay(scenario=scenario, seed=int(seed), game_index=int(game_index),
                  strategies=tuple(game.params), frames=tuple(frames), rewards=tuple(rewards))


def _snapshot(game: ReferenceGame) -> Snapshot:
    return Snapshot(night=game.night, houses=tuple(game.houses),
                    locations=tuple(game.locations), modes=tuple(game.modes),
                    signals=tuple(game.signals), scores=tuple(game.scores))


def _frame_dict(frame: Snapshot) -> dict[str, Any]:
    return {"night": frame.night, "houses": list(frame.houses),
            "locations": list(frame.locations), "modes": list(frame.modes),
            "signals": list(frame.signals), "scores": list(frame.scores)}


def _frame_from_dict(data: dict[str, Any]) -> Snapshot:
    return Snapshot(night=int(data["night"]), houses=tuple(int(v) for v in data["houses"]),
                    locations=tuple(int(v) for v in data["locations"]),
                    modes=tuple(int(v) for v in data["modes"]),
                    signals=tuple(int(v) for v in data["signals"]),
                    scores=tuple(float(v) for v in data["scores"]))
