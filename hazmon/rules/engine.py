"""The rules engine: readings and clock ticks in, `AlarmSignal`s out. Pure: no I/O, no clock.

Time is always given: a reading's own timestamp, or `now_ms` of a `tick` /
`gateway_status` call. Tests drive it with synthetic series and never sleep.

Per sensor the engine keeps one slotted `SensorState` (`sensor`), found by one dict
lookup per reading: its rule configuration as numbers and shared settings, its health
state, and the threshold, rate and trend state objects of the rule modules only while
they hold something. A `SampleWindow` (a row of the engine's `WindowPool`) exists only
for sensors with a rate or trend rule. Signals are built (and their Chinese messages
formatted, by each kind's `signal`) only when a condition changes.

This module is the hot path, written out inline: a reading, a tick, a gateway status.
The cold paths live beside what they concern: construction in `build`, per-sensor
state in `sensor`, the snapshot codec in `snapshot`, each kind's save / restore /
restart check / signal in its own module, registered in `kinds`.

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
active signals; see `snapshot`); `RulesEngine.restore(registry, snap)` rebuilds an
engine that continues where the old one stopped, so a condition still true is not raised
again. `reload` applies a new registry the same way and clears the conditions that no
longer exist.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from operator import attrgetter
from typing import Final

from hazmon.domain.reading import Quality, Reading
from hazmon.domain.registry import Registry, SensorInfo
from hazmon.domain.rulespec import GatewayRule, RulesFile
from hazmon.domain.signal import AlarmSignal, SignalKind
from hazmon.rules import gateway, health, rate, snapshot, threshold, trend, voting
from hazmon.rules.build import build
from hazmon.rules.change import Change
from hazmon.rules.file import RulesConfigError
from hazmon.rules.gateway import GatewayWatch
from hazmon.rules.kind import Groups, VoteKey
from hazmon.rules.sensor import NEVER, SensorState
from hazmon.rules.snapshot import SNAPSHOT_VERSION

log = logging.getLogger(__name__)

__all__ = ["DEFAULT_GATEWAY_SILENCE_S", "SNAPSHOT_VERSION", "RulesEngine"]

DEFAULT_GATEWAY_SILENCE_S: Final = GatewayRule().silence_s
# Global loads: a member looked up on the class costs ~10x in the per-reading path.
_RAISED: Final = Change.RAISED
_CLEARED: Final = Change.CLEARED
_BAD: Final = Quality.BAD
_by_ts: Final = attrgetter("ts_ms")


def _delay_order(sensor: SensorState) -> tuple[int, str, str]:
    due = threshold.due_ms((sensor.thresholds or {}).values())
    return (due if due is not None else 0, sensor.enterprise, sensor.info.sensor.tag)


class RulesEngine:
    """Evaluates every rule of every sensor of one registry; see the module docstring."""

    def __init__(
        self,
        registry: Registry,
        rules: RulesFile | None = None,
        *,
        gateway_silence_s: float = DEFAULT_GATEWAY_SILENCE_S,
        start_ms: int | None = None,
    ) -> None:
        """`start_ms`: wall time (epoch ms, the owner's clock) at which the engine starts
        watching; reception before the first tick counts from it (`gateway.start_watch`).
        None: data time is the clock, as in tests that drive time through the readings."""
        self._rules = rules
        self._gateway_silence_s = gateway_silence_s
        self._sensors: dict[tuple[str, str], SensorState] = {}
        self._by_id: dict[int, SensorState] = {}  # id(SensorInfo) → state: skips a key
        self._gateways: dict[str, GatewayWatch] = {}
        self._votes: dict[VoteKey, voting.Vote] = {}
        self._active: dict[tuple[str, str, str], AlarmSignal] = {}
        self._pending: set[SensorState] = set()  # sensors with an on/off delay running
        self._now_ms: int | None = None  # newest time seen, for signals of a reload
        self.late_readings = 0
        self._build(registry)
        if start_ms is not None:
            for watch in self._gateways.values():
                gateway.start_watch(watch, start_ms)

    # --- construction -------------------------------------------------------------------

    def _build(self, registry: Registry) -> None:
        config = build(registry, self._rules, self._gateway_silence_s)  # may raise
        self._registry = registry
        self._sensors = config.sensors
        self._by_id = {id(sensor.info): sensor for sensor in config.sensors.values()}
        self._votes = config.votes
        self._gateways = config.gateways
        self._pending = set()

    # --- inputs -------------------------------------------------------------------------

    def evaluate(self, reading: Reading) -> list[AlarmSignal]:
        """Evaluate one reading at its own time; return the conditions it changed."""
        out: list[AlarmSignal] = []
        info = reading.sensor
        sensor = self._by_id.get(id(info))
        if sensor is None or sensor.info is not info:
            # A reading resolved against an older registry (before a reload).
            sensor = self._sensors.get((info.enterprise.code, info.sensor.tag))
            if sensor is None:
                return out
        self._evaluate(sensor, reading, info, out)
        return out

    def evaluate_many(self, readings: Iterable[Reading]) -> list[AlarmSignal]:
        """Evaluate a batch in time order (so disorder inside a batch is not "late")."""
        out: list[AlarmSignal] = []
        # `evaluate` inlined: a list per reading and a call less. `self._evaluate` called
        # as a method, not bound to a local: compiled, that is a direct C call.
        by_id = self._by_id
        for r in sorted(readings, key=_by_ts):
            info = r.sensor
            sensor = by_id.get(id(info))
            if sensor is None or sensor.info is not info:
                sensor = self._sensors.get((info.enterprise.code, info.sensor.tag))
                if sensor is None:
                    continue
            self._evaluate(sensor, r, info, out)
        return out

    def gateway_status(self, enterprise: str, online: bool, ts_ms: int) -> list[AlarmSignal]:
        """The enterprise's status topic (online / offline, incl. its Last Will)."""
        out: list[AlarmSignal] = []
        watch = self._gateways.get(enterprise)
        if watch is None:
            return out
        self._advance(ts_ms)
        change = gateway.status(watch.state, online, ts_ms)
        if change:
            out.append(self._emit(gateway.signal(watch, change, ts_ms)))
        return out

    def tick(self, now_ms: int) -> list[AlarmSignal]:
        """The clock: stale sensors, silent gateways, on/off delays running out."""
        out: list[AlarmSignal] = []
        self._advance(now_ms)

        for watch in self._gateways.values():
            if watch.watch_from is None:
                watch.watch_from = now_ms
            change = gateway.tick(watch.state, watch.watch_from, now_ms)
            if change:
                out.append(self._emit(gateway.signal(watch, change, now_ms)))

        for sensor in self._sensors.values():
            sensor_health = sensor.health
            if sensor_health.stale or sensor_health.stale_after_ms == health.STALE_OFF:
                continue
            last = sensor.last_ts
            if last == NEVER:
                if sensor.watch_from is None:
                    sensor.watch_from = now_ms
                last = sensor.watch_from
            after = sensor_health.stale_after_ms
            if now_ms - last < after:
                continue
            # Judged against the gateway, not the wall clock against a reading not yet
            # dequeued: stale when the gateway's data time moved on past the limit without
            # this sensor, or the gateway itself has sent nothing for as long.
            gw = sensor.gateway
            if gw is not None and gw.watch_from is not None:
                data_ms = gw.state.last_seen_ms
                moved_on = data_ms is not None and data_ms - last >= after
                heard_ms = gateway.received(gw.state, gw.watch_from, now_ms)
                if not moved_on and now_ms - heard_ms < after:
                    continue
            held = sensor.gateway is not None and gateway.holds_stale(sensor.gateway.state)
            if health.stale_tick(sensor_health, last, now_ms, held):
                out.append(self._emit(health.signal(
                    sensor, health.STALE, _RAISED, ts_ms=now_ms, value=None,
                    simulated=sensor.simulated,
                    message=health.stale_message(sensor.info, True, now_ms - last),
                    details={"last_reading_ms": sensor.newest_ms},
                )))

        # After stale: a delay never runs out on a sensor that has just gone quiet. In the
        # order the delays run out (a set's order is its members' addresses).
        for sensor in sorted(self._pending, key=_delay_order):
            if not sensor.health.trusted or (
                sensor.gateway is not None and sensor.gateway.state.active
            ):
                continue  # held: a stale or bad sensor neither raises nor clears
            still = False
            live = sensor.thresholds or {}
            for rule in threshold.LEVELS:
                level = live.get(rule)
                if level is None:
                    continue
                since, delay = level.since_ms, (
                    level.on_delay_ms if level.phase == threshold.PENDING_ON
                    else level.off_delay_ms
                )
                change = threshold.expire(level, now_ms)
                if change:
                    # Sample-and-hold: the change happened when the delay ran out.
                    level.since_ms = since + delay
                    self._threshold_changed(sensor, level, change, since + delay,
                                            sensor.simulated, out)
                if level.phase == threshold.NORMAL:
                    del live[rule]
                elif level.pending:
                    still = True
            sensor.thresholds = live or None
            if not still:
                self._pending.discard(sensor)
        return out

    # --- the per-reading path -----------------------------------------------------------

    def _evaluate(
        self, sensor: SensorState, r: Reading, info: SensorInfo, out: list[AlarmSignal]
    ) -> None:
        """`info`: the reading's sensor (`r.sensor`, read once by the caller)."""
        # Written for mypyc as much as for CPython: the reading's fields read once into
        # typed locals, state fields unboxed (no int or float object made per reading),
        # module constants for enum members, direct calls into the compiled rule modules.
        ts: int = r.ts_ms
        value: float = r.value
        sensor_health = sensor.health
        late = ts <= sensor.last_ts  # NEVER before the first reading: never late
        sim = r.simulated or (
            sensor.simulated_always if info is sensor.info
            else info.enterprise.simulated  # resolved against an older registry
        )
        if late:
            self.late_readings += 1
        else:
            sensor.last_ts = ts
            sensor.simulated = sim
            if self._now_ms is None or ts > self._now_ms:
                self._now_ms = ts
            watch = sensor.gateway
            if watch is not None:
                change = gateway.seen(watch.state, ts)
                if change:
                    out.append(self._emit(gateway.signal(watch, change, ts)))
            if sensor_health.stale and health.stale_seen(sensor_health):
                out.append(self._emit(health.signal(
                    sensor, health.STALE, _CLEARED, ts_ms=ts, value=value, simulated=sim,
                    message=health.stale_message(sensor.info, False, 0), details={},
                )))

        bad = r.quality is _BAD
        if not late and bad != sensor_health.bad:
            change = health.quality_step(sensor_health, bad)
            out.append(self._emit(health.signal(
                sensor, health.BAD_QUALITY, change, ts_ms=ts, value=value, simulated=sim,
                message=health.bad_quality_message(sensor.info, change is _RAISED),
                details={},
            )))
        if bad:
            return
        in_range = sensor_health.min_ok <= value <= sensor_health.max_ok
        if not late and in_range == sensor_health.out_of_range:
            change = health.range_step(sensor_health, value)
            out.append(self._emit(health.signal(
                sensor, health.OUT_OF_RANGE, change, ts_ms=ts, value=value, simulated=sim,
                message=health.out_of_range_message(sensor.info, change is _RAISED, value),
                details={"range": list(sensor.info.sensor.range)},
            )))
        if not in_range:
            return

        window = sensor.window
        appended = window.add(ts, value) if window is not None else False
        if late:
            return

        if sensor.thresholds is not None or not sensor.lo_trip < value < sensor.hi_trip:
            self._step_thresholds(sensor, value, ts, sim, out)

        frozen = sensor_health.frozen
        if frozen is not None:
            since = frozen.since_ms
            change = health.frozen_step(frozen, value, ts)
            if change:
                raised = change is _RAISED
                out.append(self._emit(health.signal(
                    sensor, health.FROZEN, change, ts_ms=ts, value=value, simulated=sim,
                    message=health.frozen_message(sensor.info, raised, value, ts - since),
                    details={"since_ms": since} if raised else {},
                )))

        if appended and window is not None:
            if sensor.rate_ms:
                per_min = rate.rate_per_min(window, sensor.rate_ms)
                if per_min is not None:
                    self._step_rates(sensor, per_min, ts, sim, out)
            if sensor.trend is not None:
                ts_w, vs_w = window.recent(sensor.trend.window_ms)
                fit = trend.fit_line(ts_w, vs_w, window.base_ms)  # one fit, both targets
                self._step_trends(sensor, fit, ts, sim, out)

    def _step_thresholds(
        self, sensor: SensorState, value: float, ts: int, sim: bool, out: list[AlarmSignal]
    ) -> None:
        # Stepped: the thresholds away from normal, and those the value is now beyond.
        live = sensor.thresholds
        if live is None:
            live = sensor.thresholds = {}  # before any vote recounts
        limits = sensor.info.limits
        pending = False
        for rule in threshold.LEVELS:
            level = live.get(rule)
            if level is None:
                limit = getattr(limits, rule) if limits is not None else None
                if limit is None or not threshold.beyond(threshold.is_high(rule), limit, value):
                    continue  # normal and staying so: a new state would do nothing
                level = live[rule] = sensor.new_threshold(rule)
            change = threshold.step(level, value, ts)
            if change:
                self._threshold_changed(sensor, level, change, ts, sim, out)
            if level.phase == threshold.NORMAL:
                del live[rule]
            elif level.pending:
                pending = True
        if not live:
            sensor.thresholds = None
        if pending:
            self._pending.add(sensor)
        elif self._pending:
            self._pending.discard(sensor)

    def _step_rates(
        self, sensor: SensorState, per_min: float, ts: int, sim: bool, out: list[AlarmSignal]
    ) -> None:
        # Rise, then fall (the order of `SensorState.rate_rules`), without its generator.
        if sensor.rate_rise is not None:
            self._step_rate(sensor, rate.RISE, True, sensor.rate_rise, per_min, ts, sim, out)
        if sensor.rate_fall is not None:
            self._step_rate(sensor, rate.FALL, False, sensor.rate_fall, per_min, ts, sim, out)

    def _step_rate(
        self, sensor: SensorState, rule: str, rise: bool, limit: float, per_min: float,
        ts: int, sim: bool, out: list[AlarmSignal],
    ) -> None:
        live = sensor.rates
        state = live.get(rule) if live is not None else None
        if state is None:
            if (per_min if rise else -per_min) < limit:
                return  # quiet and staying so
            state = rate.Rate(rise, limit)
        change = rate.step(state, per_min)
        if change is _RAISED:
            live = live if live is not None else {}
            live[rule] = state
        elif change is _CLEARED and live is not None:
            del live[rule]
        if change:
            out.append(self._emit(rate.signal(sensor, state, change, ts, sim)))
        sensor.rates = live or None

    def _step_trends(
        self,
        sensor: SensorState,
        fit: trend.Fit | None,
        ts: int,
        sim: bool,
        out: list[AlarmSignal],
    ) -> None:
        settings = sensor.trend
        assert settings is not None
        live = sensor.trends
        for target, limit, high, rule in settings.targets:
            state = live.get(rule) if live is not None else None
            if state is None:
                if not trend.predicts(fit, limit, high, settings.min_points, settings.t_min,
                                      settings.horizon_s):
                    continue  # no streak and none starting
                state = sensor.new_trend(target, limit)
            change = trend.step(state, fit)
            if state.active or state.streak:
                live = live if live is not None else {}
                live[rule] = state
            elif live is not None:
                live.pop(rule, None)
            if change:
                out.append(self._emit(trend.signal(sensor, state, change, ts, sim)))
        sensor.trends = live or None

    def _threshold_changed(
        self,
        sensor: SensorState,
        level: threshold.Threshold,
        change: Change,
        ts: int,
        sim: bool,
        out: list[AlarmSignal],
    ) -> None:
        out.append(self._emit(threshold.signal(sensor, level, change, ts, sim)))
        for vote in sensor.votes.get(level.rule, ()):
            vote_change = voting.step(vote)
            if vote_change:
                out.append(self._emit(self._vote_signal(vote, vote_change, ts, sim)))

    # --- signals ------------------------------------------------------------------------

    def _emit(self, sig: AlarmSignal) -> AlarmSignal:
        """Keep the active conditions (for `active()` and the snapshot) and log."""
        if sig.kind is SignalKind.RAISE:
            self._active[sig.key] = sig
        else:
            self._active.pop(sig.key, None)
        log.info("%s %s %s %s", sig.kind, sig.enterprise, sig.tag or f"@{sig.hazard_source}",
                 sig.rule)
        return sig

    def _vote_signal(
        self, vote: voting.Vote, change: Change, ts: int, sim: bool
    ) -> AlarmSignal:
        hsi = self._registry.hazard_sources.get((vote.enterprise, vote.hazard_source))
        return voting.signal(
            vote, change, ts, sim,
            hazard_source_name=hsi.hazard_source.name if hsi is not None
            else vote.hazard_source,
            tier=hsi.grading.tier if hsi is not None else None,
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
        sensor = self._sensors.get((enterprise, tag))
        return None if sensor is None else sensor.newest_ms

    def data_time(self, enterprise: str) -> int | None:
        """Epoch ms of the newest reading or online status from the enterprise (its data
        time, on its gateway's clock); None if never heard from or not in the registry."""
        watch = self._gateways.get(enterprise)
        return None if watch is None else watch.state.last_seen_ms

    def snapshot(self) -> dict[str, object]:
        """All rule state as plain JSON-able data (see `hazmon.rules.snapshot`)."""
        snap = self.snapshot_head()
        snap["sensors"] = list(self.sensor_snapshots())
        return snap

    def sensor_snapshots(self) -> Iterator[dict[str, object]]:
        """The per-sensor part of `snapshot()`, one sensor at a time, so that a caller on an
        event loop can yield between sensors (tens of thousands take a noticeable time)."""
        for key, sensor in list(self._sensors.items()):
            yield snapshot.sensor_entry(key, sensor)

    def snapshot_head(self) -> dict[str, object]:
        """`snapshot()` without its "sensors" list."""
        return snapshot.head(self._now_ms, self._groups(), self._active.values())

    def _groups(self) -> Groups:
        return Groups(gateways=self._gateways, votes=self._votes)

    @classmethod
    def restore(
        cls,
        registry: Registry,
        snap: Mapping[str, object],
        rules: RulesFile | None = None,
        *,
        gateway_silence_s: float = DEFAULT_GATEWAY_SILENCE_S,
        start_ms: int | None = None,
    ) -> RulesEngine:
        """An engine that continues from `snap` (conditions active there stay raised).

        The saved process's reception times are set aside (`gateway.after_restart`): a
        gateway's silence counts from this process's first tick, not from before the
        outage, so the backlog a broker kept for us is not taken for silence. `start_ms`
        as for the constructor."""
        engine = cls(registry, rules, gateway_silence_s=gateway_silence_s)
        engine._apply(snap)
        for watch in engine._gateways.values():
            gateway.after_restart(watch)
            if start_ms is not None:
                gateway.start_watch(watch, start_ms)
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
                        kind=SignalKind.CLEAR,
                        enterprise=sig.enterprise,
                        hazard_source=sig.hazard_source,
                        tag=sig.tag,
                        rule=sig.rule,
                        category=sig.category,
                        priority=sig.priority,
                        ts_ms=ts,
                        value=None,
                        limit=sig.limit,
                        message=f"配置变更消除：{sig.message}",
                        simulated=sig.simulated,
                        details={"reason": "reload"},
                    )
                )
        for vote in self._votes.values():
            change = voting.step(vote)
            if change:
                out.append(self._emit(self._vote_signal(vote, change, ts, False)))
        return out

    def _apply(self, snap: Mapping[str, object]) -> None:
        restored = snapshot.apply(snap, self._sensors, self._groups())
        self._now_ms = restored.now_ms
        self._active.update(restored.active)
        self._pending.update(restored.delays)
