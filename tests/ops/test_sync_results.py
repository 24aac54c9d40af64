"""sync_results.sh against a real sshd: all runs, one run, resuming, and clear failures."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from .remote import (
    RUN_STARTING,
    RUN_WITHOUT_LOG,
    RUNS,
    SshServer,
    free_port,
    needs_ssh,
    results,
    run_files,
)

pytestmark = needs_ssh


def remote_marl(project: Path) -> Path:
    return project / "experiments" / "marl"


def sync(server: SshServer, project: Path, dest: Path,
         *run: str) -> subprocess.CompletedProcess[str]:
    return server.run("sync_results.sh", "--dir", str(project), "--dest", str(dest), "--", *run)


def received(output: str) -> list[str]:
    """Files that rsync's --itemize-changes output says it received."""
    return sorted(line.split(" ", 1)[1] for line in output.splitlines() if line.startswith(">f"))


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_copies_every_run_and_nothing_else(ssh_server: SshServer, remote_project: Path,
                                           tmp_path: Path) -> None:
    result = sync(ssh_server, remote_project, tmp_path / "local")
    assert result.returncode == 0, result.stderr
    copied = results(tmp_path / "local")
    assert copied == results(remote_marl(remote_project))
    assert copied.keys() == {str(p.relative_to(tmp_path / "local"))
                             for p in (tmp_path / "local").rglob("*") if p.is_file()}
    assert len(copied) == 6 * len(RUNS) + 3  # two more console logs, one more run


@pytest.mark.parametrize(("run", "files"), [
    ("odd name 'quoted' -x", 7),  # config, events, train.log, console log, 2 checkpoints, model
    ("--dash start", 6),
    ("a*[b]?", 6),  # and not ab_b!, which the name read as a pattern would match
    ("just started", 1),  # only a console log so far
])
def test_copies_only_the_named_run(ssh_server: SshServer, remote_project: Path,
                                   tmp_path: Path, run: str, files: int) -> None:
    result = sync(ssh_server, remote_project, tmp_path / "local", run)
    assert result.returncode == 0, result.stderr
    copied = results(tmp_path / "local")
    assert copied == run_files(remote_marl(remote_project), run)
    assert len(copied) == files


def test_second_sync_copies_nothing_and_a_cut_off_copy_resumes(
        ssh_server: SshServer, remote_project: Path, tmp_path: Path) -> None:
    local = tmp_path / "local"
    assert sync(ssh_server, remote_project, local).returncode == 0

    again = sync(ssh_server, remote_project, local)
    assert again.returncode == 0, again.stderr
    assert received(again.stdout) == []

    # A copy cut off halfway (rsync keeps it in its partial dir), and a new checkpoint.
    name = "checkpoints/baseline_v1/checkpoint_step_200000.pt"
    full = (remote_marl(remote_project) / name).read_bytes()
    (local / name).unlink()
    partial = local / "checkpoints/baseline_v1/.rsync-partial/checkpoint_step_200000.pt"
    partial.parent.mkdir()
    partial.write_bytes(full[: len(full) // 2])
    new = "checkpoints/baseline_v1/checkpoint_step_300000.pt"
    (remote_marl(remote_project) / new).write_bytes(b"new checkpoint")

    resumed = sync(ssh_server, remote_project, local)
    assert resumed.returncode == 0, resumed.stderr
    assert received(resumed.stdout) == [name, new]
    assert not partial.parent.exists()
    assert results(local) == results(remote_marl(remote_project))


def test_unreachable_host_is_one_line_error(ssh_server: SshServer, remote_project: Path,
                                            tmp_path: Path) -> None:
    result = ssh_server.run("sync_results.sh", "--dir", str(remote_project),
                            "--dest", str(tmp_path / "local"), port=free_port())
    error = one_line_error(result)
    assert error.startswith(f"sync_results: cannot reach {ssh_server.host} over SSH")
    assert "refused" in error
    assert not (tmp_path / "local").exists()


def test_unknown_run_and_missing_project_are_one_line_errors(
        ssh_server: SshServer, remote_project: Path, tmp_path: Path) -> None:
    error = one_line_error(sync(ssh_server, remote_project, tmp_path / "local", "nope"))
    assert error.startswith("sync_results: no run 'nope' on")
    listed = error.split("(runs there: ", 1)[1].removesuffix(")").split(", ")
    assert sorted(listed) == sorted([*RUNS, RUN_STARTING, RUN_WITHOUT_LOG])

    error = one_line_error(sync(ssh_server, tmp_path / "elsewhere", tmp_path / "local"))
    assert f"no {tmp_path / 'elsewhere'}/experiments/marl" in error and "--dir" in error


def test_names_from_the_box_reach_the_terminal_without_control_characters(
        ssh_server: SshServer, remote_project: Path, tmp_path: Path) -> None:
    evil = "evil\x1b]0;title\x07\x1b[2J\x9b"
    (remote_marl(remote_project) / "runs" / evil).mkdir()
    (remote_marl(remote_project) / "runs" / evil / "events").write_bytes(b"x")
    copied = sync(ssh_server, remote_project, tmp_path / "local")
    assert copied.returncode == 0, copied.stderr
    assert (tmp_path / "local" / "runs" / evil / "events").read_bytes() == b"x"
    unknown = sync(ssh_server, remote_project, tmp_path / "local", "nope")
    for shown in (copied.stdout, copied.stderr, unknown.stderr):
        assert not any((c < " " and c != "\n") or "\x7f" <= c <= "\x9f" for c in shown), shown
    assert "runs/evil]0;title" not in copied.stdout and "evil" in unknown.stderr
