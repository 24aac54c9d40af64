"""``bucket-brigade replay``: one game as a self-contained HTML page that plays it night by night.

The page carries its own CSS, script and the replay JSON, and asks the network for
nothing, so it can be mailed, attached to a report or opened from a laptop with no
connection. The game is the one the engines play for the same seed and seats
(:func:`~bucket_brigade.envs.render.record_game`), so a replay shows exactly a game
that ``evaluate`` scored.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bucket_brigade.agents.strategies import (
    DEFAULT_OPPONENTS,
    make_seat,
    opponent_seats,
    split_opponents,
)
from bucket_brigade.envs.render import Replay, record_game
from bucket_brigade.errors import UsageError
from bucket_brigade.game.reference import Seat
from bucket_brigade.game.scenarios import Scenario, get_scenario
from bucket_brigade.game.scripted import PARAM_NAMES
from bucket_brigade.io import atomic_write_text

if TYPE_CHECKING:
    from bucket_brigade.training.models import LoadedPolicy

DEFAULT_STRATEGY = "firefighter"
DATA_ELEMENT_ID = "replay-data"


@dataclass(frozen=True)
class LabelledReplay:
    """A replay plus the names people know its seats by (strategy names, the model's name)."""

    replay: Replay
    seat_labels: tuple[str, ...]

    def page_data(self) -> dict[str, Any]:
        """What the page embeds: the replay JSON (as ``--json`` writes it) and seat labels."""
        return {"seat_labels": list(self.seat_labels), "param_names": list(PARAM_NAMES),
                "replay": self.replay.to_dict()}


def record_replay(scenario: str | Scenario, seed: int = 0, *, model: LoadedPolicy | None = None,
                  strategy: str | None = None, opponents: str | Sequence[str] | None = None,
                  num_opponents: int = 3, game_index: int = 0) -> LabelledReplay:
    """Play game ``game_index`` of seed ``seed`` with a model (greedy) or a strategy in seat 0.

    Seat 0 defaults to the firefighter archetype; opponents to the default pool, cycled
    over ``num_opponents`` seats as in training and evaluation.
    """
    if model is not None and strategy is not None:
        raise UsageError(f"give either a model or a strategy for seat 0, not both "
                         f"(model {model.name!r}, strategy {strategy!r})")
    scenario = get_scenario(scenario)
    opponent_names = list(DEFAULT_OPPONENTS) if opponents is None else (
        split_opponents(opponents) if isinstance(opponents, str) else list(opponents))
    seats = opponent_seats(num_opponents, opponent_names, scenario.name)
    labels = [opponent_names[k % len(opponent_names)] for k in range(num_opponents)]
    if model is None:
        strategy = DEFAULT_STRATEGY if strategy is None else strategy
        replay = record_game(scenario, [make_seat(strategy, scenario.name), *seats], seed,
                             game_index=game_index)
        return LabelledReplay(replay, (strategy, *labels))
    model.check_fits(scenario, num_opponents + 1)
    # The model's greedy (house, mode, signal), as evaluation plays it.
    replay = record_game(scenario, [Seat(), *seats], seed,
                         lambda observation: model.network.play(observation[None])[0],
                         game_index=game_index, cheap_talk=True)
    return LabelledReplay(replay, (model.name, *labels))


def render_page(labelled: LabelledReplay) -> str:
    """The whole HTML document."""
    replay = labelled.replay
    title = f"Bucket Brigade replay: {replay.scenario.name}, seed {replay.seed}"
    if replay.game_index:
        title += f", game {replay.game_index}"
    # "<" only occurs inside JSON strings, where \u003c means the same; this keeps any
    # "</script>" in a scenario description or a label from ending the script element.
    data = json.dumps(labelled.page_data(), separators=(",", ":")).replace("<", "\\u003c")
    parts = {"TITLE": html.escape(title), "STYLE": _STYLE, "DATA_ID": DATA_ELEMENT_ID,
             "DATA": data, "SCRIPT": _SCRIPT}
    # One pass, so that a marker inside the data (a scenario description) stays text.
    return re.sub(r"__([A-Z_]+?)__", lambda match: parts[match.group(1)], _PAGE)


def write_page(labelled: LabelledReplay, path: str | Path) -> Path:
    """Write the page atomically (a browser never opens half of it)."""
    path = Path(path)
    atomic_write_text(path, render_page(labelled))
    return path


def embedded_data(page: str) -> dict[str, Any]:
    """The data a page carries (the inverse of :func:`render_page` for its data)."""
    start_tag = f'<script id="{DATA_ELEMENT_ID}" type="application/json">'
    start = page.index(start_tag) + len(start_tag)
    return json.loads(page[start:page.index("</script>", start)])


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>__TITLE__</title>
<style>__STYLE__</style>
</head>
<body>
<header>
  <h1>__TITLE__</h1>
  <p id="subtitle"></p>
</header>
<nav id="controls" aria-label="replay controls">
  <button id="first" type="button" title="first night (Home)">|&#9664;</button>
  <button id="prev" type="button" title="previous night (Left arrow)">&#9664;</button>
  <button id="play" type="button" title="play / pause (Space)">&#9654; Play</button>
  <button id="next" type="button" title="next night (Right arrow)">&#9654;</button>
  <button id="last" type="button" title="last night (End)">&#9654;|</button>
  <input id="slider" type="range" min="0" max="0" value="0" aria-label="night">
  <span id="night-label">Night 0</span>
  <label>speed <select id="speed">
    <option value="1600">0.5x</option><option value="800" selected>1x</option>
    <option value="400">2x</option><option value="200">4x</option>
  </select></label>
</nav>
<main>
  <section id="board">
    <svg id="ring" viewBox="0 0 560 560" role="img" aria-label="the ring of houses"></svg>
    <div id="legend">
      <span><i class="swatch state-0"></i>safe</span>
      <span><i class="swatch state-1"></i>burning</span>
      <span><i class="swatch state-2"></i>ruined</span>
      <span><i class="token work"></i>WORK</span>
      <span><i class="token rest"></i>REST</span>
      <span><i class="lie-mark">!</i>signal differs from mode</span>
      <span>house outline: owner's colour</span>
    </div>
  </section>
  <section id="side">
    <p id="events"></p>
    <div class="table-wrap"><table id="agents">
      <thead><tr><th>agent</th><th>house</th><th>mode</th><th>signal</th><th>reward</th>
        <th>score</th></tr></thead>
      <tbody></tbody>
    </table></div>
    <h2>Cumulative scores</h2>
    <svg id="chart" viewBox="0 0 400 170" role="img" aria-label="cumulative scores"></svg>
    <h2>Whole game</h2>
    <p id="result"></p>
    <div class="table-wrap"><table id="summary">
      <thead><tr><th>agent</th><th>final score</th><th>worked</th><th>honest</th></tr></thead>
      <tbody></tbody>
    </table></div>
  </section>
</main>
<script id="__DATA_ID__" type="application/json">__DATA__</script>
<script>__SCRIPT__</script>
</body>
</html>
"""

_STYLE = """
:root { --safe: #2f9e44; --burning: #f76707; --ruined: #343a40; --ink: #212529;
        --muted: #6c757d; --lie: #e03131; --panel: #ffffff; --page: #f1f3f5; }
* { box-sizing: border-box; }
body { margin: 0; padding: 12px 18px; background: var(--page); color: var(--ink);
       font: 14px/1.4 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; }
header h1 { font-size: 18px; margin: 0; }
#subtitle { margin: 2px 0 8px; color: var(--muted); }
#controls { display: flex; flex-wrap: wrap; align-items: center; gap: 6px; padding: 8px;
            background: var(--panel); border-radius: 8px; margin-bottom: 10px; }
#controls button { min-width: 38px; padding: 4px 8px; font: inherit; cursor: pointer;
                   border: 1px solid #ced4da; border-radius: 6px; background: #f8f9fa; }
#controls button:hover { background: #e9ecef; }
#play { min-width: 84px; }
#slider { flex: 1 1 160px; }
#night-label { min-width: 110px; font-weight: 600; font-variant-numeric: tabular-nums; }
main { display: flex; flex-wrap: wrap; gap: 12px; align-items: flex-start; }
#board, #side { background: var(--panel); border-radius: 8px; padding: 8px; }
#board { flex: 1 1 380px; max-width: 580px; min-width: 0; }
#side { flex: 1 1 340px; min-width: 0; }
#ring { width: 100%; height: auto; display: block; }
#legend { display: flex; flex-wrap: wrap; gap: 4px 14px; color: var(--muted); font-size: 12px; }
#legend span { display: inline-flex; align-items: center; gap: 4px; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 50%; }
.swatch.state-0 { background: var(--safe); }
.swatch.state-1 { background: var(--burning); }
.swatch.state-2 { background: var(--ruined); }
.token { display: inline-block; width: 12px; height: 12px; border-radius: 50%;
         border: 2px solid #1971c2; }
.token.work { background: #1971c2; }
.token.rest { background: #fff; }
.lie-mark { display: inline-block; width: 14px; height: 14px; border-radius: 50%;
            background: var(--lie); color: #fff; font: bold 11px/14px sans-serif;
            text-align: center; font-style: normal; }
svg .house.state-0 { fill: var(--safe); }
svg .house.state-1 { fill: var(--burning); }
svg .house.state-2 { fill: var(--ruined); }
svg .halo { fill: none; stroke: var(--burning); stroke-width: 3; opacity: 0.45; }
svg .ruin-cross { stroke: #868e96; stroke-width: 2.5; stroke-linecap: round; }
svg .house-number { fill: #fff; font-weight: bold; font-family: sans-serif; text-anchor: middle;
                    dominant-baseline: central; pointer-events: none; }
svg .token-number { font: bold 11px sans-serif; text-anchor: middle;
                    dominant-baseline: central; pointer-events: none; }
svg .lie-badge { fill: var(--lie); }
svg .lie-text { fill: #fff; font: bold 11px sans-serif; text-anchor: middle;
                dominant-baseline: central; pointer-events: none; }
svg .centre-night { font: bold 30px sans-serif; text-anchor: middle; fill: var(--ink); }
svg .centre-info { font: 13px sans-serif; text-anchor: middle; fill: var(--muted); }
svg .axis { stroke: #adb5bd; stroke-width: 1; }
svg .axis-text { font: 10px sans-serif; fill: var(--muted); }
svg .cursor { stroke: var(--ink); stroke-width: 1; stroke-dasharray: 3 3; }
svg .score-line { fill: none; stroke-width: 2; }
#events { min-height: 2.8em; margin: 0 0 6px; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 13px;
        font-variant-numeric: tabular-nums; }
th, td { padding: 3px 4px; text-align: left; border-bottom: 1px solid #e9ecef; }
th { font-weight: 600; color: var(--muted); font-size: 12px; }
td.number { text-align: right; }
td:first-child { overflow-wrap: anywhere; }
.agent-dot { display: inline-block; width: 10px; height: 10px; border-radius: 50%;
             margin-right: 4px; }
.lie { color: var(--lie); font-weight: 600; white-space: nowrap; }
#agents .lie-mark { width: 13px; height: 13px; font-size: 10px; line-height: 13px; }
.work { font-weight: 600; }
h2 { font-size: 14px; margin: 12px 0 4px; }
#chart { width: 100%; height: auto; display: block; cursor: pointer; }
#result { margin: 0 0 4px; }
"""

_SCRIPT = r"""
(() => {
  "use strict";
  const root = document.documentElement;
  window.addEventListener("error", (event) => { root.dataset.error = String(event.message); });

  const payload = JSON.parse(document.getElementById("replay-data").textContent);
  const replay = payload.replay;
  const labels = payload.seat_labels;
  const frames = [replay.start, ...replay.nights];
  const lastNight = frames.length - 1;
  const numHouses = replay.scenario.num_houses;
  const numAgents = replay.strategies.length;
  const MODES = ["REST", "WORK"];
  const STATES = ["safe", "burning", "ruined"];
  const AGENT_COLOURS = ["#1971c2", "#d6336c", "#7048e8", "#0c8599", "#9c6644", "#b08900",
                         "#862e9c", "#5c7cfa", "#a61e4d", "#099268"];
  const colour = (i) => AGENT_COLOURS[i % AGENT_COLOURS.length];
  const $ = (id) => document.getElementById(id);
  const ring = $("ring");
  const SVG_NS = ring.namespaceURI;

  function svg(tag, attributes, parent) {
    const element = document.createElementNS(SVG_NS, tag);
    for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
    if (parent) parent.appendChild(element);
    return element;
  }
  function tooltip(element, text) { svg("title", {}, element).textContent = text; }
  function signed(x) { return (x > 0 ? "+" : "") + x.toFixed(2); }
  function count(values, v) { return values.filter((x) => x === v).length; }
  function plural(n, word) { return n + " " + word + (n === 1 ? "" : "s"); }

  function describe(i) {
    const params = replay.strategies[i];
    if (params === null) return labels[i] + ": a trained policy (greedy actions)";
    return labels[i] + ": " + params.map((v, k) => payload.param_names[k] + " " +
                                         v.toFixed(2)).join(", ");
  }

  // --- the ring --------------------------------------------------------------------------
  // The ring as large as the view allows once the tallest stack of agents at one house fits.
  const CX = 280, CY = 280, TOKEN = 10, TOKEN_GAP = 17, TOKEN_STEP = 23;
  const radiusFor = (ring) => Math.min(34, 0.75 * Math.PI * ring / numHouses);
  const tallestStack = Math.max(...frames.map((f) => Math.max(...f.locations.map(
    (house) => count(f.locations, house)))));
  let RING = 190;
  while (RING > 100 && RING + radiusFor(RING) + TOKEN_GAP + TOKEN_STEP * (tallestStack - 1) +
         TOKEN + 4 > CX) RING -= 2;
  const houseRadius = radiusFor(RING);
  const angle = (j) => -Math.PI / 2 + 2 * Math.PI * j / numHouses;
  const at = (j, radius) => [CX + radius * Math.cos(angle(j)), CY + radius * Math.sin(angle(j))];
  const houses = [];
  for (let j = 0; j < numHouses; j++) {
    const [x, y] = at(j, RING);
    const group = svg("g", {}, ring);
    const halo = svg("circle", {cx: x, cy: y, r: houseRadius + 5, class: "halo"}, group);
    const body = svg("circle", {cx: x, cy: y, r: houseRadius, class: "house",
                                stroke: colour(j % numAgents), "stroke-width": 4}, group);
    const d = houseRadius * 0.45;
    const cross = svg("path", {d: `M${x - d},${y - d}L${x + d},${y + d}M${x + d},${y - d}` +
                                  `L${x - d},${y + d}`, class: "ruin-cross"}, group);
    svg("text", {x: x, y: y, class: "house-number",
                 "font-size": Math.max(8, Math.min(17, 0.8 * houseRadius))}, group)
      .textContent = j;
    const title = svg("title", {}, group);
    houses.push({halo, body, cross, title});
  }
  const centreNight = svg("text", {x: CX, y: CY - 4, class: "centre-night"}, ring);
  const centreInfo = svg("text", {x: CX, y: CY + 20, class: "centre-info"}, ring);
  const centreScores = svg("text", {x: CX, y: CY + 38, class: "centre-info"}, ring);
  const tokens = svg("g", {}, ring);

  function drawTokens(frame) {
    tokens.replaceChildren();
    const stacked = new Array(numHouses).fill(0);
    for (let i = 0; i < numAgents; i++) {
      const house = frame.locations[i], mode = frame.modes[i], signal = frame.signals[i];
      const [x, y] = at(house, RING + houseRadius + TOKEN_GAP + TOKEN_STEP * stacked[house]++);
      const group = svg("g", {class: "agent"}, tokens);
      svg("circle", {cx: x, cy: y, r: TOKEN, fill: mode === 1 ? colour(i) : "#fff",
                     stroke: colour(i), "stroke-width": 3}, group);
      svg("text", {x: x, y: y, class: "token-number",
                   fill: mode === 1 ? "#fff" : colour(i)}, group).textContent = i;
      const lie = signal !== mode;
      if (lie) {
        svg("circle", {cx: x + 10, cy: y - 10, r: 7, class: "lie-badge"}, group);
        svg("text", {x: x + 10, y: y - 10, class: "lie-text"}, group).textContent = "!";
      }
      tooltip(group, `agent ${i} (${labels[i]}): ${MODES[mode]} at house ${house}, ` +
                     `signals ${MODES[signal]}` + (lie ? " (signal differs from mode)" : ""));
    }
  }

  // --- the tables -----------------------------------------------------------------------
  function cell(row, text, className) {
    const td = row.insertCell();
    td.textContent = text;
    if (className) td.className = className;
    return td;
  }
  function agentCell(row, i) {
    const td = row.insertCell();
    const dot = document.createElement("span");
    dot.className = "agent-dot";
    dot.style.background = colour(i);
    td.append(dot, `${i} ${labels[i]}`);
    td.title = describe(i);
  }
  const agentRows = [];
  const agentBody = $("agents").tBodies[0];
  for (let i = 0; i < numAgents; i++) {
    const row = agentBody.insertRow();
    agentCell(row, i);
    agentRows.push({house: cell(row, ""), mode: cell(row, ""), signal: cell(row, ""),
                    reward: cell(row, "", "number"), score: cell(row, "", "number")});
  }
  const final = replay.final;
  const summaryBody = $("summary").tBodies[0];
  for (let i = 0; i < numAgents; i++) {
    const row = summaryBody.insertRow();
    agentCell(row, i);
    cell(row, final.scores[i].toFixed(2), "number");
    cell(row, (100 * final.work_rate[i]).toFixed(0) + "% of nights", "number");
    cell(row, (100 * final.honesty[i]).toFixed(0) + "% of nights", "number");
  }
  $("result").textContent = `The game ended after ${plural(final.nights, "night")}: ` +
      `${final.houses_saved} of ${numHouses} houses saved, ${final.houses_ruined} ruined.`;
  const scenario = replay.scenario;
  $("subtitle").textContent = `${scenario.name}` +
      (scenario.description ? ` (${scenario.description})` : "") +
      ` · seed ${replay.seed} · game ${replay.game_index} · ${numAgents} agents, ` +
      `${numHouses} houses · spread ${scenario.prob_fire_spreads_to_neighbor}, ` +
      `extinguish ${scenario.prob_solo_agent_extinguishes_fire}, ` +
      `spark ${scenario.prob_house_catches_fire}, work cost ${scenario.cost_to_work_one_night}`;

  // --- the score chart ------------------------------------------------------------------
  const chart = $("chart");
  const W = 400, CH = 170, LEFT = 44, RIGHT = 8, TOP = 8, BOTTOM = 22;
  const allScores = frames.flatMap((f) => f.scores);
  let low = Math.min(0, ...allScores), high = Math.max(0, ...allScores);
  if (high - low < 1e-9) high = low + 1;
  const chartX = (t) => LEFT + (W - LEFT - RIGHT) * (lastNight ? t / lastNight : 0);
  const chartY = (v) => TOP + (CH - TOP - BOTTOM) * (high - v) / (high - low);
  svg("line", {x1: LEFT, x2: W - RIGHT, y1: chartY(0), y2: chartY(0), class: "axis"}, chart);
  svg("line", {x1: LEFT, x2: LEFT, y1: TOP, y2: CH - BOTTOM, class: "axis"}, chart);
  for (const [v, dy] of [[high, 4], [low, 0]]) {
    svg("text", {x: LEFT - 4, y: chartY(v) + dy, "text-anchor": "end", class: "axis-text"},
        chart).textContent = v.toFixed(0);
  }
  svg("text", {x: LEFT, y: CH - 6, class: "axis-text"}, chart).textContent = "night 0";
  svg("text", {x: W - RIGHT, y: CH - 6, "text-anchor": "end", class: "axis-text"},
      chart).textContent = "night " + lastNight;
  for (let i = 0; i < numAgents; i++) {
    const points = frames.map((f, t) => chartX(t).toFixed(1) + "," + chartY(f.scores[i])
        .toFixed(1)).join(" ");
    tooltip(svg("polyline", {points, class: "score-line", stroke: colour(i)}, chart),
            `agent ${i} (${labels[i]})`);
  }
  const cursor = svg("line", {y1: TOP, y2: CH - BOTTOM, class: "cursor"}, chart);
  chart.addEventListener("click", (event) => {
    const box = chart.getBoundingClientRect();
    const x = (event.clientX - box.left) * W / box.width;
    show(Math.round((x - LEFT) / (W - LEFT - RIGHT) * lastNight));
  });

  // --- one night ------------------------------------------------------------------------
  function changes(before, after) {
    let out = 0, burned = 0, fresh = 0;
    for (let j = 0; j < numHouses; j++) {
      if (before.houses[j] === 1 && after.houses[j] === 0) out++;
      if (before.houses[j] === 1 && after.houses[j] === 2) burned++;
      if (before.houses[j] === 0 && after.houses[j] === 1) fresh++;
    }
    return `Night ${after.night}: ${plural(out, "fire")} put out, ` +
           `${plural(burned, "house")} burned down, ${plural(fresh, "new fire")}.`;
  }

  const slider = $("slider");
  slider.max = lastNight;
  let night = 0;

  function show(t) {
    night = Math.max(0, Math.min(lastNight, Number.isFinite(t) ? t : 0));
    const frame = frames[night];
    const rewards = night > 0 ? replay.nights[night - 1].rewards : null;
    houses.forEach((house, j) => {
      const state = frame.houses[j];
      house.body.setAttribute("class", "house state-" + state);
      house.halo.style.display = state === 1 ? "" : "none";
      house.cross.style.display = state === 2 ? "" : "none";
      house.title.textContent = `house ${j}: ${STATES[state]}, owned by agent ` +
                                `${j % numAgents} (${labels[j % numAgents]})`;
    });
    drawTokens(frame);
    const label = `Night ${night} / ${lastNight}`;
    $("night-label").textContent = label;
    centreNight.textContent = night === 0 ? "Start" : "Night " + night;
    centreInfo.textContent = `${count(frame.houses, 0)} safe · ${count(frame.houses, 1)} ` +
                             `burning · ${count(frame.houses, 2)} ruined`;
    centreScores.textContent = night === lastNight ? "game over" : "";
    $("events").textContent = night === 0
      ? `Start: ${plural(count(frame.houses, 1), "house")} on fire; every agent rests at ` +
        "home. Houses show the state after each night, agents where they went that night."
      : changes(frames[night - 1], frame);
    agentRows.forEach((row, i) => {
      const mode = frame.modes[i], signal = frame.signals[i];
      row.house.textContent = night === 0 ? `${frame.locations[i]} (home)` : frame.locations[i];
      row.mode.textContent = MODES[mode];
      row.mode.className = mode === 1 ? "work" : "";
      row.signal.textContent = MODES[signal];
      row.signal.className = signal !== mode ? "lie" : "";
      if (signal !== mode) {
        const mark = document.createElement("i");
        mark.className = "lie-mark";
        mark.textContent = "!";
        mark.title = "signal differs from mode";
        row.signal.append(" ", mark);
      }
      row.reward.textContent = rewards ? signed(rewards[i]) : "";
      row.score.textContent = frame.scores[i].toFixed(2);
    });
    cursor.setAttribute("x1", chartX(night));
    cursor.setAttribute("x2", chartX(night));
    slider.value = night;
    try { history.replaceState(null, "", "#night=" + night); } catch (error) { /* file: */ }
  }

  // --- playing --------------------------------------------------------------------------
  const playButton = $("play");
  let timer = null;
  function pause() {
    clearInterval(timer);
    timer = null;
    playButton.innerHTML = "&#9654; Play";
  }
  function play() {
    if (night >= lastNight) show(0);
    playButton.innerHTML = "&#10074;&#10074; Pause";
    timer = setInterval(() => {
      if (night >= lastNight) pause(); else show(night + 1);
    }, Number($("speed").value));
  }
  const toggle = () => (timer === null ? play() : pause());
  playButton.addEventListener("click", toggle);
  $("speed").addEventListener("change", () => { if (timer !== null) { pause(); play(); } });
  $("first").addEventListener("click", () => { pause(); show(0); });
  $("prev").addEventListener("click", () => { pause(); show(night - 1); });
  $("next").addEventListener("click", () => { pause(); show(night + 1); });
  $("last").addEventListener("click", () => { pause(); show(lastNight); });
  slider.addEventListener("input", () => { pause(); show(Number(slider.value)); });
  document.addEventListener("keydown", (event) => {
    const target = event.target.tagName;
    if (target === "INPUT" || target === "SELECT") return;
    if (event.key === " " && target === "BUTTON") return;  // the button's own click
    const moves = {ArrowLeft: night - 1, ArrowRight: night + 1, Home: 0, End: lastNight};
    if (event.key in moves) { pause(); show(moves[event.key]); }
    else if (event.key === " ") toggle();
    else return;
    event.preventDefault();
  });

  const requested = /night=(\d+)/.exec(location.hash);
  show(requested ? Number(requested[1]) : 0);
  root.dataset.ready = "1";
})();
"""
