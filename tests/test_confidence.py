"""The one 95% confidence interval every table and figure prints."""

import math

import numpy as np
import pytest
from scipy import stats

from bucket_brigade.confidence import Z_95, ci95_half_width


def test_the_normal_quantile_is_the_two_sided_95_percent_one() -> None:
    assert abs(Z_95 - stats.norm.ppf(0.975)) < 1e-12


def test_half_width_is_z_times_the_standard_error() -> None:
    values = np.random.default_rng(0).normal(50.0, 12.0, size=400)
    assert ci95_half_width(values) == pytest.approx(
        stats.norm.ppf(0.975) * stats.sem(values), rel=1e-12)
    assert ci95_half_width([1.0, 3.0]) == pytest.approx(Z_95 * math.sqrt(2) / math.sqrt(2))


@pytest.mark.parametrize("values", [[], [7.0]])
def test_fewer_than_two_values_give_no_interval(values: list[float]) -> None:
    assert ci95_half_width(values) == 0.0


def test_along_an_axis_each_row_gets_its_own_interval() -> None:
    table = np.random.default_rng(1).normal(size=(3, 50))
    rows = ci95_half_width(table, axis=-1)
    assert rows.shape == (3,)
    for row, width in zip(table, rows):
        assert width == pytest.approx(ci95_half_width(row), rel=1e-12)
