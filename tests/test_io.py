"""Input files: only regular files are opened. A FIFO would make ``open`` wait for a writer
forever and a device need not end, so every command refuses them before opening them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bucket_brigade.errors import UsageError
from bucket_brigade.io import open_input_file, read_input_text

# Every command that reads a file a user names, with that file a FIFO (or a scenario file
# whose base is one). A command that opened it would wait forever: the child runs under a
# time limit, so the test fails instead of hanging.
SPECIAL_FILE_COMMANDS = [
    ("evolve", "--scenario", "fifo.toml"),
    ("evolve", "--scenario", "based.toml"),
    ("evolve", "--opponents", "fifo.json"),
    ("evaluate", "--scenarios", "fifo.toml", "--strategies", "hero"),
    ("evaluate", "--opponents", "fifo.json", "--strategies", "hero"),
    ("evaluate", "fifo.pt", "--scenarios", "easy", "--strategies", "none"),
    ("nash", "--scenario", "fifo.toml"),
    ("nash", "--strategies", "hero,fifo.pt"),
    ("replay", "--scenario", "fifo.toml"),
    ("replay", "--strategy", "fifo.json"),
    ("replay", "--model", "fifo.pt"),
    ("bench", "env", "--scenario", "fifo.toml"),
    ("train", "--scenario", "fifo.toml"),
    ("train", "--opponent-policies", "fifo.json"),
    ("train", "--opponent-model", "fifo.pt"),
    ("train", "--resume", "fifo.pt"),
    ("sweep", "fifo.toml"),
    ("evolve", "--scenario", "/dev/zero.toml"),
]
CHILD = """
import contextlib, io, json, sys
from bucket_brigade.cli import main
for argv in json.loads(sys.argv[1]):
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(argv)
    print(json.dumps([argv, code, err.getvalue()]), flush=True)
"""


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_special_files_are_refused_by_every_command_without_waiting(tmp_path: Path) -> None:
    for name in ("fifo.toml", "fifo.json", "fifo.pt"):
        os.mkfifo(tmp_path / name)
    (tmp_path / "based.toml").write_text('base = "fifo.toml"\n')
    os.symlink("/dev/zero", tmp_path / "zero.toml")
    cases = [[tmp_path / "zero.toml" if a == "/dev/zero.toml" else a for a in argv]
             for argv in SPECIAL_FILE_COMMANDS]
    cases = [[str(a) for a in argv] for argv in cases]
    child = subprocess.Popen([sys.executable, "-c", CHILD, json.dumps(cases)], cwd=tmp_path,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = child.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        child.kill()
        out, _ = child.communicate()
        done = [json.loads(line)[0] for line in out.splitlines()]
        pytest.fail(f"{cases[len(done)]} waits on a special file")
    assert child.returncode == 0, err
    results = [json.loads(line) for line in out.splitlines()]
    assert [argv for argv, _, _ in results] == cases
    for argv, code, message in results:
        assert code == 2, (argv, message)
        assert message.count("\n") == 1 and "is not a regular file" in message, (argv, message)
        assert "cannot read" not in message, message
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "based.toml", "fifo.json", "fifo.pt", "fifo.toml", "zero.toml"]


@pytest.mark.parametrize("special", ["/dev/null", "/dev/zero", "folder"])
def test_only_regular_files_are_opened(special: str, tmp_path: Path) -> None:
    if special == "folder":
        special = str(tmp_path)
    with pytest.raises(UsageError, match=rf"genome file '{special}' is not a regular file"):
        open_input_file(special, "genome file")


def test_a_link_to_a_regular_file_is_read(tmp_path: Path) -> None:
    (tmp_path / "real.toml").write_text("x = 1\n")
    os.symlink(tmp_path / "real.toml", tmp_path / "link.toml")
    assert read_input_text(tmp_path / "link.toml", "scenario file") == "x = 1\n"


@pytest.mark.parametrize(("path", "message"), [
    ("missing.toml", "scenario file 'missing.toml' does not exist"),
    ("bad\0name.toml", "cannot read scenario file 'bad\\x00name.toml'"),
])
def test_unreadable_paths_are_one_line(path: str, message: str, tmp_path: Path,
                                       monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UsageError) as caught:
        read_input_text(path, "scenario file")
    assert message in str(caught.value) and "\n" not in str(caught.value)
