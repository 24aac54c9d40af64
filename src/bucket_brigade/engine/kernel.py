"""Compiled kernels of the batched engine: flat arrays in, flat arrays out.

One call of :func:`step_games` plays one night of every game in a batch, the
scripted agents included, and resets the games that ended. The rules and the
order of random draws are those of ``bucket_brigade.game.reference``, which
this module mirrors line for line in compiled form. Python never loops over
games or agents here; :mod:`bucket_brigade.engine.batch` only orchestrates.

Scenario constants travel as one float64 vector indexed by the ``SC_*`` names.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from bucket_brigade.game.constants import BURNING, REST, RUINED, SAFE, WORK
from bucket_brigade.game.scripted import (
    ALTRUISM,
    COORDINATION,
    EXPLORATION,
    FATIGUE_MEMORY,
    HONESTY,
    NEIGHBOR_HELP,
    NUM_PARAMS,
    OWN_PRIORITY,
    REST_BIAS,
    RISK_AVERSION,
    TIE_TOLERANCE,
    WORK_TENDENCY,
)

(SC_SPREAD, SC_EXTINGUISH, SC_SPARK, SC_TEAM_REWARD, SC_TEAM_PENALTY, SC_WORK_COST,
 SC_REST_REWARD, SC_OWN_REWARD, SC_OWN_PENALTY) = range(9)
NUM_SC = 9

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_UNIT = 1.0 / (1 << 53)

_JIT = {"cache": True, "nogil": True, "fastmath": False, "error_model": "numpy"}
# Every helper is inlined into the kernels: a call that passes a dozen arrays costs more
# than the helper's own work (inlining made `bench env` about 1.5x faster on one thread).


@nb.njit(inline="always", **_JIT)
def _uniform(streams, e, k):
    """Advance game e's SplitMix64 stream k (0 = world, 1 + i = agent i); a draw in [0, 1)."""
    s = streams[e, k] + _GAMMA
    streams[e, k] = s
    z = (s ^ (s >> _S30)) * _MIX_1
    z = (z ^ (z >> _S27)) * _MIX_2
    z = z ^ (z >> _S31)
    return np.float64(z >> _S11) * _UNIT


@nb.njit(inline="always", **_JIT)
def _scripted_action(e, i, houses, locations, signals, last_target, params, streams,
                     scores, num_houses, num_agents):
    """Compiled twin of ``game.scripted.scripted_action``; returns (house, mode, signal)."""
    u_work = _uniform(streams, e, 1 + i)
    u_tie = _uniform(streams, e, 1 + i)
    u_fatigue = _uniform(streams, e, 1 + i)
    u_explore = _uniform(streams, e, 1 + i)
    u_house = _uniform(streams, e, 1 + i)
    u_mode = _uniform(streams, e, 1 + i)
    u_honest = _uniform(streams, e, 1 + i)
    p = params[e, i]
    num_burning = 0
    for j in range(num_houses):
        num_burning += houses[e, j] == BURNING
    own_fire = 0
    for j in range(i, num_houses, num_agents):
        own_fire |= houses[e, j] == BURNING
    house = i
    mode = REST
    if num_burning > 0:
        intent = (p[WORK_TENDENCY] + p[RISK_AVERSION] * (num_burning / num_houses)
                  + 0.5 * p[OWN_PRIORITY] * own_fire) * (1.0 - p[REST_BIAS])
        intent = min(max(intent, 0.0), 1.0)
        if u_work < intent:
            mode = WORK
            previous = last_target[e, i]
            if u_fatigue < p[FATIGUE_MEMORY] and previous >= 0 \
                    and houses[e, previous] == BURNING:
                house = previous
            else:
                best, num_ties = _score_targets(e, i, p, houses, locations, signals, scores,
                                                num_houses, num_agents)
                pick = int(u_tie * num_ties)
                for j in range(num_houses):  # the pick-th tied house, in house order
                    if houses[e, j] == BURNING and scores[e, j] >= best - TIE_TOLERANCE:
                        if pick == 0:
                            house = j
                            break
                        pick -= 1
        if u_explore < p[EXPLORATION]:
            house = int(u_house * num_houses)
            mode = int(u_mode * 2)
    signal = mode if u_honest < p[HONESTY] else 1 - mode
    return house, mode, signal


@nb.njit(inline="always", **_JIT)
def _score_targets(e, i, p, houses, locations, signals, scores, num_houses, num_agents):
    """Agent i's target score of every burning house into ``scores[e]``; returns the best
    score and how many houses tie with it."""
    best = -np.inf
    for j in range(num_houses):
        if houses[e, j] == BURNING:
            s = _target_score(e, i, j, p, locations, signals, num_houses, num_agents)
            scores[e, j] = s
            best = max(best, s)
    num_ties = 0
    for j in range(num_houses):
        if houses[e, j] == BURNING and scores[e, j] >= best - TIE_TOLERANCE:
            num_ties += 1
    return best, num_ties


@nb.njit(inline="always", **_JIT)
def _target_score(e, i, j, p, locations, signals, num_houses, num_agents):
    owned = 1.0 if j % num_agents == i else 0.0
    left = (j - 1) % num_houses
    right = (j + 1) % num_houses
    next_to_owned = 1.0 if (left % num_agents == i or right % num_agents == i) else 0.0
    crowd = 0
    for a in range(num_agents):
        if a != i and signals[e, a] == WORK and locations[e, a] == j:
            crowd += 1
    d = abs(j - i)
    d = min(d, num_houses - d)
    return (1.0 / (1.0 + d) + p[OWN_PRIORITY] * owned + p[NEIGHBOR_HELP] * next_to_owned
            + 0.5 * p[ALTRUISM] * (1.0 - owned) - 0.5 * p[COORDINATION] * crowd)


@nb.njit(inline="always", **_JIT)
def _reset_game(e, houses, nights, locations, modes, signals, last_target, potentials, scores,
                work_nights, honest_nights, params, streams, pool_params,
                pool_random, pool_size, initial_fires, scratch):
    """Start game e afresh: draw scripted strategies, then light the first fires."""
    num_agents = locations.shape[1]
    num_houses = houses.shape[1]
    for i in range(num_agents):
        if pool_size[i] > 0:
            k = int(_uniform(streams, e, 1 + i) * pool_size[i])
            if pool_random[i, k]:
                for q in range(NUM_PARAMS):
                    params[e, i, q] = _uniform(streams, e, 1 + i)
            else:
                for q in range(NUM_PARAMS):
                    params[e, i, q] = pool_params[i, k, q]
        locations[e, i] = i
        modes[e, i] = REST
        signals[e, i] = REST
        last_target[e, i] = -1
        potentials[e, i] = 0.0
        scores[e, i] = 0.0
        work_nights[e, i] = 0
        honest_nights[e, i] = 0
    order = scratch[e]
    for j in range(num_houses):
        order[j] = j
        houses[e, j] = SAFE
    for j in range(initial_fires):  # partial Fisher-Yates, as the reference engine
        swap = j + int(_uniform(streams, e, 0) * (num_houses - j))
        order[j], order[swap] = order[swap], order[j]
    for j in range(initial_fires):
        houses[e, order[j]] = BURNING
    nights[e] = 0


@nb.njit(inline="always", **_JIT)
def _write_obs(e, agent, houses, locations, modes, signals, info, obs_offsets, out):
    """Agent ``agent``'s egocentric observation of game e into ``out``; ``obs_offsets`` are
    the block starts of ``game.observation.ObservationLayout.offsets``."""
    houses_at, signals_at, locations_at, actions_at, info_at = obs_offsets
    num_houses = houses.shape[1]
    num_agents = locations.shape[1]
    j = agent
    for m in range(num_houses):
        out[houses_at + m] = houses[e, j]
        j = j + 1 if j + 1 < num_houses else 0
    a = agent
    for k in range(num_agents):
        rel = locations[e, a] - agent
        if rel < 0:
            rel += num_houses
        out[signals_at + k] = signals[e, a]
        out[locations_at + k] = rel
        out[actions_at + 2 * k] = rel
        out[actions_at + 2 * k + 1] = modes[e, a]
        a = a + 1 if a + 1 < num_agents else 0
    for q in range(info.shape[0]):
        out[info_at + q] = info[q]


@nb.njit(inline="always", **_JIT)
def _potential(e, agent, houses, sc, num_agents, team_term):
    """Φ_i(s) of RULES.md on game e's houses; ``team_term`` is its shared part."""
    num_houses = houses.shape[1]
    owned = 0
    own_safe = 0
    own_ruined = 0
    for j in range(agent, num_houses, num_agents):  # the houses agent i owns
        owned += 1
        own_safe += houses[e, j] == SAFE
        own_ruined += houses[e, j] == RUINED
    return (team_term + sc[SC_OWN_REWARD] * own_safe / owned
            - sc[SC_OWN_PENALTY] * own_ruined / owned)


@nb.njit(parallel=True, **_JIT)
def reset_games(houses, nights, locations, modes, signals, last_target, potentials, scores,
                work_nights, honest_nights, params, streams, pool_params,
                pool_random, pool_size, initial_fires, info, obs_offsets, observers, obs_out,
                scratch, chosen_games):
    """Reset the games where ``chosen_games`` is true and write their observers' first
    observations."""
    for e in nb.prange(houses.shape[0]):
        if not chosen_games[e]:
            continue
        _reset_game(e, houses, nights, locations, modes, signals, last_target, potentials,
                    scores, work_nights, honest_nights, params, streams,
                    pool_params, pool_random, pool_size, initial_fires, scratch)
        for k in range(observers.shape[0]):
            _write_obs(e, observers[k], houses, locations, modes, signals, info, obs_offsets,
                       obs_out[e, k])


@nb.njit(parallel=True, **_JIT)
def step_games(houses, nights, locations, modes, signals, last_target, potentials, scores,
               work_nights, honest_nights, params, streams, pool_params,
               pool_random, pool_size, initial_fires, info, obs_offsets, observers, obs_out,
               scratch, sc, min_nights, max_nights, external_slot, actions, chosen,
               score_buf, rewards_out, done_out, final_obs, final_scores, final_work,
               final_honest, final_safe, final_ruined, final_nights):
    """Play one night of every game; ended games report final statistics and restart.

    ``external_slot[i]`` is agent i's column in ``actions`` (house relative to home,
    mode, signal), or -1 for a scripted agent. Rewards are written for every agent.
    """
    num_games, num_houses = houses.shape
    num_agents = locations.shape[1]
    extinguish_fail = 1.0 - sc[SC_EXTINGUISH]
    for e in nb.prange(num_games):
        # Every agent decides from last night's public information.
        for i in range(num_agents):
            slot = external_slot[i]
            if slot >= 0:
                chosen[e, i, 0] = (i + actions[e, slot, 0]) % num_houses
                chosen[e, i, 1] = actions[e, slot, 1]
                chosen[e, i, 2] = actions[e, slot, 2]
            else:
                h, m, s = _scripted_action(e, i, houses, locations, signals, last_target,
                                           params, streams, score_buf, num_houses,
                                           num_agents)
                chosen[e, i, 0] = h
                chosen[e, i, 1] = m
                chosen[e, i, 2] = s
        # 1. Publish.
        workers = scratch[e]
        for j in range(num_houses):
            workers[j] = 0
        for i in range(num_agents):
            h = chosen[e, i, 0]
            m = chosen[e, i, 1]
            locations[e, i] = h
            modes[e, i] = m
            signals[e, i] = chosen[e, i, 2]
            last_target[e, i] = h if m == WORK else -1
            workers[h] += m == WORK
        # 2. Extinguish.
        for j in range(num_houses):
            if houses[e, j] == BURNING and workers[j] > 0 \
                    and _uniform(streams, e, 0) < 1.0 - extinguish_fail ** workers[j]:
                houses[e, j] = SAFE
        # 3. Spread. `workers` is reused from here on as the "ignited tonight" flags.
        for j in range(num_houses):
            workers[j] = 0
        for j in range(num_houses):
            if houses[e, j] != BURNING:
                continue
            left = (j - 1) % num_houses
            right = (j + 1) % num_houses
            if houses[e, left] == SAFE and _uniform(streams, e, 0) < sc[SC_SPREAD]:
                workers[left] = 1
            if right != left and houses[e, right] == SAFE \
                    and _uniform(streams, e, 0) < sc[SC_SPREAD]:
                workers[right] = 1
        # 4. Burn-out.
        for j in range(num_houses):
            if houses[e, j] == BURNING:
                houses[e, j] = RUINED
        # 5. Sparks.
        for j in range(num_houses):
            if houses[e, j] == SAFE and workers[j] == 0 \
                    and _uniform(streams, e, 0) < sc[SC_SPARK]:
                workers[j] = 1
        any_fire = False
        safe = 0
        ruined = 0
        for j in range(num_houses):
            if workers[j] == 1:
                houses[e, j] = BURNING
                any_fire = True
            safe += houses[e, j] == SAFE
            ruined += houses[e, j] == RUINED
        team_term = (sc[SC_TEAM_REWARD] * safe - sc[SC_TEAM_PENALTY] * ruined) / num_houses
        # 6. Rewards.
        for i in range(num_agents):
            m = chosen[e, i, 1]
            effort = -sc[SC_WORK_COST] if m == WORK else sc[SC_REST_REWARD]
            phi = _potential(e, i, houses, sc, num_agents, team_term)
            r = effort + phi - potentials[e, i]
            potentials[e, i] = phi
            scores[e, i] += r
            rewards_out[e, i] = r
            work_nights[e, i] += m == WORK
            honest_nights[e, i] += chosen[e, i, 2] == m
        nights[e] += 1
        # 7. End; an ended game reports and restarts at once.
        t = nights[e]
        done = (t >= min_nights and not any_fire) or t >= max_nights
        done_out[e] = done
        if done:
            final_safe[e] = safe
            final_ruined[e] = ruined
            final_nights[e] = t
            for i in range(num_agents):
                final_scores[e, i] = scores[e, i]
                final_work[e, i] = work_nights[e, i] / t
                final_honest[e, i] = honest_nights[e, i] / t
            for k in range(observers.shape[0]):
                _write_obs(e, observers[k], houses, locations, modes, signals, info,
                           obs_offsets, final_obs[e, k])
            _reset_game(e, houses, nights, locations, modes, signals, last_target, potentials,
                        scores, work_nights, honest_nights, params, streams,
                        pool_params, pool_random, pool_size, initial_fires, scratch)
        for k in range(observers.shape[0]):
            _write_obs(e, observers[k], houses, locations, modes, signals, info, obs_offsets,
                       obs_out[e, k])


@nb.njit(parallel=True, **_JIT)
def write_observations(houses, locations, modes, signals, info, obs_offsets, observers,
                       obs_out):
    """The observers' observations of every game's current state into ``obs_out``: for a
    state set from outside the kernel (a planner's continuations start from the real
    game's state)."""
    for e in nb.prange(houses.shape[0]):
        for k in range(observers.shape[0]):
            _write_obs(e, observers[k], houses, locations, modes, signals, info, obs_offsets,
                       obs_out[e, k])


@nb.njit(parallel=True, **_JIT)
def scripted_seat_actions(agent, houses, locations, signals, last_target, params, streams,
                          score_buf, out):
    """Agent ``agent``'s scripted (house, mode, signal) in every game into ``out`` [E, 3]
    (absolute house), from ``params[e, agent]`` and its stream, as :func:`step_games` would
    decide it: for a seat that the engine treats as external but that follows a scripted
    rule on some nights (the planner's base strategy)."""
    num_houses = houses.shape[1]
    num_agents = locations.shape[1]
    for e in nb.prange(houses.shape[0]):
        h, m, s = _scripted_action(e, agent, houses, locations, signals, last_target, params,
                                   streams, score_buf, num_houses, num_agents)
        out[e, 0] = h
        out[e, 1] = m
        out[e, 2] = s


@nb.njit(inline="always", **_JIT)
def _action_probability(e, i, p, houses, locations, signals, last_target, scores, house, mode,
                        signal, num_houses, num_agents):
    """Probability that a scripted agent i with parameters ``p`` takes (house, mode, signal)
    in game e's state: :func:`_scripted_action`'s draws integrated out."""
    num_burning = 0
    for j in range(num_houses):
        num_burning += houses[e, j] == BURNING
    if num_burning == 0:  # rest at home, no exploring
        located = 1.0 if (house == i and mode == REST) else 0.0
    else:
        own_fire = 0
        for j in range(i, num_houses, num_agents):
            own_fire |= houses[e, j] == BURNING
        intent = (p[WORK_TENDENCY] + p[RISK_AVERSION] * (num_burning / num_houses)
                  + 0.5 * p[OWN_PRIORITY] * own_fire) * (1.0 - p[REST_BIAS])
        intent = min(max(intent, 0.0), 1.0)
        if mode == REST:
            chosen = (1.0 - intent) if house == i else 0.0
        else:
            previous = last_target[e, i]
            keep = p[FATIGUE_MEMORY] if (previous >= 0 and houses[e, previous] == BURNING) \
                else 0.0
            best, num_ties = _score_targets(e, i, p, houses, locations, signals, scores,
                                            num_houses, num_agents)
            tied = houses[e, house] == BURNING and scores[e, house] >= best - TIE_TOLERANCE
            target = keep * (house == previous) + (1.0 - keep) * (tied / num_ties)
            chosen = intent * target
        located = (1.0 - p[EXPLORATION]) * chosen + p[EXPLORATION] / (2.0 * num_houses)
    return located * (p[HONESTY] if signal == mode else 1.0 - p[HONESTY])


@nb.njit(parallel=True, **_JIT)
def scripted_likelihoods(agent, houses, locations, signals, last_target, candidates, observed,
                         score_buf, out):
    """``out[e, k]``: the probability that agent ``agent``, scripted with parameters
    ``candidates[e, k]``, chose ``observed[e]`` (absolute house, mode, signal) in game e's
    state (houses, and last night's locations, signals and fatigue targets)."""
    num_houses = houses.shape[1]
    num_agents = locations.shape[1]
    for e in nb.prange(houses.shape[0]):
        for k in range(candidates.shape[1]):
            out[e, k] = _action_probability(e, agent, candidates[e, k], houses, locations,
                                            signals, last_target, score_buf, observed[e, 0],
                                            observed[e, 1], observed[e, 2], num_houses,
                                            num_agents)
