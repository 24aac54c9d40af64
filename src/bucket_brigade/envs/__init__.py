"""Standard interfaces to the game: Gymnasium (single and vector) and PettingZoo (parallel).

Importing this package registers ``BucketBrigade-v0`` with Gymnasium, so
``gymnasium.make("BucketBrigade-v0", scenario="easy")`` builds the single env and
``gymnasium.make_vec("BucketBrigade-v0", num_envs=8)`` the batched vector env
(``gymnasium.make("bucket_brigade.envs:BucketBrigade-v0")`` imports it first).
"""

import gymnasium

from bucket_brigade.envs.drawn_opponents import Population
from bucket_brigade.envs.gym_env import ENV_ID, BucketBrigadeEnv, make_env
from bucket_brigade.envs.manual_reset import ManualResetVectorEnv
from bucket_brigade.envs.pettingzoo_env import BucketBrigadeParallelEnv, parallel_env
from bucket_brigade.envs.render import Replay, Snapshot, record_game, render_text
from bucket_brigade.envs.vector import BucketBrigadeVectorEnv, make_vec_env

if ENV_ID not in gymnasium.registry:
    gymnasium.register(
        id=ENV_ID,
        entry_point="bucket_brigade.envs.gym_env:BucketBrigadeEnv",
        vector_entry_point="bucket_brigade.envs.vector:BucketBrigadeVectorEnv",
        nondeterministic=False,
    )

__all__ = [
    "ENV_ID",
    "BucketBrigadeEnv",
    "BucketBrigadeParallelEnv",
    "BucketBrigadeVectorEnv",
    "ManualResetVectorEnv",
    "Population",
    "Replay",
    "Snapshot",
    "make_env",
    "make_vec_env",
    "parallel_env",
    "record_game",
    "render_text",
]
