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
"""

from __future__ import annotations

from typing import Final

NORMAL: Final = 0
PENDING_ON: Final = 1
ACTIVE: Final = 2
PENDING_OFF: Final = 3

RAISED: Final = 1
CLEARED: Final = -1
NONE: Final = 0

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

    __slots__ = (
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
        return self.phase == PENDING_ON or self.phase == PENDING_OFF

    def __repr__(self) -> str:
        return f"Threshold({self.rule} {self.limit} phase={self.phase} since={self.since_ms})"


def step(th: Threshold, value: float, now_ms: int) -> int:
    """Feed one in-order value; return RAISED, CLEARED or NONE."""
    high, limit = th.high, th.limit
    past = beyond(high, limit, value)
    back = value < limit - th.deadband if high else value > limit + th.deadband
    phase = th.phase
    if phase == NORMAL:
        if past:
            th.value = value
            if th.on_delay_ms <= 0:
                th.phase = ACTIVE
                th.since_ms = now_ms
                return RAISED
            th.phase = PENDING_ON
            th.since_ms = now_ms
    elif phase == PENDING_ON:
        if not past:
            th.phase = NORMAL
        elif now_ms - th.since_ms >= th.on_delay_ms:
            th.phase = ACTIVE
            th.since_ms = now_ms
            th.value = value
            return RAISED
    elif phase == ACTIVE:
        if back:
            th.value = value
            if th.off_delay_ms <= 0:
                th.phase = NORMAL
                th.since_ms = now_ms
                return CLEARED
            th.phase = PENDING_OFF
            th.since_ms = now_ms
    elif not back:  # PENDING_OFF interrupted: the alarm simply stays raised
        th.phase = ACTIVE
    elif now_ms - th.since_ms >= th.off_delay_ms:
        th.phase = NORMAL
        th.since_ms = now_ms
        th.value = value
        return CLEARED
    return NONE


def expire(th: Threshold, now_ms: int) -> int:
    """A clock tick: let a pending delay that has run out take effect."""
    if th.phase == PENDING_ON and now_ms - th.since_ms >= th.on_delay_ms:
        th.phase = ACTIVE
        th.since_ms = now_ms
        return RAISED
    if th.phase == PENDING_OFF and now_ms - th.since_ms >= th.off_delay_ms:
        th.phase = NORMAL
        th.since_ms = now_ms
        return CLEARED
    return NONE
