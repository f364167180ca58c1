"""Data health: is the data itself to be trusted? Kept apart from process alarms.

Rules (all `Category.DATA_HEALTH`):

- ``stale``: no reading from a sensor for `StaleRule.after_s`, judged on a clock tick.
  A sensor never heard from counts from when the engine started watching it. Not raised
  while the sensor's gateway is offline: one gateway alarm says it, not a thousand.
  (``gateway_offline``, the enterprise's own data-health alarm, is in `gateway`.)
- ``frozen``: the value stayed within `FrozenRule.tolerance` of the same value for
  `FrozenRule.after_s` — a stuck transmitter or a gateway repeating its last value.
- ``bad_quality``: the reading says quality ``bad``; cleared by the next reading that
  does not.
- ``out_of_range``: the value lies outside the instrument range by more than NAMUR NE 43
  allows for a 4-20 mA loop (3.8-20.5 mA: 1.25 % of span below, 3.125 % above); inside
  that band a reading is a measurement, beyond it a fault.

A bad, out-of-range or stale sensor neither raises nor clears process alarms: its
process state is held as it was until trustworthy readings return.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Final

from hazmon.domain.registry import SensorInfo
from hazmon.domain.signal import AlarmSignal, Category
from hazmon.rules import messages
from hazmon.rules.change import Change
from hazmon.rules.kind import SensorKind, sensor_signal
from hazmon.rules.priority import Severity

if TYPE_CHECKING:
    from hazmon.rules.sensor import SensorState

_RAISED: Final = Change.RAISED  # global loads: see `change`
_CLEARED: Final = Change.CLEARED
_NONE: Final = Change.NONE

_NAN: Final = math.nan
# `Health.stale_after_ms` with stale detection off: an int, not None, so that the compiled
# class keeps it unboxed (an `int | None` field holds an int object of its own per sensor).
STALE_OFF: Final = -1

NE43_BELOW: Final = 0.0125
NE43_ABOVE: Final = 0.03125

STALE: Final = "stale"
FROZEN: Final = "frozen"
BAD_QUALITY: Final = "bad_quality"
OUT_OF_RANGE: Final = "out_of_range"


def valid_bounds(low: float, high: float) -> tuple[float, float]:
    """The values a healthy instrument with range [low, high] can report."""
    span = high - low
    return low - NE43_BELOW * span, high + NE43_ABOVE * span


class Health:
    """Data-health flags of one sensor."""

    FIELDS: Final = ("bad", "frozen", "max_ok", "min_ok", "out_of_range", "stale", "stale_after_ms")
    __slots__ = FIELDS

    def __init__(
        self,
        range_: tuple[float, float],
        stale_after_ms: int | None,
        frozen: Frozen | None,
    ) -> None:
        self.min_ok, self.max_ok = valid_bounds(*range_)
        self.stale_after_ms = STALE_OFF if stale_after_ms is None else stale_after_ms
        self.frozen = frozen
        self.stale = False
        self.bad = False
        self.out_of_range = False

    @property
    def trusted(self) -> bool:
        """Whether the sensor's latest data may drive process alarms."""
        return not (self.stale or self.bad or self.out_of_range)


def quality_step(health: Health, bad: bool) -> Change:
    if bad != health.bad:
        health.bad = bad
        return _RAISED if bad else _CLEARED
    return _NONE


def range_step(health: Health, value: float) -> Change:
    outside = not (health.min_ok <= value <= health.max_ok)
    if outside != health.out_of_range:
        health.out_of_range = outside
        return _RAISED if outside else _CLEARED
    return _NONE


def stale_tick(health: Health, last_ms: int, now_ms: int, suppressed: bool) -> Change:
    """Raise when `last_ms` (newest reading, or when watching began) is too long ago."""
    if health.stale or health.stale_after_ms == STALE_OFF or suppressed:
        return _NONE
    if now_ms - last_ms >= health.stale_after_ms:
        health.stale = True
        return _RAISED
    return _NONE


def stale_seen(health: Health) -> Change:
    """A new reading arrived."""
    if health.stale:
        health.stale = False
        return _CLEARED
    return _NONE


class Frozen:
    FIELDS: Final = ("active", "after_ms", "ref", "since_ms", "tolerance")
    __slots__ = FIELDS

    def __init__(self, after_ms: int, tolerance: float) -> None:
        self.after_ms = after_ms
        self.tolerance = tolerance
        self.active = False
        # The value the signal is stuck at (or last moved to); NaN before the first (a
        # float, not None, so the compiled engine keeps it unboxed: no object per reading).
        # A NaN reading is out of range and never gets here.
        self.ref = _NAN
        self.since_ms = 0


def frozen_step(frozen: Frozen, value: float, ts_ms: int) -> Change:
    """Feed one in-order value; RAISED once it has not moved for `after_ms`."""
    ref = frozen.ref
    if ref != ref or abs(value - ref) > frozen.tolerance:  # NaN: no value yet
        frozen.ref = value
        frozen.since_ms = ts_ms
        if frozen.active:
            frozen.active = False
            return _CLEARED
        return _NONE
    if not frozen.active and ts_ms - frozen.since_ms >= frozen.after_ms:
        frozen.active = True
        return _RAISED
    return _NONE


# --- cold path: snapshot, restart, signal ----------------------------------------------


def dump(sensor: SensorState) -> dict[str, object]:
    health, frozen = sensor.health, sensor.health.frozen
    return {
        "stale": health.stale,
        "bad": health.bad,
        "out_of_range": health.out_of_range,
        "frozen": None if frozen is None else [
            frozen.active, None if math.isnan(frozen.ref) else frozen.ref, frozen.since_ms
        ],
    }


def load(sensor: SensorState, saved: dict[str, Any] | None) -> None:
    saved = saved or {}
    health = sensor.health
    health.stale = bool(saved.get("stale"))
    health.bad = bool(saved.get("bad"))
    health.out_of_range = bool(saved.get("out_of_range"))
    if health.frozen is not None and saved.get("frozen"):
        active, ref, since_ms = saved["frozen"]
        health.frozen.active, health.frozen.since_ms = active, since_ms
        health.frozen.ref = _NAN if ref is None else float(ref)


def holds(sensor: SensorState, rule: str) -> bool | None:
    health = sensor.health
    if rule == STALE:
        return health.stale
    if rule == BAD_QUALITY:
        return health.bad
    if rule == OUT_OF_RANGE:
        return health.out_of_range
    if rule == FROZEN:
        return health.frozen is not None and health.frozen.active
    return None


KIND: Final[SensorKind] = SensorKind("health", ("health",), dump, load, holds)


def signal(
    sensor: SensorState,
    rule: str,
    change: Change,
    *,
    ts_ms: int,
    value: float | None,
    simulated: bool,
    message: str,
    details: dict[str, object],
) -> AlarmSignal:
    return sensor_signal(
        sensor, change, rule=rule, category=Category.DATA_HEALTH, severity=Severity.SENSOR,
        ts_ms=ts_ms, value=value, limit=None, message=message, simulated=simulated,
        details=details,
    )


def stale_message(info: SensorInfo, raised: bool, silent_ms: int) -> str:
    if raised:
        return f"数据中断：{messages.where(info)} 已 {messages.minutes(silent_ms)} 分钟无数据"
    return f"数据恢复：{messages.where(info)}"


def frozen_message(info: SensorInfo, raised: bool, value: float, held_ms: int) -> str:
    unit, where, fmt = info.sensor.unit, messages.where(info), messages.fmt
    if raised:
        return (
            f"数据冻结：{where} 数值 {fmt(value)} {unit} "
            f"已 {messages.minutes(held_ms)} 分钟无变化"
        )
    return f"数据冻结消除：{where} 数值恢复变化，当前 {fmt(value)} {unit}"


def bad_quality_message(info: SensorInfo, raised: bool) -> str:
    if raised:
        return f"数据质量异常：{messages.where(info)} 上报质量为坏值(bad)"
    return f"数据质量恢复：{messages.where(info)}"


def out_of_range_message(info: SensorInfo, raised: bool, value: float) -> str:
    unit, where, fmt = info.sensor.unit, messages.where(info), messages.fmt
    lo, hi = info.sensor.range
    if raised:
        return (
            f"超量程：{where} {fmt(value)} {unit} "
            f"超出仪表量程 [{fmt(lo)}, {fmt(hi)}] {unit}，疑似仪表故障"
        )
    return f"超量程消除：{where} {fmt(value)} {unit}"
