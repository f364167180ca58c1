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
import sys
from typing import TYPE_CHECKING, Any, Final

from hazmon.domain.registry import SensorInfo
from hazmon.domain.rulespec import TrendRule
from hazmon.domain.signal import AlarmSignal, Category
from hazmon.rules import messages
from hazmon.rules.change import Change
from hazmon.rules.fits import Fit as Fit  # re-exported: the engine and tests use trend.*
from hazmon.rules.fits import fit_line as fit_line
from hazmon.rules.kind import SensorKind, sensor_signal
from hazmon.rules.priority import Severity
from hazmon.rules.threshold import LEVELS, is_high

if TYPE_CHECKING:
    from hazmon.rules.sensor import SensorState

_RAISED: Final = Change.RAISED  # global loads: see `change`
_CLEARED: Final = Change.CLEARED
_NONE: Final = Change.NONE

_CLEAR_T_FACTOR: Final = 0.5
_CLEAR_HORIZON_FACTOR: Final = 2.0


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


RULES: Final = frozenset(rule_of(target) for target in LEVELS)


class Settings:
    """A sensor's trend rule as the per-fit path reads it: plain numbers rather than the
    rule model's attributes, and its targets as (target, limit, high, rule). One object
    for every sensor with the same rule and limits (`sensor.Share.once`)."""

    FIELDS: Final = ("confirm", "horizon_s", "min_points", "t_min", "targets", "window_ms")
    __slots__ = FIELDS

    def __init__(self, rule: TrendRule, targets: tuple[tuple[str, float], ...]) -> None:
        self.window_ms: int = round(rule.window_s * 1000)
        self.horizon_s: float = rule.horizon_s
        self.min_points: int = rule.min_points
        self.t_min: float = rule.t_min
        self.confirm: int = rule.confirm
        self.targets: tuple[tuple[str, float, bool, str], ...] = tuple(
            (target, limit, is_high(target), rule_of(target)) for target, limit in targets
        )


class Trend:
    """Configuration and state of one predicted crossing (sensor, target limit)."""

    FIELDS: Final = (
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
    __slots__ = FIELDS

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


def step(state: Trend, fit: Fit | None) -> Change:
    """Feed the latest fit; return what it did to the alarm."""
    if not state.active:
        eta = _eta_within(
            fit, state.limit, state.high, state.min_points, state.t_min, state.horizon_s
        )
        if eta is None:
            state.streak = 0
            return _NONE
        state.streak += 1
        if state.streak >= state.confirm:
            assert fit is not None
            state.active = True
            state.streak = 0
            _remember(state, fit, eta)
            return _RAISED
        return _NONE
    # Raised: held with hysteresis (half the t, twice the horizon).
    eta = _eta_within(
        fit, state.limit, state.high, state.min_points, state.t_min * _CLEAR_T_FACTOR,
        state.horizon_s * _CLEAR_HORIZON_FACTOR,
    )
    if eta is not None:
        assert fit is not None
        _remember(state, fit, eta)
        return _NONE
    state.active = False
    if fit is not None:
        state.value = fit.level
    return _CLEARED


def _remember(state: Trend, fit: Fit, eta: float) -> None:
    state.predicted_ms = fit.at_ms + round(eta * 1000.0)
    state.slope_per_s = fit.slope_per_s
    state.value = fit.level



# --- cold path: snapshot, restart, signal ----------------------------------------------


def dump(sensor: SensorState) -> dict[str, list[Any]]:
    return {
        state.rule: [state.active, state.streak, state.predicted_ms, state.slope_per_s,
                     state.value]
        for state in (sensor.trends or {}).values()
    }


def load(sensor: SensorState, saved: dict[str, list[Any]] | None) -> None:
    sensor.trends = None
    if sensor.trend is None:
        return
    for target, limit, _, rule in sensor.trend.targets:
        entry = saved.get(rule) if saved else None
        if entry is not None and (entry[0] or entry[1]):  # raised, or a streak running
            state = sensor.new_trend(target, limit)
            (state.active, state.streak, state.predicted_ms, state.slope_per_s,
             state.value) = entry
            if sensor.trends is None:
                sensor.trends = {}
            sensor.trends[rule] = state


def holds(sensor: SensorState, rule: str) -> bool | None:
    if rule not in RULES:
        return None
    state = (sensor.trends or {}).get(rule)
    return state is not None and state.active


KIND: Final[SensorKind] = SensorKind("trends", ("trends",), dump, load, holds)


def signal(
    sensor: SensorState, state: Trend, change: Change, ts_ms: int, simulated: bool
) -> AlarmSignal:
    raised = change is _RAISED
    details: dict[str, object] = {"target": state.target}
    if raised:
        details |= {"predicted_ms": state.predicted_ms, "slope_per_min": state.slope_per_s * 60}
    return sensor_signal(
        sensor, change, rule=state.rule, category=Category.PROCESS, severity=Severity.TREND,
        ts_ms=ts_ms, value=state.value, limit=state.limit,
        message=message(sensor.info, state, raised, ts_ms), simulated=simulated,
        details=details,
    )


def message(info: SensorInfo, state: Trend, raised: bool, at_ms: int) -> str:
    _, limit_name = messages.level_names(info, state.target)
    unit = info.sensor.unit
    where, fmt = messages.where(info), messages.fmt
    if not raised:
        return f"趋势预警消除：{where} 当前 {fmt(state.value)} {unit}，不再趋向{limit_name}"
    slope = state.slope_per_s * 60
    sign = "+" if slope > 0 else "-"
    return (
        f"趋势预警：{where} 当前 {fmt(state.value)} {unit}，按 {sign}{fmt(abs(slope))} "
        f"{unit}/min 预计约 {messages.minutes(state.predicted_ms - at_ms)} 分钟后"
        f"（{messages.beijing_time(state.predicted_ms)}）达到{limit_name} "
        f"{fmt(state.limit)} {unit}"
    )
