"""Who plays: a profile per seat (a name listed twice is one player), and one PyTorch
thread once a trained policy plays."""

from __future__ import annotations

import pytest
import torch

from bucket_brigade.analysis.contenders import (
    Contender,
    parse_profile,
    parse_strategies,
    use_one_torch_thread,
)
from bucket_brigade.errors import UsageError
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


def same_weights(first: torch.nn.Module, second: torch.nn.Module) -> bool:
    theirs = second.state_dict()
    return all(torch.equal(value, theirs[key]) for key, value in first.state_dict().items())


def test_a_per_seat_model_plays_each_seat_with_its_own_network(per_seat_model) -> None:
    path, networks = per_seat_model()
    scenario = get_scenario("default")
    profile = parse_profile(str(path), scenario, 4)
    assert [p.name for p in profile] == [f"model_seats@{k}" for k in range(4)]
    for player, network in zip(profile, networks, strict=True):
        assert same_weights(player.policy, network)
    assert all(p.source == str(path) for p in profile)
    chosen = parse_profile(f"{path}@1", scenario, 4)  # one network, in every seat
    assert all(p is chosen[0] for p in chosen) and chosen[0].name == "model_seats@1"
    assert same_weights(chosen[0].policy, networks[1])
    mixed = parse_strategies(f"hero,{path}@3,{path}", scenario, 4)
    assert [c.name for c in mixed] == ["hero", "model_seats@3", "model_seats"]
    assert same_weights(mixed[2].policy, networks[0])  # without a seat: seat 0's network
    assert same_weights(mixed[1].policy, networks[3])


def test_a_profile_seat_the_model_has_no_network_for_is_refused(per_seat_model) -> None:
    path, _ = per_seat_model(seats=2)
    with pytest.raises(UsageError, match=r"seats 0 to 1, not seat 2; name one network for "
                                         r"every seat with .*model_seats.pt@K"):
        parse_profile(str(path), get_scenario("default"), 4)
    assert len(parse_profile(f"{path},{path},hero,hero", get_scenario("default"), 4)) == 4
