"""The notifier: drains the alarm outbox, a batch per round, through the notification
pipeline (pipeline.py: quiet → route → dedup → group → deliver → settle), on the
channels of the config (built by the channel registry, channels/__init__.py).

Delivery is at least once: a crash between a channel accepting a message and the record
being written sends that message again after the restart (webhooks carry a stable
`X-Hazmon-Delivery` id for receivers to drop it). Time is injected: `run_once(now)` is
all the tests call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Mapping

import httpx

from hazmon.alerts.claims import Claimant
from hazmon.alerts.directory import NotifyDirectory
from hazmon.alerts.notify import record
from hazmon.alerts.notify.channels import ChannelDeps, Publish, build_channel
from hazmon.alerts.notify.config import NotifyConfig
from hazmon.alerts.notify.delivery import DeliveryRow
from hazmon.alerts.notify.message import Channel
from hazmon.alerts.notify.pipeline import PIPELINE
from hazmon.alerts.notify.stage import COUNT_KEYS, Context, Stage
from hazmon.alerts.outbox import Notification, Outbox
from hazmon.alerts.sql import StoreUnavailable
from hazmon.alerts.store import AlarmStore
from hazmon.core.clock import Clock
from hazmon.core.clock import wall_ms as _wall_ms

log = logging.getLogger(__name__)



class Notifier:
    def __init__(
        self,
        store: AlarmStore,
        config: NotifyConfig,
        directory: NotifyDirectory | None = None,
        publish: Publish | None = None,
        clock: Clock = _wall_ms,
        http_client: httpx.AsyncClient | None = None,
        *,
        rng: random.Random | None = None,
        wall_s: Callable[[], float] = time.time,
        channels: Mapping[str, Channel] | None = None,
        claimant: Claimant | None = None,
    ) -> None:
        self.store = store
        # several instances on PostgreSQL: each round claims what it sends (claims.py)
        self.outbox = Outbox(store.db, claimant)
        self.config = config
        self.directory = directory  # replaced on registry reload, like AlarmService's
        self._clock = clock
        self._rng = rng or random.Random()
        self._own_client = http_client is None
        self._client = http_client or httpx.AsyncClient()
        self.channels: dict[str, Channel] = dict(channels or {})
        deps = ChannelDeps(self._client, wall_s, publish)
        for c in config.channels:
            if c.name not in self.channels:  # else injected (tests, custom gateways)
                self.channels[c.name] = build_channel(c, deps)
        self.pipeline: Stage[Notification, Notification] = PIPELINE
        self.totals: dict[str, int] = dict.fromkeys(COUNT_KEYS, 0)
        self._wake = asyncio.Event()

    async def aclose(self) -> None:
        if self._own_client:
            await self._client.aclose()

    async def __aenter__(self) -> Notifier:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def wake(self) -> None:
        """Look at the outbox now rather than at the next poll (e.g. after an alarm)."""
        self._wake.set()

    async def run(self, poll_s: float = 1.0) -> None:
        """Forever: one batch, then wait `poll_s` (or a wake), unless the batch was full.
        A failing round is logged and retried; the outbox keeps the work."""
        while True:
            full = False
            try:
                counts = await self.run_once()
                full = counts["seen"] >= self.config.batch
            except StoreUnavailable as exc:  # a database restart: no traceback a round
                log.warning("notification round waits for the database: %s", exc)
            except Exception:  # the outbox keeps the work: never take the service down
                log.exception("notification round failed; retrying in %.1f s", poll_s)
            if not full:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), poll_s)
                self._wake.clear()

    # --- one round ------------------------------------------------------------------------

    async def run_once(self, now_ms: int | None = None) -> dict[str, int]:
        ctx = Context(self._clock() if now_ms is None else now_ms, self.store, self.outbox,
                      self.config, self.directory, self.channels, self._rng,
                      clock=self._clock if now_ms is None else None)
        notes = await self.outbox.due(ctx.now, self.config.batch)
        ctx.counts["seen"] = len(notes)
        await self.pipeline.run(ctx, notes)
        for k, v in ctx.counts.items():
            self.totals[k] += v
        if any(ctx.counts[k] for k in ("sent", "digests", "dead", "failed")):
            log.info("notify: %s", ", ".join(f"{k} {v}" for k, v in ctx.counts.items() if v))
        return ctx.counts

    async def deliveries_of(self, alarm_id: str) -> list[DeliveryRow]:
        """Who was told what about one alarm, and when (for the alarm detail view)."""
        return await record.for_alarm(self.store.db, alarm_id)

