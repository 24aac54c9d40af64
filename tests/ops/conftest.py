"""A real OpenSSH server on 127.0.0.1, owned by the tests, and a fake training box's project.

The remote-workflow scripts only ever talk to a host through ssh and rsync, so the tests
log in to this machine as the current user through a private sshd with its own keys.
"""

from __future__ import annotations

import os
import pwd
import random
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .remote import (
    CHECKPOINT_STEPS,
    CONSOLE_LOG,
    RUN_STARTING,
    RUN_WITHOUT_LOG,
    RUNS,
    SSHD,
    SshServer,
    final_status,
    free_port,
)


def _keygen(path: Path) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "tests", "-f",
                    str(path)], check=True)


def _wait_listening(port: int, server: subprocess.Popen[bytes], log: Path) -> None:
    """Until sshd accepts connections, however long it takes to start; fails if it exits."""
    while True:
        if server.poll() is not None:
            pytest.fail(f"sshd exited with {server.returncode}:\n{log.read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)  # polling for the listening socket, not a deadline


@pytest.fixture(scope="session")
def ssh_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshServer]:
    """Tests that use it carry the ``needs_ssh`` mark, so the tools are there."""
    home = tmp_path_factory.mktemp("sshd")
    for key in ("host_key", "user_key"):
        _keygen(home / key)
    (home / "authorized_keys").write_text((home / "user_key.pub").read_text())
    port = free_port()
    config = home / "sshd_config"
    config.write_text("\n".join([
        "ListenAddress 127.0.0.1",
        f"Port {port}",
        f"HostKey {home / 'host_key'}",
        f"AuthorizedKeysFile {home / 'authorized_keys'}",
        f"PidFile {home / 'sshd.pid'}",
        "StrictModes no",
        "UsePAM no",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "PermitRootLogin prohibit-password",
        "UseDNS no",
        # Keep the user's shell start-up files out: bash sources ~/.bashrc for ssh
        # commands only at shell level 1, and a slow one would slow every connection.
        "SetEnv SHLVL=1",
        "",
    ]))
    host_key = (home / "host_key.pub").read_text().split()
    (home / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_key[0]} {host_key[1]}\n")
    if os.geteuid() == 0:
        # sshd running as root wants its privilege-separation directory, which the
        # system service would normally create at boot.
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    log = home / "sshd.log"
    with log.open("wb") as log_file:
        server = subprocess.Popen([str(SSHD), "-D", "-e", "-f", str(config)],
                                  stdout=log_file, stderr=subprocess.STDOUT)
    try:
        _wait_listening(port, server, log)
        ssh_opts = (f"-F /dev/null -i {home / 'user_key'} -o IdentitiesOnly=yes "
                    f"-o UserKnownHostsFile={home / 'known_hosts'} "
                    "-o StrictHostKeyChecking=yes -o BatchMode=yes "
                    "-o KexAlgorithms=curve25519-sha256")  # quicker than the default
        env = {k: v for k, v in os.environ.items() if k != "SSH_AUTH_SOCK"}
        env["BB_SSH_OPTS"] = ssh_opts
        user = pwd.getpwuid(os.getuid()).pw_name
        yield SshServer(f"{user}@127.0.0.1", port, env)
    finally:
        server.terminate()
        try:
            server.wait(timeout=5)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _write(path: Path, data: bytes, mtime: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, (mtime, mtime))


@pytest.fixture
def remote_project(tmp_path: Path) -> Path:
    """A project directory as a training box leaves it (the path has a space, too)."""
    project = tmp_path / "remote project"
    marl = project / "experiments" / "marl"
    rng = random.Random(0)
    start = time.time() - 3600
    for index, run in enumerate(RUNS):
        age = start - 60 * index  # newest first
        progress = f"config loaded\nstep 100000/1000000 | {run}\r{final_status(run)}\r\n\n"
        _write(marl / "runs" / run / "train.log", progress.encode(), age)
        _write(marl / "runs" / run / "config.json", f'{{"run_name": "{run}"}}'.encode(), age)
        _write(marl / "runs" / run / "events.out.tfevents.1.box", rng.randbytes(2000), age)
        for step in CHECKPOINT_STEPS:
            _write(marl / "checkpoints" / run / f"checkpoint_step_{step}.pt",
                   rng.randbytes(40_000), age - 100 + step / 10_000)
        _write(marl / f"model_{run}.pt", rng.randbytes(20_000), age - 500)
    # The first run logged to the console log only, and has finished; the second has both
    # logs, and the trainer's own train.log is the one to read.
    (marl / "runs" / RUNS[0] / "train.log").unlink()
    _write(marl / "runs" / f"{RUNS[0]}.log", CONSOLE_LOG.format(
        run=RUNS[0], status=final_status(RUNS[0])).encode(), start)
    _write(marl / "runs" / f"{RUNS[1]}.log", b"step 1/1000000 | stale\n", start - 60)
    _write(marl / "runs" / f"{RUN_STARTING}.log", b"Training just started\n", start + 60)
    _write(marl / "runs" / RUN_WITHOUT_LOG / "events.out.tfevents.2.box", b"events", start)
    # Files that are not results and must stay on the box.
    _write(marl / "tensorboard.log", b"tensorboard output", start)
    _write(marl / "notes.txt", b"notes", start)
    _write(project / "README.md", b"project", start)
    return project
