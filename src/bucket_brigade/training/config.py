"""A training run's settings (:class:`TrainConfig`) and the checks that refuse bad ones.

The config is what ``runs/{run}/config.json`` and every checkpoint record; the scenario
it names is resolved into a :class:`~bucket_brigade.game.scenarios.Scenario` once, here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from functools import cached_property
from typing import Any

from bucket_brigade.agents.strategies import opponent_seats
from bucket_brigade.errors import UsageError
from bucket_brigade.game.scenarios import Scenario, get_scenario
from bucket_brigade.training.models import load_policy
from bucket_brigade.training.network import DEFAULT_HIDDEN_SIZE, DEFAULT_POLICY, POLICIES

# Seed of the games that judge a finished run (train --eval-games, sweeps).
DEFAULT_EVAL_SEED = 20_240_601


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a run; saved as runs/{run}/config.json and in checkpoints."""

    steps: int = 10_000_000
    scenario: str = "trivial_cooperation"
    opponents: int = 3
    opponent_policies: str | None = None  # None: the default opponents of agents.strategies
    opponent_model: str | None = None  # a trained policy file that plays the opponent seats
    cheap_talk: bool = False
    run_name: str = "run"
    out_dir: str = "experiments/marl"
    seed: int = 1
    batch_size: int = 2048
    num_envs: int = 1024
    epochs: int = 4
    minibatches: int = 1
    lr: float = 3e-4
    anneal_lr: bool = True
    gamma: float = 0.9
    gae_lambda: float = 0.8
    clip_coef: float = 0.2
    clip_vloss: bool = True
    ent_coef: float = 0.03
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5
    hidden_size: int = DEFAULT_HIDDEN_SIZE
    policy: str = DEFAULT_POLICY  # the network's body: training.network.POLICIES
    action_mask: bool = True  # no probability on pointless actions (training.network)
    checkpoint_interval: int = 100_000
    eval_interval: int = 10_000
    cpu: bool = False
    self_play: bool = False  # every seat learns: opponents + 1 learners, none scripted
    learners: int = 1  # learning seats 0..K-1, one shared policy; `opponents` are scripted
    league: float = 0.0  # fraction of agent-slots in games against frozen snapshots

    @property
    def num_learners(self) -> int:
        return self.opponents + 1 if self.self_play else self.learners

    @property
    def num_scripted(self) -> int:
        return 0 if self.self_play else self.opponents

    @property
    def num_agents(self) -> int:
        return self.num_learners + self.num_scripted

    @property
    def league_slots(self) -> int:
        """Agent-slots (one learner each) in games against a frozen snapshot."""
        return round(self.league * self.num_envs)

    @property
    def num_steps(self) -> int:
        """Nights collected from each game per update."""
        return self.batch_size // self.num_envs

    @property
    def minibatch_size(self) -> int:
        return self.batch_size // self.minibatches

    @cached_property
    def resolved_scenario(self) -> Scenario:
        """The scenario object ``scenario`` names, read once per config (a file is parsed
        here and nowhere else); everything below the command line takes this object."""
        return get_scenario(self.scenario)

    @property
    def evaluation_seating(self) -> tuple[str | None, int]:
        """How a run's policy is judged in seat 0: (opponent strategies, number of other
        seats). Every other seat is scripted then, learners' seats included."""
        return self.opponent_policies, self.num_agents - 1

    def validate(self) -> Scenario:
        """Refuse settings that cannot run, with a message that names the value; returns
        the resolved scenario."""
        # Scripted opponents are optional when other seats learn.
        least = {"opponents": 0 if self.learners > 1 else 1}
        for name in ("steps", "opponents", "batch_size", "num_envs", "epochs", "minibatches",
                     "hidden_size", "checkpoint_interval", "eval_interval", "learners"):
            value = getattr(self, name)
            low = least.get(name, 1)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise UsageError(f"--{name.replace('_', '-')} {value!r} must be a "
                                 f"{'positive' if low else 'non-negative'} integer")
        for name in ("lr", "clip_coef", "max_grad_norm"):
            if not getattr(self, name) > 0:
                raise UsageError(f"--{name.replace('_', '-')} {getattr(self, name)!r} must be > 0")
        for name in ("gamma", "gae_lambda"):
            if not 0 <= getattr(self, name) <= 1:
                raise UsageError(f"--{name.replace('_', '-')} {getattr(self, name)!r} must be "
                                 "in [0, 1]")
        for name in ("ent_coef", "vf_coef"):
            if not getattr(self, name) >= 0:
                raise UsageError(f"--{name.replace('_', '-')} {getattr(self, name)!r} must be "
                                 ">= 0")
        if self.policy not in POLICIES:
            raise UsageError(f"--policy {self.policy!r} is not one of {', '.join(POLICIES)}")
        if self.batch_size % self.num_envs:
            raise UsageError(f"--batch-size {self.batch_size} is not a multiple of --num-envs "
                             f"{self.num_envs} (the batch is num_envs x steps per game)")
        if self.batch_size % self.minibatches:
            raise UsageError(f"--batch-size {self.batch_size} does not split into --minibatches "
                             f"{self.minibatches} equal minibatches")
        if not self.run_name or any(c in self.run_name for c in "/\\") \
                or self.run_name in (".", ".."):
            raise UsageError(f"--run-name {self.run_name!r} must be a plain folder name")
        if self.self_play and self.learners != 1:
            raise UsageError(f"--self-play already makes all --opponents + 1 seats learn; it "
                             f"does not combine with --learners {self.learners}")
        if not 0 <= self.league < 1:
            raise UsageError(f"--league {self.league!r} must be in [0, 1): the fraction of "
                             "agent-slots in games against frozen snapshots")
        if self.league and not self.league_slots:
            raise UsageError(f"--league {self.league!r} gives no slot of --num-envs "
                             f"{self.num_envs}")
        main_slots = self.num_envs - self.league_slots
        if main_slots < self.num_learners or main_slots % self.num_learners:
            raise UsageError(f"--num-envs {self.num_envs} (less {self.league_slots} league "
                             f"slots) is not a multiple of the {self.num_learners} learners "
                             "per game (slots = games x learners)")
        scenario = self.resolved_scenario
        scenario.check_num_agents(self.num_agents)
        if self.opponent_model is not None:
            if self.opponent_policies is not None:
                raise UsageError(f"--opponent-model {self.opponent_model!r} and "
                                 f"--opponent-policies {self.opponent_policies!r} both name "
                                 "the opponents; give one")
            if not self.num_scripted:
                raise UsageError(f"--opponent-model {self.opponent_model!r} plays the "
                                 "opponent seats, but every seat learns here")
            load_policy(self.opponent_model).check_fits(scenario, self.num_agents)
        elif self.num_scripted:
            opponent_seats(self.num_scripted, self.opponent_policies, scenario.name)
        return scenario

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})
