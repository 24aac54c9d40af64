"""scripts/doc_outputs.py: the docs' shown outputs are the ones the code prints."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "doc_outputs.py"


def load_script():
    spec = importlib.util.spec_from_file_location("doc_outputs", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_every_example_has_its_block_in_its_doc() -> None:
    script = load_script()
    for name, example in script.EXAMPLES.items():
        assert name in script.blocks((script.ROOT / example.doc).read_text()), name


def test_a_block_is_written_then_checked(tmp_path: Path, monkeypatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    script = load_script()
    doc = tmp_path / "doc.md"
    doc.write_text("Intro\n<!-- doc-output: version -->\nold text\n<!-- /doc-output -->\nEnd\n")
    monkeypatch.setattr(script, "ROOT", tmp_path)
    monkeypatch.setattr(script, "EXAMPLES", {"version": script.Example(
        "doc.md", (script.Step("# the version"),
                   script.Step("bucket-brigade --version", show_output=True)))})
    assert script.main(["--check"]) == 1
    assert "differs from a fresh run: doc.md: version" in capsys.readouterr().out
    assert script.main([]) == 0
    lines = doc.read_text().splitlines()
    assert lines[:5] == ["Intro", "<!-- doc-output: version -->", "```bash", "# the version",
                         "bucket-brigade --version"]
    assert lines[5].startswith("# bucket-brigade ") and lines[6:] == [
        "```", "<!-- /doc-output -->", "End"]
    assert script.main(["--check"]) == 0


@pytest.mark.slow
def test_the_docs_show_what_the_commands_print() -> None:
    """Trains three 20K-step runs and evaluates 8,000 games: about half a minute."""
    done = subprocess.run([sys.executable, str(SCRIPT), "--check"], capture_output=True,
                          text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
