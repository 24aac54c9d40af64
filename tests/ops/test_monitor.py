"""monitor.sh --no-forward against a real sshd: run status lines, GPU, checkpoints."""

from __future__ import annotations

import shutil
from pathlib import Path

from .remote import (
    NEWEST_CHECKPOINT,
    RUN_STARTING,
    RUN_WITHOUT_LOG,
    RUNS,
    SshServer,
    final_status,
    free_port,
    needs_ssh,
)

pytestmark = needs_ssh


def test_status_shows_runs_gpu_and_checkpoints(ssh_server: SshServer,
                                               remote_project: Path) -> None:
    result = ssh_server.run("monitor.sh", "--dir", str(remote_project), "--no-forward")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    runs = [RUN_STARTING, *RUNS]  # newest log first
    run_lines = [line for line in lines if " ago]: " in line]
    assert [line.split(" [")[0] for line in run_lines] == runs
    # The latest status line after the progress-bar \r, from train.log where there is one.
    expected = ["Training just started", *map(final_status, RUNS)]
    assert [line.split(" ago]: ", 1)[1] for line in run_lines] == expected
    # A finished run's last line follows its status line.
    after = lines[lines.index(run_lines[1]) + 1]
    assert after == f"    last line: final model experiments/marl/model_{RUNS[0]}.pt"
    assert f"without a log: {RUN_WITHOUT_LOG}" in lines
    if shutil.which("nvidia-smi") is None:  # the "remote" is this machine
        assert "no GPU (nvidia-smi not found)" in lines
    checkpoints = lines[lines.index("-- Newest checkpoints and models") + 1:]
    assert len(checkpoints) == 5
    assert checkpoints[0].endswith(f"MB  {NEWEST_CHECKPOINT}")
    tensorboard = lines[lines.index("-- TensorBoard") + 1]
    assert tensorboard.endswith("running on port 6006")  # --no-forward never starts one


def test_project_without_runs(ssh_server: SshServer, tmp_path: Path) -> None:
    (tmp_path / "experiments" / "marl").mkdir(parents=True)
    result = ssh_server.run("monitor.sh", "--dir", str(tmp_path), "--no-forward")
    assert result.returncode == 0, result.stderr
    assert "(no runs in experiments/marl/runs)" in result.stdout
    assert result.stdout.rstrip().endswith("(none yet)")


def test_unreachable_host_and_missing_project_are_one_line_errors(
        ssh_server: SshServer, tmp_path: Path) -> None:
    result = ssh_server.run("monitor.sh", "--no-forward", port=free_port())
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"monitor: cannot reach {ssh_server.host} over SSH")

    result = ssh_server.run("monitor.sh", "--dir", str(tmp_path / "nowhere"), "--no-forward")
    assert result.returncode == 1
    assert result.stderr == (f"monitor: no directory {tmp_path / 'nowhere'} on "
                             f"{ssh_server.host} (set --dir to the project's directory there)\n")


# Escape sequences a log or a run name may carry: OSC window title and clipboard write (both
# terminators), CSI colour and cursor moves, a DCS string, a bare ESC, BEL, backspace, a
# carriage return and a C1 CSI (U+009B) in its UTF-8 form.
HOSTILE_LOG = ("step 5/10 \x1b]0;owned\x07| reward \x1b]52;c;ZWNobyBoaQ==\x1b\\1.5 "
               "\x1b[31mred\x1b[0m\x1b[2J \x1bP1$qm\x1b\\done\x1bc \x07\x08\x0b\x0c"
               "\u009b31m ok\ttab\n")
HOSTILE_RUN = "evil\x1b]2;title\x07run"


def test_escape_sequences_from_the_box_never_reach_the_terminal(ssh_server: SshServer,
                                                                 tmp_path: Path) -> None:
    runs = tmp_path / "experiments" / "marl" / "runs"
    (runs / HOSTILE_RUN).mkdir(parents=True)
    (runs / HOSTILE_RUN / "train.log").write_text(HOSTILE_LOG)
    result = ssh_server.run("monitor.sh", "--dir", str(tmp_path), "--no-forward")
    assert result.returncode == 0, result.stderr
    controls = [c for c in result.stdout if (ord(c) < 32 and c not in "\t\n")
                or 0x7f <= ord(c) <= 0x9f]
    assert controls == []
    run_line = next(line for line in result.stdout.splitlines() if " ago]: " in line)
    assert run_line.startswith("evilrun [")
    assert run_line.endswith("]: step 5/10 | reward 1.5 red done 31m ok\ttab")
