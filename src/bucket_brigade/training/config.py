"""A training run's settings (:class:`TrainConfig`) and the checks that refuse bad ones.

The config is what ``runs/{run}/config.json`` and every checkpoint record; the scenario
it names is resolved into a :class:`~bucket_brigade.game.scenarios.Scenario` once, here.
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, fields
from functools import cached_property
from typing import Any

from bucket_brigade.agents.strategies import names_models_or_mix, opponent_seats
from bucket_brigade.errors import UsageError
from bucket_brigade.game.scenarios import Scenario, get_scenario
from bucket_brigade.names import check_path_name
from bucket_brigade.training.choices import (
    CRITICS,
    DEFAULT_HIDDEN_SIZE,
    DEFAULT_POLICY,
    MAX_HIDDEN_SIZE,
    MAX_SEATS,
    POLICIES,
    SHARING_MODES,
)

# Limits of the counts (inclusive): far above any useful run, low enough that a typo such
# as --num-envs 1e8 is refused at once instead of exhausting memory part-way.
COUNT_LIMITS = {
    "steps": 10**12, "opponents": 1000, "batch_size": 2**24, "num_envs": 2**20, "epochs": 1000,
    "minibatches": 2**24, "hidden_size": MAX_HIDDEN_SIZE, "checkpoint_interval": 10**12,
    "eval_interval": 10**12, "learners": MAX_SEATS, "seed": 2**32 - 1, "threads": 1024,
    "learner_seat": MAX_SEATS - 1,
}
# Ranges of the real-valued settings: (low, high, low excluded); NaN and infinity never fit.
FLOAT_RANGES = {
    "lr": (0.0, 1.0, True), "clip_coef": (0.0, 10.0, True), "max_grad_norm": (0.0, 1e6, True),
    "gamma": (0.0, 1.0, False), "gae_lambda": (0.0, 1.0, False),
    "ent_coef": (0.0, 10.0, False), "vf_coef": (0.0, 10.0, False),
    "work_bias": (-10.0, 10.0, False),
}

# Settings that are true or false, and settings that are text (None: not given); a config
# read from a file may hold anything, and "no" must not pass as true.
FLAGS = ("cheap_talk", "anneal_lr", "anneal_ent", "clip_vloss", "action_mask", "cpu",
         "self_play")
TEXTS = {"scenario": False, "opponent_policies": True, "opponent_model": True,
         "run_name": False, "out_dir": False, "policy": False, "sharing": False,
         "critic": False}

SWEEP_TRIAL_THREADS = 1  # a sweep runs one trial per core: more trials beat more threads

# What each kind of TrainConfig field (its annotation) holds: (check, name of the kind).
_KINDS: dict[str, tuple[Any, str]] = {
    "int": (lambda v: isinstance(v, int) and not isinstance(v, bool), "an integer"),
    "int | None": (lambda v: v is None or (isinstance(v, int) and not isinstance(v, bool)),
                   "an integer or none"),
    "float": (lambda v: isinstance(v, int | float) and not isinstance(v, bool), "a number"),
    "bool": (lambda v: isinstance(v, bool), "true or false"),
    "str": (lambda v: isinstance(v, str), "text"),
    "str | None": (lambda v: v is None or isinstance(v, str), "text or none"),
}
LEAGUE_SIZE = 5  # snapshots (from the latest checkpoints) that league games draw from

# Seed of the games that judge a finished run (train --eval-games, sweeps).
DEFAULT_EVAL_SEED = 20_240_601


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a run; saved as runs/{run}/config.json and in checkpoints."""

    steps: int = 10_000_000
    scenario: str = "trivial_cooperation"
    opponents: int = 3
    # None: the default opponents of agents.strategies; model files and mix:... are drawn
    # outside the kernel (training.opponents)
    opponent_policies: str | None = None
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
    anneal_ent: bool = False  # decay ent_coef linearly to 0 at `steps`, as anneal_lr the rate
    gamma: float = 0.9
    gae_lambda: float = 0.8
    clip_coef: float = 0.2
    clip_vloss: bool = True
    ent_coef: float = 0.03
    work_bias: float = 0.0  # added to the WORK intent's initial logit (training.exploration)
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5
    hidden_size: int = DEFAULT_HIDDEN_SIZE
    policy: str = DEFAULT_POLICY  # the network's body: one of POLICIES
    action_mask: bool = True  # no probability on pointless actions (training.network)
    action_mask_steps: int | None = None  # the mask for the first N steps only; None: all
    checkpoint_interval: int = 100_000
    eval_interval: int = 10_000
    cpu: bool = False
    threads: int = 1  # CPU threads of PyTorch and the engine; 0: every core this process may use
    self_play: bool = False  # every seat learns: opponents + 1 learners, none scripted
    learners: int = 1  # learning seats 0..K-1, one shared policy; `opponents` are scripted
    learner_seat: int = 0  # the seat of a lone learner; the opponents fill the others in order
    league: float = 0.0  # fraction of agent-slots in games against frozen snapshots
    sharing: str = "shared"  # the learning seats' parameters: one of SHARING_MODES
    critic: str = "local"  # the value function's input: one of CRITICS

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
    def opponent_agents(self) -> list[int]:
        """The seats that do not learn, in order."""
        learning = range(self.learner_seat, self.learner_seat + self.num_learners)
        return [seat for seat in range(self.num_agents) if seat not in learning]

    @property
    def league_slots(self) -> int:
        """Agent-slots (one learner each) in games against a frozen snapshot."""
        return round(self.league * self.num_envs)

    @property
    def num_steps(self) -> int:
        """Nights collected from each game per update."""
        return self.batch_size // self.num_envs

    @property
    def cpu_threads(self) -> int:
        """``threads``, with 0 read as the cores this process may run on."""
        if self.threads:
            return self.threads
        try:
            return len(os.sched_getaffinity(0))
        except AttributeError:  # not on Linux
            return os.cpu_count() or 1

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

    def judged_against_scripted(self) -> bool:
        """Whether a finished run can be judged as train --eval-games and sweeps judge it: in
        seat 0 against its scripted opponents (not models, a mix or another learner seat)."""
        return (self.opponent_model is None and not self.learner_seat
                and not names_models_or_mix(self.opponent_policies))

    def kind_problem(self) -> str | None:
        """The first setting whose value is not of its kind (a number where text goes, a
        tensor from a damaged checkpoint, ...) as "NAME is of type TYPE, not KIND", or None."""
        for field in fields(self):
            value = getattr(self, field.name)
            holds, kind = _KINDS[str(field.type)]
            if not holds(value):
                return f"{field.name} is of type {type(value).__name__}, not {kind}"
        return None

    def validate(self) -> Scenario:
        """Refuse settings that cannot run, with a message that names the value; returns
        the resolved scenario."""
        for name in FLAGS:
            if not isinstance(getattr(self, name), bool):
                raise UsageError(f"--{name.replace('_', '-')} {getattr(self, name)!r} must be "
                                 "true or false")
        for name, optional in TEXTS.items():
            value = getattr(self, name)
            if not ((isinstance(value, str) and value) or (optional and value is None)):
                raise UsageError(f"--{name.replace('_', '-')} {value!r} must be a non-empty "
                                 "text")
        # Scripted opponents are optional when other seats learn.
        several = isinstance(self.learners, int) and self.learners > 1
        least = {"opponents": 0 if several else 1, "seed": 0, "threads": 0, "learner_seat": 0}
        for name, most in COUNT_LIMITS.items():
            value = getattr(self, name)
            low = least.get(name, 1)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= most:
                raise UsageError(f"--{name.replace('_', '-')} {value!r} must be an integer "
                                 f"from {low} to {most:,}")
        for name, (low, high, low_open) in FLOAT_RANGES.items():
            value = getattr(self, name)
            inside = isinstance(value, int | float) and not isinstance(value, bool) \
                and math.isfinite(value) and (low < value if low_open else low <= value) \
                and value <= high
            if not inside:
                raise UsageError(f"--{name.replace('_', '-')} {value!r} must be a number in "
                                 f"{'(' if low_open else '['}{low:g}, {high:g}]")
        if self.action_mask_steps is not None:
            self._check_action_mask_steps()
        if self.policy not in POLICIES:
            raise UsageError(f"--policy {self.policy!r} is not one of {', '.join(POLICIES)}")
        if self.sharing not in SHARING_MODES:
            raise UsageError(f"--sharing {self.sharing!r} is not one of "
                             f"{', '.join(SHARING_MODES)}")
        if self.critic not in CRITICS:
            raise UsageError(f"--critic {self.critic!r} is not one of {', '.join(CRITICS)}")
        if self.batch_size % self.num_envs:
            raise UsageError(f"--batch-size {self.batch_size} is not a multiple of --num-envs "
                             f"{self.num_envs} (the batch is num_envs x steps per game)")
        if self.batch_size % self.minibatches:
            raise UsageError(f"--batch-size {self.batch_size} does not split into --minibatches "
                             f"{self.minibatches} equal minibatches")
        check_path_name("--run-name", self.run_name)
        if self.self_play and self.learners != 1:
            raise UsageError(f"--self-play already makes all --opponents + 1 seats learn; it "
                             f"does not combine with --learners {self.learners}")
        if not (isinstance(self.league, int | float) and 0 <= self.league < 1):
            raise UsageError(f"--league {self.league!r} must be in [0, 1): the fraction of "
                             "agent-slots in games against frozen snapshots")
        if self.sharing != "shared" and self.num_learners == 1:
            raise UsageError(f"--sharing {self.sharing} needs several learning seats "
                             "(--self-play or --learners K); with one, use shared")
        if self.league and (self.sharing != "shared" or self.critic != "local"):
            raise UsageError(f"--league {self.league!r} plays snapshots of one shared policy; "
                             f"it does not combine with --sharing {self.sharing} or --critic "
                             f"{self.critic}")
        if self.league and not self.league_slots:
            raise UsageError(f"--league {self.league!r} gives no slot of --num-envs "
                             f"{self.num_envs}")
        main_slots = self.num_envs - self.league_slots
        if main_slots < self.num_learners or main_slots % self.num_learners:
            raise UsageError(f"--num-envs {self.num_envs} (less {self.league_slots} league "
                             f"slots) is not a multiple of the {self.num_learners} learners "
                             "per game (slots = games x learners)")
        per_learner = self.batch_size // self.num_learners
        if self.sharing == "independent" and (self.batch_size % self.num_learners
                                              or per_learner % self.minibatches):
            raise UsageError(f"--batch-size {self.batch_size} does not give each of the "
                             f"{self.num_learners} independent learners a batch that splits "
                             f"into --minibatches {self.minibatches}")
        scenario = self.resolved_scenario
        scenario.check_num_agents(self.num_agents)
        if self.learner_seat and (self.num_learners > 1 or self.learner_seat >= self.num_agents):
            raise UsageError(f"--learner-seat {self.learner_seat} must be a seat of the game's "
                             f"{self.num_agents} (0..{self.num_agents - 1}) and the only "
                             "learner's (several learners sit in seats 0..K-1)")
        if self.opponent_model is not None:
            if self.opponent_policies is not None:
                raise UsageError(f"--opponent-model {self.opponent_model!r} and "
                                 f"--opponent-policies {self.opponent_policies!r} both name "
                                 "the opponents; give one")
            if not self.num_scripted:
                raise UsageError(f"--opponent-model {self.opponent_model!r} plays the "
                                 "opponent seats, but every seat learns here")
            from bucket_brigade.training.models import load_policy  # loads torch

            model = load_policy(self.opponent_model)
            model.check_fits(scenario, self.num_agents)
            model.play_seats(self.opponent_agents)  # has those seats
        elif self.num_scripted and names_models_or_mix(self.opponent_policies):
            from bucket_brigade.training.opponents import opponent_populations  # loads torch

            opponent_populations(self.opponent_policies, self.num_scripted, scenario,
                                 self.num_agents)
        elif self.num_scripted:
            opponent_seats(self.num_scripted, self.opponent_policies, scenario.name,
                           planners=False)
        return scenario

    def _check_action_mask_steps(self) -> None:
        value = self.action_mask_steps
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value < self.steps:
            raise UsageError(f"--action-mask-steps {value!r} must be an integer from 1 to "
                             f"{self.steps - 1:,} (below --steps: the mask is removed there)")
        if not self.action_mask:
            raise UsageError(f"--action-mask-steps {value} removes the action mask part-way; "
                             "it needs --action-mask, not --no-action-mask")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})
