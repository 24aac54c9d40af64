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
  // Score lines also differ in dash pattern, so that agents stay apart in grey print.
  const DASHES = ["", "7 3", "2 3", "9 3 2 3", "4 4", "1 2", "12 4", "6 2 2 2"];
  const dash = (i) => DASHES[i % DASHES.length];
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
  // Night 0 has every agent resting at home. A resting agent's house changes nothing
  // (RULES.md), so resting agents are drawn at home, inside the ring, and workers outside
  // at the house they work.
  const homes = frames[0].locations;

  function drawTokens(frame) {
    tokens.replaceChildren();
    const stacked = new Array(numHouses).fill(0), resting = new Array(numHouses).fill(0);
    for (let i = 0; i < numAgents; i++) {
      const house = frame.locations[i], mode = frame.modes[i], signal = frame.signals[i];
      const [x, y] = mode === 1
        ? at(house, RING + houseRadius + TOKEN_GAP + TOKEN_STEP * stacked[house]++)
        : at(homes[i], RING - houseRadius - TOKEN_GAP - TOKEN_STEP * resting[homes[i]]++);
      const group = svg("g", {class: "agent"}, tokens);
      svg("circle", {cx: x, cy: y, r: TOKEN, fill: mode === 1 ? colour(i) : "#fff",
                     stroke: colour(i), "stroke-width": 3,
                     "stroke-dasharray": mode === 1 ? "" : "4 2.3"}, group);
      svg("text", {x: x, y: y, class: "token-number",
                   fill: mode === 1 ? "#fff" : colour(i)}, group).textContent = i;
      const lie = signal !== mode;
      if (lie) {
        svg("circle", {cx: x + 10, cy: y - 10, r: 7, class: "lie-badge"}, group);
        svg("text", {x: x + 10, y: y - 10, class: "lie-text"}, group).textContent = "!";
      }
      const where = mode === 1 ? `WORK at house ${house}`
                               : `REST (drawn at home, house ${homes[i]}; chose house ${house})`;
      tooltip(group, `agent ${i} (${labels[i]}): ${where}, signals ${MODES[signal]}` +
                     (lie ? " (signal differs from mode)" : ""));
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
  // Agents with equal scores would hide each other: each line sits LINE_OFFSET pixels
  // from its neighbour's (centred on the true values), with its own colour and dashes.
  const LINE_OFFSET = 2;
  const chartLegend = $("chart-legend");
  for (let i = 0; i < numAgents; i++) {
    const shift = LINE_OFFSET * (i - (numAgents - 1) / 2);
    const points = frames.map((f, t) => chartX(t).toFixed(1) + "," +
        (chartY(f.scores[i]) + shift).toFixed(1)).join(" ");
    tooltip(svg("polyline", {points, class: "score-line", stroke: colour(i),
                             "stroke-dasharray": dash(i)}, chart),
            `agent ${i} (${labels[i]}): final score ${final.scores[i].toFixed(2)}`);
    const entry = document.createElement("span");
    const sample = svg("svg", {width: 28, height: 10, class: "line-sample"}, entry);
    svg("line", {x1: 1, x2: 27, y1: 5, y2: 5, stroke: colour(i), "stroke-width": 3,
                 "stroke-dasharray": dash(i)}, sample);
    entry.append(`${i} ${labels[i]}`);
    entry.title = describe(i);
    chartLegend.append(entry);
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
