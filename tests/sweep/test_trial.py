"""One trial end to end for every seating a sweep can ask for: the final model is judged
in the same game (scenario and number of seats) that it was trained in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bucket_brigade.analysis.seeds import read_run
from bucket_brigade.evaluation import evaluate
from bucket_brigade.sweep.trial import OK, load_result, run_trial
from bucket_brigade.training.models import load_policy

from .helpers import plan_for


@pytest.mark.parametrize(("seating", "agents"), [
    ("learners = 2\nopponents = 2", 4),
    ("self_play = true\nopponents = 3", 4),
])
def test_a_trial_with_several_learners_trains_and_is_evaluated(
        seating: str, agents: int, sweep_file: Any, tiny_training: str) -> None:
    path = sweep_file("[sweep]\nsteps = 512\neval_games = 12\n" + tiny_training + seating
                      + '\nscenario = "greedy_neighbor"\n')
    spec = plan_for(path).trials[0]
    result = run_trial(spec)
    assert result["status"] == OK, result.get("error")
    assert load_result(spec) == result and result["steps"] == 512
    # Seat 0 of a game with every other seat scripted, as many seats as in training.
    policy = load_policy(Path(result["model"]))
    assert policy.obs_dim == spec.train_config().resolved_scenario.obs_dim(agents)
    expected = evaluate(policy.network, "greedy_neighbor", None, agents - 1, games=12,
                        seed=spec.eval_seed)
    assert result["mean_score"] == pytest.approx(expected.mean_score)


def test_compare_writes_the_learning_check_that_seeds_reads(sweep_file: Any,
                                                             tiny_training: str) -> None:
    body = "\n" + tiny_training + '\nscenario = "greedy_neighbor"\nopponent_policies = "random"\n'
    plain = plan_for(sweep_file("[sweep]\nsteps = 256\neval_games = 12\n" + body)).trials[0]
    path = sweep_file("[sweep]\nsteps = 256\neval_games = 12\ncompare = true\n" + body)
    spec = plan_for(path).trials[0]
    assert spec.compare and spec.name != plain.name  # its own trial, not the plain one's
    result = run_trial(spec)
    assert result["status"] == OK, result.get("error")
    check = read_run(Path(spec.sweep_dir) / "runs" / spec.name)
    assert check.seed == spec.seed and {"hero", "random"} <= check.differences.keys()
    # the learner's row of the comparison is the trial's own score
    expected = evaluate(load_policy(Path(result["model"])).network, "greedy_neighbor",
                        "random", 3, games=12, seed=spec.eval_seed)
    assert result["mean_score"] == pytest.approx(expected.mean_score)
