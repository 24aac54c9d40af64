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
from bucket_brigade.training.models import load_policy, seat_actor_states
from bucket_brigade.training.network import PolicyNetwork
from bucket_brigade.training.ppo import ppo_update
from bucket_brigade.training.seating import make_training_env
from bucket_brigade.training.sharing import Learners, restore_module


def learners_of(config) -> tuple[Learners, object]:
    envs = make_training_env(config, config.seed)
    return Learners(envs, config, torch.device("cpu")), envs


def weights(module: torch.nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in module.parameters()]


def seat_batch(learners: Learners, envs, advantage: float = 1.0) -> tuple[torch.Tensor, ...]:
    """A batch of seat 0's slots with the actions its policy drew and a given advantage."""
    obs, _ = envs.reset(seed=0)
    inputs = learners.encode(obs, envs)[learners.learners[0].slots].contiguous()
    agent = learners.learners[0].agent
    with torch.no_grad():
        actions, logprobs, values = agent.sample(inputs)
    advantages = torch.full_like(values, advantage) + torch.linspace(0, 0.1, len(values))
    return inputs, actions, logprobs, values, advantages, values + advantages


def test_a_seats_gradient_step_leaves_the_other_seats_weights_alone(tiny_config) -> None:
    config = tiny_config(self_play=True, opponents=3, sharing="independent")
    learners, envs = learners_of(config)
    assert len(learners.learners) == 4
    before = [weights(learner.agent) for learner in learners.learners]
    first = learners.learners[0]
    ppo_update(first.agent, first.optimizer, first.gradients, config,
               *seat_batch(learners, envs))
    after = [weights(learner.agent) for learner in learners.learners]
    assert any(not torch.equal(b, a) for b, a in zip(before[0], after[0]))
    for seat in (1, 2, 3):
        assert all(torch.equal(b, a) for b, a in zip(before[seat], after[seat]))


def test_seats_trained_on_opposite_rewards_diverge(tiny_config) -> None:
    """Two seats start from the same weights and see the same rows; one is rewarded for
    working, the other for resting: their probabilities of working move apart."""
    config = tiny_config(self_play=True, opponents=3, sharing="independent", num_envs=512,
                         batch_size=512, minibatches=1, epochs=8, lr=3e-3)
    learners, envs = learners_of(config)
    seat0, seat1 = learners.learners[:2]
    seat1.agent.load_state_dict(seat0.agent.state_dict())
    inputs, actions, _, values, _, _ = seat_batch(learners, envs)
    worked = actions[:, 1] == 1
    fire = inputs[:, 1] == 0  # WORK's mask offset is 0: some house burns
    assert fire.sum() > 50

    def work_probability(agent) -> float:
        with torch.no_grad():
            return float(agent.evaluate(inputs).intent[fire, 1].exp().mean())

    start = work_probability(seat0.agent)
    for _ in range(3):  # PPO's clipping bounds each update's move: a few updates
        for learner, sign in ((seat0, 1.0), (seat1, -1.0)):
            advantages = sign * (worked.float() * 2 - 1)
            with torch.no_grad():
                logprobs = learner.agent.act(inputs, actions)[1]
            ppo_update(learner.agent, learner.optimizer, learner.gradients, config, inputs,
                       actions, logprobs, values, advantages, values + advantages)
    assert work_probability(seat0.agent) > start + 0.1
    assert work_probability(seat1.agent) < start - 0.1


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
        seen.append(copy.deepcopy(optimizer.state_dict()))
        return real_update(agent, optimizer, *args, **kwargs)

    monkeypatch.setattr(ppo, "ppo_update", recording_update)
    train(tiny_config(self_play=True, opponents=3, sharing="independent", critic="central",
                      steps=512), checkpoint)
    assert len(seen) >= 4
    for seat, (group, state) in enumerate(zip(saved["param_groups"], seen[:4])):
        restored = state["state"]
        assert len(restored) == len(group["params"]) > 0
        for j, i in enumerate(group["params"]):
            assert torch.equal(restored[j]["step"], saved["state"][i]["step"]), seat
            assert torch.equal(restored[j]["exp_avg"], saved["state"][i]["exp_avg"]), seat
    _, networks, _ = restore_module(checkpoint["model_state_dict"], checkpoint["network"],
                                    config)
    assert len(networks) == 4


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
    config = tiny_config(learners=2, opponents=1, sharing="independent", num_envs=16)
    learners, _ = learners_of(config)
    assert [learner.slots for learner in learners.learners] == [slice(0, None, 2),
                                                                 slice(1, None, 2)]
    assert isinstance(learners.seat_network(1), PolicyNetwork)
    central, _ = learners_of(tiny_config(learners=2, opponents=1, critic="central"))
    assert isinstance(central.learners[0].agent, CentralCriticPolicy)
    assert central.seat_network(1) is central.learners[0].agent.actor


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
