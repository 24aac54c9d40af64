"""ObservationLayout: the blocks where the engines really write them, and obs_dim read back."""

from __future__ import annotations

import numpy as np
import pytest

from bucket_brigade.engine.batch import GameBatch
from bucket_brigade.game.constants import WORK
from bucket_brigade.game.observation import SCENARIO_INFO_SIZE, ObservationLayout
from bucket_brigade.game.reference import ReferenceGame
from bucket_brigade.game.scenarios import get_scenario
from bucket_brigade.game.seat import Seat


@pytest.mark.parametrize("num_houses, num_agents", [(10, 4), (5, 2), (7, 3), (12, 12)])
def test_blocks_hold_what_the_engines_write(num_houses: int, num_agents: int) -> None:
    scenario = get_scenario("default", num_houses=num_houses)
    layout = ObservationLayout(num_houses, num_agents)
    batch = GameBatch(scenario, [Seat()] * num_agents, num_games=1, seed=3)
    # Agent k walks k + 1 houses on and works; agent k - 1 signals the opposite mode.
    actions = np.array([[[k + 1, WORK, k % 2] for k in range(num_agents)]])
    observations, _, _ = batch.step(actions)
    game = ReferenceGame(scenario, [Seat()] * num_agents, seed=3)
    game.step({k: tuple(int(v) for v in actions[0, k]) for k in range(num_agents)})
    for agent in range(num_agents):
        obs = observations[0, agent]
        np.testing.assert_array_equal(obs, np.array(game.observation(agent), np.float32))
        assert len(obs) == layout.obs_dim == scenario.obs_dim(num_agents)
        others = [(agent + k) % num_agents for k in range(num_agents)]
        relative = [(other + other + 1 - agent) % num_houses for other in others]
        np.testing.assert_array_equal(
            obs[layout.houses], np.roll(batch.houses[0], -agent)[:num_houses])
        np.testing.assert_array_equal(obs[layout.signals], [o % 2 for o in others])
        np.testing.assert_array_equal(obs[layout.locations], relative)
        np.testing.assert_array_equal(obs[layout.last_houses], relative)
        np.testing.assert_array_equal(obs[layout.last_modes], [WORK] * num_agents)
        np.testing.assert_array_equal(
            obs[layout.scenario_info], np.array(scenario.info_vector(num_agents), np.float32))


def test_blocks_tile_the_observation_in_order() -> None:
    layout = ObservationLayout(10, 4)
    blocks = [layout.houses, layout.signals, layout.locations, layout.last_actions,
              layout.scenario_info]
    assert [(b.start, b.stop) for b in blocks] == [(0, 10), (10, 14), (14, 18), (18, 26),
                                                   (26, 36)]
    assert layout.offsets == (0, 10, 14, 18, 26)
    assert layout.obs_dim == 36  # the default 4-agent game: H + 4N + 10
    assert len(get_scenario("default").info_vector(4)) == SCENARIO_INFO_SIZE


@pytest.mark.parametrize("num_houses, num_agents", [(10, 4), (5, 2), (12, 1), (30, 7)])
def test_layout_is_recovered_from_obs_dim(num_houses: int, num_agents: int) -> None:
    layout = ObservationLayout(num_houses, num_agents)
    assert ObservationLayout.from_obs_dim(layout.obs_dim, num_houses) == layout


@pytest.mark.parametrize("obs_dim", [35, 37, 20, 0])
def test_obs_dim_that_does_not_fit_is_refused(obs_dim: int) -> None:
    with pytest.raises(ValueError, match=rf"obs_dim={obs_dim} does not fit .* H=10 houses"):
        ObservationLayout.from_obs_dim(obs_dim, 10)


@pytest.mark.parametrize("num_houses, num_agents", [(0, 2), (10, 0), (10, 2.0), (True, 2)])
def test_bad_counts_are_refused(num_houses: object, num_agents: object) -> None:
    with pytest.raises(ValueError, match="must be an integer >= 1"):
        ObservationLayout(num_houses, num_agents)  # type: ignore[arg-type]
