"""The one 95% confidence interval every table and figure prints."""

import math

import numpy as np
import pytest
from scipy import stats

from bucket_brigade.confidence import Z_95, ci95_half_width, holm_adjusted, two_sided_p


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


def test_the_p_value_is_the_one_the_interval_inverts() -> None:
    assert two_sided_p(1.0, 1.0) == pytest.approx(0.05, abs=1e-12)  # the interval touches 0
    assert two_sided_p(-2.0, 1.0) == pytest.approx(2 * stats.norm.sf(2 * Z_95))
    assert two_sided_p(0.0, 0.0) == 1.0 and two_sided_p(0.5, 0.0) == 0.0


def test_holm_matches_its_step_down_definition() -> None:
    p = np.array([0.01, 0.04, 0.03, 0.005, 0.5])
    # sorted 0.005, 0.01, 0.03, 0.04, 0.5 times 5, 4, 3, 2, 1, then running maximum
    expected = {3: 0.025, 0: 0.04, 2: 0.09, 1: 0.09, 4: 0.5}
    adjusted = holm_adjusted(p)
    for k, value in expected.items():
        assert adjusted[k] == pytest.approx(value)
    assert holm_adjusted([0.9, 0.6]).tolist() == [1.0, 1.0]
    assert holm_adjusted([]).size == 0


def test_holm_keeps_the_family_wise_error_rate() -> None:
    """Twenty true nulls per family: some raw p < 0.05 in most families, some adjusted one
    in about 5% of them (fixed seed; the bound has room for the sampling error)."""
    rng = np.random.default_rng(3)
    families = rng.uniform(size=(2000, 20))
    raw = (families < 0.05).any(axis=1).mean()
    adjusted = np.mean([(holm_adjusted(p) < 0.05).any() for p in families])
    assert raw > 0.5 and adjusted < 0.065
