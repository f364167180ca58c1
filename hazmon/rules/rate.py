"""Rate of change: rising or falling faster than a limit, in units per minute.

The rate is the Theil-Sen slope over the last `window_s` seconds — the median of the
slopes between every pair of samples — rather than the difference of two readings or a
least-squares line, which one wild reading at the end of the window can swing far past
the limit. The median ignores up to about 29 % of outliers. With at most 64 samples
(2016 pairs) it is cheap, and only sensors with a rate limit pay for it. It needs at
least three samples spanning half the window before it says anything. The alarm clears
when the rate falls below `CLEAR_RATIO` of its limit (a deadband in rate terms).
"""

from __future__ import annotations

from typing import Final

import numpy as np

from hazmon.rules.threshold import CLEARED, NONE, RAISED
from hazmon.rules.window import F64, SampleWindow, Times

CLEAR_RATIO: Final = 0.8
_MIN_SPAN: Final = 0.5  # fraction of the window the samples must cover


def rule_of(rise: bool) -> str:
    return "rate_rise" if rise else "rate_fall"


class Rate:
    """Configuration and state of one rate alarm (rate_rise or rate_fall of a sensor)."""

    __slots__ = ("active", "limit_per_min", "rise", "rule", "value")

    def __init__(self, rise: bool, limit_per_min: float) -> None:
        self.rise = rise
        self.rule = rule_of(rise)
        self.limit_per_min = limit_per_min
        self.active = False
        self.value = 0.0  # the rate (units/min) that last changed the state


def theil_sen_per_s(ts_ms: Times, values: F64) -> float:
    """Median of the pairwise slopes, units per second (samples in time order)."""
    dt = np.subtract.outer(ts_ms, ts_ms)  # dt[i, j] = t_i - t_j
    later = dt > 0
    slopes = np.subtract.outer(values, values)[later] / dt[later]
    return float(np.median(slopes)) * 1000.0


def rate_per_min(window: SampleWindow, window_ms: int) -> float | None:
    """Rate over the last `window_ms`, units per minute; None without enough data."""
    ts, vs = window.last(window_ms)
    if len(ts) < 3 or ts[-1] - ts[0] < _MIN_SPAN * window_ms:
        return None
    return theil_sen_per_s(ts, vs) * 60.0


def step(r: Rate, per_min: float | None) -> int:
    """Feed the current rate (None: not enough data, which holds the state)."""
    if per_min is None:
        return NONE
    signed = per_min if r.rise else -per_min
    if not r.active:
        if signed >= r.limit_per_min:
            r.active = True
            r.value = per_min
            return RAISED
    elif signed < r.limit_per_min * CLEAR_RATIO:
        r.active = False
        r.value = per_min
        return CLEARED
    return NONE
