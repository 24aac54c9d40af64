"""The HTML replay page: self-contained, carries the game it claims, and runs in a browser."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

from bucket_brigade.analysis.contenders import Contender, contender, play_profile
from bucket_brigade.cli import main
from bucket_brigade.envs.render import Replay, record_game
from bucket_brigade.errors import UsageError
from bucket_brigade.evaluation import evaluate
from bucket_brigade.game.constants import BURNING, RUINED, SAFE
from bucket_brigade.game.scenarios import get_scenario
from bucket_brigade.game.seat import Seat
from bucket_brigade.training.models import LoadedPolicy, load_policy
from bucket_brigade.training.network import PolicyNetwork
from bucket_brigade.viz.replay_html import embedded_data, record_replay, render_page

HOUSE_COLOURS = {SAFE: "#2f9e44", BURNING: "#f76707", RUINED: "#343a40"}  # the page's CSS
# Seed 4 of "hard": two houses burn at the start and two are ruined at the end.
BROWSER_SCENARIO, BROWSER_SEED = "hard", 4


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def tiny_model(num_agents: int = 4, cheap_talk: bool = False) -> LoadedPolicy:
    scenario = get_scenario("default")
    action_dims = [scenario.num_houses, 2, 2] if cheap_talk else [scenario.num_houses, 2]
    torch.manual_seed(0)
    network = PolicyNetwork(scenario.obs_dim(num_agents), action_dims, hidden_size=8)
    network.eval()
    return LoadedPolicy(name="model_tiny", network=network, trained_on="default")


def test_page_is_self_contained() -> None:
    page = render_page(record_replay("default", seed=1))
    assert "http://" not in page and "https://" not in page
    assert not re.search(r"\b(src|href)\s*=", page, re.IGNORECASE)
    assert "@import" not in page and "url(" not in page
    assert page.count("<script") == 2 and page.count("</script>") == 2


def test_page_embeds_the_replay_and_seat_labels() -> None:
    labelled = record_replay("default", seed=1, strategy="hero", opponents="liar,random")
    data = embedded_data(render_page(labelled))
    assert data["replay"] == labelled.replay.to_dict()
    assert Replay.from_dict(data["replay"]) == labelled.replay
    assert data["seat_labels"] == ["hero", "liar", "random", "liar"]
    assert len(data["param_names"]) == 10


def test_text_in_the_data_cannot_end_the_script_element() -> None:
    scenario = get_scenario("default", name="${script} $data",
                            description="</script><script>alert(1)</script><!-- $$ ${data}")
    labelled = record_replay(scenario, seed=0)
    page = render_page(labelled)
    assert page.count("</script>") == 2
    assert embedded_data(page)["replay"]["scenario"] == scenario.to_dict()
    assert "<title>Bucket Brigade replay: ${script} $data, seed 0</title>" in page


def test_game_k_is_the_game_evaluate_plays_as_game_k() -> None:
    scores = evaluate("hero", "default", None, num_opponents=3, games=3, seed=5).scores
    for k in range(3):
        replay = record_replay("default", seed=5, strategy="hero", game_index=k).replay
        assert replay.scores[0] == pytest.approx(scores[k], abs=1e-9)


@pytest.mark.parametrize("cheap_talk", [False, True])
def test_a_model_plays_seat_zero_greedily(cheap_talk: bool) -> None:
    model = tiny_model(cheap_talk=cheap_talk)
    labelled = record_replay("default", seed=2, model=model, game_index=1)
    assert labelled.seat_labels == ("model_tiny", "random", "random", "firefighter")
    assert labelled.replay.strategies[0] is None
    scores = evaluate(model.network, "default", None, num_opponents=3, games=2, seed=2).scores
    assert labelled.replay.scores[0] == pytest.approx(scores[1], abs=1e-9)


@pytest.mark.parametrize(("seats", "others"), [(4, ()), (2, ("random", "random"))])
def test_a_per_seat_model_plays_its_seats_each_with_its_own_network(
        per_seat_model, seats: int, others: tuple[str, ...]) -> None:
    path, networks = per_seat_model(seats=seats)
    model = load_policy(path)
    labelled = record_replay("default", seed=2, model=model)
    assert labelled.seat_labels == (*(f"model_seats@{k}" for k in range(seats)), *others)
    expected = record_game("default", [Seat()] * seats + list(others), 2, {
        k: (lambda obs, network=network: network.play(obs[None])[0])
        for k, network in enumerate(networks)}, cheap_talk=True)
    assert labelled.replay == expected
    alone = record_replay("default", seed=2, model=load_policy(f"{path}@1"))
    assert alone.seat_labels == ("model_seats@1", "random", "random", "firefighter")


def test_a_model_in_every_seat_leaves_none_for_the_opponents(per_seat_model) -> None:
    path, _ = per_seat_model()
    with pytest.raises(UsageError, match=r"plays all 4 seats.*no seat is left for --opponents"):
        record_replay("default", model=load_policy(path), opponents="hero")


def test_planner_opponents_play_against_a_model() -> None:
    """The planners' continuations play the model greedily, as evaluation's do."""
    model = tiny_model()
    labelled = record_replay("default", seed=2, model=model, opponents="planner@2/2,random",
                             game_index=1)
    assert labelled.seat_labels == ("model_tiny", "planner@2/2", "random", "planner@2/2")
    scores = evaluate(model.network, "default", "planner@2/2,random", num_opponents=3,
                      games=2, seed=2).scores
    assert labelled.replay.scores[0] == pytest.approx(scores[1], abs=1e-9)


def test_default_seats_are_firefighter_against_the_default_pool() -> None:
    labelled = record_replay("easy", seed=3)
    assert labelled.seat_labels == ("firefighter", "random", "random", "firefighter")
    expected = record_game("easy", ["firefighter", "random", "random", "firefighter"], 3)
    assert labelled.replay == expected


def test_bad_input_is_refused_with_the_bad_value() -> None:
    with pytest.raises(UsageError, match="not both"):
        record_replay("default", model=tiny_model(), strategy="hero")
    with pytest.raises(UsageError, match="observations of size"):
        record_replay("default", model=tiny_model(num_agents=4), num_opponents=4)
    with pytest.raises(ValueError, match="unknown strategy 'nobody'"):
        record_replay("default", strategy="nobody")
    with pytest.raises(ValueError, match="unknown scenario 'nowhere'"):
        record_replay("nowhere")


def test_cli_writes_the_page_and_the_json(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    page_path, json_path = tmp_path / "game.html", tmp_path / "game.json"
    code, out, _ = run_cli(capsys, "replay", "--strategy", "coordinator", "--scenario", "easy",
                           "--seed", "3", "--opponents", "free_rider", "--num-opponents", "2",
                           "--out", str(page_path), "--json", str(json_path))
    assert code == 0
    data = embedded_data(page_path.read_text())
    assert data["replay"] == Replay.load(json_path).to_dict()
    assert data["seat_labels"] == ["coordinator", "free_rider", "free_rider"]
    assert "seat 0 (coordinator) scored" in out and str(page_path) in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["game.html", "game.json"]


@pytest.mark.parametrize("run_config, argv, scenario, because", [
    ({"scenario": "greedy_neighbor"}, [], "greedy_neighbor",
     "greedy_neighbor (the scenario the model was trained on)"),
    ({"scenario": "greedy_neighbor"}, ["--scenario", "easy"], "easy", "easy, seed 0"),
    (None, [], "trivial_cooperation", "training scenario is unknown"),
])
def test_cli_model_plays_the_scenario_it_was_trained_on(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], run_config: dict | None,
        argv: list[str], scenario: str, because: str) -> None:
    model_path = tmp_path / "model_tiny.pt"
    torch.save(tiny_model().network.state_dict(), model_path)
    if run_config is not None:
        (tmp_path / "runs" / "tiny").mkdir(parents=True)
        (tmp_path / "runs" / "tiny" / "config.json").write_text(json.dumps(run_config))
    page_path = tmp_path / "model.html"
    code, out, _ = run_cli(capsys, "replay", "--model", str(model_path), *argv,
                           "--out", str(page_path))
    assert code == 0
    assert embedded_data(page_path.read_text())["replay"]["scenario"]["name"] == scenario
    assert because in out


@pytest.mark.parametrize("argv, message", [
    (["--model", "m.pt", "--strategy", "hero"], "not both"),
    (["--strategy", "nobody"], "unknown strategy 'nobody'"),
    (["--scenario", "nowhere"], "unknown scenario 'nowhere'"),
    (["--model", "missing.pt"], "does not exist"),
])
def test_cli_bad_input_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                              argv: list[str], message: str) -> None:
    out = tmp_path / "game.html"
    code, _, err = run_cli(capsys, "replay", *argv, "--out", str(out))
    assert code == 2
    assert err.count("\n") == 1 and message in err
    assert not out.exists()


# -- in a browser ---------------------------------------------------------------------------

def chromium(page: Path, night: int, profile: Path, mode: str
             ) -> subprocess.CompletedProcess[str]:
    """Headless Chromium, offline, on a page at a night; ``mode``: --dump-dom or --screenshot=."""
    return subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={profile}", "--window-size=900,700",
         "--enable-logging=stderr", "--v=0", mode, f"{page.as_uri()}#night={night}"],
        capture_output=True, text=True, timeout=120, check=False)


def console_errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines()
            if "Uncaught" in line or ("CONSOLE" in line and "ERROR" in line)]


def colour_pixels(png: Path, colour: str, tolerance: int = 3) -> int:
    """Pixels of this colour (within ``tolerance``/255 per channel)."""
    import matplotlib.image

    rgb = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)]) / 255
    image = matplotlib.image.imread(str(png))[..., :3]
    return int((np.abs(image - rgb).max(axis=-1) < tolerance / 255).sum())


@pytest.fixture(scope="module")
def browser_page(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Replay]:
    if shutil.which("chromium") is None:
        pytest.skip("chromium is not installed (.ci/system-deps.sh installs it)")
    labelled = record_replay(BROWSER_SCENARIO, seed=BROWSER_SEED)
    path = tmp_path_factory.mktemp("replay") / "game.html"
    path.write_text(render_page(labelled))
    return path, labelled.replay


def test_the_script_runs_and_shows_the_requested_night(browser_page, tmp_path: Path) -> None:
    page, replay = browser_page
    result = chromium(page, replay.nights, tmp_path, "--dump-dom")
    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout
    assert 'data-ready="1"' in dom and "data-error" not in dom
    assert f"Night {replay.nights} / {replay.nights}" in dom
    assert not console_errors(result.stderr)


@pytest.mark.parametrize("when", ["start", "end"])
def test_a_screenshot_shows_the_ring_in_the_house_colours(browser_page, tmp_path: Path,
                                                           when: str) -> None:
    page, replay = browser_page
    night = 0 if when == "start" else replay.nights
    houses = replay.frames[night].houses
    png = tmp_path / "shot.png"
    result = chromium(page, night, tmp_path / "profile", f"--screenshot={png}")
    assert result.returncode == 0 and png.is_file(), result.stderr[-2000:]
    assert not console_errors(result.stderr)
    assert houses.count(BURNING if when == "start" else RUINED) >= 1
    for state, colour in HOUSE_COLOURS.items():
        pixels = colour_pixels(png, colour)
        if houses.count(state):  # a drawn house is a disc of well over 800 pixels
            assert pixels > 800 * houses.count(state), (state, pixels)
        else:  # only the legend's swatch
            assert pixels < 300, (state, pixels)


AGENT_COLOURS = ("#1971c2", "#d6336c", "#7048e8", "#0c8599")  # the page's first four
# Only the score chart (and, unless hidden too, its legend) stays visible.
CHART_ONLY = ("header, #controls, #board, #events, #agents, #summary, #result, h2 "
              "{ visibility: hidden; }")


def test_the_score_chart_keeps_equal_scores_apart_and_names_them(tmp_path: Path) -> None:
    """Agents 1 and 2 get identical cumulative scores: both lines must still show (an
    offset, their own colour and dashes), and the legend adds every agent's colour."""
    if shutil.which("chromium") is None:
        pytest.skip("chromium is not installed (.ci/system-deps.sh installs it)")
    labelled = record_replay("default", seed=1, strategy="hero")
    replay = labelled.replay
    frames = tuple(dataclasses.replace(f, scores=(f.scores[0], f.scores[1], f.scores[1],
                                                  f.scores[3])) for f in replay.frames)
    page = render_page(dataclasses.replace(
        labelled, replay=dataclasses.replace(replay, frames=frames)))
    pixels = {}
    for legend in (True, False):
        hidden = CHART_ONLY + ("" if legend else " #chart-legend { visibility: hidden; }")
        path = tmp_path / f"legend_{legend}.html"
        path.write_text(page.replace("</head>", f"<style>{hidden}</style></head>"))
        png = tmp_path / f"legend_{legend}.png"
        result = chromium(path, replay.nights, tmp_path / "profile", f"--screenshot={png}")
        assert result.returncode == 0 and png.is_file(), result.stderr[-2000:]
        assert not console_errors(result.stderr)
        pixels[legend] = [colour_pixels(png, colour, tolerance=40) for colour in AGENT_COLOURS]
    lines, with_legend = pixels[False], pixels[True]
    assert min(lines) > 100, lines  # every line shows, agents 1 and 2 included
    assert all(b - a > 20 for a, b in zip(lines, with_legend)), pixels  # a legend sample each


def test_planner_opponents_play_against_a_per_seat_model(per_seat_model) -> None:
    """With a network per seat, the planner's continuations play each seat's own network,
    as the empirical game plays the same profile."""
    path, networks = per_seat_model(seats=2)
    labelled = record_replay("default", seed=2, model=load_policy(path),
                             opponents="planner@2/2,random", game_index=1)
    scenario = get_scenario("default")
    players = [Contender("seat 0", policy=networks[0]), Contender("seat 1", policy=networks[1]),
               contender("planner@2/2", scenario, 4), contender("random", scenario, 4)]
    expected = play_profile(scenario, players, 2, 2).scores[1]
    assert labelled.replay.scores == pytest.approx(tuple(expected), abs=1e-9)
