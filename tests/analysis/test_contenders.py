"""Who plays: a profile per seat (a name listed twice is one player), and one PyTorch
thread once a trained policy plays."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from bucket_brigade.analysis.contenders import (
    Contender,
    parse_profile,
    use_one_torch_thread,
)
from bucket_brigade.game.scenarios import get_scenario
from bucket_brigade.training import train
from bucket_brigade.training.config import TrainConfig
from bucket_brigade.training.models import load_policy
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


@pytest.mark.parametrize("sharing", ["shared", "shared-id", "independent"])
def test_a_model_plays_each_seat_as_it_was_trained_there(tmp_path: Path, sharing: str) -> None:
    config = replace(TrainConfig(), steps=256, scenario="greedy_neighbor", self_play=True,
                     sharing=sharing, run_name="sp", out_dir=str(tmp_path), num_envs=64,
                     batch_size=128, hidden_size=16, cpu=True)
    path = str(train(config).model_path)
    scenario = get_scenario("greedy_neighbor")
    profile = parse_profile(path, scenario, 4)
    model = load_policy(path)
    if sharing == "shared":  # one player in every seat: a symmetric profile
        assert all(p is profile[0] for p in profile)
        assert profile[0].name == "model_sp"
        return
    assert len({id(p) for p in profile}) == 4
    assert [p.name for p in profile] == [f"model_sp (seat {seat})" for seat in range(4)]
    assert all(p.source == path for p in profile)
    obs = np.random.default_rng(0).random((32, model.obs_dim), dtype=np.float32)
    for seat, player in enumerate(profile):  # each seat acts as the model does there
        np.testing.assert_array_equal(player.policy.play(obs),
                                      model.seat_network(seat).play(obs))
    mixed = parse_profile(f"hero,{path},hero,{path}", scenario, 4)
    assert mixed[0] is mixed[2] and mixed[1].name == "model_sp (seat 1)"
    assert mixed[3].name == "model_sp (seat 3)"
