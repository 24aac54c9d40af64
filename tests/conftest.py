"""Shared fixtures: batches of externally controlled agents, a draw counter, and a record of
the Numba thread count at every kernel call; and the property tests' examples, fixed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numba
import numpy as np
import pytest
from hypothesis import settings

from bucket_brigade.engine import batch as batch_module
from bucket_brigade.engine.batch import GameBatch
from bucket_brigade.game.rng import GOLDEN_GAMMA, MASK64
from bucket_brigade.game.scenarios import get_scenario
from bucket_brigade.game.seat import Seat

# Property tests draw the same examples on every run, so that the suite passes or fails the
# same way each time; `pytest --hypothesis-profile explore` draws new ones (to hunt bugs).
settings.register_profile("fixed", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile("fixed")

# Every draw adds GOLDEN_GAMMA to a SplitMix64 state, so the number of draws taken
# between two states is their difference times the (odd) constant's inverse.
_GAMMA_INVERSE = pow(GOLDEN_GAMMA, -1, 1 << 64)


def _count_draws(before: Any, after: Any) -> np.ndarray:
    before = np.asarray(before, dtype=np.uint64)
    after = np.asarray(after, dtype=np.uint64)
    counts = [((int(a) - int(b)) * _GAMMA_INVERSE) & MASK64
              for a, b in zip(after.ravel(), before.ravel())]
    return np.array(counts, dtype=np.int64).reshape(after.shape)


@pytest.fixture
def count_draws() -> Callable[[Any, Any], np.ndarray]:
    """Draws taken by each stream between two snapshots of stream states."""
    return _count_draws


@pytest.fixture
def external_batch() -> Callable[..., GameBatch]:
    """Build a batch where every agent is external, on a named scenario with overrides."""

    def build(num_agents: int = 4, num_games: int = 1, seed: int = 0,
              scenario: str = "default", **overrides: Any) -> GameBatch:
        return GameBatch(get_scenario(scenario, **overrides), [Seat()] * num_agents,
                         num_games, seed)

    return build


@pytest.fixture
def kernel_threads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The calling thread's Numba thread count at every night the engine plays."""
    seen: list[int] = []
    step = batch_module.kernel.step_games

    def recording(*args: Any) -> Any:
        seen.append(numba.get_num_threads())
        return step(*args)

    monkeypatch.setattr(batch_module.kernel, "step_games", recording)
    return seen


@pytest.fixture
def per_seat_model(tmp_path: Any) -> Callable[..., Any]:
    """Write ``model_seats.pt`` as an independent run writes it (a network per seat, each
    with its own random weights) for ``scenario`` with ``num_agents`` agents; returns its
    path and the networks."""

    def write(seats: int = 4, scenario: str = "default", num_agents: int = 4) -> Any:
        import torch

        from bucket_brigade.training.network import PolicyNetwork
        from bucket_brigade.training.sharing import SeatPolicies

        game = get_scenario(scenario)
        torch.manual_seed(0)
        networks = [PolicyNetwork(game.obs_dim(num_agents), [game.num_houses, 2],
                                  hidden_size=8) for _ in range(seats)]
        path = tmp_path / "model_seats.pt"
        torch.save(SeatPolicies(networks).state_dict(), path)
        return path, [network.eval() for network in networks]

    return write
