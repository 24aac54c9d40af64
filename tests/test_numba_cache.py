"""The engine's compiled kernels go to a user cache directory and load from it next time."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bucket_brigade._numba_cache import configure_numba_cache, user_cache_dir

# One process: import the engine, take the first env step, report what Numba did.
FIRST_STEP = """
import json, time
t0 = time.perf_counter()
import numba
from bucket_brigade.engine import kernel
from bucket_brigade.envs import make_vec_env
env = make_vec_env(4, scenario="default", seed=0)
env.reset(seed=0)
env.step(env.action_space.sample())
stats = kernel.step_games.stats
print(json.dumps({"cache_dir": numba.config.CACHE_DIR, "hits": sum(stats.cache_hits.values()),
                  "misses": sum(stats.cache_misses.values()),
                  "seconds": time.perf_counter() - t0}))
"""


def run_first_step(env: dict[str, str]) -> dict:
    src = str(Path(__file__).resolve().parents[1] / "src")
    env = {**env, "PYTHONPATH": os.pathsep.join([src, env.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", FIRST_STEP], env=env, check=True,
                          capture_output=True, text=True, timeout=600)
    return json.loads(done.stdout.splitlines()[-1])


@pytest.mark.slow
def test_second_process_loads_kernels_from_the_cache(tmp_path):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba")}
    first = run_first_step(env)
    assert first["cache_dir"] == str(tmp_path / "numba")
    assert first["misses"] >= 1 and first["hits"] == 0
    assert list((tmp_path / "numba").rglob("*.nbi")), "the compiled kernels were not cached"
    second = run_first_step(env)
    assert second["hits"] >= 1 and second["misses"] == 0


def test_user_cache_dir_is_the_default(monkeypatch, tmp_path):
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(sys, "platform", "linux")
    assert configure_numba_cache() == str(tmp_path / "bucket-brigade" / "numba")
    assert os.environ["NUMBA_CACHE_DIR"] == str(tmp_path / "bucket-brigade" / "numba")


def test_a_chosen_cache_dir_wins(monkeypatch, tmp_path):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "mine"))
    assert configure_numba_cache() == str(tmp_path / "mine")
    assert user_cache_dir() != tmp_path / "mine"
