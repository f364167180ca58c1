"""The InfluxDB sink: batches lines by size and time, off the receive loop.

Durability rule: a message is acknowledged to the broker only once all its readings are
either written to InfluxDB or fsynced to the spool. Until then the broker keeps it, so a
crash loses nothing; a redelivered message overwrites identical points.

While the spool holds anything, new batches go to the spool too, behind the older ones,
and one writer task drains it oldest first: readings reach InfluxDB in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hazmon.core.metrics import Metrics
from hazmon.ingest.backoff import Backoff
from hazmon.ingest.influx import InfluxClient, InfluxRejected, InfluxUnavailable
from hazmon.ingest.settings import InfluxSettings
from hazmon.ingest.spool import Spool, SpoolFull

log = logging.getLogger(__name__)

Ack = Callable[[], None]


@dataclass(slots=True)
class _Item:
    lines: list[str]
    ack: Ack | None


class InfluxSink:
    def __init__(
        self,
        client: InfluxClient,
        spool: Spool,
        settings: InfluxSettings,
        metrics: Metrics,
        dead_letter: Path | None = None,
    ) -> None:
        self.client = client
        self.spool = spool
        self.settings = settings
        self.dead_letter = dead_letter
        self.max_pending = settings.batch_size * settings.queue_batches
        self._items: deque[_Item] = deque()
        self._pending_lines = 0
        self._data = asyncio.Event()  # set when a full batch waits or on stop
        self._space = asyncio.Event()
        self._space.set()
        self._stopping = False
        self._backoff = Backoff(settings.retry_min_s, settings.retry_max_s)
        self.up = True  # last write went through
        self._retry_at = 0.0  # monotonic time of the next attempt while down
        self.last_error: str | None = None
        self.stored = metrics.counter(
            "hazmon_ingest_stored_readings_total", "Readings written to InfluxDB")
        self.spooled = metrics.counter(
            "hazmon_ingest_spooled_readings_total", "Readings written to the disk spool")
        self.drained = metrics.counter(
            "hazmon_ingest_drained_readings_total", "Readings moved from the spool to InfluxDB")
        self.dropped = metrics.counter(
            "hazmon_ingest_influx_refused_batches_total",
            "Batches InfluxDB refused as invalid (kept in the dead-letter file)")
        self.write_errors = metrics.counter(
            "hazmon_influx_write_errors_total", "Failed InfluxDB write attempts")
        metrics.gauge("hazmon_ingest_pending_readings", "Readings waiting for the writer",
                      fn=lambda: self._pending_lines)
        metrics.gauge("hazmon_spool_bytes", "Bytes in the disk spool", fn=lambda: self.spool.bytes)
        metrics.gauge("hazmon_spool_readings", "Readings in the disk spool",
                      fn=lambda: self.spool.lines)
        metrics.gauge("hazmon_influx_up", "1 when the last InfluxDB write succeeded",
                      fn=lambda: 1.0 if self.up else 0.0)

    @property
    def pending(self) -> int:
        return self._pending_lines

    async def put(self, lines: list[str], ack: Ack | None) -> None:
        """Queue the lines of one message; `ack` runs once they are durable.

        Waits while the queue is full: the receive loop stops taking messages and the
        broker holds the rest (QoS 1), instead of anything being dropped.
        """
        while self._pending_lines >= self.max_pending and not self._stopping:
            self._space.clear()
            await self._space.wait()
        self._items.append(_Item(lines, ack))
        self._pending_lines += len(lines)
        if self._pending_lines >= self.settings.batch_size:
            self._data.set()

    def health(self) -> dict[str, Any]:
        """The `influxdb` and `spool` sections of /health: the writer owns the spool."""
        spool = self.spool
        spool_state = "empty" if spool.empty else (
            "full" if spool.bytes >= spool.max_bytes * 0.95 else "draining" if self.up
            else "filling")
        return {
            "influxdb": {"state": "up" if self.up else "down", "url": self.settings.url,
                         "database": self.settings.database, "last_error": self.last_error},
            "spool": {"state": spool_state, "readings": spool.lines, "bytes": spool.bytes,
                      "files": spool.files, "max_bytes": spool.max_bytes},
        }

    def counters(self) -> dict[str, int]:
        return {"stored": int(self.stored.total()), "spooled": int(self.spooled.total()),
                "drained": int(self.drained.total()), "pending": self.pending}

    def stop(self) -> None:
        self._stopping = True
        self._data.set()
        self._space.set()

    async def run(self) -> None:
        """The writer task: flush pending batches, drain the spool, until stopped and empty."""
        interval = self.settings.flush_interval_s
        while True:
            if not self._stopping and self._pending_lines < self.settings.batch_size:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._data.wait(), interval)
            self._data.clear()
            if self._items:
                await self._flush_one()
            if not self.spool.empty:
                await self._drain_one()
            if self._stopping and not self._items:
                return
            if not self.up and not self._items:
                # Down and idle: sleep until the next attempt instead of spinning.
                await asyncio.sleep(min(interval, max(0.0, self._retry_at - time.monotonic())))

    def _take_batch(self) -> tuple[list[str], list[Ack]]:
        lines: list[str] = []
        acks: list[Ack] = []
        limit = self.settings.batch_size
        while self._items and (not lines or len(lines) + len(self._items[0].lines) <= limit):
            item = self._items.popleft()
            lines.extend(item.lines)
            if item.ack is not None:
                acks.append(item.ack)
        self._pending_lines -= len(lines)
        self._space.set()
        return lines, acks

    def _due(self) -> bool:
        return self.up or time.monotonic() >= self._retry_at

    def _mark_down(self, exc: Exception) -> None:
        self.write_errors.inc()
        delay = self._backoff.next()
        self._retry_at = time.monotonic() + delay
        if self.up or str(exc) != self.last_error:
            log.warning("InfluxDB write failed (%s); spooling, next attempt in %.1f s", exc, delay)
        else:
            log.info("InfluxDB still unavailable; next attempt in %.1f s", delay)
        self.up = False
        self.last_error = str(exc)

    def _mark_up(self) -> None:
        if not self.up:
            log.info("InfluxDB writes succeed again; spool holds %d readings", self.spool.lines)
        self.up = True
        self.last_error = None
        self._backoff.reset()

    async def _flush_one(self) -> None:
        lines, acks = self._take_batch()
        body = ("\n".join(lines) + "\n").encode() if lines else b""
        if lines and self.spool.empty and self._due():
            try:
                await self.client.write(body)
            except InfluxUnavailable as exc:
                self._mark_down(exc)
            except InfluxRejected as exc:
                self._refused(body, exc)
                _run_acks(acks)
                return
            else:
                self._mark_up()
                self.stored.inc(len(lines))
                _run_acks(acks)
                return
        if lines:
            await self._to_spool(body, len(lines))
        _run_acks(acks)

    async def _to_spool(self, body: bytes, lines: int) -> None:
        while True:
            try:
                await asyncio.to_thread(self.spool.append, body, lines)
            except SpoolFull as exc:
                # Full: hold the batch (unacknowledged) until InfluxDB drains some space.
                log.error("%s; holding %d readings until it drains", exc, lines)
                await self._drain_one()
                if self.spool.bytes + len(body) > self.spool.max_bytes:
                    await asyncio.sleep(max(0.2, self._retry_at - time.monotonic()))
                continue
            except OSError as exc:
                log.error("cannot write spool: %s; retrying", exc)
                await asyncio.sleep(1.0)
                continue
            self.spooled.inc(lines)
            return

    async def _drain_one(self) -> None:
        if self.spool.empty or not self._due():
            return
        chunk = await asyncio.to_thread(self.spool.oldest, self.settings.drain_batch_lines)
        try:
            await self.client.write(chunk.body)
        except InfluxUnavailable as exc:
            self._mark_down(exc)
            return
        except InfluxRejected as exc:
            self._refused(chunk.body, exc)
        else:
            self._mark_up()
            self.stored.inc(chunk.lines)
            self.drained.inc(chunk.lines)
        await asyncio.to_thread(self.spool.remove, chunk)

    def _refused(self, body: bytes, exc: InfluxRejected) -> None:
        self.dropped.inc()
        log.error("%s; batch kept in %s", exc, self.dead_letter)
        if self.dead_letter is not None:
            try:
                with self.dead_letter.open("ab") as f:
                    f.write(body)
            except OSError as err:
                log.error("cannot write dead-letter file: %s", err)


def _run_acks(acks: list[Ack]) -> None:
    for ack in acks:
        try:
            ack()
        except Exception:  # an ack failing must not stop the writer; the broker redelivers
            log.exception("acknowledging a message failed")
