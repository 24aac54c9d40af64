"""The engine's compiled kernels go to a user cache directory and load from it next time."""

import json
import os
import subprocess
import sys
import tempfile
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


@pytest.fixture(autouse=True)
def keep_numba_cache_dir(monkeypatch):
    """configure_numba_cache also points an imported numba at its folder: put it back."""
    numba = sys.modules.get("numba")
    if numba is not None:
        monkeypatch.setattr(numba.config, "CACHE_DIR", numba.config.CACHE_DIR)


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


# A read-only installation: Numba may cache only in NUMBA_CACHE_DIR (not beside the
# package's sources, nor in its own folder under the home).
# Then import the engine, which decorates its cached kernels (compiling waits for a call).
IMPORT_IN_A_READ_ONLY_INSTALL = """
from numba.core import caching
caching.CacheImpl._locator_classes = [caching.UserProvidedCacheLocator]
from bucket_brigade.engine import kernel
print(kernel.step_games._cache._cache_path)
"""


def test_an_unwritable_home_caches_in_a_private_temp_folder(tmp_path):
    """Where neither the home nor the package can be written, the engine still runs, with
    one warning line that names NUMBA_CACHE_DIR (before: Numba's traceback at import)."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("NUMBA_CACHE_DIR", "XDG_CACHE_HOME")}
    home = tmp_path / "home"
    home.write_text("a file, so nothing can be made under it")
    src = str(Path(__file__).resolve().parents[1] / "src")
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_IN_A_READ_ONLY_INSTALL],
        env={**env, "HOME": str(home), "TMPDIR": str(tmp_path), "PYTHONPATH": src},
        capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    fallback = tmp_path / f"bucket-brigade-numba-{os.getuid()}"
    assert Path(done.stdout.strip()).parent == fallback
    warning, = done.stderr.splitlines()
    assert "NUMBA_CACHE_DIR" in warning and str(home) in warning


def test_a_temp_folder_others_may_write_is_not_used(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "a file" / "numba"))
    (tmp_path / "a file").write_text("")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    shared = tmp_path / f"bucket-brigade-numba-{os.getuid()}"
    shared.mkdir()
    shared.chmod(0o777)
    chosen = Path(configure_numba_cache())
    assert chosen.parent == tmp_path and chosen != shared and chosen.is_dir()
    assert os.environ["NUMBA_CACHE_DIR"] == str(chosen)
    assert capsys.readouterr().err.count("\n") == 1


def test_a_writable_cache_folder_is_used_without_a_word(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "not yet" / "numba"))
    assert configure_numba_cache() == str(tmp_path / "not yet" / "numba")
    assert capsys.readouterr().err == ""
