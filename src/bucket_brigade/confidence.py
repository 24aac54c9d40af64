"""The one 95% confidence interval that every table, figure and check prints."""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
from numpy.typing import ArrayLike

Z_95 = NormalDist().inv_cdf(0.975)  # 1.95996...: the two-sided 95% normal quantile


def ci95_half_width(values: ArrayLike, axis: int | None = None) -> float | np.ndarray:
    """Half-width of the 95% confidence interval of the mean of ``values`` (normal
    approximation, sample standard deviation), over all values or along ``axis``; 0 for
    fewer than two values."""
    values = np.asarray(values, dtype=float)
    count = values.size if axis is None else values.shape[axis]
    if count < 2:
        return 0.0 if axis is None else np.zeros(np.delete(values.shape, axis))
    spread = values.std(axis=axis, ddof=1)
    return Z_95 * (float(spread) if axis is None else spread) / math.sqrt(count)


def two_sided_p(mean: float, ci95: float) -> float:
    """The two-sided normal p-value of "the true mean is 0", read off a mean and the
    half-width of its 95% interval (the test that interval inverts). An interval of width 0
    (every value equal) gives 1 for a mean of 0 and 0 otherwise."""
    if ci95 == 0:
        return 1.0 if mean == 0 else 0.0
    return 2 * (1 - NormalDist().cdf(abs(mean) * Z_95 / ci95))


def holm_adjusted(p_values: ArrayLike) -> np.ndarray:
    """Holm's step-down adjusted p-values: rejecting where the adjusted p-value is below
    alpha keeps the chance of any false rejection among all the tests at most alpha, for
    tests of any dependence (Holm 1979)."""
    p = np.asarray(p_values, dtype=float)
    order = np.argsort(p, kind="stable")
    scaled = p[order] * (len(p) - np.arange(len(p)))
    adjusted = np.empty_like(p)
    adjusted[order] = np.minimum(np.maximum.accumulate(scaled), 1.0)
    return adjusted
