"""Sweep files: how a grid and random search expand into trials, and every way a file can be
wrong gives one line that names the bad key or value."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from bucket_brigade.cli import main
from bucket_brigade.errors import UsageError
from bucket_brigade.game.scenarios import SCENARIOS
from bucket_brigade.sweep.config import build_plan, load_sweep
from bucket_brigade.training.choices import SHARING_MODES


def plan_of(data: dict, out: Path) -> object:
    return build_plan(data, default_name="t", out=str(out))


def test_grid_is_the_product_of_its_lists(tmp_path: Path) -> None:
    plan = plan_of({"sweep": {"steps": 1024},
                    "fixed": {"batch_size": 256, "num_envs": 32},
                    "grid": {"scenario": ["easy", "hard"], "seed": [1, 2, 3],
                             "lr": [1e-3, 3e-4]}}, tmp_path)
    assert len(plan.trials) == 12 and plan.swept == ("scenario", "seed", "lr")
    assert {(t.scenario, t.seed, t.params["lr"]) for t in plan.trials} == {
        (s, seed, lr) for s in ("easy", "hard") for seed in (1, 2, 3) for lr in (1e-3, 3e-4)}
    first = plan.trials[0]
    assert first.config["steps"] == 1024 and first.config["batch_size"] == 256
    assert first.config["run_name"] == first.name and first.name.startswith("easy_seed1_")
    assert Path(first.config["out_dir"]) == plan.sweep_dir == (tmp_path / "t").resolve()
    assert len({t.name for t in plan.trials}) == 12


def test_trial_names_depend_on_the_settings_not_on_the_rest_of_the_grid(tmp_path: Path) -> None:
    small = plan_of({"grid": {"scenario": ["easy"], "seed": [1]}}, tmp_path)
    large = plan_of({"grid": {"scenario": ["hard", "easy"], "seed": [1, 2]}}, tmp_path)
    assert small.trials[0].name in {t.name for t in large.trials}
    other_eval = plan_of({"sweep": {"eval_games": 10}, "grid": {"scenario": ["easy"]}},
                         tmp_path)
    assert other_eval.trials[0].name != small.trials[0].name


def test_a_setting_added_later_keeps_earlier_trials_names_at_its_default(
        tmp_path: Path) -> None:
    """greedy_neighbor_seed1_0ac61b7c is this trial's name from before --learner-seat,
    --anneal-ent, --work-bias and --action-mask-steps existed; setting them to their
    defaults keeps the name (another seat is refused: see BAD_FILES)."""
    data = {"sweep": {"steps": 1000}, "fixed": {"scenario": "greedy_neighbor"},
            "grid": {"lr": [0.0003], "seed": [1]}}
    assert plan_of(data, tmp_path).trials[0].name == "greedy_neighbor_seed1_0ac61b7c"
    data["fixed"]["learner_seat"] = 0
    assert plan_of(data, tmp_path).trials[0].name == "greedy_neighbor_seed1_0ac61b7c"
    data["fixed"].update(anneal_ent=False, work_bias=0.0)
    assert plan_of(data, tmp_path).trials[0].name == "greedy_neighbor_seed1_0ac61b7c"
    data["fixed"]["work_bias"] = 2.0
    assert plan_of(data, tmp_path).trials[0].name != "greedy_neighbor_seed1_0ac61b7c"


def test_random_draws_are_in_range_reproducible_and_shared_by_the_grid(tmp_path: Path) -> None:
    data = {"grid": {"scenario": ["easy", "hard"], "seed": [1, 2]},
            "random": {"samples": 5, "lr": {"low": 1e-5, "high": 1e-2, "log": True},
                       "clip_coef": {"low": 0.1, "high": 0.3},
                       "minibatches": {"choices": [1, 2, 4]},
                       "epochs": {"low": 1, "high": 8}}}
    plan = plan_of(data, tmp_path)
    assert len(plan.trials) == 4 * 5
    assert [t.name for t in plan.trials] == [t.name for t in plan_of(data, tmp_path).trials]
    for t in plan.trials:
        assert 1e-5 <= t.params["lr"] <= 1e-2 and 0.1 <= t.params["clip_coef"] <= 0.3
        assert t.params["minibatches"] in (1, 2, 4)
        assert isinstance(t.params["epochs"], int) and 1 <= t.params["epochs"] <= 8
    draws = lambda s, seed: [  # noqa: E731
        {k: v for k, v in t.params.items() if k not in ("scenario", "seed")}
        for t in plan.trials if t.scenario == s and t.seed == seed]
    assert draws("easy", 1) == draws("hard", 2)  # the same K configurations everywhere
    assert len({str(d) for d in draws("easy", 1)}) == 5
    reseeded = plan_of({**data, "sweep": {"sample_seed": 7}}, tmp_path)
    assert {t.name for t in reseeded.trials}.isdisjoint(t.name for t in plan.trials)


def test_log_uniform_draws_cover_the_decades(tmp_path: Path) -> None:
    plan = plan_of({"random": {"samples": 400, "lr": {"low": 1e-6, "high": 1e-2,
                                                      "log": True}}}, tmp_path)
    logs = [math.log10(t.params["lr"]) for t in plan.trials]
    # Uniform on [-6, -2]: each decade holds 100 of 400 draws on average (sd 8.7).
    for decade in range(-6, -2):
        count = sum(decade <= x < decade + 1 for x in logs)
        assert abs(count - 100) < 4.5 * math.sqrt(400 * 0.25 * 0.75)


def test_repeated_random_draws_are_dropped(tmp_path: Path) -> None:
    plan = plan_of({"random": {"samples": 6, "minibatches": {"choices": [2, 4]}}}, tmp_path)
    assert len(plan.trials) == 2 and plan.duplicates == 4


def test_integers_are_fine_floats_and_out_replaces_the_file_setting(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text('[sweep]\nout = "elsewhere"\n[grid]\nent_coef = [0, 0.01]\n')
    plan = load_sweep(path, out=str(tmp_path / "here"))
    assert [t.params["ent_coef"] for t in plan.trials] == [0.0, 0.01]
    assert plan.name == "mine" and plan.sweep_dir == (tmp_path / "here" / "mine").resolve()


BAD_FILES = [
    ("[sweeps]\nname = 'x'\n", "unknown table [sweeps]; valid tables: [sweep], [fixed]"),
    ("[sweep]\nworkers = 4\n", "[sweep] unknown key 'workers'; valid keys: name, out"),
    ("[sweep]\nname = 'a/b'\n", "[sweep] name 'a/b' is not a valid name: 1 to 100 characters"),
    ("[fixed]\nscenario = \"ev\\u001bil.toml\"\n", "trial name 'ev\\x1bil_seed1_"),
    ("[sweep]\nsteps = 0\n", "[sweep] steps = 0 must be an integer >= 1"),
    ("[sweep]\neval_games = 1.5\n", "[sweep] eval_games = 1.5 must be an integer >= 1"),
    ("[sweep]\ncompare = 'yes'\n", "[sweep] compare = 'yes' must be true or false"),
    ("[sweep]\ngpus_per_trial = -1\n", "[sweep] gpus_per_trial = -1 must be a number >= 0"),
    ("[grid]\nlearning_rate = [0.1]\n",
     "[grid] unknown TrainConfig field 'learning_rate'; valid fields: steps, scenario"),
    ("[fixed]\nrun_name = 'x'\n", "[fixed] run_name cannot be set: the sweep names every trial"),
    ("[fixed]\nout_dir = 'x'\n", "[fixed] out_dir cannot be set: set [sweep] out or --out"),
    ("[grid]\nlr = 0.1\n", "[grid] lr = 0.1 must be a non-empty list of values"),
    ("[grid]\nseed = []\n", "[grid] seed = [] must be a non-empty list"),
    ("[grid]\nseed = [1, 1]\n", "[grid] seed lists 1 twice"),
    ("[grid]\nseed = [1, 'two']\n", "[grid] seed = 'two' must be an integer"),
    ("[grid]\nseed = [true]\n", "[grid] seed = True must be an integer"),
    ("[fixed]\ncpu = 1\n", "[fixed] cpu = 1 must be true or false"),
    ("[fixed]\nlr = '3e-4'\n", "[fixed] lr = '3e-4' must be a number"),
    ("[grid]\nlr = [1e-3, inf]\n", "[grid] lr = inf must be a finite number"),
    ("[fixed]\nlr = 0.1\n[grid]\nlr = [0.2]\n", "lr is set in both [fixed] and [grid]"),
    ("[sweep]\nsteps = 10\n[fixed]\nsteps = 20\n", "steps is set in both [sweep] and [fixed]"),
    ("[grid]\nscenario = ['easy', 'nowhere']\n",
     "trial scenario='nowhere': unknown scenario 'nowhere'; valid names: default, easy"),
    ("[grid]\nopponent_policies = ['firefighter', 'arsonist']\n",
     "unknown strategy 'arsonist'; valid names: "),
    ("[grid]\nbatch_size = [100]\n", "--batch-size 100 is not a multiple of --num-envs"),
    ("[grid]\nlearner_seat = [0, 2]\n", "trial learner_seat=2: a sweep judges each trial in "
     "seat 0 against scripted opponents"),
    ("[fixed]\nopponent_policies = 'mix:hero=1,random=2'\n",
     "trial every trial: a sweep judges each trial in seat 0"),
    ("[random]\nsamples = 3\n", "[random] samples = 3 needs at least one field to sample"),
    ("[random]\nsamples = 0\nlr = {low = 0.1, high = 0.2}\n",
     "[random] samples = 0 must be an integer from 1 to 10,000"),
    ("[random]\nlr = 0.1\n", "[random] lr = 0.1 must be {low = ..., high = ...}"),
    ("[random]\nlr = {low = 0.1, hi = 0.2}\n",
     "[random] lr has unknown key 'hi'; valid keys: low, high, log, choices"),
    ("[random]\nlr = {low = 0.1}\n", "[random] lr needs both low and high"),
    ("[random]\nlr = {low = 0.2, high = 0.1}\n", "need finite low < high"),
    ("[random]\nlr = {low = 0.0, high = 0.1, log = true}\n",
     "[random] lr.low = 0.0 must be > 0 with log = true"),
    ("[random]\ncpu = {low = 0, high = 1}\n", "[random] cpu is true or false: give {choices"),
    ("[random]\nseed = {choices = [1, 'x']}\n", "[random] seed.choices = 'x' must be an integer"),
    ("[random]\nseed = {choices = [1], low = 0}\n", "gives both choices and a range"),
    ("[ray]\nsampler = 'tpe'\n", "[ray] unknown key 'sampler'; valid keys: scheduler, search"),
    ("[ray]\nscheduler = 'pbt'\n", "[ray] scheduler = 'pbt'; valid choices: fifo, asha"),
    ("[ray]\nsearch = 'hyperopt'\n", "[ray] search = 'hyperopt'; valid choices: grid, optuna"),
    ("[ray]\nmode = 'up'\n", "[ray] mode = 'up'; valid choices: max, min"),
    ("[ray]\nmetric = ''\n", "[ray] metric = '' must be the name of a reported scalar"),
    ("[ray]\nreduction_factor = 1\n", "[ray] reduction_factor = 1 must be an integer >= 2"),
    ("[ray]\nsearch = 'optuna'\n", "[ray] search = 'optuna' needs [random] ranges to search"),
    ("[grid]\nseed = [1, 2]\n[random]\nlr = {low = 0.1, high = 0.2}\n[ray]\nsearch = 'optuna'\n",
     "[grid] seed cannot be used with [ray] search = 'optuna'"),
    ("[random]\nlr = {low = 0.1, high = 0.2}\n[ray]\nsearch = 'optuna'\n",
     "[ray] search = 'optuna' needs --backend ray"),
    ("grid = 3\n", "grid = 3 must be a table: write it as [grid]"),
    ("[grid\n", "is not valid TOML"),
]


@pytest.mark.parametrize(("text", "message"), BAD_FILES)
def test_a_bad_sweep_file_is_one_line_naming_the_problem(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    code = main(["sweep", str(path), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and message in err, err
    assert not (tmp_path / "out").exists()  # refused before anything is written


@pytest.mark.parametrize(("argv", "message"), [
    (["--address", "auto"], "--address 'auto' needs --backend ray"),
    (["--max-parallel", "0"], "--max-parallel 0 must be >= 1"),
])
def test_bad_options(tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str],
                     message: str) -> None:
    path = tmp_path / "ok.toml"
    path.write_text("[grid]\nseed = [1]\n")
    assert main(["sweep", str(path), *argv]) == 2
    assert message in capsys.readouterr().err


def test_a_search_algorithm_proposes_the_trials_and_asha_gets_a_grace_period(
        tmp_path: Path) -> None:
    plan = plan_of({"sweep": {"steps": 1600}, "fixed": {"seed": 3},
                    "random": {"samples": 5, "lr": {"low": 1e-4, "high": 1e-2, "log": True}},
                    "ray": {"search": "optuna", "scheduler": "asha"}}, tmp_path)
    assert plan.trials == () and plan.samples == 5 and plan.swept == ("lr",)
    assert plan.ray.grace_period == 1600 // 4 ** 2 and plan.ray.metric == "eval/mean_score"
    trial = plan.make_trial({"lr": 0.003})
    assert trial.config["lr"] == 0.003 and trial.seed == 3 and trial.config["steps"] == 1600
    assert trial.name == plan.make_trial({"lr": 0.003}).name != plan.make_trial({"lr": 0.002}).name


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"sweep file '.*nowhere\.toml' does not exist"):
        load_sweep(tmp_path / "nowhere.toml")


def test_the_example_sweep_file_is_valid() -> None:
    example = Path(__file__).parents[2] / "examples" / "sweep.toml"
    plan = load_sweep(example)
    assert len(plan.trials) == 3 * 3 * 2 * 2
    assert {t.scenario for t in plan.trials} == {"trivial_cooperation", "greedy_neighbor",
                                                 "chain_reaction"}


def test_the_example_seeds_file_is_the_learning_check() -> None:
    example = Path(__file__).parents[2] / "examples" / "learning_check_seeds.toml"
    plan = load_sweep(example)
    assert sorted((t.scenario, t.seed) for t in plan.trials) == sorted(
        (scenario, seed) for scenario in ("greedy_neighbor", "chain_reaction")
        for seed in range(1, 6))
    assert all(t.compare and t.eval_games == 1000 and t.config["steps"] == 2_000_000
               and t.config["opponent_policies"] == "random" for t in plan.trials)


@pytest.mark.parametrize("name", ["self_play_q4", "self_play_q4_unmasked"])
def test_the_q4_sweep_files_cover_every_scenario_scheme_and_seed(name: str) -> None:
    plan = load_sweep(Path(__file__).parents[2] / "examples" / f"{name}.toml")
    assert sorted((t.scenario, t.config["sharing"], t.seed) for t in plan.trials) == sorted(
        (scenario, sharing, seed) for scenario in SCENARIOS
        for sharing in SHARING_MODES for seed in (1, 2, 3))
    assert {t.config["action_mask"] for t in plan.trials} == {name == "self_play_q4"}


def test_the_q4_exploration_file_tries_the_annealed_bonus_unmasked() -> None:
    plan = load_sweep(Path(__file__).parents[2] / "examples"
                      / "self_play_q4_unmasked_entropy.toml")
    assert len(plan.trials) == 4 * 3 * 3
    assert all(not t.config["action_mask"] and t.config["anneal_ent"]
               and t.config["ent_coef"] == 0.3 for t in plan.trials)
