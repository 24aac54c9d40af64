"""When does a self-play policy work? Its greedy work rate on fire nights, split by
whether one of the agent's own houses burns and by the number of burning houses.

Every seat of every game is played by the model (as in ``train --self-play``); each
agent-night on which some house burns is counted once, from that agent's view.

    python experiments/work_rates.py /tmp/eq/model_sp_greedy_neighbor.pt greedy_neighbor
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from bucket_brigade.envs.vector import make_vec_env
from bucket_brigade.errors import UsageError
from bucket_brigade.game.constants import BURNING, WORK
from bucket_brigade.game.observation import ObservationLayout
from bucket_brigade.game.scenarios import get_scenario
from bucket_brigade.training.models import load_policy

CASES = ("own house burns", "own houses safe", "one fire", "several fires")


def work_rates(model_path: str, scenario_name: str, games: int = 400, nights: int = 100,
               seed: int = 0) -> dict[str, tuple[float, int]]:
    """(work rate, agent-nights) for every case of :data:`CASES`, and for all fire nights."""
    policy = load_policy(model_path)
    scenario = get_scenario(scenario_name)
    agents = ObservationLayout.from_obs_dim(policy.obs_dim,
                                            policy.network.action_dims[0]).num_agents
    policy.check_fits(scenario, agents)
    env = make_vec_env(games * agents, scenario, num_opponents=0, num_learners=agents,
                       cheap_talk=policy.network.cheap_talk, seed=seed)
    houses = scenario.num_houses
    seat = np.arange(games * agents) % agents  # slot k is seat k mod N of game k // N
    relative = np.arange(houses)
    owned = ((seat[:, None] + relative) % houses) % agents == seat[:, None]  # [slots, H]
    play = policy.play_seats(range(agents))  # each seat by its own network, if it has one
    counts = {case: [0, 0] for case in (*CASES, "every fire night")}
    obs, _ = env.reset(seed=seed)
    for _ in range(nights):  # ended games restart at once: every step is a real night
        action = play(obs)
        burning = obs[:, :houses] == BURNING
        fires = burning.sum(axis=1)
        works = action[:, 1] == WORK
        own = (burning & owned).any(axis=1)
        for case, chosen in (("own house burns", own), ("own houses safe", ~own),
                             ("one fire", fires == 1), ("several fires", fires > 1),
                             ("every fire night", fires > 0)):
            chosen = chosen & (fires > 0)
            counts[case][0] += int((works & chosen).sum())
            counts[case][1] += int(chosen.sum())
        obs, *_ = env.step(action if policy.network.cheap_talk else action[:, :2])
    return {case: (worked / max(seen, 1), seen) for case, (worked, seen) in counts.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="a self-play model_{run}.pt or checkpoint")
    parser.add_argument("scenario", help="the scenario it plays")
    parser.add_argument("--games", type=int, default=400, help="games (default: 400)")
    parser.add_argument("--nights", type=int, default=100, help="nights played (default: 100)")
    args = parser.parse_args(argv)
    try:
        rates = work_rates(args.model, args.scenario, args.games, args.nights)
    except UsageError as exc:
        print(f"work_rates: error: {exc}", file=sys.stderr)
        return 2
    for case, (rate, seen) in rates.items():
        print(f"{case:>17}: {rate:.3f} ({seen:,} agent-nights)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
