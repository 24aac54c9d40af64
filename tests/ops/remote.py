"""What the remote-workflow tests share: the scripts, the fake box's runs, and comparisons."""

from __future__ import annotations

import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MARL = REPO / "experiments" / "marl"
SSHD = Path("/usr/sbin/sshd")
MISSING_TOOLS = [name for name, found in [
    ("sshd", SSHD.is_file()),
    ("ssh", shutil.which("ssh")),
    ("ssh-keygen", shutil.which("ssh-keygen")),
    ("rsync", shutil.which("rsync")),
] if not found]
needs_ssh = pytest.mark.skipif(
    bool(MISSING_TOOLS),
    reason=f"{', '.join(MISSING_TOOLS)} not installed (bash .ci/system-deps.sh installs them)")

# Runs of the fake training box: odd names on purpose (spaces, quotes, leading dashes,
# rsync wildcard characters, and a name that those wildcards would match).
RUNS = ["baseline_v1", "odd name 'quoted' -x", "--dash start", "a*[b]?", "ab_b!"]
RUN_WITHOUT_LOG = "no_log_run"
RUN_STARTING = "just started"  # a console log, no run directory yet
# What `bucket-brigade train ... > runs/RUN.log` leaves once the run has finished.
CONSOLE_LOG = """Training {run}: trivial_cooperation, learner vs 3 opponents
step 100,000/200,000 (50.0%) | avg reward (100 ep) 60.1 | 1,234 steps/s
{status}
  run            {run} (finished)\x20\x20\x20\x20
  final model    experiments/marl/model_{run}.pt\x20\x20\x20\x20
"""
NEWEST_CHECKPOINT = "checkpoints/baseline_v1/checkpoint_step_200000.pt"
CHECKPOINT_STEPS = (100_000, 200_000)


def final_status(run: str) -> str:
    return f"step 200000/1000000 | {run} | reward 61.5 | 5123 steps/s"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_script(script: str, *args: str, env: dict[str, str] | None = None,
               timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(MARL / script), *args], env=env, capture_output=True,
                          text=True, timeout=timeout, check=False)


@dataclass(frozen=True)
class SshServer:
    host: str  # user@127.0.0.1
    port: int
    env: dict[str, str]  # the environment with BB_SSH_OPTS pointing at the test's keys

    def run(self, script: str, *args: str, port: int | None = None
            ) -> subprocess.CompletedProcess[str]:
        """Run a workflow script against this server (or another ``port``)."""
        return run_script(script, self.host, "--port", str(port or self.port), *args,
                          env=self.env)


def result_files(marl: Path) -> dict[str, bytes]:
    """Relative path -> content of every file under an experiments/marl directory."""
    return {str(path.relative_to(marl)): path.read_bytes()
            for path in sorted(marl.rglob("*")) if path.is_file()}


def results(marl: Path) -> dict[str, bytes]:
    """What sync_results.sh copies: TensorBoard runs, checkpoints and final models."""
    return {name: data for name, data in result_files(marl).items()
            if name.startswith(("runs/", "checkpoints/", "model_"))}


def run_files(marl: Path, run: str) -> dict[str, bytes]:
    """The results of one run: its run directory and console log, checkpoints, final model."""
    return {name: data for name, data in result_files(marl).items()
            if name.startswith((f"runs/{run}/", f"checkpoints/{run}/"))
            or name in (f"runs/{run}.log", f"model_{run}.pt")}
