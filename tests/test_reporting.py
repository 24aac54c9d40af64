"""Console tables of the commands, as they reach a log file."""

from __future__ import annotations

import pytest

from bucket_brigade.reporting import print_rows


def test_an_evaluation_table_piped_to_a_file_never_breaks_a_number(
        capsys: pytest.CaptureFixture[str]) -> None:
    rows = [{"scenario": "mixed_motivation", "opponents": "pool:hero,liar,free_rider,coordinator",
             "candidate": f"model_mixed_motivation_long_run_name_seed{k}", "mean_score": 107.25,
             "ci95": 0.41, "houses_saved": 8.12, "nights": 21.4, "work_rate": 0.33,
             "honesty": 0.91} for k in range(3)]
    print_rows(rows, "Evaluation")
    lines = capsys.readouterr().out.splitlines()
    assert [line for line in lines if "107.25 ± 0.41" in line and "8.12" in line
            and "0.91" in line and "seed" in line] and len(lines) == 8
