"""Who plays each agent of a game; both engines and every environment take a list of seats."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Seat:
    """Who plays an agent: the outside world (``pool`` empty) or a scripted strategy.

    A scripted seat draws one entry of ``pool`` per game; an entry is a parameter
    vector, or ``None`` for fresh uniform parameters (the ``random`` strategy).
    """

    pool: tuple[tuple[float, ...] | None, ...] = ()

    @property
    def external(self) -> bool:
        return not self.pool
