"""The envs under the libraries researchers bring: Stable-Baselines3, sb3-contrib, SuperSuit
(the optional ``clients`` extra; skipped where it is not installed)."""

from __future__ import annotations

import numpy as np
import pytest

from bucket_brigade.envs import ENV_ID, make_env, parallel_env
from bucket_brigade.envs.masks import action_mask

sb3_env_util = pytest.importorskip("stable_baselines3.common.env_util",
                                   reason="needs the clients extra (stable-baselines3)")


def test_sb3_make_vec_env_builds_and_renders_the_registered_env() -> None:
    """SB3 passes render_mode="rgb_array" by default: the env must accept it."""
    venv = sb3_env_util.make_vec_env(ENV_ID, n_envs=2, seed=0,
                                     env_kwargs={"scenario": "greedy_neighbor"})
    obs = venv.reset()
    assert obs.shape == (2, 36)
    assert venv.get_images()[0].dtype == np.uint8
    masks = np.stack(venv.env_method("action_masks"))
    np.testing.assert_array_equal(masks, action_mask(obs[:, :10], cheap_talk=False))


def test_maskable_ppo_trains_on_make_env() -> None:
    maskable = pytest.importorskip("sb3_contrib", reason="needs the clients extra (sb3-contrib)")
    from sb3_contrib.common.maskable.utils import is_masking_supported

    venv = sb3_env_util.make_vec_env(lambda: make_env("greedy_neighbor", opponents="random"),
                                     n_envs=2, seed=0)
    assert is_masking_supported(venv)
    model = maskable.MaskablePPO("MlpPolicy", venv, n_steps=64, batch_size=64, n_epochs=1,
                                 seed=0)
    model.learn(total_timesteps=256)
    assert model.num_timesteps == 256
    obs = venv.reset()
    masks = np.stack(venv.env_method("action_masks"))
    actions, _ = model.predict(obs, deterministic=True, action_masks=masks)
    for action, mask in zip(actions, masks):
        assert mask[action[0]] and mask[10 + action[1]]  # the policy keeps to its mask


def test_supersuit_vector_wrappers_take_the_parallel_env() -> None:
    ss = pytest.importorskip("supersuit", reason="needs the clients extra (supersuit)")
    venv = ss.pettingzoo_env_to_vec_env_v1(parallel_env("greedy_neighbor", num_agents=4))
    venv = ss.concat_vec_envs_v1(venv, 3, num_cpus=0, base_class="gymnasium")
    obs, infos = venv.reset()
    assert obs.shape == (12, 36) and len(infos) == 12
    seen = [obs]
    for _ in range(30):
        for info, row in zip(infos, obs):
            np.testing.assert_array_equal(info["action_mask"], action_mask(row[:10], False))
        obs, rewards, _, _, infos = venv.step(
            np.stack([venv.action_space.sample() for _ in range(12)]))
        assert rewards.shape == (12,)
        seen.append(obs)
    trajectories = {np.stack(seen)[:, 4 * c:4 * c + 4].tobytes() for c in range(3)}
    assert len(trajectories) == 3  # the copies play different games
