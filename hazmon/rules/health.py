"""Data health: is the data itself to be trusted? Kept apart from process alarms.

Rules (all `Category.DATA_HEALTH`):

- ``stale``: no reading from a sensor for `StaleRule.after_s`, judged on a clock tick.
  A sensor never heard from counts from when the engine started watching it. Not raised
  while the sensor's gateway is offline: one gateway alarm says it, not a thousand.
- ``gateway_offline``: the enterprise's status topic said offline (its Last Will), or
  nothing at all came from the enterprise for `GatewayRule.silence_s`. Cleared by an
  ``online`` status or by any reading newer than the offline status. Its signal has
  ``tag=None`` and ``hazard_source=""`` (it concerns the whole enterprise), so its key is
  ``(enterprise, "@", "gateway_offline")``. Back online, a gateway first sends its
  backlog (older readings, in order); until data as new as its ``online`` status has
  arrived it is *catching up*, and its sensors' stale is held as while it was offline:
  a clock tick between the ``online`` and the end of the backlog must not find every
  sensor of the plant stale (a flood of stale alarms after every outage).
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

from typing import Final

from hazmon.rules.threshold import CLEARED, NONE, RAISED

NE43_BELOW: Final = 0.0125
NE43_ABOVE: Final = 0.03125

STALE: Final = "stale"
FROZEN: Final = "frozen"
BAD_QUALITY: Final = "bad_quality"
OUT_OF_RANGE: Final = "out_of_range"
GATEWAY_OFFLINE: Final = "gateway_offline"


def valid_bounds(low: float, high: float) -> tuple[float, float]:
    """The values a healthy instrument with range [low, high] can report."""
    span = high - low
    return low - NE43_BELOW * span, high + NE43_ABOVE * span


class Health:
    """Data-health flags of one sensor."""

    __slots__ = ("bad", "frozen", "max_ok", "min_ok", "out_of_range", "stale", "stale_after_ms")

    def __init__(
        self,
        range_: tuple[float, float],
        stale_after_ms: int | None,
        frozen: Frozen | None,
    ) -> None:
        self.min_ok, self.max_ok = valid_bounds(*range_)
        self.stale_after_ms = stale_after_ms  # None: stale detection off
        self.frozen = frozen
        self.stale = False
        self.bad = False
        self.out_of_range = False

    @property
    def trusted(self) -> bool:
        """Whether the sensor's latest data may drive process alarms."""
        return not (self.stale or self.bad or self.out_of_range)


def quality_step(h: Health, bad: bool) -> int:
    if bad != h.bad:
        h.bad = bad
        return RAISED if bad else CLEARED
    return NONE


def range_step(h: Health, value: float) -> int:
    outside = not (h.min_ok <= value <= h.max_ok)
    if outside != h.out_of_range:
        h.out_of_range = outside
        return RAISED if outside else CLEARED
    return NONE


def stale_tick(h: Health, last_ms: int, now_ms: int, suppressed: bool) -> int:
    """Raise when `last_ms` (newest reading, or when watching began) is too long ago."""
    if h.stale or h.stale_after_ms is None or suppressed:
        return NONE
    if now_ms - last_ms >= h.stale_after_ms:
        h.stale = True
        return RAISED
    return NONE


def stale_seen(h: Health) -> int:
    """A new reading arrived."""
    if h.stale:
        h.stale = False
        return CLEARED
    return NONE


class Frozen:
    __slots__ = ("active", "after_ms", "ref", "since_ms", "tolerance")

    def __init__(self, after_ms: int, tolerance: float) -> None:
        self.after_ms = after_ms
        self.tolerance = tolerance
        self.active = False
        self.ref: float | None = None  # the value the signal is stuck at (or last moved to)
        self.since_ms = 0


def frozen_step(fz: Frozen, value: float, ts_ms: int) -> int:
    """Feed one in-order value; RAISED once it has not moved for `after_ms`."""
    ref = fz.ref
    if ref is None or abs(value - ref) > fz.tolerance:
        fz.ref = value
        fz.since_ms = ts_ms
        if fz.active:
            fz.active = False
            return CLEARED
        return NONE
    if not fz.active and ts_ms - fz.since_ms >= fz.after_ms:
        fz.active = True
        return RAISED
    return NONE


class Gateway:
    """Liveness of one enterprise's gateway."""

    __slots__ = ("active", "catch_up_ms", "last_seen_ms", "offline_ms", "reason", "silence_ms")

    def __init__(self, silence_ms: int) -> None:
        self.silence_ms = silence_ms
        self.active = False
        self.catch_up_ms: int | None = None  # back online at this time, backlog not in yet
        self.reason = ""  # "status" (said offline / Last Will) or "silence"
        self.offline_ms: int | None = None  # time of the newest offline status
        self.last_seen_ms: int | None = None  # newest reading or online status


def gateway_status(gw: Gateway, online: bool, ts_ms: int) -> int:
    """The enterprise's status topic said online or offline at `ts_ms`."""
    if online:
        if gw.offline_ms is not None and ts_ms < gw.offline_ms:
            return NONE  # an older "online" (e.g. a retained message) after the Last Will
        gw.offline_ms = None
        if gw.active:
            gw.catch_up_ms = ts_ms
        gw.last_seen_ms = ts_ms if gw.last_seen_ms is None else max(gw.last_seen_ms, ts_ms)
        return _clear(gw)
    if gw.last_seen_ms is not None and ts_ms < gw.last_seen_ms:
        return NONE  # data newer than this "offline" already arrived
    gw.offline_ms = ts_ms
    gw.catch_up_ms = None
    gw.reason = "status"
    if gw.active:
        return NONE
    gw.active = True
    return RAISED


def gateway_seen(gw: Gateway, ts_ms: int) -> int:
    """A reading from the enterprise arrived; data newer than an offline status clears it."""
    if gw.last_seen_ms is None or ts_ms > gw.last_seen_ms:
        gw.last_seen_ms = ts_ms
    if gw.catch_up_ms is not None and ts_ms >= gw.catch_up_ms:
        gw.catch_up_ms = None  # the backlog is in: live data again
    if gw.active and (gw.offline_ms is None or ts_ms > gw.offline_ms):
        gw.offline_ms = None
        return _clear(gw)
    return NONE


def gateway_tick(gw: Gateway, watch_from_ms: int, now_ms: int) -> int:
    if gw.active:
        return NONE
    last = gw.last_seen_ms if gw.last_seen_ms is not None else watch_from_ms
    if now_ms - last >= gw.silence_ms:
        gw.active = True
        gw.reason = "silence"
        return RAISED
    return NONE


def holds_stale(gw: Gateway) -> bool:
    """Whether the gateway's sensors must not be judged stale now: it is offline, or back
    but still sending the backlog of its outage."""
    return gw.active or gw.catch_up_ms is not None


def _clear(gw: Gateway) -> int:
    if gw.active:
        gw.active = False
        return CLEARED
    return NONE
