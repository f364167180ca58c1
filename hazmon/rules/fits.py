"""The fits behind the rate and trend rules, as plain loops over at most 64 samples.

A module of its own because it is compiled (mypyc, scripts/build_native.py) where a
compiler is present: a loop over a few dozen floats costs about a microsecond compiled,
where numpy's per-call overhead on arrays this small was tens of microseconds per fit.
`trend` and `rate` (pure Python, the rules' state classes) call these.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple


class Fit(NamedTuple):
    n: int
    slope_per_s: float
    level: float  # fitted value at the newest sample
    t_stat: float  # slope / standard error (±inf for a perfect line, 0 for a flat one)
    at_ms: int  # time of the newest sample


def fit_line(ts_ms: Sequence[float], values: Sequence[float], base_ms: int = 0) -> Fit | None:
    """Least-squares line; None when fewer than three samples or no time spread. Times
    are ms after `base_ms` (a window's offsets) or absolute with the default 0.

    Plain loops over at most 64 samples, the same centred two-pass formulas as the numpy
    version they replaced (numpy's call overhead dominated on arrays this small). The
    sums are taken in order, where numpy summed pairwise and BLAS in SIMD lanes, so
    results differ in the last bits (bounded in tests/rules/test_numerics.py)."""
    n = len(ts_ms)
    if n < 3:
        return None
    # Lists as they come from a window (anything else, e.g. numpy arrays, made one): the
    # loops index them typed. x, seconds with the newest at 0, is worked out in each loop
    # rather than kept in a list (a float object per sample); the same operations, so the
    # same bits.
    ts = ts_ms if isinstance(ts_ms, list) else list(ts_ms)
    ys = values if isinstance(values, list) else list(values)
    newest = float(ts[n - 1])
    sx = 0.0
    sy = 0.0
    for i in range(n):
        sx += (float(ts[i]) - newest) * 0.001
        sy += float(ys[i])
    xm = sx / n
    ym = sy / n
    sxx = 0.0
    sxy = 0.0
    for i in range(n):
        dx = (float(ts[i]) - newest) * 0.001 - xm
        sxx += dx * dx
        sxy += dx * float(ys[i])  # Σdx = 0, so centring y is unnecessary
    if sxx <= 0.0:
        return None
    b = sxy / sxx
    level = ym - b * xm
    ss = 0.0
    for i in range(n):
        r = float(ys[i]) - (level + b * ((float(ts[i]) - newest) * 0.001))
        ss += r * r
    s2 = ss / (n - 2)
    se = math.sqrt(s2 / sxx)
    # The residual of an exact line is rounding noise; scale-aware test for "no noise".
    if se <= 1e-12 * max(1.0, abs(ym)):
        t = 0.0 if b == 0.0 else math.copysign(math.inf, b)
    else:
        t = b / se
    return Fit(n, b, level, t, base_ms + int(ts[n - 1]))


def theil_sen_per_s(ts_ms: Sequence[float], values: Sequence[float]) -> float:
    """Median of the pairwise slopes, units per second (samples in time order).

    Plain loops over at most 64 samples: numpy's per-call overhead on arrays this small
    (`subtract.outer`, masks, `median`) cost tens of µs; the loops do the same IEEE
    operations (one subtraction each, one division, the mean of the middle two), so the
    result is bit for bit what the numpy version gave (tests/rules/test_numerics.py)."""
    n = len(ts_ms)
    t = [float(x) for x in ts_ms]  # int or float in, exact either way (|t| < 2**53)
    v = [float(x) for x in values]
    slopes: list[float] = []
    for i in range(1, n):
        ti = t[i]
        vi = v[i]
        for j in range(i):
            dt = ti - t[j]
            if dt > 0.0:
                slopes.append((vi - v[j]) / dt)
    m = len(slopes)
    if m == 0:
        return math.nan
    slopes.sort()
    mid = m // 2
    median = slopes[mid] if m % 2 else (slopes[mid - 1] + slopes[mid]) / 2.0
    return median * 1000.0
