"""Threshold alarms: high, high-high, low, low-low, with deadband and on/off delays.

One `Threshold` per (sensor, limit). Its phase machine, as in most DCS alarm blocks
(e.g. Logix ALMA: ``In >= HLimit`` raises, ``In < HLimit - Deadband`` returns):

    NORMAL ──beyond──▶ PENDING_ON ──held on_delay──▶ ACTIVE ──back──▶ PENDING_OFF
       ▲                  │ not beyond                   ▲  not back │ held off_delay
       └──────────────────┘                              └───────────┘──────▶ NORMAL

"beyond" is ``value >= limit`` for a high limit (``<=`` for a low one); "back" is
``value < limit - deadband`` (``> limit + deadband``), so a value wandering inside the
deadband neither re-raises nor clears. A zero delay skips its pending phase. Time is the
reading's own timestamp (or the clock tick's, for a delay running out in `expire`); the
state is a small slotted object mutated in place rather than copied, because this runs
for every reading of every sensor.

Below the state machine: the kind's cold path (snapshot part, restart check, signal and
its Chinese message), registered in `kinds`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Final

from hazmon.domain.registry import SensorInfo
from hazmon.domain.signal import AlarmSignal, Category
from hazmon.rules import messages
from hazmon.rules.change import Change
from hazmon.rules.kind import SensorKind, sensor_signal
from hazmon.rules.priority import threshold_severity

if TYPE_CHECKING:
    from hazmon.rules.sensor import SensorState

NORMAL: Final = 0
PENDING_ON: Final = 1
ACTIVE: Final = 2
PENDING_OFF: Final = 3

_RAISED: Final = Change.RAISED  # global loads: see `change`
_CLEARED: Final = Change.CLEARED
_NONE: Final = Change.NONE

# Most severe first: the order signals come out in when one reading crosses several.
LEVELS: Final = ("high_high", "low_low", "high", "low")


def is_high(level: str) -> bool:
    """high / high_high (a level or a trend target) against low / low_low."""
    return level.startswith("high")


def beyond(high: bool, limit: float, value: float) -> bool:
    """Whether `value` is at or past a limit: the condition that leaves NORMAL."""
    return value >= limit if high else value <= limit


class Threshold:
    """Configuration and state of one (sensor, limit) alarm."""

    FIELDS: Final = (
        "deadband",
        "high",
        "limit",
        "off_delay_ms",
        "on_delay_ms",
        "phase",
        "rule",
        "since_ms",
        "value",
    )
    __slots__ = FIELDS

    def __init__(
        self,
        rule: str,
        limit: float,
        deadband: float,
        on_delay_ms: int,
        off_delay_ms: int,
    ) -> None:
        if rule not in LEVELS:
            raise ValueError(f"unknown threshold rule {rule!r}")
        self.rule = rule
        self.high = is_high(rule)
        self.limit = limit
        self.deadband = deadband
        self.on_delay_ms = on_delay_ms
        self.off_delay_ms = off_delay_ms
        self.phase = NORMAL
        self.since_ms = 0
        self.value = 0.0  # the value that last changed the phase, for messages

    @property
    def active(self) -> bool:
        """The alarm is raised (including while its off-delay runs)."""
        return self.phase >= ACTIVE

    @property
    def pending(self) -> bool:
        """An on- or off-delay is running (a clock tick may end it)."""
        return self.phase == PENDING_ON or self.phase == PENDING_OFF

    def __repr__(self) -> str:
        return f"Threshold({self.rule} {self.limit} phase={self.phase} since={self.since_ms})"


def due_ms(levels: Iterable[Threshold]) -> int | None:
    """When the first delay running among `levels` runs out (None: none running)."""
    due: int | None = None
    for level in levels:
        if level.pending:
            at = level.since_ms + (level.on_delay_ms if level.phase == PENDING_ON
                                   else level.off_delay_ms)
            due = at if due is None or at < due else due
    return due


def step(state: Threshold, value: float, now_ms: int) -> Change:
    """Feed one in-order value; return what it did to the alarm."""
    high, limit = state.high, state.limit
    past = beyond(high, limit, value)
    back = value < limit - state.deadband if high else value > limit + state.deadband
    phase = state.phase
    if phase == NORMAL:
        if past:
            state.value = value
            if state.on_delay_ms <= 0:
                state.phase = ACTIVE
                state.since_ms = now_ms
                return _RAISED
            state.phase = PENDING_ON
            state.since_ms = now_ms
    elif phase == PENDING_ON:
        if not past:
            state.phase = NORMAL
        elif now_ms - state.since_ms >= state.on_delay_ms:
            state.phase = ACTIVE
            state.since_ms = now_ms
            state.value = value
            return _RAISED
    elif phase == ACTIVE:
        if back:
            state.value = value
            if state.off_delay_ms <= 0:
                state.phase = NORMAL
                state.since_ms = now_ms
                return _CLEARED
            state.phase = PENDING_OFF
            state.since_ms = now_ms
    elif not back:  # PENDING_OFF interrupted: the alarm simply stays raised
        state.phase = ACTIVE
    elif now_ms - state.since_ms >= state.off_delay_ms:
        state.phase = NORMAL
        state.since_ms = now_ms
        state.value = value
        return _CLEARED
    return _NONE


def expire(state: Threshold, now_ms: int) -> Change:
    """A clock tick: let a pending delay that has run out take effect."""
    if state.phase == PENDING_ON and now_ms - state.since_ms >= state.on_delay_ms:
        state.phase = ACTIVE
        state.since_ms = now_ms
        return _RAISED
    if state.phase == PENDING_OFF and now_ms - state.since_ms >= state.off_delay_ms:
        state.phase = NORMAL
        state.since_ms = now_ms
        return _CLEARED
    return _NONE


# --- cold path: snapshot, restart, signal ----------------------------------------------


def dump(sensor: SensorState) -> dict[str, list[Any]]:
    # Only the states that exist: a level missing here is normal.
    return {
        state.rule: [state.phase, state.since_ms, state.value]
        for state in (sensor.thresholds or {}).values()
    }


def load(sensor: SensorState, saved: dict[str, list[Any]] | None) -> None:
    # Snapshots list every level's state, or (since states are kept only while they hold
    # something) only those away from normal; a normal one is simply not rebuilt.
    sensor.thresholds = None
    for rule in LEVELS:
        entry = saved.get(rule) if saved else None
        if entry is not None and entry[0] != NORMAL and sensor.has_limit(rule):
            state = sensor.new_threshold(rule)
            state.phase, state.since_ms, state.value = entry
            if sensor.thresholds is None:
                sensor.thresholds = {}
            sensor.thresholds[rule] = state


def holds(sensor: SensorState, rule: str) -> bool | None:
    return sensor.active_threshold(rule) if rule in LEVELS else None


KIND: Final[SensorKind] = SensorKind("thresholds", ("thresholds",), dump, load, holds)


def signal(
    sensor: SensorState, state: Threshold, change: Change, ts_ms: int, simulated: bool
) -> AlarmSignal:
    info = sensor.info
    return sensor_signal(
        sensor, change, rule=state.rule, category=Category.PROCESS,
        severity=threshold_severity(state.rule), ts_ms=ts_ms, value=state.value,
        limit=state.limit,
        message=message(info, state.rule, change is _RAISED, state.value, state.limit),
        simulated=simulated,
        details={"limits_basis": info.limits_basis, "deadband": state.deadband},
    )


def message(info: SensorInfo, rule: str, raised: bool, value: float, limit: float) -> str:
    name, limit_name = messages.level_names(info, rule)
    unit = info.sensor.unit
    where, fmt = messages.where(info), messages.fmt
    if raised:
        op = "≥" if is_high(rule) else "≤"
        return f"{name}：{where} {fmt(value)} {unit} {op} {limit_name} {fmt(limit)} {unit}"
    op = "<" if is_high(rule) else ">"
    return f"{name}消除：{where} {fmt(value)} {unit} {op} {limit_name} {fmt(limit)} {unit}"
