"""The game's codes: RULES.md's values, defined once and imported by both engines."""

from __future__ import annotations

import ast
import inspect
from types import ModuleType

import pytest

from bucket_brigade.engine import kernel
from bucket_brigade.game import constants, reference, scripted

CODES = ("SAFE", "BURNING", "RUINED", "REST", "WORK")


def test_codes_are_those_of_the_rules() -> None:
    assert (constants.SAFE, constants.BURNING, constants.RUINED) == (0, 1, 2)
    assert constants.HOUSE_STATES == 3
    assert (constants.REST, constants.WORK) == (0, 1)


@pytest.mark.parametrize("module", [kernel, reference, scripted])
def test_engines_import_the_codes_instead_of_redefining_them(module: ModuleType) -> None:
    tree = ast.parse(inspect.getsource(module))
    assigned = {target.id for node in tree.body if isinstance(node, ast.Assign)
                for target in ast.walk(node) if isinstance(target, ast.Name)}
    imported = {alias.name for node in tree.body if isinstance(node, ast.ImportFrom)
                and node.module == constants.__name__ for alias in node.names}
    used = {name for name in CODES if hasattr(module, name)}
    assert used and used <= imported
    assert not assigned & set(CODES)
    for name in used:
        assert getattr(module, name) == getattr(constants, name)
