"""Everything the rules engine keeps about one sensor, built once per configuration.

Rule *configuration* is held as plain numbers and shared settings; rule *state* objects
(`threshold.Threshold`, `rate.Rate`, `trend.Trend`) exist only while they hold
something: a threshold away from normal, a rate alarm raised, a trend with a streak or
raised. A sensor whose rules are all quiet, nearly every sensor, keeps none
(`thresholds`, `rates` and `trends` are None), which is most of the engine's memory
saved (bench/NOTES.md, Memory) and a cheaper reading: two comparisons decide that no
threshold needs stepping. A state object that goes back to normal is dropped; a new one
starts from normal, which is exactly the state dropped.

Memory per sensor is a benchmark figure: a new field here costs every sensor 8 bytes
(and more if it holds its own object), so settings equal across sensors are shared
(`Share`) and anything rare lives in an object made only when needed.

This module, the engine and the rule modules are compiled with mypyc where a compiler
is present (scripts/build_native.py; the .py files are the source and the fallback).
Compiled, a class keeps no `__slots__`, so each state class names its attributes in
`FIELDS` (its `__slots__` from source), which the tests walk; hot fields are typed to
stay unboxed (an int with `NEVER` rather than `int | None`, NaN rather than None).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType
from typing import Final, TypeVar, cast

from hazmon.domain.registry import SensorInfo
from hazmon.domain.rulespec import SensorRules, resolve
from hazmon.rules import health, rate, threshold, trend
from hazmon.rules.gateway import GatewayWatch
from hazmon.rules.voting import Vote
from hazmon.rules.window import SampleWindow, WindowPool

_INF: Final = math.inf
# `SensorState.last_ts` before the first in-order reading: an int, not None, so that the
# compiled engine keeps it unboxed (an `int | None` field is a new int object per reading).
# Older than any reading, so a first reading is never "late". The snapshot says None.
NEVER: Final = -(2**60)
_NO_VOTES: Final[Mapping[str, list[Vote]]] = MappingProxyType({})
_T = TypeVar("_T")


@functools.cache
def ms(seconds: float) -> int:
    """Seconds as int ms, one int object per distinct setting shared by every sensor that
    has it (ints above 256 are otherwise a separate 28-byte object each, several per
    sensor)."""
    return round(seconds * 1000)


class Share:
    """One object for equal settings (tuples, floats, frozen models) across sensors."""

    __slots__ = ("_seen",)

    def __init__(self) -> None:
        self._seen: dict[object, object] = {}

    def __call__(self, value: _T) -> _T:
        # Keyed by type too: 1 == 1.0 == True, but a float setting must stay a float.
        return cast(_T, self._seen.setdefault((type(value), value), value))

    def once(self, key: tuple[object, ...], make: Callable[[], _T]) -> _T:
        """The object made for `key` the first time it was asked for."""
        found = self._seen.get(key)
        if found is None:
            found = self._seen[key] = make()
        return cast(_T, found)


class SensorState:
    """One sensor's rule configuration and state; see the module docstring."""

    FIELDS: Final = (
        "deadband",
        "gateway",
        "health",
        "hi_trip",
        "info",
        "last_ts",
        "lo_trip",
        "rate_fall",
        "rate_ms",
        "rate_rise",
        "rates",
        "simulated",
        "simulated_always",
        "threshold_delays",
        "thresholds",
        "tier",
        "trend",
        "trends",
        "votes",
        "watch_from",
        "window",
    )
    __slots__ = FIELDS
    # Slots rebuilt from the registry and rules file, never saved; every other slot is
    # saved by the snapshot codec itself (READING_SLOTS) or by a registered kind (its
    # `SensorKind.slots`). tests/rules/test_kinds.py checks that nothing is left over.
    CONFIG_SLOTS: Final = frozenset({
        "deadband", "gateway", "hi_trip", "info", "lo_trip", "rate_fall", "rate_ms",
        "rate_rise", "simulated_always", "threshold_delays", "tier", "trend", "votes",
    })
    READING_SLOTS: Final = frozenset({"last_ts", "watch_from", "simulated"})

    def __init__(
        self,
        info: SensorInfo,
        rules: SensorRules | None,
        tier: int | None,
        pool: WindowPool,
        share: Share,
    ) -> None:
        spec = info.sensor
        effective = resolve(spec.kind, spec.rules, rules)
        self.info = info
        self.tier = tier
        self.last_ts = NEVER  # newest in-order reading (NEVER: none yet)
        self.watch_from: int | None = None  # stale is counted from here until a reading
        self.simulated = False
        # A simulated enterprise's readings are all simulated (a read per reading saved).
        self.simulated_always = info.enterprise.simulated
        self.gateway: GatewayWatch | None = None
        # Threshold level → votes it feeds; most sensors feed none and share one empty map.
        self.votes: Mapping[str, list[Vote]] = _NO_VOTES

        lo, hi = spec.range
        threshold_rule = effective.threshold
        limits = info.limits
        # A value in (lo_trip, hi_trip) is beyond no limit: the lowest high limit and the
        # highest low one (limits are ordered). ±inf when the threshold rule is off.
        self.hi_trip = _INF
        self.lo_trip = -_INF
        self.deadband = 0.0
        self.threshold_delays: tuple[int, int] = (0, 0)  # (on, off) ms
        if threshold_rule.enabled and limits is not None:
            high = limits.high if limits.high is not None else limits.high_high
            low = limits.low if limits.low is not None else limits.low_low
            self.hi_trip = high if high is not None else _INF
            self.lo_trip = low if low is not None else -_INF
            deadband = threshold_rule.deadband
            if deadband is None:
                deadband = threshold_rule.deadband_pct / 100 * (hi - lo)
            self.deadband = share(deadband)
            self.threshold_delays = share(
                (ms(threshold_rule.on_delay_s), ms(threshold_rule.off_delay_s))
            )
        self.thresholds: dict[str, threshold.Threshold] | None = None

        span_ms = 0
        rate_rule = effective.rate
        self.rate_rise = rate_rule.rise_per_min if rate_rule.enabled else None
        self.rate_fall = rate_rule.fall_per_min if rate_rule.enabled else None
        self.rate_ms = 0  # the rate window; 0: no rate rule
        if self.rate_rise is not None or self.rate_fall is not None:
            self.rate_ms = span_ms = ms(rate_rule.window_s)
        self.rates: dict[str, rate.Rate] | None = None

        trend_rule = effective.trend
        self.trend: trend.Settings | None = None  # the trend rule's settings; None: off
        targets = self.trend_targets()
        if trend_rule.enabled and limits is not None and targets:
            self.trend = share.once((trend.Settings, trend_rule, targets),
                                    lambda: trend.Settings(trend_rule, targets))
            span_ms = max(span_ms, self.trend.window_ms)
        self.trends: dict[str, trend.Trend] | None = None
        self.window = SampleWindow(span_ms, pool) if span_ms else None

        frozen_rule = effective.frozen
        self.health = health.Health(
            spec.range,
            ms(effective.stale.after_s) if effective.stale.enabled else None,
            health.Frozen(ms(frozen_rule.after_s), frozen_rule.tolerance)
            if frozen_rule.enabled else None,
        )
        self.health.min_ok = share(self.health.min_ok)
        self.health.max_ok = share(self.health.max_ok)

    @property
    def newest_ms(self) -> int | None:
        """Epoch ms of the newest in-order reading; None before the first."""
        return None if self.last_ts == NEVER else self.last_ts

    @property
    def enterprise(self) -> str:
        return self.info.enterprise.code

    @property
    def hazard_source(self) -> str:
        return self.info.hazard_source.code

    def has_limit(self, rule: str) -> bool:
        """Whether a threshold alarm watches this limit (rule on, limit set)."""
        limits = self.info.limits
        on = self.hi_trip != _INF or self.lo_trip != -_INF  # off: both trips infinite
        return on and limits is not None and getattr(limits, rule) is not None

    def new_threshold(self, rule: str) -> threshold.Threshold:
        """The state of a threshold that has just left normal (or is restored)."""
        limits = self.info.limits
        assert limits is not None
        on_ms, off_ms = self.threshold_delays
        return threshold.Threshold(rule, getattr(limits, rule), self.deadband, on_ms, off_ms)

    def active_threshold(self, rule: str) -> bool:
        live = self.thresholds
        state = live.get(rule) if live is not None else None
        return state is not None and state.active

    def delay_running(self) -> bool:
        """Whether a threshold's on- or off-delay is running (the clock may end it)."""
        return any(state.pending for state in (self.thresholds or {}).values())

    def rate_rules(self) -> Iterator[tuple[str, bool, float]]:
        """(rule, rise, limit per minute) of each rate alarm the sensor has."""
        if self.rate_rise is not None:
            yield rate.RISE, True, self.rate_rise
        if self.rate_fall is not None:
            yield rate.FALL, False, self.rate_fall

    def trend_targets(self) -> tuple[tuple[str, float], ...]:
        """(target, limit) of the predictions: high_high (else high), low_low (else low)."""
        limits = self.info.limits
        if limits is None:
            return ()
        out: list[tuple[str, float]] = []
        for target, value in (
            ("high_high", limits.high_high)
            if limits.high_high is not None else ("high", limits.high),
            ("low_low", limits.low_low) if limits.low_low is not None else ("low", limits.low),
        ):
            if value is not None:
                out.append((target, value))
        return tuple(out)

    def new_trend(self, target: str, limit: float) -> trend.Trend:
        settings = self.trend
        assert settings is not None
        return trend.Trend(
            target, limit, settings.window_ms, settings.horizon_s, settings.min_points,
            settings.t_min, settings.confirm,
        )


class VoteMember:
    """One detector's threshold at a vote's level, as the vote sees it."""

    FIELDS: Final = ("level", "sensor")
    __slots__ = FIELDS

    def __init__(self, sensor: SensorState, level: str) -> None:
        self.sensor = sensor
        self.level = level

    @property
    def active(self) -> bool:
        return self.sensor.active_threshold(self.level)
