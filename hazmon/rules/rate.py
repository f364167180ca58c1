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

from typing import TYPE_CHECKING, Any, Final

from hazmon.domain.registry import SensorInfo
from hazmon.domain.signal import AlarmSignal, Category
from hazmon.rules import messages
from hazmon.rules.change import Change
from hazmon.rules.fits import theil_sen_per_s as theil_sen_per_s  # re-exported
from hazmon.rules.kind import SensorKind, sensor_signal
from hazmon.rules.priority import Severity
from hazmon.rules.window import SampleWindow

if TYPE_CHECKING:
    from hazmon.rules.sensor import SensorState

CLEAR_RATIO: Final = 0.8
_MIN_SPAN: Final = 0.5  # fraction of the window the samples must cover
RISE: Final = "rate_rise"
FALL: Final = "rate_fall"

_RAISED: Final = Change.RAISED  # global loads: see `change`
_CLEARED: Final = Change.CLEARED
_NONE: Final = Change.NONE


def rule_of(rise: bool) -> str:
    return RISE if rise else FALL


class Rate:
    """Configuration and state of one rate alarm (rate_rise or rate_fall of a sensor)."""

    FIELDS: Final = ("active", "limit_per_min", "rise", "rule", "value")
    __slots__ = FIELDS

    def __init__(self, rise: bool, limit_per_min: float) -> None:
        self.rise = rise
        self.rule = rule_of(rise)
        self.limit_per_min = limit_per_min
        self.active = False
        self.value = 0.0  # the rate (units/min) that last changed the state


def rate_per_min(window: SampleWindow, window_ms: int) -> float | None:
    """Rate over the last `window_ms`, units per minute; None without enough data."""
    ts, vs = window.recent(window_ms)
    if len(ts) < 3 or ts[-1] - ts[0] < _MIN_SPAN * window_ms:
        return None
    return theil_sen_per_s(ts, vs) * 60.0


def step(state: Rate, per_min: float | None) -> Change:
    """Feed the current rate (None: not enough data, which holds the state)."""
    if per_min is None:
        return _NONE
    signed = per_min if state.rise else -per_min
    if not state.active:
        if signed >= state.limit_per_min:
            state.active = True
            state.value = per_min
            return _RAISED
    elif signed < state.limit_per_min * CLEAR_RATIO:
        state.active = False
        state.value = per_min
        return _CLEARED
    return _NONE


# --- cold path: snapshot, restart, signal ----------------------------------------------


def dump(sensor: SensorState) -> dict[str, list[Any]]:
    return {state.rule: [state.active, state.value] for state in (sensor.rates or {}).values()}


def load(sensor: SensorState, saved: dict[str, list[Any]] | None) -> None:
    sensor.rates = None
    for rule, rise, limit in sensor.rate_rules():
        entry = saved.get(rule) if saved else None
        if entry is not None and entry[0]:  # a quiet rate keeps no state
            state = Rate(rise, limit)
            state.active, state.value = entry
            if sensor.rates is None:
                sensor.rates = {}
            sensor.rates[rule] = state


def holds(sensor: SensorState, rule: str) -> bool | None:
    if rule != RISE and rule != FALL:
        return None
    state = (sensor.rates or {}).get(rule)
    return state is not None and state.active


KIND: Final[SensorKind] = SensorKind("rates", ("rates",), dump, load, holds)


def signal(
    sensor: SensorState, state: Rate, change: Change, ts_ms: int, simulated: bool
) -> AlarmSignal:
    raised = change is _RAISED
    return sensor_signal(
        sensor, change, rule=state.rule, category=Category.PROCESS, severity=Severity.RATE,
        ts_ms=ts_ms, value=state.value, limit=state.limit_per_min,
        message=message(sensor.info, state.rise, raised, state.value, state.limit_per_min),
        simulated=simulated, details={"per_min": state.value, "window_ms": sensor.rate_ms},
    )


def message(info: SensorInfo, rise: bool, raised: bool, per_min: float, limit: float) -> str:
    unit = f"{info.sensor.unit}/min"
    what = "上升速率" if rise else "下降速率"
    speed = messages.fmt(abs(per_min))
    if raised:
        return (
            f"变化率报警：{messages.where(info)} {what} {speed} {unit} ≥ 限值 "
            f"{messages.fmt(limit)} {unit}"
        )
    return f"变化率报警消除：{messages.where(info)} {what} {speed} {unit}"
