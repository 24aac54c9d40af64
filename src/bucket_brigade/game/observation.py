"""Where each part of an agent's observation sits (RULES.md, "What an agent observes").

The observation of a game with H houses and N agents is five blocks, in this order:
houses (H), signals (N), relative locations (N), last actions (2N, as (house, mode)
pairs) and scenario info (10). Engines, spaces, renderers and networks read the
offsets from :class:`ObservationLayout` instead of recomputing them.
"""

from __future__ import annotations

from dataclasses import dataclass

SCENARIO_INFO_SIZE = 10


@dataclass(frozen=True)
class ObservationLayout:
    """The blocks of the observation for ``num_houses`` houses and ``num_agents`` agents."""

    num_houses: int
    num_agents: int

    def __post_init__(self) -> None:
        for name in ("num_houses", "num_agents"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}={value!r} must be an integer >= 1")

    @classmethod
    def from_obs_dim(cls, obs_dim: int, num_houses: int) -> ObservationLayout:
        """The layout whose observations have ``obs_dim`` entries, for ``num_houses`` houses."""
        num_agents, remainder = divmod(obs_dim - num_houses - SCENARIO_INFO_SIZE, 4)
        if remainder or num_agents < 1:
            raise ValueError(f"obs_dim={obs_dim} does not fit the observation layout "
                             f"H + 4N + {SCENARIO_INFO_SIZE} with H={num_houses} houses")
        return cls(num_houses, num_agents)

    @property
    def houses(self) -> slice:
        """State code of each house, from the agent's home on."""
        return slice(0, self.num_houses)

    @property
    def signals(self) -> slice:
        """Each agent's signal last night, from the agent itself on."""
        return slice(self.houses.stop, self.houses.stop + self.num_agents)

    @property
    def locations(self) -> slice:
        """Each agent's house last night, relative to the observer's home."""
        return slice(self.signals.stop, self.signals.stop + self.num_agents)

    @property
    def last_actions(self) -> slice:
        """(relative house, mode) of each agent last night, pair after pair."""
        return slice(self.locations.stop, self.locations.stop + 2 * self.num_agents)

    @property
    def last_houses(self) -> slice:
        """The house entries of :attr:`last_actions` (every other entry)."""
        return slice(self.last_actions.start, self.last_actions.stop, 2)

    @property
    def last_modes(self) -> slice:
        """The mode entries of :attr:`last_actions`."""
        return slice(self.last_actions.start + 1, self.last_actions.stop, 2)

    @property
    def scenario_info(self) -> slice:
        """The scenario's constants (``Scenario.info_vector``)."""
        return slice(self.last_actions.stop, self.last_actions.stop + SCENARIO_INFO_SIZE)

    @property
    def obs_dim(self) -> int:
        return self.scenario_info.stop

    @property
    def offsets(self) -> tuple[int, int, int, int, int]:
        """Start of each block, in order: what the compiled kernel takes."""
        return (self.houses.start, self.signals.start, self.locations.start,
                self.last_actions.start, self.scenario_info.start)
