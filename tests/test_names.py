"""Names that become paths: a name must also fit the file system it is written to."""

from __future__ import annotations

import os

import pytest

from bucket_brigade.errors import UsageError
from bucket_brigade.io import temp_file_name
from bucket_brigade.names import check_name_fits


def test_a_file_name_longer_than_the_file_system_allows_is_refused(tmp_path) -> None:
    limit = os.pathconf(tmp_path, "PC_NAME_MAX")
    check_name_fits("--run-name", "r", tmp_path / "not" / "yet", "x" * limit)
    with pytest.raises(UsageError, match=rf"--run-name 'r' is too long: .*\({limit + 1} bytes\)"
                       rf" exceeds the {limit}-byte limit"):
        check_name_fits("--run-name", "r", tmp_path / "not" / "yet", "x" * (limit + 1))


def test_the_limit_is_the_file_systems_own(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(os, "pathconf", lambda path, name: 40)
    name = "n" * 20
    longest = temp_file_name(f"model_{name}.pt")  # 20 + 9 + 14 = 43 bytes
    with pytest.raises(UsageError, match="exceeds the 40-byte limit"):
        check_name_fits("--run-name", name, tmp_path, longest)
    check_name_fits("--run-name", "n" * 17, tmp_path, temp_file_name(f"model_{'n' * 17}.pt"))
