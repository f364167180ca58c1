"""Trend prediction: when will the value reach its high-high (low-low) limit?

An ordinary least-squares line through the samples of the last `window_s` seconds gives a
slope b, the fitted value now (at the newest sample) and the standard error of b. The
slope counts only when

- there are at least `min_points` samples (default 20: with fewer, the t-statistic has
  too few degrees of freedom and heavy tails), and
- its t-statistic |b / se(b)| reaches `t_min` (default 6): white noise about a flat mean
  gets there in about one fit in 10⁵ (20 points) to 10⁷ (60 points), while a real ramp
  of any useful size gives t in the tens or hundreds.

Even a significant slope must reach the limit within the horizon, so noise on a value
far from its limit never predicts a crossing; the hard case is a noisy value sitting
near its limit, which the tests cover.

With a significant slope towards the limit, the crossing is expected after
``(limit - fitted) / b`` seconds. When that is within `horizon_s` for `confirm` fits in a
row the alarm rises, stating the predicted time; it clears, with some hysteresis (half
the t, twice the horizon), when the trend fades or turns, or once the fitted value has
reached the limit — the threshold alarm has then taken over.

The target is high_high (low_low); a sensor without one is predicted against high (low).
"""

from __future__ import annotations

import functools
import math
import sys
from typing import Final, NamedTuple

from hazmon.rules.threshold import CLEARED, NONE, RAISED, is_high
from hazmon.rules.window import F64, Times

_CLEAR_T_FACTOR: Final = 0.5
_CLEAR_HORIZON_FACTOR: Final = 2.0


class Fit(NamedTuple):
    n: int
    slope_per_s: float
    level: float  # fitted value at the newest sample
    t_stat: float  # slope / standard error (±inf for a perfect line, 0 for a flat one)
    at_ms: int  # time of the newest sample


def fit_line(ts_ms: Times, values: F64, base_ms: int = 0) -> Fit | None:
    """Least-squares line; None when fewer than three samples or no time spread. Times
    are ms after `base_ms` (a window's offsets) or absolute with the default 0."""
    n = len(ts_ms)
    if n < 3:
        return None
    x = (ts_ms - ts_ms[-1]) * 0.001  # seconds, newest at 0 (keeps the sums well scaled)
    dx = x - x.mean()
    sxx = float(dx @ dx)
    if sxx <= 0.0:
        return None
    ym = float(values.mean())
    b = float(dx @ values) / sxx  # Σdx = 0, so centring y is unnecessary
    level = ym - b * float(x.mean())
    resid = values - (level + b * x)
    s2 = float(resid @ resid) / (n - 2)
    se = math.sqrt(s2 / sxx)
    # The residual of an exact line is rounding noise; scale-aware test for "no noise".
    if se <= 1e-12 * max(1.0, abs(ym)):
        t = 0.0 if b == 0.0 else math.copysign(math.inf, b)
    else:
        t = b / se
    return Fit(n, b, level, t, base_ms + int(ts_ms[-1]))


def seconds_to_cross(fit: Fit, limit: float, high: bool) -> float | None:
    """Seconds until the fitted line reaches `limit`, None when it is not heading there."""
    b = fit.slope_per_s
    if high:
        if b <= 0.0 or fit.level >= limit:
            return None
        return (limit - fit.level) / b
    if b >= 0.0 or fit.level <= limit:
        return None
    return (limit - fit.level) / b


@functools.cache
def rule_of(target: str) -> str:
    return sys.intern(f"trend_{target}")  # one string per rule, not per sensor


class Trend:
    """Configuration and state of one predicted crossing (sensor, target limit)."""

    __slots__ = (
        "active",
        "confirm",
        "high",
        "horizon_s",
        "limit",
        "min_points",
        "predicted_ms",
        "rule",
        "slope_per_s",
        "streak",
        "t_min",
        "target",
        "value",
        "window_ms",
    )

    def __init__(
        self,
        target: str,
        limit: float,
        window_ms: int,
        horizon_s: float,
        min_points: int,
        t_min: float,
        confirm: int,
    ) -> None:
        self.target = target  # "high_high", "low_low", or "high"/"low" as a fallback
        self.rule = rule_of(target)
        self.high = is_high(target)
        self.limit = limit
        self.window_ms = window_ms
        self.horizon_s = horizon_s
        self.min_points = min_points
        self.t_min = t_min
        self.confirm = confirm
        self.active = False
        self.streak = 0
        self.predicted_ms = 0
        self.slope_per_s = 0.0
        self.value = 0.0


def _eta_within(
    fit: Fit | None, limit: float, high: bool, min_points: int, t_min: float, horizon_s: float
) -> float | None:
    """Seconds to the crossing when the fit has enough points, a slope with |t| ≥ `t_min`
    and reaches the limit within `horizon_s`; otherwise None."""
    if fit is None or fit.n < min_points or not abs(fit.t_stat) >= t_min:  # NaN: no
        return None
    eta = seconds_to_cross(fit, limit, high)
    return eta if eta is not None and eta <= horizon_s else None


def predicts(
    fit: Fit | None, limit: float, high: bool, min_points: int, t_min: float, horizon_s: float
) -> bool:
    """Whether a fit counts towards raising. (A trend with no streak that this says no to
    stays as it is: the engine keeps no state for it.)"""
    return _eta_within(fit, limit, high, min_points, t_min, horizon_s) is not None


def step(tr: Trend, fit: Fit | None) -> int:
    """Feed the latest fit; return RAISED, CLEARED or NONE."""
    if not tr.active:
        eta = _eta_within(fit, tr.limit, tr.high, tr.min_points, tr.t_min, tr.horizon_s)
        if eta is None:
            tr.streak = 0
            return NONE
        tr.streak += 1
        if tr.streak >= tr.confirm:
            assert fit is not None
            tr.active = True
            tr.streak = 0
            _remember(tr, fit, eta)
            return RAISED
        return NONE
    # Raised: held with hysteresis (half the t, twice the horizon).
    eta = _eta_within(
        fit, tr.limit, tr.high, tr.min_points, tr.t_min * _CLEAR_T_FACTOR,
        tr.horizon_s * _CLEAR_HORIZON_FACTOR,
    )
    if eta is not None:
        assert fit is not None
        _remember(tr, fit, eta)
        return NONE
    tr.active = False
    if fit is not None:
        tr.value = fit.level
    return CLEARED


def _remember(tr: Trend, fit: Fit, eta: float) -> None:
    tr.predicted_ms = fit.at_ms + round(eta * 1000.0)
    tr.slope_per_s = fit.slope_per_s
    tr.value = fit.level

