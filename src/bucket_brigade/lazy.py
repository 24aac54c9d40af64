"""Packages whose public names load on first use (PEP 562), so that the command line can
import a package's settings and options without the heavy libraries behind its other
modules (torch, the game engine)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy_exports(package: str, exports: dict[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``package.<module>`` for each exported name
    (``exports`` maps name -> module) the first time the name is used."""

    def getattr_(name: str) -> Any:
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{exports[name]}"), name)

    return getattr_
