"""scripts/doc_outputs.py: the docs' shown outputs are the ones the code prints; it finds what
it regenerates in the docs, abridges and parses outputs as the docs show them, and (slow) the
blocks and the sweep scores the docs show are the ones fresh runs give."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "doc_outputs.py"


@pytest.fixture(scope="module")
def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("doc_outputs", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_every_example_has_its_block_in_its_doc(script: ModuleType) -> None:
    for name, example in script.EXAMPLES.items():
        assert name in script.blocks((script.ROOT / example.doc).read_text()), name


def test_a_block_is_written_then_checked(script: ModuleType, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    doc = tmp_path / "doc.md"
    doc.write_text("Intro\n<!-- doc-output: version -->\nold text\n<!-- /doc-output -->\nEnd\n")
    monkeypatch.setattr(script, "ROOT", tmp_path)
    monkeypatch.setattr(script, "EXAMPLES", {"version": script.Example(
        "doc.md", (script.Step("# the version"),
                   script.Step("bucket-brigade --version", show_output=True)))})
    assert script.main(["--check", "version"]) == 1
    assert "differs from a fresh run: doc.md: version" in capsys.readouterr().out
    assert script.main(["version"]) == 0
    lines = doc.read_text().splitlines()
    assert lines[:5] == ["Intro", "<!-- doc-output: version -->", "```bash", "# the version",
                         "bucket-brigade --version"]
    assert lines[5].startswith("# bucket-brigade ") and lines[6:] == [
        "```", "<!-- /doc-output -->", "End"]
    assert script.main(["--check", "version"]) == 0


def test_unknown_names_and_checking_speeds_are_refused(script: ModuleType) -> None:
    with pytest.raises(SystemExit):
        script.main(["nonsense"])
    with pytest.raises(SystemExit):
        script.main(["--check", "clients"])


@pytest.mark.slow
def test_the_docs_show_what_the_commands_print() -> None:
    """Trains three 20K-step runs, evaluates 8,000 games and runs the sample sweep (8 short
    trainings): a minute or two."""
    done = subprocess.run([sys.executable, str(SCRIPT), "--check"], capture_output=True,
                          text=True, timeout=1800, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


SWEEP_OUTPUT = """\
Sweep s: 3 trials; 0 already finished, 3 to run on local (2 at a time) ->
/tmp/x/s
  started a_seed1_1: lr=0.1 (9 s)
  a_seed1_1 at step 8,192: eval/mean_score 60.00 (20 s)
[1/3] a_seed1_1: ok 61.00 ± 2.00 (21 s)
  started a_seed2_2: lr=0.1 (21 s)
[2/3] a_seed2_2: ok 62.00 ± 2.00 (30 s)
[3/3] a_seed3_3: ok 63.00 ± 2.00 (31 s)
       title
┏━━━┓
│ 1 │
│ 2 │
│ 3 │
└───┘
   best
┏━━━┓
│ b │
└───┘
wrote /tmp/x/s/results.csv
"""


def test_the_sweep_output_is_abridged_as_the_doc_shows_it(script: ModuleType) -> None:
    assert script.abridge_sweep_output(SWEEP_OUTPUT).splitlines() == [
        "Sweep s: 3 trials; 0 already finished, 3 to run on local (2 at a time) ->",
        "/tmp/x/s",
        "  started a_seed1_1: lr=0.1 (9 s)",
        "  a_seed1_1 at step 8,192: eval/mean_score 60.00 (20 s)",
        "[1/3] a_seed1_1: ok 61.00 ± 2.00 (21 s)",
        "...",
        "[3/3] a_seed3_3: ok 63.00 ± 2.00 (31 s)",
        "       title", "┏━━━┓", "│ 1 │", "...", "│ 3 │", "└───┘",
        "   best", "┏━━━┓", "│ b │", "└───┘",
        "wrote /tmp/x/s/results.csv"]
    assert script.documented_scores(SWEEP_OUTPUT) == {
        "a_seed1_1": "61.00 ± 2.00", "a_seed2_2": "62.00 ± 2.00", "a_seed3_3": "63.00 ± 2.00"}


def test_the_sweeps_doc_has_the_blocks_the_script_rewrites(script: ModuleType) -> None:
    text = script.SWEEPS_DOC.read_text()
    start, end = script.fenced_block(text, "## Running locally", "toml")
    assert "[sweep]" in text[start:end]
    console_start, console_end = script.fenced_block(text[end:], "```", "console")
    assert len(script.documented_scores(text[end + console_start:end + console_end])) >= 2
    assert script.TIMING.search(text)


def test_the_clients_speed_table_is_found_and_its_commands_run_here(
        script: ModuleType) -> None:
    text = script.CLIENTS_DOC.read_text()
    rows = script.speed_rows(text)
    assert len(rows) >= 6
    for start, end, command in rows:
        assert text[start:end].strip().replace(",", "").isdigit(), text[start:end]
        assert script.command_argv(command)[0] == sys.executable


def test_speeds_are_read_and_rounded(script: ModuleType) -> None:
    assert script.steps_per_second('log\n{"steps": 8, "steps_per_second": 8150}\n') == 8150
    assert script.steps_per_second("  steps_per_sec: 43,739.7\n  cpu: 1\n") == 43739.7
    assert [script.two_figures(v) for v in (43739.7, 8150, 712, 6.3)] == [
        "44,000", "8,200", "710", "6"]
    with pytest.raises(ValueError, match="no steps_per_second"):
        script.steps_per_second("nothing\n")
    with pytest.raises(ValueError, match="unknown command 'make'"):
        script.command_argv("make bench")


TINY_DOC = """## Running locally

```toml
[sweep]
name = "s"
```

```console
$ bucket-brigade sweep search.toml
[1/3] a_seed1_1: ok {score} ± 2.00 (21 s)
```

(99 s in all for 3 trials; prose.)
"""


def test_check_compares_and_a_refresh_rewrites_the_block(
        script: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    doc = tmp_path / "sweeps.md"
    monkeypatch.setattr(script, "SWEEPS_DOC", doc)
    ran_files: list[str] = []

    def fake_run(argv: list[str], cwd: Path) -> str:
        ran_files.append((cwd / script.SWEEP_FILE).read_text())
        return SWEEP_OUTPUT

    monkeypatch.setattr(script, "run", fake_run)
    doc.write_text(TINY_DOC.format(score="61.00"))
    assert script.main(["sweeps", "--check"]) == 0
    assert ran_files == ['[sweep]\nname = "s"\n']
    doc.write_text(TINY_DOC.format(score="60.00"))
    assert script.main(["sweeps", "--check"]) == 1
    assert "a_seed1_1: the doc shows 60.00 ± 2.00, a fresh run gives 61.00 ± 2.00" \
        in capsys.readouterr().out
    assert script.main(["sweeps"]) == 0
    text = doc.read_text()
    assert "[3/3] a_seed3_3: ok 63.00 ± 2.00 (31 s)\n" in text and "ok 60.00" not in text
    assert re.search(r"\(\d+ s in all for 3 trials; prose\.\)", text)
