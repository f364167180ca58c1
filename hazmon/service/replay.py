"""The startup replay: the rules rebuild from InfluxDB what a crash made them forget.

The rules state is saved every `alarms.state_save_s`; a process killed between two saves
acknowledged readings the saved state never saw, and the broker will not send them
again. They are in InfluxDB (a reading is stored before its message is acknowledged), so
before live data the next process reads back the stored readings of the regions it owns
and runs those newer than each sensor's newest in the snapshot through the rules, in
time order. Signals the alarm store already holds are left out (`RulesStage.replay`),
so an alarm raised before the crash maps to its occurrence and is not notified again.

Only after a process that saved a state: a first start, with no state file, has nothing
to make good (and the state is saved at once after startup). Bounded: it reads data
times from `max(now − alarms.replay_max_s, oldest data time an owned gateway had reached
at the save − SKEW_MS)` (a gateway never heard from counts as the oldest) up to
`now + ingest.future_tolerance_s`; `replay_max_s: 0` turns it off.
Live input waits meanwhile (readings, status, ticks); /health shows the replay's state.
Readings still in the disk spool are waited for while InfluxDB takes them (at most
`SPOOL_WAIT_S`); if InfluxDB cannot be read the rules go on from the snapshot alone.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Collection
from typing import Any, Final

from hazmon.core.clock import rfc3339
from hazmon.domain.registry import Registry
from hazmon.ingest.influx import InfluxClient, InfluxError
from hazmon.ingest.readback import count_stored, stored_readings
from hazmon.ingest.spool import Spool
from hazmon.service.alarming import Replayed, RulesStage

log = logging.getLogger(__name__)

# Readings arriving together from one enterprise lie within this of its newest data time
# (a batch's spread, sensors reporting at different intervals).
SKEW_MS: Final = 60_000
SPOOL_WAIT_S: Final = 60.0


class StartupReplay:
    """Runs once at startup; live input to `stage` is held from construction to the end."""

    def __init__(self, stage: RulesStage, influx: InfluxClient, registry: Registry,
                 regions: Collection[str] | None, spool: Spool, *, max_s: float,
                 future_s: float, clock: Callable[[], int]) -> None:
        self.stage = stage
        self.influx = influx
        self.registry = registry
        self.enterprises = [code for code, e in registry.enterprises.items()
                            if regions is None or e.region in regions]  # the owned ones
        self.regions = regions  # None: every region
        self.spool = spool
        self.max_ms = round(max_s * 1000)
        self.future_ms = round(future_s * 1000)
        self.clock = clock
        self.state = "waiting"
        self.since_ms: int | None = None
        self.until_ms: int | None = None
        self.stored = 0  # readings in the replayed range
        self.read = 0
        self.done = Replayed()
        self.took_s: float | None = None
        self.error: str | None = None
        stage.hold()

    def bounds(self, now_ms: int) -> tuple[int, int]:
        """[since, until) in data time: see the module docstring."""
        since = now_ms - self.max_ms
        times = [self.stage.engine.data_time(code) for code in self.enterprises]
        if times and None not in times:
            since = max(since, min(t for t in times if t is not None) - SKEW_MS)
        return since, now_ms + self.future_ms + 1

    async def run(self) -> None:
        started = time.monotonic()
        try:
            if self.max_ms <= 0:
                self.state = "off"
            elif not self.stage.had_state:
                self.state = "fresh"  # a first start: no earlier process to make good
            else:
                await self._wait_for_spool()
                await self._replay()
        except InfluxError as exc:
            self.state, self.error = "failed", str(exc)
            log.error("startup replay failed (%s): the rules go on from the saved state "
                      "alone; alarms of readings stored after it may be missed", exc)
        finally:
            self.took_s = round(time.monotonic() - started, 2)
        try:
            # The first tick, before live data: silence counts from here, so a backlog
            # that comes before the tick loop's first tick is not taken for silence.
            await self.stage.tick()
        finally:
            self.stage.release()
        await self.stage.save_async()  # the next crash replays from here

    async def _wait_for_spool(self) -> None:
        # Polled: the spool says nothing when it empties, and this runs once.
        for _ in range(round(SPOOL_WAIT_S / 0.2)):
            if self.spool.empty:
                return
            await asyncio.sleep(0.2)
        if not self.spool.empty:
            log.warning("startup replay: readings still in the spool after %.0f s are not "
                        "replayed", SPOOL_WAIT_S)

    async def _replay(self) -> None:
        self.since_ms, self.until_ms = self.bounds(self.clock())
        self.stored = await count_stored(self.influx, self.since_ms, self.until_ms,
                                         self.regions)
        self.state = "running"
        log.info("replaying %d stored readings since %s before live data", self.stored,
                 rfc3339(self.since_ms))
        if self.stored == 0:
            self.state = "done"
            return
        owned = None if self.regions is None else frozenset(self.regions)
        done = self.done
        async for readings in stored_readings(self.influx, self.registry,
                                              self.since_ms, self.until_ms, self.regions):
            self.read += len(readings)
            if owned is not None:
                readings = [r for r in readings if r.sensor.region in owned]
            step = await self.stage.replay(readings)
            done.evaluated += step.evaluated
            done.signals += step.signals
            done.known += step.known
        self.state = "done"
        log.info("replay done: %d of %d stored readings were newer than the saved state, "
                 "%d alarm signal(s) handed on, %d already in the alarm store",
                 done.evaluated, self.read, done.signals, done.known)

    def health(self) -> dict[str, Any]:
        return {"state": self.state, "since_ms": self.since_ms, "until_ms": self.until_ms,
                "stored": self.stored, "read": self.read, "evaluated": self.done.evaluated,
                "signals": self.done.signals, "already_stored": self.done.known,
                "took_s": self.took_s, "error": self.error}
