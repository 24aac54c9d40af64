"""PolicyNetwork: shapes, the documented checkpoint-loading snippet, what the house head reads."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bucket_brigade.envs.vector import make_vec_env
from bucket_brigade.training import PolicyNetwork

OBS_DIM_4_AGENTS = 36  # 10 houses + 4 x 4 agent entries + 10 scenario entries


def test_act_shapes_and_log_probs() -> None:
    torch.manual_seed(0)
    net = PolicyNetwork(OBS_DIM_4_AGENTS, [10, 2])
    obs = torch.from_numpy(make_vec_env(5, "default", seed=1).reset()[0])
    action, log_prob, entropy, value = net.action_and_value(obs)
    assert action.shape == (5, 2) and action.dtype == torch.long
    assert log_prob.shape == entropy.shape == value.shape == (5,)
    assert ((action[:, 0] >= 0) & (action[:, 0] < 10)).all()
    assert ((action[:, 1] >= 0) & (action[:, 1] < 2)).all()
    # Scoring the sampled actions again gives the same log-probabilities.
    _, again, _, _ = net.action_and_value(obs, action)
    torch.testing.assert_close(again, log_prob)
    assert net.greedy_action(obs).shape == (5, 2)


def burning(*houses: int) -> torch.Tensor:
    """One observation (4 agents at rest at home) in which the given houses burn."""
    obs = torch.zeros(1, OBS_DIM_4_AGENTS)
    obs[0, list(houses)] = 1.0
    return obs


def test_the_house_counts_only_when_working() -> None:
    """A resting agent's house changes nothing in the game, so it adds no log-probability."""
    torch.manual_seed(0)
    net = PolicyNetwork(OBS_DIM_4_AGENTS, [10, 2])
    obs = burning(3, 7).repeat(2, 1)
    rest_lp = net.action_and_value(obs, torch.tensor([[3, 0], [7, 0]]))[1]
    work_lp = net.action_and_value(obs, torch.tensor([[3, 1], [7, 1]]))[1]
    assert rest_lp[0] == rest_lp[1]
    assert work_lp[0] != work_lp[1]


def test_pointless_actions_have_no_probability() -> None:
    """Working where nothing burns has no effect but costs: WORK is impossible when no house
    burns, and while some burn, only they can be chosen."""
    torch.manual_seed(0)
    net = PolicyNetwork(OBS_DIM_4_AGENTS, [10, 2])
    with torch.no_grad():
        quiet = net.evaluate(net.encode(burning()))[0].exp()[0]
        fire = net.evaluate(net.encode(burning(2, 5)))[0].exp()[0]
    assert quiet[1, 1] == 0  # P(WORK)
    assert fire[1, 1] > 0.4
    assert fire[0, [2, 5]].sum().item() == pytest.approx(1.0)
    for _ in range(5):
        action = net.sample_action(burning(2, 5))
        assert action[0, 0].item() in (2, 5)


def test_cheap_talk_has_a_signal_head() -> None:
    net = PolicyNetwork(OBS_DIM_4_AGENTS, [10, 2, 2])
    action, *_ = net.action_and_value(torch.zeros(3, OBS_DIM_4_AGENTS))
    assert action.shape == (3, 3)


def test_seed_readme_snippet_loads_a_checkpoint(tmp_path) -> None:
    """The checkpoint-loading snippet of docs/training.md, with the 4-agent obs size."""
    trained = PolicyNetwork(OBS_DIM_4_AGENTS, [10, 2])
    optimizer = torch.optim.Adam(trained.parameters())
    path = tmp_path / "checkpoint_step_1000000.pt"
    torch.save({"model_state_dict": trained.state_dict(),
                "optimizer_state_dict": optimizer.state_dict(), "step": 1_000_000}, path)

    checkpoint = torch.load(path, weights_only=True)
    policy = PolicyNetwork(obs_dim=36, action_dims=[10, 2])
    policy.load_state_dict(checkpoint["model_state_dict"])
    optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
    start_step = checkpoint["step"]

    assert start_step == 1_000_000
    obs = torch.rand(4, OBS_DIM_4_AGENTS)
    torch.testing.assert_close(policy.greedy_action(obs), trained.greedy_action(obs))


def test_state_dict_holds_only_weights() -> None:
    state = PolicyNetwork(OBS_DIM_4_AGENTS, [10, 2]).state_dict()
    assert all(key.endswith((".weight", ".bias")) for key in state)


def test_obs_size_must_fit_the_layout() -> None:
    with pytest.raises(ValueError, match="obs_dim=35"):
        PolicyNetwork(35, [10, 2])


def test_neighbourhood_numbers_follow_the_observation() -> None:
    """House m's neighbourhood number encodes (left, middle, right states, others who worked
    there last night, whether I did), in that order of significance."""
    net = PolicyNetwork(OBS_DIM_4_AGENTS, [10, 2])
    obs = torch.zeros(1, OBS_DIM_4_AGENTS)
    obs[0, 0:3] = torch.tensor([2.0, 1.0, 0.0])  # houses 0, 1, 2: ruined, burning, safe
    last_actions = 10 + 2 * 4
    obs[0, last_actions:last_actions + 8] = torch.tensor([1.0, 1, 1, 1, 1, 0, 5, 1])
    numbers = net.encode(obs)[0, net.torso_inputs:]
    # House 1: left ruined (2), itself burning (1), right safe (0); agent 1 worked there
    # (agent 2 only rested there) and so did I.
    assert numbers[1] == ((2 * 9 + 1 * 3 + 0) * 4 + 1) * 2 + 1
    # House 5: all safe; agent 3 worked there, I did not.
    assert numbers[5] == (0 * 4 + 1) * 2 + 0


@pytest.mark.parametrize("action_dims", [[10, 2], [10, 2, 2]])
def test_play_is_the_greedy_action_with_a_signal(action_dims: list[int]) -> None:
    env = make_vec_env(64, "default", num_opponents=3, seed=2)
    obs, _ = env.reset()
    torch.manual_seed(0)
    network = PolicyNetwork(obs.shape[1], action_dims, hidden_size=8)
    played = network.play(obs)
    greedy = network.greedy_action(torch.from_numpy(obs)).numpy()
    assert played.shape == (64, 3)
    np.testing.assert_array_equal(played[:, :len(action_dims)], greedy)
    if len(action_dims) == 2:  # without cheap talk the signal is the mode
        np.testing.assert_array_equal(played[:, 2], played[:, 1])
