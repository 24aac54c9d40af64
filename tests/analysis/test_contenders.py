"""Who plays: a profile per seat (a name listed twice is one player), and one PyTorch
thread once a trained policy plays."""

from __future__ import annotations

import pytest
import torch

from bucket_brigade.analysis.contenders import (
    Contender,
    parse_profile,
    use_one_torch_thread,
)
from bucket_brigade.game.scenarios import get_scenario
from bucket_brigade.training.network import PolicyNetwork


def test_a_profile_names_every_seat_or_one_for_all() -> None:
    scenario = get_scenario("greedy_neighbor")
    profile = parse_profile("hero,free_rider,hero,liar", scenario, 4)
    assert [p.name for p in profile] == ["hero", "free_rider", "hero", "liar"]
    assert profile[0] is profile[2]
    everyone = parse_profile("coordinator", scenario, 4)
    assert all(p is everyone[0] for p in everyone) and len(everyone) == 4
    with pytest.raises(ValueError, match="names 3 players for 4 seats"):
        parse_profile("hero,hero,hero", scenario, 4)


def test_one_torch_thread_only_when_a_policy_plays() -> None:
    previous = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        scripted = parse_profile("hero", get_scenario("default"), 4)
        use_one_torch_thread(scripted)
        assert torch.get_num_threads() == 2
        model = Contender("model", policy=PolicyNetwork(32, [10, 2], hidden_size=8))
        use_one_torch_thread([*scripted, model])
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(previous)
