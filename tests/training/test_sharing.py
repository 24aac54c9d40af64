"""The learning seats' parameters (--sharing) and critics (--critic): independent learners
really are independent, their files hold every seat, and a resumed run restores every
seat's optimizer."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch

from bucket_brigade.cli import main
from bucket_brigade.envs.vector import make_vec_env
from bucket_brigade.errors import UsageError
from bucket_brigade.training import ppo, train
from bucket_brigade.training.checkpoint import load_checkpoint
from bucket_brigade.training.critic import CentralCriticPolicy
from bucket_brigade.training.gradients import FlatGradients
from bucket_brigade.training.models import load_policy, seat_actor_states
from bucket_brigade.training.network import PolicyNetwork
from bucket_brigade.training.ppo import ppo_update
from bucket_brigade.training.seating import make_training_env
from bucket_brigade.training.sharing import Learners, SeatAdam, restore_module


def learners_of(config) -> tuple[Learners, object]:
    torch.manual_seed(config.seed)
    envs = make_training_env(config, config.seed)
    return Learners(envs, config, torch.device("cpu")), envs


def stacked_weights(learners: Learners) -> list[torch.Tensor]:
    return [p.detach().clone() for p in learners.agent.parameters()]


def seat_batch(learners: Learners, envs, advantage: float = 1.0) -> list[torch.Tensor]:
    """Every seat's rows ([K, B, ...]) of one night of fresh games, with the actions its
    policy drew and a given advantage."""
    obs, _ = envs.reset(seed=0)
    inputs = learners.encode(obs, envs)
    with torch.no_grad():
        actions, logprobs, values = learners.sample(inputs)
    advantages = torch.full_like(values, advantage) + torch.linspace(0, 0.1, len(values))
    return [learners.rows(buffer[None]) for buffer in (
        inputs, actions, logprobs, values, advantages, values + advantages)]


def update(learners: Learners, config, batch: list[torch.Tensor]) -> dict[str, float]:
    return ppo_update(learners.agent, learners.adam, learners.gradients, config, *batch)


def test_a_seats_rows_move_its_own_weights_only(tiny_config) -> None:
    """The same update twice from the same start, seat 1's advantages flipped the second
    time: seat 1's weights differ, every other seat's are the same bit for bit."""
    config = tiny_config(self_play=True, opponents=3, sharing="independent")
    results = []
    for flip in (1.0, -1.0):
        learners, envs = learners_of(config)
        assert learners.agent.body.torso[0].weight.shape[0] == 4  # stacked per seat
        batch = seat_batch(learners, envs)
        batch[4][1] *= flip
        before = stacked_weights(learners)
        update(learners, config, batch)
        results.append(stacked_weights(learners))
    for start, first, second in zip(before, *results):
        assert not torch.equal(start, first)
        assert not torch.equal(first[1], second[1])
        for seat in (0, 2, 3):
            assert torch.equal(first[seat], second[seat])


def test_the_stacked_update_is_k_networks_each_with_its_own_adam(tiny_config) -> None:
    config = tiny_config(self_play=True, opponents=3, sharing="independent", minibatches=1,
                         max_grad_norm=0.05)  # small: the clipping matters
    learners, envs = learners_of(config)
    seats = [learners.module.seat_agent(k) for k in range(4)]
    batch = seat_batch(learners, envs)
    update(learners, config, batch)
    for k, agent in enumerate(seats):
        adam = torch.optim.Adam(agent.parameters(), lr=config.lr, eps=1e-5, fused=True)
        ppo_update(agent, adam, FlatGradients(agent), config, *(rows[k] for rows in batch))
        for name, parameter in agent.named_parameters():
            torch.testing.assert_close(learners.agent.get_parameter(name)[k], parameter,
                                       rtol=0, atol=1e-6)


def test_each_seats_gradient_is_clipped_by_its_own_norm(tiny_config) -> None:
    """As ``clip_grad_norm_`` on each seat's network alone: a seat with a large gradient
    is scaled down, the others are left as they are."""
    learners, _ = learners_of(tiny_config(self_play=True, opponents=3, sharing="independent"))
    gradients = learners.gradients
    gradients.flat.normal_(generator=torch.Generator().manual_seed(0))
    gradients.flat.mul_(torch.where(gradients.seat_of_entry == 0, 100.0, 0.001))
    unclipped = [p.grad.clone() for p in learners.agent.parameters()]
    norms = gradients.clip_norm_(0.5)
    assert norms[0] > 0.5 > norms[1:].max()
    for seat in range(4):
        alone = [torch.nn.Parameter(torch.zeros_like(g[seat])) for g in unclipped]
        for parameter, g in zip(alone, unclipped):
            parameter.grad = g[seat].clone()
        torch.testing.assert_close(norms[seat], torch.nn.utils.clip_grad_norm_(alone, 0.5))
        for parameter, clipped in zip(alone, learners.agent.parameters()):
            torch.testing.assert_close(clipped.grad[seat], parameter.grad, rtol=1e-6, atol=0)
    assert all(torch.equal(p.grad[1:], g[1:])
               for p, g in zip(learners.agent.parameters(), unclipped))


def test_seats_trained_on_opposite_rewards_diverge(tiny_config) -> None:
    """Two seats start from the same weights and see the same rows; one is rewarded for
    working, the other for resting: their probabilities of working move apart."""
    config = tiny_config(self_play=True, opponents=3, sharing="independent", num_envs=2048,
                         batch_size=2048, minibatches=1, epochs=8, lr=3e-3)
    learners, envs = learners_of(config)
    with torch.no_grad():
        for parameter in learners.agent.parameters():
            parameter[1] = parameter[0]
    inputs, actions, _, values, _, _ = seat_batch(learners, envs)
    inputs[1], actions[1], values[1] = inputs[0], actions[0], values[0]
    worked = actions[..., 1] == 1
    fire = inputs[0, :, 1] == 0  # WORK's mask offset is 0: some house burns
    assert fire.sum() > 50

    def work_probabilities() -> torch.Tensor:
        with torch.no_grad():
            intent = learners.agent.evaluate(inputs).intent
        return intent[:2, fire, 1].exp().mean(-1)

    start = work_probabilities()
    assert torch.equal(start[0], start[1])
    sign = torch.tensor([1.0, -1.0, 1.0, 1.0])[:, None]
    for _ in range(3):  # PPO's clipping bounds each update's move: a few updates
        advantages = sign * (worked.float() * 2 - 1)
        with torch.no_grad():
            logprobs = learners.agent.act(inputs, actions)[1]
        update(learners, config, [inputs, actions, logprobs, values, advantages,
                                  values + advantages])
    moved = work_probabilities() - start
    assert moved[0] > 0.1 and moved[1] < -0.1


def test_an_independent_run_writes_every_seats_network(tiny_config) -> None:
    result = train(tiny_config(self_play=True, opponents=3, sharing="independent"))
    checkpoint = load_checkpoint(result.last_checkpoint)
    assert len(checkpoint["optimizer_state_dict"]["param_groups"]) == 4
    policy = load_policy(result.model_path)
    assert policy.seats is not None and len(policy.seats) == 4
    assert policy.network is policy.seats[0] and policy.seat_network(3) is policy.seats[3]
    first, last = policy.seats[0].state_dict(), policy.seats[3].state_dict()
    assert any(not torch.equal(first[key], last[key]) for key in first)
    with pytest.raises(UsageError, match="seats 0 to 3, not seat 4"):
        policy.seat_network(4)
    scores = policy.evaluate("greedy_neighbor", "random", games=20, seed=1)
    assert math.isfinite(scores.mean_score) and scores.games == 20
    # As --opponent-model, each opponent seat is played by its own seat's network.
    obs = make_vec_env(48, "greedy_neighbor", num_opponents=0, num_learners=4,
                       seed=0).reset()[0][np.arange(48) % 4 != 0]  # seats 1, 2, 3 in turn
    played = policy.play_seats([1, 2, 3])(obs)
    for k in range(3):
        np.testing.assert_array_equal(played[k::3], policy.seats[k + 1].play(obs[k::3]))
    result = train(tiny_config(opponent_model=str(result.model_path), opponent_policies=None,
                               run_name="against"))
    assert result.model_path.is_file()


def test_resuming_an_independent_run_restores_every_seats_optimizer(tiny_config,
                                                                    monkeypatch) -> None:
    config = tiny_config(self_play=True, opponents=3, sharing="independent",
                         critic="central", steps=256)
    first = train(config)
    checkpoint = load_checkpoint(first.last_checkpoint)
    saved = copy.deepcopy(checkpoint["optimizer_state_dict"])  # the resumed run's Adam
    # steps in place on the loaded tensors
    seen: list[dict] = []
    real_update = ppo.ppo_update

    def recording_update(agent, optimizer, *args, **kwargs):
        seen.append(copy.deepcopy(SeatAdam(optimizer, 4).state_dict()))
        return real_update(agent, optimizer, *args, **kwargs)

    monkeypatch.setattr(ppo, "ppo_update", recording_update)
    train(tiny_config(self_play=True, opponents=3, sharing="independent", critic="central",
                      steps=512), checkpoint)
    restored = seen[0]  # before the resumed run's first step
    assert restored["param_groups"] == saved["param_groups"]
    assert sorted(restored["state"]) == sorted(saved["state"])
    assert len(saved["param_groups"]) == 4 and saved["state"]
    for i, entry in saved["state"].items():
        assert float(entry["step"]) > 0
        for key in ("step", "exp_avg", "exp_avg_sq"):
            assert torch.equal(restored["state"][i][key], entry[key]), (i, key)
    _, networks, _ = restore_module(checkpoint["model_state_dict"], checkpoint["network"],
                                    config)
    assert len(networks) == 4


def test_the_optimizer_state_is_that_of_one_adam_per_seat(tiny_config) -> None:
    """The files' format: one Adam with a parameter group per seat (what K networks' Adams
    wrote), read into the stacked Adam and written back unchanged."""
    config = tiny_config(self_play=True, opponents=3, sharing="independent")
    learners, _ = learners_of(config)
    agents = [learners.module.seat_agent(k) for k in range(4)]
    per_seat = torch.optim.Adam([{"params": agent.parameters()} for agent in agents],
                                lr=config.lr, eps=1e-5, fused=True)
    for k, agent in enumerate(agents):
        for parameter in agent.parameters():
            parameter.grad = torch.full_like(parameter, k + 1.0)
    per_seat.step()
    state = per_seat.state_dict()
    learners.optimizer.load_state_dict(state)
    written = learners.optimizer.state_dict()
    assert written["param_groups"] == state["param_groups"]
    for i, entry in state["state"].items():
        for key, value in entry.items():
            assert torch.equal(written["state"][i][key], value), (i, key)
    state["state"][5]["step"] = state["state"][5]["step"] + 1
    with pytest.raises(ValueError, match="not taken the same steps"):
        learners.optimizer.load_state_dict(state)


@pytest.mark.parametrize(("sharing", "critic"), [("shared-id", "local"),
                                                 ("shared", "central")])
def test_seat_aware_and_central_runs_load_as_one_actor(tiny_config, sharing: str,
                                                       critic: str) -> None:
    result = train(tiny_config(self_play=True, opponents=3, sharing=sharing, critic=critic))
    policy = load_policy(result.model_path)
    assert policy.seats is None
    assert policy.network.seat_ids == (4 if sharing == "shared-id" else 0)
    assert policy.seat_network(2).seat == (2 if sharing == "shared-id" else 0)


def test_a_central_critics_weights_are_not_the_actors() -> None:
    state = {"actor.body.w": torch.zeros(1), "actor.mask_pointless": torch.tensor(True),
             "critic.net.0.weight": torch.zeros(1)}
    assert seat_actor_states(state) == [{"body.w": state["actor.body.w"],
                                         "mask_pointless": state["actor.mask_pointless"]}]
    per_seat = {f"seats.{k}.{key}": value for k in range(2) for key, value in state.items()}
    assert len(seat_actor_states(per_seat)) == 2
    with pytest.raises(ValueError, match=r"seats \[1\], not 0..K-1"):
        seat_actor_states({"seats.1.body.w": torch.zeros(1)})


def test_learners_play_their_own_slots(tiny_config) -> None:
    """Slot g * K + k is played, valued and scored by seat k's network."""
    config = tiny_config(learners=2, opponents=1, sharing="independent", num_envs=16)
    learners, envs = learners_of(config)
    inputs = learners.encode(envs.reset(seed=0)[0], envs)
    with torch.no_grad():
        actions, logprobs, values = learners.sample(inputs)
        for seat in range(2):
            agent = learners.module.seat_agent(seat)
            _, own_logprobs, _, own_values = agent.act(inputs[seat::2], actions[seat::2])
            torch.testing.assert_close(logprobs[seat::2], own_logprobs)
            torch.testing.assert_close(values[seat::2], own_values)
            torch.testing.assert_close(learners.value(inputs)[seat::2], own_values)
            rows = learners.rows(inputs[None])
            assert torch.equal(rows[seat], inputs[seat::2])
    assert isinstance(learners.seat_network(1), PolicyNetwork)
    central, _ = learners_of(tiny_config(learners=2, opponents=1, critic="central"))
    assert isinstance(central.agent, CentralCriticPolicy)
    assert central.seat_network(1) is central.agent.actor


@pytest.mark.parametrize(("options", "message"), [
    (["--sharing", "private"], "invalid choice: 'private'"),
    (["--critic", "global"], "invalid choice: 'global'"),
    (["--sharing", "independent"], "--sharing independent needs several learning seats"),
    (["--self-play", "--sharing", "independent", "--league", "0.25"],
     "does not combine with --sharing independent"),
    (["--self-play", "--critic", "central", "--league", "0.25"],
     "does not combine with --sharing shared or --critic central"),
    (["--self-play", "--sharing", "independent", "--num-envs", "16", "--batch-size", "64",
      "--minibatches", "32"], "does not give each of the 4 independent learners a batch"),
])
def test_bad_sharing_settings_are_refused(tmp_path, capsys, options: list[str],
                                          message: str) -> None:
    try:  # argparse's refusals exit from inside main, the command's own are returned
        code = main(["train", "--scenario", "greedy_neighbor", "--out-dir", str(tmp_path),
                     "--steps", "64", "--cpu", *options])
    except SystemExit as exit_info:
        code = exit_info.code
    assert code == 2
    assert message in capsys.readouterr().err
    assert not any(tmp_path.iterdir())
