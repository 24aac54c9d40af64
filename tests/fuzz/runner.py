"""Run the command line in-process on hostile input and check the promise every command
keeps: exit 0, or exit 2 with one line on stderr; never a traceback, never a hang, and
never a file written outside the folder it runs in."""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import signal
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bucket_brigade.cli import main


class Hang(BaseException):
    """The command ran past its time limit (a BaseException: nothing may swallow it)."""


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    def expire(signum: int, frame: object) -> None:
        raise Hang(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def sandbox() -> Iterator[Path]:
    """A fresh working folder inside a fresh parent; the parent must hold only it after."""
    with tempfile.TemporaryDirectory(prefix="bb-fuzz-") as parent:
        work = Path(parent) / "work"
        work.mkdir()
        old = Path.cwd()
        os.chdir(work)
        try:
            yield work
        finally:
            os.chdir(old)
        assert [p.name for p in Path(parent).iterdir()] == ["work"], "wrote outside its folder"


def check_cli(argv: list[str], seconds: float = 30.0,
              prepare: Callable[[Path], None] | None = None) -> tuple[int, str]:
    """Run ``bucket-brigade ARGV`` in a sandbox (``prepare`` writes its input files first);
    return the exit code and stderr after checking the promise."""
    err = io.StringIO()
    with sandbox() as work:
        if prepare is not None:
            prepare(work)
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err), \
                time_limit(seconds):
            try:
                code = main(argv)
            except SystemExit as exited:  # argparse: bad options
                code = exited.code if isinstance(exited.code, int) else 2
    text = err.getvalue()
    assert "Traceback" not in text, text
    assert code in (0, 2), (code, text)
    if code == 2:
        assert text.count("\n") == 1 and "error: " in text, text
    else:
        assert text == "", text  # no warnings either
    return code, text


def toml_value(value: Any) -> str:
    """``value`` in TOML syntax (strings, numbers, booleans, arrays, inline tables)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return ("nan" if math.isnan(value) else
                ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value))
    if isinstance(value, (int, str)):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{json.dumps(str(k))} = {toml_value(v)}"
                           for k, v in value.items()) + "}"


def write_scenario(path: Path, data: dict[str, Any]) -> None:
    if path.suffix == ".toml":
        path.write_text("".join(f"{json.dumps(str(k))} = {toml_value(v)}\n"
                                for k, v in data.items()))
    else:
        path.write_text(json.dumps(data))
