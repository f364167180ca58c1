"""The rules engine: readings and clock ticks in, `AlarmSignal`s out. Pure: no I/O, no clock.

Time is always given: a reading's own timestamp, or `now_ms` of a `tick` /
`gateway_status` call. Tests drive it with synthetic series and never sleep.

Per sensor the engine keeps one slotted `_Sensor`, found by one dict lookup per reading:
its rule configuration as numbers and shared settings, its health state, and the
threshold, rate and trend state objects of the rule modules only while they hold
something (see `_Sensor`). A `SampleWindow` (a row of the engine's `WindowPool`) exists
only for sensors with a rate or trend rule. Signals are built (and their Chinese
messages formatted) only when a condition changes.

Late and out-of-order readings. A reading no newer than the sensor's newest is *late*.
It is inserted into the rate/trend window in time order (so history stays right for the
next fit), but it does not touch the live state: it neither raises nor clears a
threshold, stale, quality, range, frozen, rate, trend or vote condition, since the sensor
has already told us something newer. Readings arriving in time order — including a
gateway's backlog replayed after an outage — are evaluated one by one at their own
times, so a past excursion is raised and cleared with the times it happened.
`evaluate_many` sorts a batch by time first, so disorder inside one batch is not "late".

Clock ticks. `tick(now_ms)` raises stale sensors and silent gateways, and lets on/off
delays run out for sensors that report only on change (sample-and-hold: the last value
is taken to hold until a newer reading says otherwise; the signal carries the time the
delay ran out, not `now_ms`). Stale is judged first, and a sensor that is stale, bad or
out of range, or whose gateway is offline, holds its process state: no raise, no clear,
no delay expiry. Ticks are expected every few seconds; a delay that ran out before a
late tick found the sensor stale stays held.

Restart. `snapshot()` returns plain JSON-able data (state of every rule, sample windows,
active signals); `RulesEngine.restore(registry, snap)` rebuilds an engine that continues
where the old one stopped, so a condition still true is not raised again. `reload`
applies a new registry the same way and clears the conditions that no longer exist.
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Iterable, Iterator, Mapping
from operator import attrgetter
from types import MappingProxyType
from typing import Any, Final, TypeVar, cast

from hazmon.domain.reading import Quality, Reading
from hazmon.domain.registry import Enterprise, Registry, SensorInfo
from hazmon.domain.rulespec import (
    EnterpriseRules,
    GatewayRule,
    RulesFile,
    SensorRules,
    TrendRule,
    level_limit_name,
    resolve,
)
from hazmon.domain.signal import AlarmSignal, Category, Priority, SignalKind
from hazmon.rules import health, messages, rate, threshold, trend, voting
from hazmon.rules.file import RulesConfigError, check_against, resolve_problems
from hazmon.rules.priority import Severity, priority, threshold_severity, vote_severity
from hazmon.rules.window import SampleWindow, WindowPool

log = logging.getLogger(__name__)


@functools.cache
def _ms(seconds: float) -> int:
    # One int object per distinct setting, shared by every sensor that has it (ints above
    # 256 are otherwise a separate 28-byte object each, several per sensor).
    return round(seconds * 1000)


_NO_VOTES: Final[Mapping[str, list[voting.Vote]]] = MappingProxyType({})

SNAPSHOT_VERSION: Final = 1
DEFAULT_GATEWAY_SILENCE_S: Final = GatewayRule().silence_s
_RAISED, _CLEARED = threshold.RAISED, threshold.CLEARED
_by_ts = attrgetter("ts_ms")
_T = TypeVar("_T")


_INF: Final = math.inf


class _Sensor:
    """Everything the engine keeps about one sensor.

    Rule *configuration* is held as plain numbers and shared settings; rule *state*
    objects (`threshold.Threshold`, `rate.Rate`, `trend.Trend`) exist only while they
    hold something: a threshold away from normal, a rate alarm raised, a trend with a
    streak or raised. A sensor whose rules are all quiet, nearly every sensor, keeps none
    (`thresholds`, `rates` and `trends` are None), which is most of the engine's memory
    saved (bench/NOTES.md, Memory) and a cheaper reading: two comparisons decide that no
    threshold needs stepping. A state object that goes back to normal is dropped; a new
    one starts from normal, which is exactly the state dropped.
    """

    __slots__ = (
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
        "th_delays",
        "thresholds",
        "tier",
        "trend",
        "trends",
        "votes",
        "watch_from",
        "window",
    )

    def __init__(
        self,
        info: SensorInfo,
        rules: SensorRules | None,
        tier: int | None,
        pool: WindowPool,
        share: _Share,
    ) -> None:
        s = info.sensor
        eff = resolve(s.kind, s.rules, rules)
        self.info = info
        self.tier = tier
        self.last_ts: int | None = None  # newest in-order reading
        self.watch_from: int | None = None  # stale is counted from here until a reading
        self.simulated = False
        self.gateway: _Gateway | None = None
        # Threshold rule → votes it feeds; most sensors feed none and share one empty map.
        self.votes: Mapping[str, list[voting.Vote]] = _NO_VOTES

        lo, hi = s.range
        th = eff.threshold
        lim = info.limits
        # A value in (lo_trip, hi_trip) is beyond no limit: the lowest high limit and the
        # highest low one (limits are ordered). ±inf when the threshold rule is off.
        self.hi_trip = _INF
        self.lo_trip = -_INF
        self.deadband = 0.0
        self.th_delays: tuple[int, int] = (0, 0)
        if th.enabled and lim is not None:
            high = lim.high if lim.high is not None else lim.high_high
            low = lim.low if lim.low is not None else lim.low_low
            self.hi_trip = high if high is not None else _INF
            self.lo_trip = low if low is not None else -_INF
            deadband = th.deadband
            if deadband is None:
                deadband = th.deadband_pct / 100 * (hi - lo)
            self.deadband = share(deadband)
            self.th_delays = share((_ms(th.on_delay_s), _ms(th.off_delay_s)))
        self.thresholds: dict[str, threshold.Threshold] | None = None

        span_ms = 0
        rt = eff.rate
        self.rate_rise = rt.rise_per_min if rt.enabled else None
        self.rate_fall = rt.fall_per_min if rt.enabled else None
        self.rate_ms = 0  # the rate window; 0: no rate rule
        if self.rate_rise is not None or self.rate_fall is not None:
            self.rate_ms = span_ms = _ms(rt.window_s)
        self.rates: dict[str, rate.Rate] | None = None

        tr = eff.trend
        self.trend: TrendRule | None = None
        if tr.enabled and lim is not None and self.trend_targets():
            self.trend = share(tr)
            span_ms = max(span_ms, _ms(tr.window_s))
        self.trends: dict[str, trend.Trend] | None = None
        self.window = SampleWindow(span_ms, pool) if span_ms else None

        fz = eff.frozen
        self.health = health.Health(
            s.range,
            _ms(eff.stale.after_s) if eff.stale.enabled else None,
            health.Frozen(_ms(fz.after_s), fz.tolerance) if fz.enabled else None,
        )
        self.health.min_ok = share(self.health.min_ok)
        self.health.max_ok = share(self.health.max_ok)

    @property
    def ent(self) -> str:
        return self.info.enterprise.code

    @property
    def hs(self) -> str:
        return self.info.hazard_source.code

    def has_limit(self, rule: str) -> bool:
        """Whether a threshold alarm watches this limit (rule on, limit set)."""
        lim = self.info.limits
        on = self.hi_trip != _INF or self.lo_trip != -_INF  # off: both trips infinite
        return on and lim is not None and getattr(lim, rule) is not None

    def new_threshold(self, rule: str) -> threshold.Threshold:
        """The state of a threshold that has just left normal (or is restored)."""
        lim = self.info.limits
        assert lim is not None
        limit = getattr(lim, rule)
        on_ms, off_ms = self.th_delays
        return threshold.Threshold(rule, limit, self.deadband, on_ms, off_ms)

    def trend_targets(self) -> tuple[tuple[str, float], ...]:
        """(target, limit) of the predictions: high_high (else high), low_low (else low)."""
        lim = self.info.limits
        if lim is None:
            return ()
        out: list[tuple[str, float]] = []
        for target, value in (
            ("high_high", lim.high_high) if lim.high_high is not None else ("high", lim.high),
            ("low_low", lim.low_low) if lim.low_low is not None else ("low", lim.low),
        ):
            if value is not None:
                out.append((target, value))
        return tuple(out)

    def rate_rules(self) -> Iterator[tuple[str, bool, float]]:
        """(rule, rise, limit per minute) of each rate alarm the sensor has."""
        if self.rate_rise is not None:
            yield rate.rule_of(True), True, self.rate_rise
        if self.rate_fall is not None:
            yield rate.rule_of(False), False, self.rate_fall

    def new_trend(self, target: str, limit: float) -> trend.Trend:
        cfg = self.trend
        assert cfg is not None
        return trend.Trend(
            target, limit, _ms(cfg.window_s), cfg.horizon_s, cfg.min_points, cfg.t_min,
            cfg.confirm,
        )

    def active_threshold(self, rule: str) -> bool:
        live = self.thresholds
        th = live.get(rule) if live is not None else None
        return th is not None and th.active


class _VoteMember:
    """One detector's threshold at a vote's level, as the vote sees it."""

    __slots__ = ("rule", "st")

    def __init__(self, st: _Sensor, rule: str) -> None:
        self.st = st
        self.rule = rule

    @property
    def active(self) -> bool:
        return self.st.active_threshold(self.rule)


class _Share:
    """One object for equal settings (tuples, floats, frozen models) across sensors."""

    __slots__ = ("_seen",)

    def __init__(self) -> None:
        self._seen: dict[object, object] = {}

    def __call__(self, value: _T) -> _T:
        # Keyed by type too: 1 == 1.0 == True, but a float setting must stay a float.
        return cast(_T, self._seen.setdefault((type(value), value), value))


class _Gateway:
    __slots__ = ("enterprise", "state", "tier", "watch_from")

    def __init__(self, enterprise: Enterprise, silence_s: float, tier: int | None) -> None:
        self.enterprise = enterprise
        self.state = health.Gateway(round(silence_s * 1000))
        self.tier = tier  # the most dangerous tier among the enterprise's hazard sources
        self.watch_from: int | None = None


class RulesEngine:
    """Evaluates every rule of every sensor of one registry; see the module docstring."""

    def __init__(
        self,
        registry: Registry,
        rules: RulesFile | None = None,
        *,
        gateway_silence_s: float = DEFAULT_GATEWAY_SILENCE_S,
    ) -> None:
        self._rules = rules
        self._gateway_silence_s = gateway_silence_s
        self._sensors: dict[tuple[str, str], _Sensor] = {}
        self._by_id: dict[int, _Sensor] = {}  # id(SensorInfo) → state: skips building a key
        self._gateways: dict[str, _Gateway] = {}
        self._votes: dict[tuple[str, str, str], voting.Vote] = {}
        self._active: dict[tuple[str, str, str], AlarmSignal] = {}
        self._pending: set[_Sensor] = set()  # sensors with an on/off delay running
        self._now_ms: int | None = None  # newest time seen, for signals of a reload
        self.late_readings = 0
        self._build(registry)

    # --- construction -------------------------------------------------------------------

    def _build(self, registry: Registry) -> None:
        problems: list[str] = []
        file_rules: Mapping[str, EnterpriseRules] = {}
        if self._rules is not None:
            problems.extend(check_against(self._rules, registry))
            file_rules = self._rules.enterprises
        sensors: dict[tuple[str, str], _Sensor] = {}
        pool = WindowPool()  # every sample window of this configuration, in a few arrays
        share = _Share()
        for key, info in registry.sensors.items():
            ent_rules = file_rules.get(key[0])
            override = ent_rules.sensors.get(key[1]) if ent_rules is not None else None
            found = resolve_problems(info.sensor.kind, info.sensor.rules, override)
            if found:
                problems.extend(f"{key[0]} {key[1]} rules: {p}" for p in found)
                continue
            hsi = registry.hazard_sources.get((key[0], info.hazard_source.code))
            sensors[key] = _Sensor(info, override, hsi.grading.tier if hsi else None, pool, share)
        if problems:
            raise RulesConfigError(registry.source or "<registry>", problems)

        votes: dict[tuple[str, str, str], voting.Vote] = {}
        for (ent, hs_code), hsi in registry.hazard_sources.items():
            for spec in hsi.hazard_source.voting:
                limit_rule = level_limit_name(spec.level)
                members: list[voting.Member | None] = []
                vote = voting.Vote(spec, ent, hs_code, members)
                for tag in spec.tags:
                    st = sensors.get((ent, tag))
                    if st is None or not st.has_limit(limit_rule):
                        log.warning("vote %s/%s: %s has no %s limit", hs_code, spec.name, tag,
                                    limit_rule)
                        members.append(None)
                    else:
                        feeds = st.votes if isinstance(st.votes, dict) else {}
                        feeds.setdefault(limit_rule, []).append(vote)
                        st.votes = feeds
                        members.append(_VoteMember(st, limit_rule))
                votes[(ent, hs_code, spec.rule)] = vote

        gateways: dict[str, _Gateway] = {}
        for code, enterprise in registry.enterprises.items():
            tiers = [
                hsi.grading.tier
                for (e, _), hsi in registry.hazard_sources.items()
                if e == code and hsi.grading.tier is not None
            ]
            ent_rules = file_rules.get(code)
            gw_rule = ent_rules.gateway if ent_rules is not None else None
            silence = gw_rule.silence_s if gw_rule is not None else self._gateway_silence_s
            gateways[code] = _Gateway(enterprise, silence, min(tiers) if tiers else None)

        for st in sensors.values():
            st.gateway = gateways.get(st.ent)
        self._registry = registry
        self._sensors = sensors
        self._by_id = {id(st.info): st for st in sensors.values()}
        self._votes = votes
        self._gateways = gateways
        self._pending = set()

    # --- inputs -------------------------------------------------------------------------

    def evaluate(self, reading: Reading) -> list[AlarmSignal]:
        """Evaluate one reading at its own time; return the conditions it changed."""
        out: list[AlarmSignal] = []
        info = reading.sensor
        st = self._by_id.get(id(info))
        if st is None or st.info is not info:
            # A reading resolved against an older registry (before a reload).
            st = self._sensors.get((info.enterprise.code, info.sensor.tag))
            if st is None:
                return out
        self._evaluate(st, reading, out)
        return out

    def evaluate_many(self, readings: Iterable[Reading]) -> list[AlarmSignal]:
        """Evaluate a batch in time order (so disorder inside a batch is not "late")."""
        out: list[AlarmSignal] = []
        for r in sorted(readings, key=_by_ts):
            out.extend(self.evaluate(r))
        return out

    def gateway_status(self, enterprise: str, online: bool, ts_ms: int) -> list[AlarmSignal]:
        """The enterprise's status topic (online / offline, incl. its Last Will)."""
        out: list[AlarmSignal] = []
        gw = self._gateways.get(enterprise)
        if gw is None:
            return out
        self._advance(ts_ms)
        change = health.gateway_status(gw.state, online, ts_ms)
        if change:
            out.append(self._gateway_signal(gw, change, ts_ms))
        return out

    def tick(self, now_ms: int) -> list[AlarmSignal]:
        """The clock: stale sensors, silent gateways, on/off delays running out."""
        out: list[AlarmSignal] = []
        self._advance(now_ms)

        for gw in self._gateways.values():
            if gw.watch_from is None:
                gw.watch_from = now_ms
            change = health.gateway_tick(gw.state, gw.watch_from, now_ms)
            if change:
                out.append(self._gateway_signal(gw, change, now_ms))

        for st in self._sensors.values():
            h = st.health
            if h.stale or h.stale_after_ms is None:
                continue
            last = st.last_ts
            if last is None:
                if st.watch_from is None:
                    st.watch_from = now_ms
                last = st.watch_from
            if now_ms - last < h.stale_after_ms:
                continue
            held = st.gateway is not None and health.holds_stale(st.gateway.state)
            if health.stale_tick(h, last, now_ms, held):
                out.append(
                    self._health_signal(
                        st, health.STALE, _RAISED, now_ms, None, st.simulated,
                        messages.stale(st.info, True, now_ms - last),
                        {"last_reading_ms": st.last_ts},
                    )
                )

        # After stale: a delay never runs out on a sensor that has just gone quiet.
        for st in list(self._pending):
            if not st.health.trusted or (st.gateway is not None and st.gateway.state.active):
                continue  # held: a stale or bad sensor neither raises nor clears
            still = False
            live = st.thresholds or {}
            for rule in threshold.LEVELS:
                th = live.get(rule)
                if th is None:
                    continue
                since, delay = th.since_ms, (
                    th.on_delay_ms if th.phase == threshold.PENDING_ON else th.off_delay_ms
                )
                change = threshold.expire(th, now_ms)
                if change:
                    th.since_ms = since + delay
                    self._threshold_changed(st, th, change, since + delay, st.simulated, out)
                if th.phase == threshold.NORMAL:
                    del live[rule]
                elif th.phase & 1:
                    still = True
            st.thresholds = live or None
            if not still:
                self._pending.discard(st)
        return out

    # --- the per-reading path -----------------------------------------------------------

    def _evaluate(self, st: _Sensor, r: Reading, out: list[AlarmSignal]) -> None:
        ts = r.ts_ms
        value = r.value
        h = st.health
        last = st.last_ts
        late = last is not None and ts <= last
        sim = r.simulated or r.sensor.enterprise.simulated
        if late:
            self.late_readings += 1
        else:
            st.last_ts = ts
            st.simulated = sim
            if self._now_ms is None or ts > self._now_ms:
                self._now_ms = ts
            gw = st.gateway
            if gw is not None:
                change = health.gateway_seen(gw.state, ts)
                if change:
                    out.append(self._gateway_signal(gw, change, ts))
            if h.stale and health.stale_seen(h):
                out.append(
                    self._health_signal(
                        st, health.STALE, _CLEARED, ts, value, sim,
                        messages.stale(st.info, False, 0), {},
                    )
                )

        bad = r.quality is Quality.BAD
        if not late and bad != h.bad:
            change = health.quality_step(h, bad)
            out.append(
                self._health_signal(
                    st, health.BAD_QUALITY, change, ts, value, sim,
                    messages.bad_quality(st.info, change == _RAISED), {},
                )
            )
        if bad:
            return
        in_range = h.min_ok <= value <= h.max_ok
        if not late and in_range == h.out_of_range:
            change = health.range_step(h, value)
            out.append(
                self._health_signal(
                    st, health.OUT_OF_RANGE, change, ts, value, sim,
                    messages.out_of_range(st.info, change == _RAISED, value),
                    {"range": list(st.info.sensor.range)},
                )
            )
        if not in_range:
            return

        window = st.window
        appended = window.add(ts, value) if window is not None else False
        if late:
            return

        if st.thresholds is not None or not st.lo_trip < value < st.hi_trip:
            self._step_thresholds(st, value, ts, sim, out)

        fz = h.frozen
        if fz is not None:
            since = fz.since_ms
            change = health.frozen_step(fz, value, ts)
            if change:
                out.append(
                    self._health_signal(
                        st, health.FROZEN, change, ts, value, sim,
                        messages.frozen(st.info, change == _RAISED, value, ts - since),
                        {"since_ms": since} if change == _RAISED else {},
                    )
                )

        if appended and window is not None:
            if st.rate_ms:
                per_min = rate.rate_per_min(window, st.rate_ms)
                if per_min is not None:
                    self._step_rates(st, per_min, ts, sim, out)
            if st.trend is not None:
                ts_arr, vs_arr = window.last(_ms(st.trend.window_s))
                fit = trend.fit_line(ts_arr, vs_arr, window.base_ms)  # one fit, both targets
                self._step_trends(st, fit, ts, sim, out)

    def _step_thresholds(
        self, st: _Sensor, value: float, ts: int, sim: bool, out: list[AlarmSignal]
    ) -> None:
        # Stepped: the thresholds away from normal, and those the value is now beyond.
        live = st.thresholds
        if live is None:
            live = st.thresholds = {}  # before any vote recounts
        lim = st.info.limits
        pending = False
        for rule in threshold.LEVELS:
            th = live.get(rule)
            if th is None:
                limit = getattr(lim, rule) if lim is not None else None
                if limit is None or not threshold.beyond(threshold.is_high(rule), limit, value):
                    continue  # normal and staying so: a new state would do nothing
                th = live[rule] = st.new_threshold(rule)
            change = threshold.step(th, value, ts)
            if change:
                self._threshold_changed(st, th, change, ts, sim, out)
            if th.phase == threshold.NORMAL:
                del live[rule]
            elif th.phase & 1:
                pending = True
        if not live:
            st.thresholds = None
        if pending:
            self._pending.add(st)
        elif self._pending:
            self._pending.discard(st)

    def _step_rates(
        self, st: _Sensor, per_min: float, ts: int, sim: bool, out: list[AlarmSignal]
    ) -> None:
        live = st.rates
        for rule, rise, limit in st.rate_rules():
            rt = live.get(rule) if live is not None else None
            if rt is None:
                if (per_min if rise else -per_min) < limit:
                    continue  # quiet and staying so
                rt = rate.Rate(rise, limit)
            change = rate.step(rt, per_min)
            if change == _RAISED:
                live = live if live is not None else {}
                live[rule] = rt
            elif change == _CLEARED and live is not None:
                del live[rule]
            if change:
                out.append(self._rate_signal(st, rt, change, ts, sim))
        st.rates = live or None

    def _step_trends(
        self, st: _Sensor, fit: trend.Fit | None, ts: int, sim: bool, out: list[AlarmSignal]
    ) -> None:
        cfg = st.trend
        assert cfg is not None
        live = st.trends
        for target, limit in st.trend_targets():
            rule = trend.rule_of(target)
            tr = live.get(rule) if live is not None else None
            if tr is None:
                if not trend.predicts(fit, limit, threshold.is_high(target), cfg.min_points,
                                      cfg.t_min, cfg.horizon_s):
                    continue  # no streak and none starting
                tr = st.new_trend(target, limit)
            change = trend.step(tr, fit)
            if tr.active or tr.streak:
                live = live if live is not None else {}
                live[rule] = tr
            elif live is not None:
                live.pop(rule, None)
            if change:
                out.append(self._trend_signal(st, tr, change, ts, sim))
        st.trends = live or None

    def _threshold_changed(
        self,
        st: _Sensor,
        th: threshold.Threshold,
        change: int,
        ts: int,
        sim: bool,
        out: list[AlarmSignal],
    ) -> None:
        raised = change == _RAISED
        info = st.info
        out.append(
            self._emit(
                raised, st.ent, st.hs, info.sensor.tag, th.rule, Category.PROCESS,
                priority(threshold_severity(th.rule), st.tier), ts, th.value, th.limit,
                messages.threshold(info, th.rule, raised, th.value, th.limit), sim,
                {"limits_basis": info.limits_basis, "deadband": th.deadband},
            )
        )
        for vote in st.votes.get(th.rule, ()):
            vchange = voting.step(vote)
            if vchange:
                out.append(self._vote_signal(vote, vchange, ts, sim))

    # --- signals ------------------------------------------------------------------------

    def _emit(
        self,
        raised: bool,
        ent: str,
        hs: str,
        tag: str | None,
        rule: str,
        category: Category,
        prio: Priority,
        ts: int,
        value: float | None,
        limit: float | None,
        message: str,
        sim: bool,
        details: dict[str, object],
    ) -> AlarmSignal:
        sig = AlarmSignal(
            SignalKind.RAISE if raised else SignalKind.CLEAR,
            ent, hs, tag, rule, category, prio, ts, value, limit, message, sim, details,
        )
        if raised:
            self._active[sig.key] = sig
        else:
            self._active.pop(sig.key, None)
        log.info("%s %s %s %s", sig.kind, ent, tag or f"@{hs}", rule)
        return sig

    def _health_signal(
        self,
        st: _Sensor,
        rule: str,
        change: int,
        ts: int,
        value: float | None,
        sim: bool,
        message: str,
        details: dict[str, object],
    ) -> AlarmSignal:
        return self._emit(
            change == _RAISED, st.ent, st.hs, st.info.sensor.tag, rule, Category.DATA_HEALTH,
            priority(Severity.SENSOR, st.tier), ts, value, None, message, sim, details,
        )

    def _rate_signal(
        self, st: _Sensor, rt: rate.Rate, change: int, ts: int, sim: bool
    ) -> AlarmSignal:
        raised = change == _RAISED
        return self._emit(
            raised, st.ent, st.hs, st.info.sensor.tag, rt.rule, Category.PROCESS,
            priority(Severity.RATE, st.tier), ts, rt.value, rt.limit_per_min,
            messages.rate(st.info, rt.rise, raised, rt.value, rt.limit_per_min), sim,
            {"per_min": rt.value, "window_ms": st.rate_ms},
        )

    def _trend_signal(
        self, st: _Sensor, tr: trend.Trend, change: int, ts: int, sim: bool
    ) -> AlarmSignal:
        raised = change == _RAISED
        details: dict[str, object] = {"target": tr.target}
        if raised:
            details |= {"predicted_ms": tr.predicted_ms, "slope_per_min": tr.slope_per_s * 60}
        return self._emit(
            raised, st.ent, st.hs, st.info.sensor.tag, tr.rule, Category.PROCESS,
            priority(Severity.TREND, st.tier), ts, tr.value, tr.limit,
            messages.trend(
                st.info, tr.target, raised, tr.value, tr.limit, tr.slope_per_s, ts,
                tr.predicted_ms,
            ),
            sim, details,
        )

    def _vote_signal(self, vote: voting.Vote, change: int, ts: int, sim: bool) -> AlarmSignal:
        raised = change == _RAISED
        hsi = self._registry.hazard_sources.get((vote.enterprise, vote.hazard_source))
        hs_name = hsi.hazard_source.name if hsi is not None else vote.hazard_source
        tier = hsi.grading.tier if hsi is not None else None
        spec = vote.spec
        over = [t for t, th in zip(spec.tags, vote.members, strict=True) if th and th.active]
        return self._emit(
            raised, vote.enterprise, vote.hazard_source, None, spec.rule, Category.PROCESS,
            priority(vote_severity(spec.level), tier), ts, float(vote.count), float(spec.k),
            messages.vote(hs_name, spec, raised, over), sim,
            {"k": spec.k, "n": len(spec.tags), "level": spec.level, "over": over},
        )

    def _gateway_signal(self, gw: _Gateway, change: int, ts: int) -> AlarmSignal:
        raised = change == _RAISED
        state = gw.state
        last = state.last_seen_ms if state.last_seen_ms is not None else gw.watch_from
        silent = ts - last if last is not None else 0
        return self._emit(
            raised, gw.enterprise.code, "", None, health.GATEWAY_OFFLINE, Category.DATA_HEALTH,
            priority(Severity.GATEWAY, gw.tier), ts, None, None,
            messages.gateway(gw.enterprise, raised, state.reason, silent),
            gw.enterprise.simulated,
            {"reason": state.reason} if raised else {},
        )

    def _advance(self, ts: int) -> None:
        if self._now_ms is None or ts > self._now_ms:
            self._now_ms = ts

    # --- queries, snapshot, reload ------------------------------------------------------

    def active(self) -> list[AlarmSignal]:
        """The RAISE signal of every condition now active (to rebuild alarms on restart)."""
        return list(self._active.values())

    def last_seen(self, enterprise: str, tag: str) -> int | None:
        """Epoch ms of the sensor's newest in-order reading; None if never heard from or
        not in the registry."""
        st = self._sensors.get((enterprise, tag))
        return None if st is None else st.last_ts

    def snapshot(self) -> dict[str, object]:
        """All rule state as plain JSON-able data."""
        snap = self.snapshot_head()
        snap["sensors"] = list(self.sensor_snapshots())
        return snap

    def sensor_snapshots(self) -> Iterator[dict[str, object]]:
        """The per-sensor part of `snapshot()`, one sensor at a time, so that a caller on an
        event loop can yield between sensors (tens of thousands take a noticeable time)."""
        for (ent, tag), st in list(self._sensors.items()):
            h = st.health
            fz = h.frozen
            entry: dict[str, object] = {
                "enterprise": ent,
                "tag": tag,
                "last_ts": st.last_ts,
                "watch_from": st.watch_from,
                "simulated": st.simulated,
                # Only the states that exist: a rule missing here is normal / quiet.
                "thresholds": {
                    th.rule: [th.phase, th.since_ms, th.value]
                    for th in (st.thresholds or {}).values()
                },
                "rates": {rt.rule: [rt.active, rt.value] for rt in (st.rates or {}).values()},
                "trends": {
                    tr.rule: [tr.active, tr.streak, tr.predicted_ms, tr.slope_per_s, tr.value]
                    for tr in (st.trends or {}).values()
                },
                "health": {
                    "stale": h.stale,
                    "bad": h.bad,
                    "out_of_range": h.out_of_range,
                    "frozen": None if fz is None else [fz.active, fz.ref, fz.since_ms],
                },
            }
            if st.window is not None and len(st.window):
                entry["window"] = list(st.window.to_lists())
            yield entry

    def snapshot_head(self) -> dict[str, object]:
        """`snapshot()` without its "sensors" list."""
        return {
            "version": SNAPSHOT_VERSION,
            "now_ms": self._now_ms,
            "gateways": [
                {
                    "enterprise": code,
                    "active": gw.state.active,
                    "reason": gw.state.reason,
                    "offline_ms": gw.state.offline_ms,
                    "last_seen_ms": gw.state.last_seen_ms,
                    "catch_up_ms": gw.state.catch_up_ms,
                    "watch_from": gw.watch_from,
                }
                for code, gw in self._gateways.items()
            ],
            "votes": [
                {"enterprise": k[0], "hazard_source": k[1], "rule": k[2], "active": v.active,
                 "count": v.count}
                for k, v in self._votes.items()
            ],
            "active": [_signal_to_dict(s) for s in self._active.values()],
        }

    @classmethod
    def restore(
        cls,
        registry: Registry,
        snap: Mapping[str, object],
        rules: RulesFile | None = None,
        *,
        gateway_silence_s: float = DEFAULT_GATEWAY_SILENCE_S,
    ) -> RulesEngine:
        """An engine that continues from `snap` (conditions active there stay raised)."""
        engine = cls(registry, rules, gateway_silence_s=gateway_silence_s)
        engine._apply(snap)
        return engine

    def reload(self, registry: Registry, rules: RulesFile | None = None) -> list[AlarmSignal]:
        """Switch to a new registry (and rules file, if given), keeping the state of what
        still exists; return CLEARs for conditions that no longer exist and the changes
        of votes whose membership or k changed."""
        snap = self.snapshot()
        before = dict(self._active)
        old_rules = self._rules
        if rules is not None:
            self._rules = rules
        try:
            self._build(registry)  # assigns nothing until it succeeds
        except RulesConfigError:
            self._rules = old_rules
            raise
        self._active = {}
        self._apply(snap)
        out: list[AlarmSignal] = []
        ts = self._now_ms or 0
        for key, sig in before.items():
            if key not in self._active:
                out.append(
                    AlarmSignal(
                        SignalKind.CLEAR, sig.enterprise, sig.hazard_source, sig.tag, sig.rule,
                        sig.category, sig.priority, ts, None, sig.limit,
                        f"配置变更消除：{sig.message}", sig.simulated, {"reason": "reload"},
                    )
                )
        for vote in self._votes.values():
            change = voting.step(vote)
            if change:
                out.append(self._vote_signal(vote, change, ts, False))
        return out

    def _apply(self, snap: Mapping[str, object]) -> None:
        if snap.get("version") != SNAPSHOT_VERSION:
            raise ValueError(f"unsupported rules snapshot version {snap.get('version')!r}")
        now = snap.get("now_ms")
        self._now_ms = now if isinstance(now, int) else None
        for e in _records(snap.get("sensors")):
            st = self._sensors.get((e["enterprise"], e["tag"]))
            if st is not None:
                _apply_sensor(st, e)
                if any(th.phase & 1 for th in (st.thresholds or {}).values()):
                    self._pending.add(st)
        for e in _records(snap.get("gateways")):
            gw = self._gateways.get(e["enterprise"])
            if gw is not None:
                g = gw.state
                g.active, g.reason = bool(e["active"]), str(e["reason"])
                g.offline_ms, g.last_seen_ms = e["offline_ms"], e["last_seen_ms"]
                g.catch_up_ms = e.get("catch_up_ms")
                gw.watch_from = e["watch_from"]
        for e in _records(snap.get("votes")):
            vote = self._votes.get((e["enterprise"], e["hazard_source"], e["rule"]))
            if vote is not None:
                vote.active, vote.count = bool(e["active"]), int(e["count"])
        for e in _records(snap.get("active")):
            sig = _signal_from_dict(e)
            if self._condition_active(sig):
                self._active[sig.key] = sig

    def _condition_active(self, sig: AlarmSignal) -> bool:
        """Whether the restored state still holds the condition of an active signal."""
        if sig.tag is None:
            if sig.rule == health.GATEWAY_OFFLINE:
                gw = self._gateways.get(sig.enterprise)
                return gw is not None and gw.state.active
            vote = self._votes.get((sig.enterprise, sig.hazard_source, sig.rule))
            return vote is not None and vote.active
        st = self._sensors.get((sig.enterprise, sig.tag))
        if st is None:
            return False
        h = st.health
        rule = sig.rule
        flags = {
            health.STALE: h.stale,
            health.BAD_QUALITY: h.bad,
            health.OUT_OF_RANGE: h.out_of_range,
            health.FROZEN: h.frozen is not None and h.frozen.active,
        }
        if rule in flags:
            return flags[rule]
        return (
            st.active_threshold(rule)
            or any(rt.rule == rule and rt.active for rt in (st.rates or {}).values())
            or any(tr.rule == rule and tr.active for tr in (st.trends or {}).values())
        )


# --- snapshot helpers ---------------------------------------------------------------------


def _records(value: object) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        return []
    return [v for v in value if isinstance(v, dict)]


def _apply_sensor(st: _Sensor, e: dict[str, Any]) -> None:
    st.last_ts = e.get("last_ts")
    st.watch_from = e.get("watch_from")
    st.simulated = bool(e.get("simulated", False))
    # Snapshots list every rule's state, or (since states are kept only while they hold
    # something) only those away from normal; a normal one is simply not rebuilt.
    st.thresholds = st.rates = st.trends = None
    saved_th = e.get("thresholds", {})
    for rule in threshold.LEVELS:
        if rule in saved_th and saved_th[rule][0] != threshold.NORMAL and st.has_limit(rule):
            th = st.new_threshold(rule)
            th.phase, th.since_ms, th.value = saved_th[rule]
            st.thresholds = st.thresholds or {}
            st.thresholds[rule] = th
    saved_rt = e.get("rates", {})
    for rule, rise, limit in st.rate_rules():
        if rule in saved_rt and saved_rt[rule][0]:
            rt = rate.Rate(rise, limit)
            rt.active, rt.value = saved_rt[rule]
            st.rates = st.rates or {}
            st.rates[rule] = rt
    saved_tr = e.get("trends", {})
    if st.trend is not None:
        for target, limit in st.trend_targets():
            rule = trend.rule_of(target)
            if rule in saved_tr and (saved_tr[rule][0] or saved_tr[rule][1]):
                tr = st.new_trend(target, limit)
                tr.active, tr.streak, tr.predicted_ms, tr.slope_per_s, tr.value = saved_tr[rule]
                st.trends = st.trends or {}
                st.trends[rule] = tr
    hs = e.get("health", {})
    h = st.health
    h.stale, h.bad, h.out_of_range = (
        bool(hs.get("stale")), bool(hs.get("bad")), bool(hs.get("out_of_range"))
    )
    if h.frozen is not None and hs.get("frozen"):
        h.frozen.active, h.frozen.ref, h.frozen.since_ms = hs["frozen"]
    if st.window is not None and "window" in e:
        ts, vs = e["window"]
        st.window.load(ts, vs)


def _signal_to_dict(s: AlarmSignal) -> dict[str, object]:
    return {
        "kind": s.kind.value,
        "enterprise": s.enterprise,
        "hazard_source": s.hazard_source,
        "tag": s.tag,
        "rule": s.rule,
        "category": s.category.value,
        "priority": s.priority.value,
        "ts_ms": s.ts_ms,
        "value": s.value,
        "limit": s.limit,
        "message": s.message,
        "simulated": s.simulated,
        "details": s.details,
    }


def _signal_from_dict(d: Mapping[str, Any]) -> AlarmSignal:
    return AlarmSignal(
        SignalKind(d["kind"]),
        d["enterprise"],
        d["hazard_source"],
        d["tag"],
        d["rule"],
        Category(d["category"]),
        Priority(d["priority"]),
        int(d["ts_ms"]),
        d["value"],
        d["limit"],
        d["message"],
        bool(d["simulated"]),
        dict(d["details"]),
    )
