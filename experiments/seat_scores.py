"""How a self-play model plays when it holds every seat: the team score (mean score of
all agents) with its 95% CI over fresh games, and each seat's score and greedy work rate
on nights when some house burns, which tell a division of labour (independent or
seat-aware learners) from a symmetric answer (one shared network).

Every seat is played greedily by its own network (an independent run's) or told its
seat (a seat-aware network); a shared network plays them all alike.

    python experiments/seat_scores.py experiments/marl/model_RUN.pt greedy_neighbor
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from bucket_brigade.confidence import ci95_half_width
from bucket_brigade.envs.vector import make_vec_env
from bucket_brigade.errors import UsageError
from bucket_brigade.game.constants import BURNING, WORK
from bucket_brigade.game.observation import ObservationLayout
from bucket_brigade.game.scenarios import get_scenario
from bucket_brigade.training.models import load_policy


def seat_scores(model_path: str, scenario_name: str, games: int = 1000,
                seed: int = 0) -> dict[str, float | list[float]]:
    """Team score (mean, CI half-width) over ``games`` fresh games, per-seat scores and
    per-seat work rates on fire nights."""
    policy = load_policy(model_path)
    scenario = get_scenario(scenario_name)
    agents = ObservationLayout.from_obs_dim(policy.obs_dim,
                                            policy.network.action_dims[0]).num_agents
    policy.check_fits(scenario, agents)
    play = policy.play_seats(range(agents))
    env = make_vec_env(games * agents, scenario, num_opponents=0, num_learners=agents,
                       cheap_talk=policy.network.cheap_talk, seed=seed)
    width = 3 if policy.network.cheap_talk else 2
    obs, _ = env.reset(seed=seed)
    done = np.zeros(games, dtype=bool)
    scores = np.zeros((games, agents))
    worked = np.zeros(agents)
    fire_nights = np.zeros(agents)
    while not done.all():
        action = play(obs)
        fire = (obs[:, :scenario.num_houses] == BURNING).any(axis=1)
        live = np.repeat(~done, agents)  # each game counted until its first end
        seat = np.arange(len(obs)) % agents
        np.add.at(fire_nights, seat[fire & live], 1)
        np.add.at(worked, seat[fire & live & (action[:, 1] == WORK)], 1)
        obs, _, terminated, _, info = env.step(action[:, :width])
        ended = terminated.reshape(games, agents)[:, 0] & ~done
        if ended.any():
            scores[ended] = info["final_info"]["score"].reshape(games, agents)[ended]
            done |= ended
    team = scores.mean(axis=1)
    return {"team_score": float(team.mean()), "team_ci95": float(ci95_half_width(team)),
            "seat_scores": scores.mean(axis=0).tolist(),
            "seat_work_rates": (worked / np.maximum(fire_nights, 1)).tolist()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="a self-play model_{run}.pt or checkpoint")
    parser.add_argument("scenario", help="the scenario it plays")
    parser.add_argument("--games", type=int, default=1000, help="games (default: 1000)")
    parser.add_argument("--seed", type=int, default=0, help="the games' seed (default: 0)")
    args = parser.parse_args(argv)
    try:
        figures = seat_scores(args.model, args.scenario, args.games, args.seed)
    except UsageError as exc:
        print(f"seat_scores: error: {exc}", file=sys.stderr)
        return 2
    print(f"team score {figures['team_score']:.2f} ± {figures['team_ci95']:.2f}; by seat: "
          + ", ".join(f"{s:.1f}" for s in figures["seat_scores"]) + "; work rate on fire "
          "nights by seat: " + ", ".join(f"{r:.2f}" for r in figures["seat_work_rates"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
