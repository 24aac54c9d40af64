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
