"""The rules stage: readings and gateway status in, alarm signals to the alarm service.

It is the `ReadingConsumer` the ingest pipeline hands every accepted reading to. The
engine is pure; this stage owns its clock tick, its persisted state and the counters.

After a restart the startup replay (`service/replay.py`) holds live input (`hold`),
hands the stored readings the snapshot did not see to `replay`, and lets live input
through again (`release`). A signal of the replay that the alarm store already holds
(the crashed process raised or cleared it) is left out, so nobody is notified twice.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson

from hazmon.alerts import AlarmFilter, AlarmService
from hazmon.alerts.pending import SignalTaker
from hazmon.alerts.sql import StoreUnavailable
from hazmon.core.metrics import Metrics
from hazmon.domain.reading import Reading
from hazmon.domain.registry import Registry
from hazmon.domain.rulespec import RulesFile
from hazmon.domain.signal import AlarmSignal
from hazmon.rules import RulesEngine

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Replayed:
    """What one `RulesStage.replay` call did."""

    evaluated: int = 0  # readings the snapshot had not seen, run through the rules
    signals: int = 0  # signals they gave, handed to the alarm service
    known: int = 0  # signals left out: the alarm store already holds them


class RulesStage:
    def __init__(
        self,
        registry: Registry,
        alarms: AlarmService,
        metrics: Metrics,
        clock: Callable[[], int],
        state_file: Path | None = None,
        rules: RulesFile | None = None,
        taker: SignalTaker | None = None,
    ) -> None:
        self.alarms = alarms
        # signals go through `taker` (PendingSignals: they wait out a database outage)
        self.taker: SignalTaker = taker or alarms
        self.clock = clock
        self.state_file = state_file
        # Whether a saved state was there to restore (False: there, but unusable).
        self.had_state = state_file is not None and state_file.exists()
        self.engine = self._start_engine(registry, rules)
        self.signals = metrics.counter(
            "hazmon_rules_signals_total", "Alarm signals from the rules engine", ("kind", "rule"))
        self.evaluated = metrics.counter(
            "hazmon_rules_readings_total", "Readings evaluated by the rules engine")
        self.errors = metrics.counter(
            "hazmon_rules_signal_errors_total", "Signals the alarm service could not take")
        self.replayed = metrics.counter(
            "hazmon_rules_replayed_readings_total",
            "Stored readings evaluated again at startup (not seen by the restored state)")
        self._live = asyncio.Event()  # cleared only while the startup replay runs
        self._live.set()

    def _start_engine(self, registry: Registry, rules: RulesFile | None) -> RulesEngine:
        if self.state_file is not None and self.state_file.exists():
            try:
                snap = read_state(self.state_file)
                engine = RulesEngine.restore(registry, snap, rules, start_ms=self.clock())
            except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
                log.error("rules state %s unusable (%s); starting fresh", self.state_file, exc)
            else:
                log.info("rules state restored from %s: %d active conditions",
                         self.state_file, len(engine.active()))
                return engine
        return RulesEngine(registry, rules, start_ms=self.clock())  # reception counts from now

    async def _deliver(self, signals: Sequence[AlarmSignal]) -> None:
        for s in signals:
            self.signals.inc(1, s.kind.value, s.rule)
            try:
                await self.taker.handle_signal(s)
            except Exception:  # one bad signal must not stop ingest; it is logged and counted
                self.errors.inc()
                log.exception("alarm service refused signal %s", s.key)

    async def on_readings(self, readings: list[Reading]) -> None:
        if not self._live.is_set():
            await self._live.wait()  # the replay first: the past before the present
        self.evaluated.inc(len(readings))
        signals = self.engine.evaluate_many(readings)
        if signals:
            await self._deliver(signals)

    async def on_gateway(self, enterprise: str, online: bool, ts_ms: int) -> None:
        await self._live.wait()
        await self._deliver(self.engine.gateway_status(enterprise, online, ts_ms))

    async def reload(self, registry: Registry) -> None:
        await self._live.wait()
        await self._deliver(self.engine.reload(registry))

    # --- the startup replay ---------------------------------------------------------------

    def hold(self) -> None:
        """Live input (readings, status, reloads, ticks) waits until `release`."""
        self._live.clear()

    def release(self) -> None:
        self._live.set()

    async def replay(self, readings: list[Reading]) -> Replayed:
        """Evaluate stored readings (in time order) that the restored state has not seen,
        i.e. newer than their sensor's newest; hand on the signals the store lacks."""
        done = Replayed()
        last_seen = self.engine.last_seen
        fresh = []
        for r in readings:
            newest = last_seen(r.sensor.enterprise.code, r.sensor.sensor.tag)
            if newest is None or r.ts_ms > newest:
                fresh.append(r)
        done.evaluated = len(fresh)
        self.replayed.inc(len(fresh))
        signals = self.engine.evaluate_many(fresh)
        new = [s for s in signals if not await self._known(s)]
        done.signals, done.known = len(new), len(signals) - len(new)
        await self._deliver(new)
        return done

    async def _known(self, sig: AlarmSignal) -> bool:
        """Whether the alarm store already holds this change: the newest occurrence of its
        key was raised, activated or cleared at or after the signal's time."""
        page = await self.alarms.store.query(AlarmFilter(
            enterprise=sig.enterprise, tag=sig.tag, rule=sig.rule,
            hazard_source=sig.hazard_source if sig.tag is None else None,
        ), limit=20)
        latest = next((a for a in page.items if a.key == sig.key), None)
        if latest is None:
            return False
        times = (latest.raised_at_ms, latest.active_at_ms, latest.cleared_at_ms)
        return sig.ts_ms <= max(t for t in times if t is not None)

    # --- clock ticks and saves ------------------------------------------------------------

    async def run(self, tick_s: float = 1.0, save_every_s: float = 30.0) -> None:
        """Clock ticks (stale data, delays, shelve expiry, escalation) and state saves."""
        since_save = 0.0
        try:
            await self._live.wait()  # no tick judges silence before the replay is in
            while True:
                await asyncio.sleep(tick_s)
                await self.tick()
                since_save += tick_s
                if since_save >= save_every_s:
                    since_save = 0.0
                    await self.save_async()
        finally:
            self.save()

    async def tick(self) -> None:
        now = self.clock()
        await self._deliver(self.engine.tick(now))
        try:
            await self.alarms.tick(now)
        except StoreUnavailable as exc:  # a database restart: it heals by itself
            log.warning("alarm service tick waits for the database: %s", exc)
        except Exception:
            log.exception("alarm service tick failed")

    async def save_async(self, chunk: int = 500) -> None:
        """Save without stalling the event loop: the snapshot is pure Python work under the
        GIL (a thread would not help), so it is built and encoded a chunk at a time."""
        if self.state_file is None:
            return
        parts = []
        for i, part in enumerate(self._encoded()):
            parts.append(part)
            if i % chunk == chunk - 1:
                await asyncio.sleep(0)
        await asyncio.to_thread(self._write, parts)

    def save(self) -> None:
        """Write the engine state at once (at shutdown)."""
        if self.state_file is None:
            return
        self._write(list(self._encoded()))

    def _encoded(self) -> Iterator[bytes]:
        """The lines of the state file: the head, then one sensor a line."""
        yield orjson.dumps(self.engine.snapshot_head())
        for entry in self.engine.sensor_snapshots():
            yield orjson.dumps(entry)

    def _write(self, parts: list[bytes]) -> None:
        # JSON lines: the head, then one sensor a line; replaced atomically, so a restart
        # neither forgets nor re-raises.
        assert self.state_file is not None
        tmp = self.state_file.with_suffix(".tmp")
        try:
            tmp.write_bytes(b"\n".join(parts) + b"\n")
            os.replace(tmp, self.state_file)
        except OSError as exc:
            log.error("cannot save rules state to %s: %s", self.state_file, exc)


def read_state(path: Path) -> dict[str, object]:
    """The snapshot written by `RulesStage` (JSON lines: head, then one sensor a line)."""
    lines = path.read_bytes().splitlines()
    head = orjson.loads(lines[0])
    if not isinstance(head, dict):
        raise ValueError("rules state head is not an object")
    head["sensors"] = [orjson.loads(line) for line in lines[1:] if line]
    return head
