"""Alarm signals that wait for the alarm database instead of being lost.

While the database is unreachable (a PostgreSQL restart, a failover to its standby) the
rules go on evaluating and ingest goes on storing readings; the signals they raise queue
here, in order, and a background task writes them once the database answers again, with
capped exponential backoff. Once one signal has queued, every later one queues behind it:
a cleared condition must never be written before the raise it clears.

A transaction that failed may or may not have committed when the connection dropped
during COMMIT; the retry then meets the alarm already in that state, which the alarm
service treats as no change (a raise of an open alarm, a clear of a cleared one).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from typing import Protocol

from hazmon.alerts.sql import StoreUnavailable
from hazmon.domain.signal import AlarmSignal

log = logging.getLogger(__name__)


class SignalTaker(Protocol):
    async def handle_signal(self, signal: AlarmSignal) -> object: ...


class PendingSignals:
    """A `SignalTaker` in front of the alarm service that never drops a signal for a
    transient database failure. Other errors (a refused signal) are the caller's."""

    def __init__(self, alarms: SignalTaker, *, is_down: Callable[[], bool] = lambda: False,
                 retry_min_s: float = 0.2, retry_max_s: float = 5.0,
                 warn_at: int = 100_000) -> None:
        self.alarms = alarms
        # known to be away (another part saw it fail): queue at once, without holding up
        # ingest for a connection timeout
        self.is_down = is_down
        self.retry_min_s = retry_min_s
        self.retry_max_s = retry_max_s
        self.warn_at = warn_at  # a long outage: say so once (each signal is ~1 KiB)
        self._queue: deque[AlarmSignal] = deque()
        self._wake = asyncio.Event()
        self.written_late = 0  # signals that waited, then went through

    @property
    def waiting(self) -> int:
        return len(self._queue)

    async def handle_signal(self, signal: AlarmSignal) -> None:
        if self._queue or self.is_down():
            self._put(signal)
            return
        try:
            await self.alarms.handle_signal(signal)
        except StoreUnavailable as exc:
            log.warning("alarm database unavailable (%s); alarm signals wait", exc)
            self._put(signal)

    def _put(self, signal: AlarmSignal) -> None:
        self._queue.append(signal)
        if len(self._queue) == self.warn_at:
            log.error("%d alarm signals waiting for the alarm database", self.warn_at)
        self._wake.set()

    async def run(self) -> None:
        """Forever: write what waits, oldest first, backing off while the database is away."""
        delay = self.retry_min_s
        while True:
            await self._wake.wait()
            while self._queue:
                try:
                    await self.alarms.handle_signal(self._queue[0])
                except StoreUnavailable:
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, self.retry_max_s)
                    continue
                except Exception:  # refused for good: logged like one taken at once
                    log.exception("alarm service refused signal %s", self._queue[0].key)
                self._queue.popleft()
                self.written_late += 1
                delay = self.retry_min_s
                if not self._queue:
                    log.warning("alarm signals written after the outage: %d in all",
                                self.written_late)
            self._wake.clear()

    async def flush(self, timeout_s: float) -> int:
        """Try to write what waits before shutdown; return how many are still left."""
        try:
            async with asyncio.timeout(timeout_s):
                while self._queue:
                    try:
                        await self.alarms.handle_signal(self._queue[0])
                    except StoreUnavailable:
                        await asyncio.sleep(self.retry_min_s)
                        continue
                    except Exception:
                        log.exception("alarm service refused signal %s", self._queue[0].key)
                    self._queue.popleft()
        except TimeoutError:
            log.error("%d alarm signals not written at shutdown (the database is away); "
                      "they are lost", len(self._queue))
        return len(self._queue)
