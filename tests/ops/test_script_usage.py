"""Usage of the remote-workflow scripts: help, and bad input as one line with exit code 2."""

from __future__ import annotations

import os
import shlex

import pytest

from .remote import REPO, run_script


@pytest.mark.parametrize(("script", "usage"), [
    ("sync_results.sh", "Usage: sync_results.sh HOST [RUN]"),
    ("monitor.sh", "Usage: monitor.sh HOST"),
    ("setup_gpu.sh", "Usage: experiments/marl/setup_gpu.sh [--venv PATH]"),
])
def test_help(script: str, usage: str) -> None:
    result = run_script(script, "--help")
    assert result.returncode == 0
    assert result.stdout.startswith(usage)


@pytest.mark.parametrize(("script", "args", "message"), [
    ("sync_results.sh", [], "expected HOST [RUN], got 0 arguments"),
    ("sync_results.sh", ["host", "run", "extra"], "expected HOST [RUN], got 3 arguments"),
    ("sync_results.sh", ["-oProxyCommand=x"], "unknown option '-oProxyCommand=x'"),
    ("sync_results.sh", ["--", "-oProxyCommand=x"], "bad HOST '-oProxyCommand=x'"),
    ("sync_results.sh", ["host", "--port", "22x"], "bad --port '22x'"),
    ("sync_results.sh", ["host", "../escape"], "bad RUN '../escape'"),
    ("sync_results.sh", ["host", "--dest"], "--dest needs a value"),
    ("monitor.sh", [], "expected one HOST, got 0 arguments"),
    ("monitor.sh", ["host", "--local-port", "http"], "bad --local-port 'http'"),
    ("monitor.sh", ["host", "--forward"], "unknown option '--forward'"),
    ("sync_results.sh", ["host", ""], "bad RUN ''"),
    ("sync_results.sh", ["host", "--dest", "/dev/null"],
     "bad --dest '/dev/null': it exists and is not a folder"),
    ("sync_results.sh", ["--", "-x\n\x1b]0;title\x07y\tz"], "bad HOST '-x y z'"),
    ("monitor.sh", ["--", "-x\n\x1b[31my"], "bad HOST '-x y'"),
    ("setup_gpu.sh", ["--gpu"], "unknown argument '--gpu'"),
    ("setup_gpu.sh", ["--venv"], "--venv needs a PATH"),
])
def test_bad_usage_is_one_line_error(script: str, args: list[str], message: str) -> None:
    result = run_script(script, *args)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr
    assert result.stdout == ""


HOSTILE_SSH = ("#!/bin/sh\n"
               "printf 'ssh: connect to host \\033]52;c;Y2xpcA==\\007evil\\033[2J "
               "port 22: refused\\302\\233\\n' >&2\nexit 255\n")


@pytest.mark.parametrize("script", ["sync_results.sh", "monitor.sh"])
def test_errors_from_ssh_and_the_host_are_one_printable_line(script: str, tmp_path) -> None:
    """What ssh says (it may quote the box or a HOST with a newline) reaches the terminal
    as one line without escape sequences or other control characters."""
    (tmp_path / "ssh").write_text(HOSTILE_SSH)
    (tmp_path / "ssh").chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}"}
    result = run_script(script, "box\n\x1b[31mred", *(["--no-forward"] if script ==
                                                       "monitor.sh" else []), env=env)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert not any((c < " " and c != "\n") or "\x7f" <= c <= "\x9f" for c in result.stderr)
    assert "cannot reach box red over SSH" in result.stderr
    assert "evil" in result.stderr and "refused" in result.stderr


def test_setup_names_the_step_that_failed(tmp_path) -> None:
    """A Python too old (here: one that fails) stops the install step, and says so."""
    env = {**os.environ, "PYTHON": "false"}
    result = run_script("setup_gpu.sh", "--venv", str(tmp_path / "venv"), env=env)
    assert result.returncode != 0
    assert result.stderr.rstrip().endswith(
        f'setup_gpu: FAILED during step "install the project into {tmp_path / "venv"}" '
        "(exit 2); fix the error above and run it again")
    assert not (tmp_path / "venv").exists()


@pytest.mark.slow
def test_setup_twice_skips_the_install() -> None:
    """On an installed checkout, setup only checks: CUDA, the engine, an env, the command."""
    stamp = REPO / ".venv" / ".installed"
    if not stamp.exists() or stamp.stat().st_mtime < (REPO / "pyproject.toml").stat().st_mtime:
        pytest.skip("needs an up-to-date install of .venv (make install)")
    result = run_script("setup_gpu.sh", timeout=600)
    assert result.returncode == 0, result.stderr
    assert "already installed" in result.stdout
    assert "CUDA: " in result.stdout and "played one game" in result.stdout


def test_setup_prints_a_start_command_that_pastes_whole(tmp_path) -> None:
    """The suggested command quotes the venv path: spaces and quotes stay one word."""
    venv = tmp_path / "my venv; 'x' $(y)"
    (venv / "bin").mkdir(parents=True)
    for tool in ("python", "bucket-brigade"):  # a venv that answers every check
        (venv / "bin" / tool).write_text("#!/bin/sh\nexit 0\n")
        (venv / "bin" / tool).chmod(0o755)
    (venv / ".installed").touch()  # newer than pyproject.toml: the install is skipped
    result = run_script("setup_gpu.sh", "--venv", str(venv))
    assert result.returncode == 0, result.stderr
    command = result.stdout.splitlines()[-1]
    assert shlex.split(command)[:2] == ["nohup", f"{venv}/bin/bucket-brigade"]
    assert command.endswith("> experiments/marl/runs/NAME.log 2>&1 &")
