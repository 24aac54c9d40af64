"""The package's layering: every module imports, subpackages depend on lower layers only
(so no import cycle can form between them), and no library module imports a CLI module."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

PACKAGE = "bucket_brigade"
ROOT = Path(__file__).resolve().parents[1] / "src" / PACKAGE
# Lowest first. A unit (subpackage or top-level module) may import its own modules and
# any unit of a lower layer, never one of its own layer or above.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors", "cli_args", "lazy"),
    ("io", "names", "checks", "confidence", "console", "_numba_cache"),
    ("game",),
    ("engine", "agents"),
    ("envs", "search"),
    ("evaluation",),
    ("training",),
    ("viz",),
    ("sweep",),  # its job runner serves analysis's large tables
    ("analysis", "bench", "reporting"),
    ("__init__",),
    ("commands",),
    ("cli",),
    ("__main__",),
)
RANK = {unit: rank for rank, layer in enumerate(LAYERS) for unit in layer}
# Command-line modules: argument parsing and printing, which only other CLI modules load.
CLI_MODULES = {f"{PACKAGE}.cli", f"{PACKAGE}.commands", f"{PACKAGE}.__main__",
               f"{PACKAGE}.training.cli", f"{PACKAGE}.sweep.cli", f"{PACKAGE}.viz.commands"}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def unit_of(module: str) -> str:
    """``bucket_brigade.training.ppo`` -> ``training``; the package itself -> ``__init__``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def imported_modules(path: Path) -> set[str]:
    """Every ``bucket_brigade`` module named by an import statement anywhere in the file
    (function-level and TYPE_CHECKING imports included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found.update(n for n in names if n == PACKAGE or n.startswith(PACKAGE + "."))
    return found


SOURCES = sorted(ROOT.rglob("*.py"))
MODULES = [module_name(path) for path in SOURCES]


def test_every_unit_has_a_layer() -> None:
    assert {unit_of(m) for m in MODULES} <= RANK.keys()


@pytest.mark.parametrize("module", MODULES)
def test_every_module_imports(module: str) -> None:
    importlib.import_module(module)


@pytest.mark.parametrize("path", SOURCES, ids=MODULES)
def test_imports_point_down_the_layers(path: Path) -> None:
    source = unit_of(module_name(path))
    upward = sorted(target for target in imported_modules(path)
                    if unit_of(target) != source and RANK[unit_of(target)] >= RANK[source])
    assert not upward, f"{module_name(path)} ({source}) imports {upward}"


@pytest.mark.parametrize("path", SOURCES, ids=MODULES)
def test_only_command_line_modules_import_command_line_modules(path: Path) -> None:
    if module_name(path) in CLI_MODULES:
        return
    assert not imported_modules(path) & CLI_MODULES


def test_the_checks_see_a_violation(tmp_path: Path) -> None:
    """The import parser finds imports inside functions, where cycles hide."""
    example = tmp_path / "example.py"
    example.write_text("def f():\n    from bucket_brigade.training.cli import run\n")
    assert imported_modules(example) == {"bucket_brigade.training.cli"}
