"""PolicyNetwork: shapes, the two-step head, the masking option, the loading snippet of the
training docs, and rebuilding a network from its state dict."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from torch import nn

from bucket_brigade.envs.vector import make_vec_env
from bucket_brigade.training import PolicyNetwork
from bucket_brigade.training.network import (
    POLICIES,
    PolicyOutput,
    StackableLinear,
    network_from_state,
    ownership,
)

OBS_DIM_4_AGENTS = 36  # 10 houses + 4 x 4 agent entries + 10 scenario entries
KINDS = [(policy, dims, mask) for policy in POLICIES for dims in ([10, 2], [10, 2, 2])
         for mask in (True, False)]


def burning(*houses: int) -> torch.Tensor:
    """One observation (4 agents at rest at home) in which the given houses burn."""
    obs = torch.zeros(1, OBS_DIM_4_AGENTS)
    obs[0, list(houses)] = 1.0
    return obs


def game_observations(count: int, cheap_talk: bool = False) -> torch.Tensor:
    env = make_vec_env(count, "chain_reaction", seed=1, cheap_talk=cheap_talk)
    obs, _ = env.reset()
    for _ in range(3):  # a few nights in, so that others have worked and signalled
        obs = env.step(env.action_space.sample())[0]
    return torch.from_numpy(obs)


@pytest.mark.parametrize(("policy", "action_dims", "mask"), KINDS)
def test_act_shapes_and_log_probs(policy: str, action_dims: list[int], mask: bool) -> None:
    torch.manual_seed(0)
    net = PolicyNetwork(OBS_DIM_4_AGENTS, action_dims, policy=policy, action_mask=mask)
    obs = game_observations(32, cheap_talk=len(action_dims) == 3)
    action, log_prob, entropy, value = net.action_and_value(obs)
    assert action.shape == (32, len(action_dims)) and action.dtype == torch.long
    assert log_prob.shape == entropy.shape == value.shape == (32,)
    assert ((action[:, 0] >= 0) & (action[:, 0] < 10)).all()
    assert ((action[:, 1:] >= 0) & (action[:, 1:] < 2)).all()
    # Scoring the sampled actions again gives the same log-probabilities.
    torch.testing.assert_close(net.action_and_value(obs, action)[1], log_prob)
    output = net(obs)
    assert isinstance(output, PolicyOutput)
    assert output.intent.shape == (32, 2 * (len(action_dims) - 1))
    assert output.house.shape == (32, output.intent.shape[1], 10)
    torch.testing.assert_close(output.intent.exp().sum(-1), torch.ones(32))
    torch.testing.assert_close(output.house.exp().sum(-1), torch.ones_like(output.house[..., 0]))
    # The value alone (the trainer's bootstrap) is the value of the full pass.
    assert torch.equal(net.value(net.encode(obs)), output.value)
    assert torch.equal(output.value, value)


@pytest.mark.parametrize("policy", POLICIES)
def test_unmasked_entropy_is_the_entropy_of_the_whole_action(policy: str) -> None:
    torch.manual_seed(0)
    net = PolicyNetwork(OBS_DIM_4_AGENTS, [10, 2, 2], policy=policy, action_mask=False)
    obs = game_observations(8, cheap_talk=True)
    intent, house, _ = net(obs)
    joint = (intent[:, :, None] + house).flatten(1)
    expected = -(joint.exp() * joint).sum(-1)
    torch.testing.assert_close(net.action_and_value(obs)[2], expected)


def test_the_house_counts_only_when_it_matters() -> None:
    """With the mask, a resting agent that does not signal WORK is at home whatever the
    action says, so its house adds no log-probability; without it, every house counts."""
    torch.manual_seed(0)
    obs = burning(3, 7).repeat(2, 1)
    masked = PolicyNetwork(OBS_DIM_4_AGENTS, [10, 2, 2])
    rest_lp = masked.action_and_value(obs, torch.tensor([[3, 0, 0], [7, 0, 0]]))[1]
    work_lp = masked.action_and_value(obs, torch.tensor([[3, 1, 1], [7, 1, 1]]))[1]
    signal_lp = masked.action_and_value(obs, torch.tensor([[3, 0, 1], [7, 0, 1]]))[1]
    assert rest_lp[0] == rest_lp[1]
    assert work_lp[0] != work_lp[1]
    assert signal_lp[0] != signal_lp[1]
    plain = PolicyNetwork(OBS_DIM_4_AGENTS, [10, 2, 2], action_mask=False)
    rest_lp = plain.action_and_value(obs, torch.tensor([[3, 0, 0], [7, 0, 0]]))[1]
    assert rest_lp[0] != rest_lp[1]


def test_the_mask_takes_probability_off_pointless_actions_only() -> None:
    """No WORK when nothing burns; a worker picks a burning house; a resting silent agent
    stays home; a resting agent that signals WORK may stand anywhere."""
    torch.manual_seed(0)
    net = PolicyNetwork(OBS_DIM_4_AGENTS, [10, 2, 2])
    with torch.no_grad():
        quiet = net(burning())
        fire = net(burning(2, 5))
    rest_silent, rest_signal, work_silent, work_signal = range(4)
    assert (quiet.intent[0, [work_silent, work_signal]].exp() == 0).all()
    assert (quiet.intent[0, [rest_silent, rest_signal]].exp() > 0.3).all()
    assert (fire.intent[0].exp() > 0.1).all()
    for intent in (work_silent, work_signal):
        assert fire.house[0, intent, [2, 5]].exp().sum().item() == pytest.approx(1.0)
    assert fire.house[0, rest_silent, 0].exp().item() == pytest.approx(1.0)
    assert (fire.house[0, rest_signal].exp() > 0.05).all()
    for _ in range(5):
        house, mode, signal = net.sample_action(burning(2, 5))[0].tolist()
        assert house in (2, 5) if mode else house == 0 or signal == 1


def test_without_the_mask_every_action_has_probability() -> None:
    net = PolicyNetwork(OBS_DIM_4_AGENTS, [10, 2, 2], action_mask=False)
    with torch.no_grad():
        quiet = net(burning())
    assert (quiet.intent.exp() > 0.1).all()
    assert (quiet.house.exp() > 0.05).all()


def test_the_house_depends_on_the_intent() -> None:
    """The house distribution is chosen after the intent: its logits differ by intent."""
    torch.manual_seed(0)
    net = PolicyNetwork(OBS_DIM_4_AGENTS, [10, 2, 2], action_mask=False)
    with torch.no_grad():
        house = net(burning(2, 5)).house[0]
    assert not torch.allclose(house[1], house[3])


def test_training_docs_snippet_loads_a_checkpoint(tmp_path) -> None:
    """The "Loading a checkpoint" snippet of docs/training.md, with the 4-agent obs size."""
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
    obs = game_observations(16)
    torch.testing.assert_close(policy.greedy_action(obs), trained.greedy_action(obs))


def test_the_state_dict_holds_weights_and_the_mask_flag() -> None:
    """The flag travels with the weights: loading an unmasked policy's state dict into a
    default network makes it unmasked."""
    plain = PolicyNetwork(OBS_DIM_4_AGENTS, [10, 2], action_mask=False)
    state = plain.state_dict()
    assert all(key.endswith((".weight", ".bias")) for key in state if key != "mask_pointless")
    default = PolicyNetwork(OBS_DIM_4_AGENTS, [10, 2])
    assert default.action_mask
    default.load_state_dict(state)
    assert not default.action_mask


@pytest.mark.parametrize(("policy", "action_dims", "mask"), KINDS)
def test_a_state_dict_rebuilds_its_network(policy: str, action_dims: list[int],
                                           mask: bool) -> None:
    torch.manual_seed(0)
    net = PolicyNetwork(OBS_DIM_4_AGENTS, action_dims, hidden_size=24, policy=policy,
                        action_mask=mask)
    obs = game_observations(16, cheap_talk=len(action_dims) == 3)
    for config in (None, net.config):
        rebuilt = network_from_state(net.state_dict(), config)
        assert rebuilt.config == net.config
        torch.testing.assert_close(rebuilt.greedy_action(obs), net.greedy_action(obs))


def test_a_state_dict_rebuilds_other_game_sizes() -> None:
    """Sizes are read off the weights: 3 agents and 12 houses."""
    obs_dim = 12 + 4 * 3 + 10
    net = PolicyNetwork(obs_dim, [12, 2, 2], hidden_size=8)
    assert network_from_state(net.state_dict()).config == net.config


def test_foreign_weights_are_refused() -> None:
    with pytest.raises(ValueError, match="not those of a PolicyNetwork"):
        network_from_state({"torso.0.weight": torch.zeros(32, 96)})
    with pytest.raises(ValueError, match="do not fit"):
        network_from_state(PolicyNetwork(OBS_DIM_4_AGENTS, [10, 2]).state_dict(),
                           {"obs_dim": 36, "action_dims": [10, 2], "hidden_size": 8})


def test_obs_size_and_policy_must_fit() -> None:
    with pytest.raises(ValueError, match="obs_dim=35"):
        PolicyNetwork(35, [10, 2])
    with pytest.raises(ValueError, match="policy='cnn' is not one of structured, mlp"):
        PolicyNetwork(OBS_DIM_4_AGENTS, [10, 2], policy="cnn")


def test_ownership_is_what_the_observation_determines() -> None:
    """Relative house m is owned from every seat when m is a multiple of N and N divides H;
    with 10 houses and 4 agents, relative house 8 is owned from seats 0 and 1 only."""
    assert ownership(8, 4) == [1, 0, 0, 0, 1, 0, 0, 0]
    assert ownership(10, 4) == [1, 0, 0, 0, 1, 0, 0, 0, 0.5, 0]


def test_house_combinations_follow_the_observation() -> None:
    """House m's combination number encodes (left, middle, right states, others who worked
    there, others who signalled WORK there, me: elsewhere / rested / worked there)."""
    net = PolicyNetwork(OBS_DIM_4_AGENTS, [10, 2])
    body = net.body
    obs = torch.zeros(1, OBS_DIM_4_AGENTS)
    obs[0, 0:3] = torch.tensor([2.0, 1.0, 0.0])  # houses 0, 1, 2: ruined, burning, safe
    obs[0, 10:14] = torch.tensor([1.0, 0, 1, 0])  # signals: me and agent 2 said WORK
    last_actions = 10 + 2 * 4
    obs[0, last_actions:last_actions + 8] = torch.tensor([1.0, 1, 1, 1, 1, 0, 5, 1])
    numbers = body.encode(obs)[0, body.torso_inputs:]
    # House 1: ruined, burning, safe; agent 1 worked there, agent 2 rested there
    # signalling WORK; I worked there.
    assert numbers[1] == (((2 * 9 + 1 * 3 + 0) * 4 + 1) * 4 + 1) * 3 + 2
    # House 5: all safe; agent 3 worked there, without signalling WORK.
    assert numbers[5] == ((0 * 4 + 1) * 4 + 0) * 3 + 0


@pytest.mark.parametrize("action_dims", [[10, 2], [10, 2, 2]])
def test_play_is_the_greedy_action_with_a_signal(action_dims: list[int]) -> None:
    env = make_vec_env(64, "default", num_opponents=3, seed=2)
    obs, _ = env.reset()
    torch.manual_seed(0)
    network = PolicyNetwork(obs.shape[1], action_dims, hidden_size=8)
    played = network.play(obs)
    greedy = network.greedy_action(obs)  # NumPy in, NumPy out
    assert isinstance(greedy, np.ndarray)
    np.testing.assert_array_equal(greedy, network.greedy_action(torch.from_numpy(obs)).numpy())
    np.testing.assert_array_equal(network.play(torch.from_numpy(obs)), played)
    assert played.shape == (64, 3)
    np.testing.assert_array_equal(played[:, :len(action_dims)], greedy)
    if len(action_dims) == 2:  # without cheap talk the signal is the mode
        np.testing.assert_array_equal(played[:, 2], played[:, 1])


NEAREST_FIRST = [0, 1, 9, 2, 8, 3, 7, 4, 6, 5]  # relative houses of 10, nearest first


def seat_rule_data(seed: int, games: int = 256) -> tuple[torch.Tensor, ...]:
    """Observations (where some house burns) of self-play games under random play, the
    seat of each, and the intent and house of a rule that differs by seat: even seats work
    at the nearest burning house; odd seats work at the nearest burning house they own
    (exactly: relative house 8 is owned from seat 1, not from seat 3), else rest at home."""
    env = make_vec_env(4 * games, "greedy_neighbor", num_opponents=0, num_learners=4,
                       seed=seed)
    env.reset()
    rng = np.random.default_rng(seed)
    obs = np.concatenate([env.step(rng.integers(0, [10, 2], (4 * games, 2)))[0]
                          for _ in range(3)])
    seats = np.arange(len(obs)) % 4
    keep = (obs[:, :10] == 1).any(1)
    obs, seats = obs[keep], seats[keep]
    owned = np.array([[(s + m) % 10 % 4 == s for m in range(10)] for s in range(4)])
    intents, houses = [], []
    for row, seat in zip(obs, seats):
        burning = [m for m in NEAREST_FIRST if row[m] == 1]
        chosen = [m for m in burning if owned[seat, m]] if seat % 2 else burning
        intents.append(int(bool(chosen)))
        houses.append(chosen[0] if chosen else 0)
    return (torch.from_numpy(obs), torch.from_numpy(seats), torch.tensor(intents),
            torch.tensor(houses))


def cloned_agreement(seat_ids: int) -> float:
    """Held-out agreement (intent and house) of a network behaviour-cloned on the seat
    rule, with or without the seat as an input."""
    torch.manual_seed(0)
    network = PolicyNetwork(OBS_DIM_4_AGENTS, [10, 2], hidden_size=32, seat_ids=seat_ids)
    train_obs, train_seats, train_intents, train_houses = seat_rule_data(seed=1)
    test_obs, test_seats, test_intents, test_houses = seat_rule_data(seed=2)
    inputs = network.encode(train_obs, train_seats if seat_ids else None)
    workers = train_intents == 1
    optimizer = torch.optim.Adam(network.parameters(), lr=1e-2)
    for _ in range(150):
        output = network.evaluate(inputs)
        loss = nn.functional.nll_loss(output.intent, train_intents) \
            + nn.functional.nll_loss(output.house[workers, 1], train_houses[workers])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        output = network.evaluate(network.encode(test_obs, test_seats if seat_ids else None))
    intent = output.intent.argmax(-1)
    house = output.house[:, 1].argmax(-1)
    agree = (intent == test_intents) & ((intent == 0) | (house == test_houses))
    return float(agree.float().mean())


@pytest.mark.slow
def test_the_seat_input_reaches_the_decision() -> None:
    """A rule that differs by seat is learned from the seat's one-hot and exact
    ownership (>= 97% of held-out choices); without them it cannot be."""
    assert cloned_agreement(seat_ids=4) >= 0.97
    assert cloned_agreement(seat_ids=0) < 0.8


def test_a_seat_aware_network_plays_its_seat_when_not_told() -> None:
    network = PolicyNetwork(OBS_DIM_4_AGENTS, [10, 2], hidden_size=16, seat_ids=4)
    obs = game_observations(8)
    assert torch.equal(network.encode(obs), network.encode(obs, torch.zeros(8, dtype=torch.long)))
    network.seat = 3
    assert torch.equal(network.encode(obs), network.encode(obs, torch.full((8,), 3)))
    assert not torch.equal(network.encode(obs), network.encode(obs, torch.zeros(8).long()))
    assert torch.equal(network.encode(obs), network.encode_tensors(obs))
    rebuilt = network_from_state(network.state_dict())
    assert rebuilt.config == network.config and rebuilt.config["seat_ids"] == 4


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"hidden_size": 10**12}, "hidden_size=1000000000000 must be an integer from 1 to 8,192"),
    ({"hidden_size": 16.0}, "hidden_size=16.0 must be an integer"),
    ({"action_dims": [10.0, 2]}, "houses=10.0 must be an integer from 2 to 1,000"),
    ({"action_dims": [10**6, 2]}, "houses=1000000 must be an integer from 2 to 1,000"),
    ({"action_dims": [10, 3]}, "mode and signal choices=3 must be an integer from 2 to 2"),
    ({"action_mask": "no"}, "action_mask='no' must be true or false"),
    ({"policy": ["mlp"]}, "policy=['mlp'] is not one of"),
    ({"obs_dim": 10**9}, "obs_dim=1000000000 must be an integer from 1 to"),
])
def test_sizes_are_checked_before_any_layer_is_built(kwargs, message: str) -> None:
    """Sizes may come from a file: refused at once, never converted or allocated."""
    settings = {"obs_dim": OBS_DIM_4_AGENTS, "action_dims": [10, 2], **kwargs}
    with pytest.raises(ValueError, match=re.escape(message)):
        PolicyNetwork(**settings)


def test_numpy_sizes_are_sizes() -> None:
    network = PolicyNetwork(np.int64(OBS_DIM_4_AGENTS), np.array([10, 2]),
                            hidden_size=np.int32(8), action_mask=np.bool_(False))
    assert network.config == PolicyNetwork(OBS_DIM_4_AGENTS, [10, 2], hidden_size=8,
                                           action_mask=False).config


def test_a_linear_layer_stacked_per_seat_is_each_seats_own_layer() -> None:
    torch.manual_seed(0)
    layers = [StackableLinear(5, 3, bias=bias) for bias in (True, True, False, False)]
    with_bias, without_bias = layers[:2], layers[2:]
    x = torch.randn(2, 7, 5)
    shared_input = torch.randn(7, 5)
    for seats in (with_bias, without_bias):
        stacked = StackableLinear(5, 3, bias=seats[0].bias is not None)
        for name, _ in seats[0].named_parameters():
            setattr(stacked, name, torch.nn.Parameter(
                torch.stack([getattr(seat, name).detach() for seat in seats])))
        for k, seat in enumerate(seats):
            torch.testing.assert_close(stacked(x)[k], seat(x[k]))
            torch.testing.assert_close(stacked(shared_input)[k], seat(shared_input))
