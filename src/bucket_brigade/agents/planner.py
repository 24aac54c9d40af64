"""The ``planner`` strategy name: a seat that searches by rollouts instead of following a rule.

``planner[@K[/D]][~P][+Z][^][:BASE]`` plays, every night, the candidate action whose K
sampled continuations of the game (the seat following BASE afterwards, default hero)
score best on average; D caps each continuation at D nights (default: to the game's
end); P is how many weighted samples of each opponent's hidden parameters it keeps
(default 512; 0 plans against the prior, without inferring anything from the history);
a candidate must beat BASE's own choice by Z standard errors of the paired difference
(default 1; 0 plays the best mean); ``^`` adds cheap talk: each candidate is tried with
either signal, not only the honest one, which matters against opponents that read
signals (a scripted agent's coordination). The search itself runs on the batched engine
(:mod:`bucket_brigade.search`); this module only names and checks its settings, so that
every place that resolves strategy names (evaluation, replays, the empirical game) can
seat a planner.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bucket_brigade.errors import UsageError
from bucket_brigade.game.scenarios import shown
from bucket_brigade.game.seat import Seat

PLANNER = "planner"
DEFAULT_BASE = "hero"
DEFAULT_CONTINUATIONS = 32
DEFAULT_PARTICLES = 512
DEFAULT_MARGIN = 1.0
CANDIDATE_SETS = ("all", "talk", "base")
TALK = "^"
SYNTAX = "planner[@K[/D]][~P][+Z][^][:BASE]"
_SETTINGS = re.compile(
    r"planner(?:@(?P<k>\d+)(?:/(?P<d>\d+))?)?(?:~(?P<p>\d+))?(?:\+(?P<z>\d+(?:\.\d+)?))?"
    r"(?P<talk>\^)?(?::(?P<base>.+))?")


@dataclass(frozen=True)
class PlannerSeat(Seat):
    """A planning seat. The engine sees an external seat (``pool`` is empty); whoever plays
    the batch asks :mod:`bucket_brigade.search` for its actions.

    ``candidates``: ``all`` tries resting and working at each burning house, signalling its
    mode (its base's signal for its base's choice); ``talk`` tries each of these with either
    signal (cheap talk); ``base`` tries only the base strategy's own choice (the planner
    then plays exactly its base). ``seed``
    seeds the continuations' random streams, which never share a draw with the real game.
    """

    base: tuple[float, ...] = ()
    base_name: str = DEFAULT_BASE
    continuations: int = DEFAULT_CONTINUATIONS
    horizon: int | None = None
    particles: int = DEFAULT_PARTICLES
    margin: float = DEFAULT_MARGIN
    candidates: str = "all"
    seed: int = 0

    def __post_init__(self) -> None:
        if self.pool:
            raise ValueError("a planner seat has no pool")
        for name, value, least in (("continuations", self.continuations, 1),
                                   ("horizon", self.horizon, 1), ("seed", self.seed, 0),
                                   ("particles", self.particles, 0)):
            if value is None and name == "horizon":
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise UsageError(f"planner {name}={value!r} must be an integer >= {least}")
        if isinstance(self.margin, bool) or not isinstance(self.margin, (int, float)) \
                or not 0 <= self.margin < float("inf"):
            raise UsageError(f"planner margin={self.margin!r} must be a number >= 0")
        if self.candidates not in CANDIDATE_SETS:
            raise UsageError(f"planner candidates={self.candidates!r}; valid choices: "
                             f"{', '.join(CANDIDATE_SETS)}")

    @property
    def name(self) -> str:
        """The strategy name that gives this seat back (without ``seed``; ``base`` candidates
        have no name: they are for tests)."""
        settings = "" if self.continuations == DEFAULT_CONTINUATIONS and self.horizon is None \
            else f"@{self.continuations}" + ("" if self.horizon is None else f"/{self.horizon}")
        belief = "" if self.particles == DEFAULT_PARTICLES else f"~{self.particles}"
        margin = "" if self.margin == DEFAULT_MARGIN else f"+{self.margin:g}"
        talk = TALK if self.candidates == "talk" else ""
        base = "" if self.base_name == DEFAULT_BASE else f":{self.base_name}"
        return PLANNER + settings + belief + margin + talk + base


def is_planner_name(name: str) -> bool:
    return name == PLANNER or name.startswith(tuple(PLANNER + c for c in "@~+^:"))


def parse_planner(name: str, base_params: tuple[float, ...] | None) -> PlannerSeat:
    """``planner[@K[/D]][~P][+Z][^][:BASE]`` with BASE's parameters already resolved (``None`` for a
    BASE that draws fresh parameters every game, which a planner cannot follow)."""
    match = _SETTINGS.fullmatch(name.strip())
    if match is None:
        raise UsageError(f"planner strategy {shown(name)} is not {SYNTAX}, e.g. "
                         "planner, planner@64, planner@32/10:firefighter, planner~0+0, "
                         "planner@32^")
    base_name = match["base"] or DEFAULT_BASE
    if base_params is None:
        raise UsageError(f"planner base {shown(base_name)} must be one fixed strategy (an "
                         "archetype, evolved, a genome or 10 numbers), not random")
    return PlannerSeat(base=base_params, base_name=base_name,
                       continuations=int(match["k"] or DEFAULT_CONTINUATIONS),
                       horizon=None if match["d"] is None else int(match["d"]),
                       particles=int(DEFAULT_PARTICLES if match["p"] is None else match["p"]),
                       margin=float(DEFAULT_MARGIN if match["z"] is None else match["z"]),
                       candidates="talk" if match["talk"] else "all")


def base_name_of(name: str) -> str:
    """The BASE part of a planner name (default hero), to be resolved by the caller."""
    return name.partition(":")[2].strip() or DEFAULT_BASE
