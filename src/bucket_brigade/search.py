"""Rollout search for planner seats: every night, score each candidate action by playing
out continuations of the game in the batched engine, and play the best (a candidate must
beat the base strategy's own choice by a margin of standard errors).

What the planner knows (the information a seat has under the rules, RULES.md):

* the houses, and every agent's location, mode and signal last night: its observation;
* the night number: public history (every seat counts the nights);
* each agent's fatigue target (``last_target``): its location if it worked last night,
  else none, which the observation shows;
* the scenario's parameters, and the opponents' strategy names (an assumption, as for any
  best response: the planner is a best response to named strategies). A ``random``
  opponent's parameters are drawn afresh each game and are not public, nor is which
  entry of a pool a seat drew: the planner keeps P weighted samples of them per game
  (drawn from the seat's own prior), weighs each by the probability that the scripted
  rule with those parameters takes the actions the seat was seen to take, night after
  night (importance sampling: the posterior given the public history), and each
  continuation draws its opponents' parameters from these weights. With P = 0 each
  continuation draws them from the prior instead. Another planner seat is modelled by
  its base. A trained policy in another seat is known as a strategy name is (its
  weights), acting greedily: a function of its observation, which is public state seen
  from its seat, so the continuations play it (one forward pass per night over every
  continuation still running).

It never sees a random draw of the real game: every continuation runs on streams seeded
from the planner's own seed, the game's index, the night and the continuation's number
(continuation j of every candidate shares its streams: common random numbers between
candidates). The base strategy's own choice each night (a candidate, and the reference
of the margin) draws from the seat's own stream, the one a scripted seat in that place
would use and nothing else draws from, so a planner that only considers its base's
choice plays exactly its base.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from bucket_brigade.agents.planner import PlannerSeat
from bucket_brigade.engine import kernel
from bucket_brigade.engine.batch import GameBatch
from bucket_brigade.errors import UsageError
from bucket_brigade.game.constants import BURNING, REST, RUINED, SAFE, WORK
from bucket_brigade.game.rng import (
    GOLDEN_GAMMA,
    UNIT,
    WORLD_STREAM,
    agent_stream,
    mix64,
    mix64_array,
    stream_states,
)
from bucket_brigade.game.scenarios import Scenario
from bucket_brigade.game.scripted import NUM_PARAMS
from bucket_brigade.game.seat import Seat

# Tag mixed into the planner's seed so that its streams never coincide with a game's.
_PLANNER_STREAMS = 0x706C616E6E6572  # "planner"
_BELIEF_SAMPLES = 0x62656C696566  # "belief"
_TINY = 1e-300  # the smallest probability an observed action is given (log of 0 is -inf)
ActionPolicy = Callable[[np.ndarray], np.ndarray]


class Planner:
    """The search of seat ``agent`` (a :class:`PlannerSeat`) over a set of real games.

    ``game_ids[e]`` is real game e's index (its continuations' streams depend on it, not on
    which other games are searched alongside); ``game_seed`` is the real games' seed, used
    only for the seat's own stream (see the module docstring). ``others`` plays the
    external seats that are not planners (trained policies acting greedily): given their
    observations [R, k, obs_dim] (in seat order) it returns their actions [R, k, 3], the
    same for the same observations.
    """

    def __init__(self, scenario: Scenario, seats: Sequence[Seat], agent: int, game_seed: int,
                 game_ids: np.ndarray, others: ActionPolicy | None = None) -> None:
        spec = seats[agent]
        if not isinstance(spec, PlannerSeat):
            raise TypeError(f"seat {agent} is not a planner seat")
        modelled = [i for i, seat in enumerate(seats) if seat.external
                    and not isinstance(seat, PlannerSeat)]
        if modelled and others is None:
            raise UsageError(f"a planner plans against named strategies and trained models; "
                             f"seat {modelled[0]} is a trained policy or client whose actions "
                             "its continuations cannot play")
        self.spec = spec
        self.others = others
        self.scenario = scenario
        self.agent = agent
        self.num_agents = len(seats)
        self.game_ids = np.asarray(game_ids, dtype=np.int64)
        # In the continuations the planner's seat is external (its first action is the
        # candidate, then its base's); other planners follow their bases.
        self.rollout_seats = [Seat() if i == agent else
                              Seat((seat.base,)) if isinstance(seat, PlannerSeat) else seat
                              for i, seat in enumerate(seats)]
        # The continuations' external seats: the planner's and the modelled ones.
        external = sorted([agent, *modelled])
        self._slot = external.index(agent)
        self._modelled_slots = [external.index(i) for i in modelled]
        self.layout = scenario.observation_layout(self.num_agents)
        # The seat's own stream, as a scripted seat there would hold it after its reset
        # (one draw: the pick from its one-entry pool).
        self._own_stream = stream_states(game_seed, self.game_ids, [agent_stream(agent)])[:, 0]
        self._own_stream += np.uint64(GOLDEN_GAMMA)
        seed_key = mix64(mix64(spec.seed) ^ _PLANNER_STREAMS)
        self._game_keys = mix64_array(np.uint64(seed_key) + self.game_ids.astype(np.uint64))
        self.beliefs = Beliefs(seats, agent, self._game_keys, spec.particles) \
            if spec.particles else None
        self.game_nights_simulated = 0

    def act(self, observations: np.ndarray, nights: np.ndarray,
            active: np.ndarray) -> np.ndarray:
        """Actions [E, 3] (house relative to home, mode, signal) from the seat's observations
        [E, obs_dim] and the night number of each game; games where ``active`` is false get
        a rest at home without any search."""
        state = self.public_state(observations)
        if self.beliefs is not None:
            self.beliefs.observe(state, np.asarray(nights), np.asarray(active, dtype=np.bool_))
        base = self._base_choices(state)
        chosen = np.zeros((len(observations), 3), dtype=np.int64)
        chosen[:, 0] = self.agent
        games = np.flatnonzero(active)
        if len(games):
            chosen[games] = self._search(state, nights, games, base)
        chosen[:, 0] = (chosen[:, 0] - self.agent) % self.scenario.num_houses
        return chosen

    def public_state(self, observations: np.ndarray) -> dict[str, np.ndarray]:
        """The game's state as far as the observation shows it, in absolute terms."""
        h, n, i = self.scenario.num_houses, self.num_agents, self.agent
        layout = self.layout
        obs = np.asarray(observations)
        houses = np.empty((len(obs), h), dtype=np.int8)
        houses[:, (i + np.arange(h)) % h] = obs[:, layout.houses]
        order = (i + np.arange(n)) % n  # observation position k is agent (i + k) mod N
        locations = np.empty((len(obs), n), dtype=np.int64)
        locations[:, order] = (i + obs[:, layout.locations].astype(np.int64)) % h
        modes = np.empty((len(obs), n), dtype=np.int8)
        modes[:, order] = obs[:, layout.last_modes]
        signals = np.empty((len(obs), n), dtype=np.int8)
        signals[:, order] = obs[:, layout.signals]
        last_target = np.where(modes == WORK, locations, -1)
        return {"houses": houses, "locations": locations, "modes": modes, "signals": signals,
                "last_target": last_target}

    def _base_choices(self, state: dict[str, np.ndarray]) -> np.ndarray:
        """The base strategy's (house, mode, signal) [E, 3] in every game, from the seat's
        own stream, which advances as a scripted seat's would."""
        games = len(state["houses"])
        params = np.zeros((games, self.num_agents, NUM_PARAMS))
        params[:, self.agent] = self.spec.base
        streams = np.zeros((games, 1 + self.num_agents), dtype=np.uint64)
        streams[:, 1 + self.agent] = self._own_stream
        out = np.zeros((games, 3), dtype=np.int64)
        kernel.scripted_seat_actions(self.agent, state["houses"], state["locations"],
                                     state["signals"], state["last_target"], params, streams,
                                     np.zeros(state["houses"].shape), out)
        self._own_stream = streams[:, 1 + self.agent].copy()
        return out

    def _candidates(self, houses: np.ndarray, games: np.ndarray, base: np.ndarray,
                    ) -> tuple[np.ndarray, np.ndarray]:
        """The game of every candidate action and the action (house, mode, signal)
        [C, 3], grouped by game, and which candidate is the base's own choice: the base's
        choice alone, or resting at home and working at each burning house (working where
        nothing burns costs and changes nothing a scripted agent looks at, and where one
        rests does not matter). A candidate signals its mode, except the base's own
        choice, which keeps the base's signal (so that a planner whose only candidate is
        its base's choice plays its base exactly).

        With cheap talk (``talk``) each is also tried with the other signal, right after
        it (ties go to the first), and so is resting, signalling WORK, at each other house
        that may burn tomorrow (a safe neighbour of a fire). A scripted agent shuns a
        burning house where someone signalled WORK last night, and a fire lasts one night
        (it goes out or ruins its house), so a signal mostly speaks about such houses."""
        if self.spec.candidates == "base":
            return games, base[games], np.ones(len(games), dtype=np.bool_)
        h = self.scenario.num_houses
        burning = houses[games] == BURNING
        # Column 0: rest at home; 1 + j: work at house j, if it burns; 1 + h + j (with
        # cheap talk): rest at house j signalling WORK, if j is not home and may burn.
        allowed = np.zeros((len(games), 1 + 2 * h), dtype=np.bool_)
        allowed[:, 0] = True
        allowed[:, 1:1 + h] = burning
        if self.spec.candidates == "talk":
            threatened = (houses[games] == SAFE) \
                & (np.roll(burning, 1, axis=1) | np.roll(burning, -1, axis=1))
            threatened[:, self.agent] = False
            allowed[:, 1 + h:] = threatened
        rows, columns = np.nonzero(allowed)  # row-major: grouped by game, rest first
        game_of = games[rows]
        house = np.where(columns == 0, self.agent, (columns - 1) % h)
        mode = np.where((columns >= 1) & (columns <= h), WORK, REST)
        signal = np.where(columns > h, WORK, mode)
        if self.spec.candidates == "talk":  # both signals for resting at home and working
            copies = np.where(columns <= h, 2, 1)
            second = np.arange(copies.sum()) - np.repeat(np.cumsum(copies) - copies, copies) == 1
            game_of, house, mode, signal = (np.repeat(column, copies)
                                            for column in (game_of, house, mode, signal))
            signal = np.where(second, 1 - signal, signal)
        same_intent = (house == base[game_of, 0]) & (mode == base[game_of, 1])
        if self.spec.candidates == "talk":
            is_base = same_intent & (signal == base[game_of, 2])
        else:
            is_base = same_intent
            signal = np.where(is_base, base[game_of, 2], signal)
        return game_of, np.stack([house, mode, signal], axis=1), is_base

    def _search(self, state: dict[str, np.ndarray], nights: np.ndarray, games: np.ndarray,
                base: np.ndarray) -> np.ndarray:
        """The best candidate's (house, mode, signal) [len(games), 3] for each game of
        ``games``."""
        k = self.spec.continuations
        cand_game, cand_action, is_base = self._candidates(state["houses"], games, base)
        row_game = np.repeat(cand_game, k)
        row_cont = np.tile(np.arange(k, dtype=np.uint64), len(cand_game))
        rollouts = GameBatch(self.scenario, self.rollout_seats, len(row_game))
        rollouts.streams[:] = self._rollout_streams(row_game, row_cont, nights)
        rollouts.restart()  # draws the opponents' parameters from their priors
        self._load_state(rollouts, state, nights, row_game)
        if self.beliefs is not None and self.beliefs.seats:
            # From the posterior instead; continuation j of every candidate draws alike.
            rollouts.params[:, self.beliefs.seats] = self.beliefs.draw(
                row_game, unit_draws(rollouts.streams[:, 0], len(self.beliefs.seats)))
        first = np.repeat(cand_action, k, axis=0)
        first[:, 0] = (first[:, 0] - self.agent) % self.scenario.num_houses
        values = self._play(rollouts, first, row_game).reshape(len(cand_game), k)
        pick = self._choose(values, cand_game, is_base, len(state["houses"]))
        return cand_action[pick]

    def _choose(self, values: np.ndarray, cand_game: np.ndarray, is_base: np.ndarray,
                num_games: int) -> np.ndarray:
        """Each game's chosen candidate (an index into the candidates, in game order).

        A candidate is judged by its mean gain over the base's own choice, continuation by
        continuation, less ``margin`` standard errors of that gain: with few continuations
        a noisy best mean would often be a worse action than the base's, and the rollout's
        improvement over its base holds for exact values only. Where the base's choice is
        not among the candidates (it explored), the best mean wins."""
        base_row = np.full(num_games, -1)
        base_row[cand_game[is_base]] = np.flatnonzero(is_base)
        reference = base_row[cand_game]  # the row of each candidate's base choice, or -1
        guarded = reference >= 0
        gains = values - np.where(guarded[:, None], values[reference], 0.0)
        k = values.shape[1]
        error = gains.std(axis=1, ddof=1) / np.sqrt(k) if k > 1 else np.zeros(len(gains))
        score = gains.mean(axis=1) - np.where(guarded, self.spec.margin * error, 0.0)
        score[is_base] = 0.0
        best = np.full(num_games, -np.inf)
        np.maximum.at(best, cand_game, score)
        winners = np.flatnonzero(score >= best[cand_game])
        # Among equals the base's choice, then the first candidate.
        winners = winners[np.lexsort((winners, ~is_base[winners], cand_game[winners]))]
        _, first = np.unique(cand_game[winners], return_index=True)
        return winners[first]

    def _rollout_streams(self, row_game: np.ndarray, row_cont: np.ndarray,
                         nights: np.ndarray) -> np.ndarray:
        """Fresh streams per (game, night, continuation), from the planner's seed only."""
        key = mix64_array(self._game_keys[row_game]
                          ^ (np.asarray(nights, dtype=np.uint64)[row_game] << np.uint64(32)))
        key = mix64_array(key + row_cont)
        ids = np.asarray([WORLD_STREAM, *(agent_stream(i) for i in range(self.num_agents))],
                         dtype=np.uint64)
        return mix64_array(key[:, None] ^ ids[None, :])

    def _load_state(self, rollouts: GameBatch, state: dict[str, np.ndarray],
                    nights: np.ndarray, row_game: np.ndarray) -> None:
        """Put each real game's public state into its continuations, scores counted from
        now on: a continuation's final score is the planner's return from tonight."""
        houses = state["houses"][row_game]
        rollouts.houses[:] = houses
        rollouts.nights[:] = np.asarray(nights)[row_game]
        for name in ("locations", "modes", "signals", "last_target"):
            getattr(rollouts, name)[:] = state[name][row_game]
        rollouts.potentials[:] = potentials(self.scenario, houses, self.num_agents)
        rollouts.scores[:] = 0.0
        rollouts.work_nights[:] = 0
        rollouts.honest_nights[:] = 0
        rollouts.params[:, self.agent] = self.spec.base

    def _play(self, rollouts: GameBatch, first: np.ndarray, row_game: np.ndarray) -> np.ndarray:
        """Every continuation's return to the planner's seat, its first action ``first``
        [R, 3]: to the game's end, or over ``horizon`` nights (then the rewards so far,
        which count the houses' change)."""
        size = rollouts.num_games
        values = np.zeros(size)
        ended = np.zeros(size, dtype=np.bool_)
        actions = np.zeros((size, len(rollouts.external_agents), 3), dtype=np.int64)
        actions[:, self._slot] = first
        absolute = np.zeros((size, 3), dtype=np.int64)
        night = 0
        while not ended.all() and (self.spec.horizon is None or night < self.spec.horizon):
            if night:
                kernel.scripted_seat_actions(
                    self.agent, rollouts.houses, rollouts.locations, rollouts.signals,
                    rollouts.last_target, rollouts.params, rollouts.streams,
                    np.zeros(rollouts.houses.shape), absolute)
                actions[:, self._slot, 0] = (absolute[:, 0] - self.agent) \
                    % self.scenario.num_houses
                actions[:, self._slot, 1:] = absolute[:, 1:]
            if self._modelled_slots:
                self._modelled_actions(rollouts, actions, ended, row_game if night == 0
                                       else None)
            rollouts.step(actions)
            fresh = rollouts.finished.done & ~ended
            values[fresh] = rollouts.finished.scores[fresh, self.agent]
            ended |= fresh
            night += 1
        values[~ended] = rollouts.scores[~ended, self.agent]
        self.game_nights_simulated += night * size
        return values

    def _modelled_actions(self, rollouts: GameBatch, actions: np.ndarray, ended: np.ndarray,
                          row_game: np.ndarray | None) -> None:
        """The modelled seats' actions in the continuations still running, into
        ``actions``; on the first night (``row_game`` given) every continuation of a game
        starts from that game's state, so one row per game is asked."""
        slots = self._modelled_slots
        if row_game is not None:
            observations = rollouts.refresh_observations()
            _, rows, copies = np.unique(row_game, return_index=True, return_inverse=True)
            actions[:, slots] = self.others(observations[rows][:, slots])[copies]
            return
        rows = np.flatnonzero(~ended)
        actions[rows[:, None], slots] = self.others(rollouts.observations[rows][:, slots])


def unit_draws(keys: np.ndarray, count: int) -> np.ndarray:
    """``count`` numbers in [0, 1) [len(keys), count] hashed from 64-bit keys: each key
    gives the same numbers wherever it occurs."""
    counters = np.uint64(GOLDEN_GAMMA) * np.arange(1, count + 1, dtype=np.uint64)
    mixed = mix64_array(np.asarray(keys, dtype=np.uint64)[:, None] ^ counters[None, :])
    return (mixed >> np.uint64(11)).astype(np.float64) * UNIT


class Beliefs:
    """The planner's belief about the parameters of the scripted seats that draw theirs per
    game (``random``, pools): per game and seat, ``size`` samples from the seat's prior
    with log-weights, each night multiplied by the probability of the seat's action
    (:func:`~bucket_brigade.engine.kernel.scripted_likelihoods`). Seats with one fixed
    strategy need none: their parameters are known from their name."""

    def __init__(self, seats: Sequence[Seat], agent: int, game_keys: np.ndarray,
                 size: int) -> None:
        self.seats = [i for i, seat in enumerate(seats) if i != agent and not seat.external
                      and (len(seat.pool) > 1 or None in seat.pool)]
        games, hidden = len(game_keys), len(self.seats)
        draws = unit_draws(mix64_array(game_keys ^ np.uint64(_BELIEF_SAMPLES)),
                           hidden * size * (1 + NUM_PARAMS))
        draws = draws.reshape(games, hidden, size, 1 + NUM_PARAMS)
        self.samples = np.zeros((games, hidden, size, NUM_PARAMS))
        for b, i in enumerate(self.seats):
            pool = seats[i].pool
            entry = (draws[:, b, :, 0] * len(pool)).astype(np.int64)
            for k, params in enumerate(pool):
                picked = entry == k
                self.samples[:, b][picked] = draws[:, b, :, 1:][picked] if params is None \
                    else params
        self.log_weights = np.zeros((games, hidden, size))
        self._previous: dict[str, np.ndarray] | None = None

    def observe(self, state: dict[str, np.ndarray], nights: np.ndarray,
                active: np.ndarray) -> None:
        """Weigh the samples by last night's actions, which ``state`` (tonight's public state)
        shows; a game on its first night starts from the prior."""
        seen = active & (nights > 0)
        if self._previous is not None and seen.any():
            before = self._previous
            for b, i in enumerate(self.seats):
                observed = np.stack([state["locations"][:, i], state["modes"][:, i],
                                     state["signals"][:, i]], axis=1).astype(np.int64)
                likelihood = np.zeros(self.log_weights.shape[::2])
                kernel.scripted_likelihoods(i, before["houses"], before["locations"],
                                            before["signals"], before["last_target"],
                                            self.samples[:, b], observed,
                                            np.zeros(before["houses"].shape), likelihood)
                self.log_weights[seen, b] += np.log(np.maximum(likelihood[seen], _TINY))
        self.log_weights[nights == 0] = 0.0
        self._previous = state

    def draw(self, row_game: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
        """Parameters [R, seats, NUM_PARAMS] for continuation rows of the given games, each
        sample with its posterior probability (inverse CDF of ``uniforms`` [R, seats])."""
        weights = np.exp(self.log_weights - self.log_weights.max(axis=-1, keepdims=True))
        cumulative = np.cumsum(weights, axis=-1)
        cumulative /= cumulative[..., -1:]
        size = cumulative.shape[-1]
        out = np.empty((len(row_game), len(self.seats), NUM_PARAMS))
        offsets = np.arange(len(cumulative), dtype=np.float64)[:, None]
        for b in range(len(self.seats)):
            # Game g's CDF shifted by g makes one sorted array for every game.
            flat = (cumulative[:, b] + offsets).ravel()
            position = np.searchsorted(flat, row_game + uniforms[:, b], side="right")
            index = np.clip(position - row_game * size, 0, size - 1)
            out[:, b] = self.samples[row_game, b, index]
        return out


def potentials(scenario: Scenario, houses: np.ndarray, num_agents: int) -> np.ndarray:
    """Φ_i of RULES.md for every agent [G, N] on houses [G, H]."""
    h = scenario.num_houses
    safe = houses == SAFE
    ruined = houses == RUINED
    team = (scenario.team_reward_house_survives * safe.sum(axis=1)
            - scenario.team_penalty_house_burns * ruined.sum(axis=1)) / h
    owner = np.arange(h) % num_agents
    result = np.empty((len(houses), num_agents))
    for i in range(num_agents):
        own = owner == i
        result[:, i] = (team + scenario.reward_own_house_survives * safe[:, own].mean(axis=1)
                        - scenario.penalty_own_house_burns * ruined[:, own].mean(axis=1))
    return result


class PlannedPlay:
    """A ``play_out`` policy for a batch whose seats include planners: each planner seat
    searches; the other external seats' actions come from ``others`` (given their
    observations [E, k, obs_dim], it returns [E, k, 3]). With ``known_others`` (greedy
    trained policies: the same actions for the same observations, no state of their own)
    the planners play ``others`` in their continuations too; without, a planner refuses
    external seats. Games that have ended once are no longer searched (``play_out``
    ignores their next games)."""

    def __init__(self, batch: GameBatch, others: ActionPolicy | None = None,
                 known_others: bool = False) -> None:
        slots = list(enumerate(batch.external_agents))
        planned = [(slot, int(agent)) for slot, agent in slots
                   if isinstance(batch.seats[agent], PlannerSeat)]
        self.other_slots = [slot for slot, agent in slots
                            if not isinstance(batch.seats[agent], PlannerSeat)]
        if self.other_slots and others is None:
            raise ValueError("this batch has external seats besides its planners; pass others")
        game_ids = np.arange(batch.num_games)
        modelled = others if known_others else None
        self.planners = [(slot, Planner(batch.scenario, batch.seats, agent, batch.seed,
                                        game_ids, modelled)) for slot, agent in planned]
        self.batch = batch
        self.others = others
        self.num_slots = len(slots)
        self.ended = np.zeros(batch.num_games, dtype=np.bool_)

    def __call__(self, observations: np.ndarray) -> np.ndarray:
        self.ended |= self.batch.finished.done  # the night just played ended these games
        actions = np.zeros((self.batch.num_games, self.num_slots, 3), dtype=np.int64)
        if self.other_slots:
            actions[:, self.other_slots] = self.others(observations[:, self.other_slots])
        for slot, planner in self.planners:
            actions[:, slot] = planner.act(observations[:, slot], self.batch.nights,
                                           ~self.ended)
        return actions

    @property
    def game_nights_simulated(self) -> int:
        """Nights of continuation games the engine has played for every planner so far."""
        return sum(planner.game_nights_simulated for _, planner in self.planners)


def with_planners(batch: GameBatch, others: ActionPolicy | None = None,
                  known_others: bool = False) -> ActionPolicy | None:
    """The batch's ``play_out`` policy: a :class:`PlannedPlay` if a seat is a planner, else
    ``others`` itself."""
    if not any(isinstance(seat, PlannerSeat) for seat in batch.seats):
        return others
    return PlannedPlay(batch, others, known_others)


def single_game_policy(scenario: Scenario, seats: Sequence[Seat], agent: int, seed: int,
                       game_index: int, others: ActionPolicy | None = None,
                       ) -> Callable[[np.ndarray], np.ndarray]:
    """The planner of seat ``agent`` in one game (game ``game_index`` of seed ``seed``), as
    a callable from its observation to its action, called once per night from the first;
    ``others`` plays the external seats that are not planners in its continuations (see
    :class:`Planner`)."""
    planner = Planner(scenario, seats, agent, seed, np.array([game_index]), others)
    night = np.zeros(1, dtype=np.int64)
    active = np.ones(1, dtype=np.bool_)

    def act(observation: np.ndarray) -> np.ndarray:
        action = planner.act(np.asarray(observation)[None], night, active)[0]
        night[0] += 1
        return action

    return act
