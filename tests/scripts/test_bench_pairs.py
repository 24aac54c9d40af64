"""scripts/bench_pairs.sh: help, and bad input as one line with exit code 2 (the
measurement itself trains for minutes and is run by hand)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "bench_pairs.sh"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True,
                          timeout=60, check=False)


def test_help() -> None:
    result = run("--help")
    assert result.returncode == 0
    assert result.stdout.startswith("Usage: scripts/bench_pairs.sh REV [PAIRS] [STEPS]")


@pytest.mark.parametrize(("args", "message"), [
    ([], "expected REV [PAIRS] [STEPS], got 0 arguments"),
    (["HEAD", "1", "2", "3"], "expected REV [PAIRS] [STEPS], got 4 arguments"),
    (["HEAD", "0"], "bad PAIRS '0': give a count >= 1"),
    (["HEAD", "3", "1e5"], "bad STEPS '1e5': give a count >= 1"),
    (["no-such-revision"], "unknown revision 'no-such-revision'"),
])
def test_bad_usage_is_one_line_error(args: list[str], message: str) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr
    assert result.stdout == ""
