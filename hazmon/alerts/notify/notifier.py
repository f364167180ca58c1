"""The notifier: drains the alarm outbox through small stages (DESIGN habit 9, like
alertmanager's notify.go):

    quiet (shelved / suppressed / out of service → skipped)
    → route (channels and recipients; simulated only to test channels)
    → dedup (same alarm and kind already going to that recipient → skipped)
    → group (a flood per recipient → one digest)
    → deliver (retry with capped, jittered exponential backoff; give up after N)
    → record (delivery row + audit entry; outbox mark_sent / mark_failed / mark_skipped)

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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from hazmon.alerts.directory import NotifyDirectory
from hazmon.alerts.notify import dedup, grouping, quiet, record, routing
from hazmon.alerts.notify.config import NotifyConfig
from hazmon.alerts.notify.email import EmailChannel
from hazmon.alerts.notify.message import Channel, DeliveryError, Message
from hazmon.alerts.notify.mqtt import MqttChannel, Publish
from hazmon.alerts.notify.record import DeliveryRow, DeliveryStatus
from hazmon.alerts.notify.retry import backoff_ms
from hazmon.alerts.notify.webhook import WebhookChannel
from hazmon.alerts.outbox import Notification, NotificationKind, Outbox, OutboxStatus
from hazmon.alerts.store import AlarmStore
from hazmon.core.clock import Clock
from hazmon.core.clock import wall_ms as _wall_ms

log = logging.getLogger(__name__)

COUNT_KEYS = ("seen", "sent", "digests", "digested", "held", "skipped", "duplicates",
              "failed", "dead")


@dataclass
class _Run:
    """What one run_once learnt, per notification."""

    now: int
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNT_KEYS, 0))
    notes: dict[int, Notification] = field(default_factory=dict)
    errors: dict[int, str] = field(default_factory=dict)  # transient failures: retry
    touched: set[int] = field(default_factory=set)  # notifications to settle at the end


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
    ) -> None:
        self.store = store
        self.outbox = Outbox(store.db)
        self.config = config
        self.directory = directory  # replaced on registry reload, like AlarmService's
        self._clock = clock
        self._rng = rng or random.Random()
        self._own_client = http_client is None
        self._client = http_client or httpx.AsyncClient()
        self.channels: dict[str, Channel] = dict(channels or {})
        for c in config.channels:
            if c.name in self.channels:
                continue  # injected (tests, custom gateways)
            if c.type == "mqtt":
                self.channels[c.name] = MqttChannel(c, publish)
            elif c.type == "webhook":
                self.channels[c.name] = WebhookChannel(c, self._client, wall_s)
            else:
                self.channels[c.name] = EmailChannel(c)
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
            except Exception:  # the outbox keeps the work: never take the service down
                log.exception("notification round failed; retrying in %.1f s", poll_s)
            if not full:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), poll_s)
                self._wake.clear()

    # --- one round ------------------------------------------------------------------------

    async def run_once(self, now_ms: int | None = None) -> dict[str, int]:
        run = _Run(self._clock() if now_ms is None else now_ms)
        notes = await self.outbox.due(run.now, self.config.batch)
        run.counts["seen"] = len(notes)
        groups: dict[str, list[DeliveryRow]] = {}
        for note in notes:
            run.notes[note.id] = note
            rows = await self._plan(note, run)
            if rows is None:
                continue
            run.touched.add(note.id)
            for row in rows:
                if row.status is DeliveryStatus.PENDING:
                    groups.setdefault(row.group_key, []).append(row)
                elif row.status is DeliveryStatus.HELD:
                    groups.setdefault(row.group_key, [])  # its digest may be due
        for group_key, rows in groups.items():
            await self._group(group_key, rows, run)
        for nid in sorted(run.touched):
            await self._settle(nid, run)
        for k, v in run.counts.items():
            self.totals[k] += v
        if any(run.counts[k] for k in ("sent", "digests", "dead", "failed")):
            log.info("notify: %s", ", ".join(f"{k} {v}" for k, v in run.counts.items() if v))
        return run.counts

    async def _plan(self, note: Notification, run: _Run) -> list[DeliveryRow] | None:
        """quiet → route → dedup (first sight only); None when the notification is done."""
        db = self.store.db
        event = _event(note)
        rows = await record.rows_for(db, note.id)
        if rows and not any(r.is_open for r in rows):
            return rows  # all done (e.g. inside a digest sent last round): settle it
        reason = await quiet.quiet_reason(self.store, note)
        if reason is not None:
            await record.skip_notification(db, notification_id=note.id,
                                           alarm_id=note.alarm_id, kind=note.kind,
                                           event=event, reason=reason, now_ms=run.now)
            await self.outbox.mark_skipped(note.id, run.now, reason)
            run.counts["skipped"] += 1
            log.info("notification %d for %s not sent: %s", note.id, note.alarm_id, reason)
            return None
        if rows:
            return rows  # planned before (a retry, a held digest item, a restart)
        key = dedup.dedup_key(note)
        planned = routing.plan(note, self.config, self.directory, key)
        if not planned:
            await record.skip_notification(db, notification_id=note.id,
                                           alarm_id=note.alarm_id, kind=note.kind,
                                           event=event, reason="no route", now_ms=run.now)
            await self.outbox.mark_skipped(note.id, run.now, "no route")
            run.counts["skipped"] += 1
            log.warning("notification %d (%s %s) matched no route", note.id, note.kind, event)
            return None
        checked = []
        for p in planned:
            if p.status is DeliveryStatus.PENDING and await record.already_planned(
                db, key, p.channel, p.recipient.key(), note.id
            ):
                p = record.PlannedDelivery(p.channel, p.recipient, p.group_key, p.dedup_key,
                                           p.priority, DeliveryStatus.SKIPPED, "duplicate")
                run.counts["duplicates"] += 1
            elif p.status is DeliveryStatus.SKIPPED:
                run.counts["skipped"] += 1
                log.info("notification %d to %s skipped: %s", note.id, p.channel, p.reason)
            checked.append(p)
        return await record.insert_plan(db, notification_id=note.id, alarm_id=note.alarm_id,
                                        kind=note.kind, event=event, planned=checked,
                                        now_ms=run.now)

    async def _group(self, group_key: str, pending: list[DeliveryRow], run: _Run) -> None:
        db = self.store.db
        name = group_key.split("|", 1)[0]
        channel = self.channels.get(name)
        if channel is None:  # removed from the config since it was planned
            await record.close(db, pending, DeliveryStatus.DEAD, run.now, kind="alarm",
                               events=self._events(pending, run),
                               reason=f"channel {name} no longer configured")
            run.counts["dead"] += len(pending)
            return
        cfg = self.config.grouping
        chan_cfg = next((c for c in self.config.channels if c.name == name), None)
        wanted = chan_cfg.grouping if chan_cfg is not None else None
        # people get digests; the plant HMI (a machine) gets every event
        grouped = cfg.enabled and (wanted if wanted is not None else channel.type != "mqtt")
        if grouped:
            state = await record.group_state(db, group_key, run.now, cfg.window_ms)
            alone, hold = grouping.split([(r.priority, r) for r in pending], state, cfg)
        else:
            alone, hold = pending, []
        for row in alone:
            await self._send_one(channel, row, run)
        if hold:
            await record.hold(db, hold, run.now)
            run.counts["held"] += len(hold)
        if grouped:
            held = await record.held_in_group(db, group_key)
            oldest = min((r.held_at_ms for r in held if r.held_at_ms is not None),
                         default=None)
            if oldest is not None and run.now >= grouping.flush_at(oldest, cfg):
                await self._send_digest(channel, group_key, held, run)

    async def _send_one(self, channel: Channel, row: DeliveryRow, run: _Run) -> None:
        note = await self._note(row.notification_id, run)
        if note is None:
            return
        body = dict(note.payload)
        msg_id = f"n{note.id}.{row.id}"
        body["notification"] = {
            "id": msg_id, "kind": note.kind, "channel": row.channel,
            "recipient": row.recipient.to_dict(), "attempt": note.attempts + 1,
        }
        subject, text = _texts(note, row)
        message = Message(msg_id, row.channel, row.recipient,
                          "escalate" if note.kind == NotificationKind.ESCALATE else "alarm",
                          body, subject, text, bool(body.get("simulated")), (note.id,))
        try:
            await channel.send(message)
        except DeliveryError as exc:
            await self._failed([row], exc, run, note.kind)
            return
        await record.close(self.store.db, [row], DeliveryStatus.SENT, run.now,
                           kind=note.kind, events={note.id: _event(note)})
        run.counts["sent"] += 1

    async def _send_digest(self, channel: Channel, group_key: str,
                           held: Sequence[DeliveryRow], run: _Run) -> None:
        items: list[dict[str, Any]] = []
        rows: list[DeliveryRow] = []
        for row in held:
            note = await self._note(row.notification_id, run)
            if note is None:
                continue
            run.touched.add(note.id)
            items.append(dict(note.payload))
            rows.append(row)
        if not rows:
            return
        digest_id = f"d{rows[0].id}.{len(rows)}"
        body, subject, text = grouping.digest(digest_id, items, self.config.grouping, run.now)
        body["notification"] = {"id": digest_id, "kind": "digest", "channel": rows[0].channel,
                                "recipient": None if group_key.endswith("|*")
                                else rows[0].recipient.to_dict()}
        message = Message(digest_id, rows[0].channel, rows[0].recipient, "digest", body,
                          subject, text, bool(body["simulated"]),
                          tuple(r.notification_id for r in rows))
        try:
            await channel.send(message)
        except DeliveryError as exc:
            await self._failed(rows, exc, run, "digest")
            return
        await record.close(self.store.db, rows, DeliveryStatus.DIGESTED, run.now,
                           kind="digest", events=self._events(rows, run), digest_id=digest_id)
        run.counts["digests"] += 1
        run.counts["digested"] += len(rows)
        log.info("digest %s of %d alarms sent on %s", digest_id, len(rows), channel.name)

    async def _failed(self, rows: Sequence[DeliveryRow], exc: DeliveryError, run: _Run,
                      kind: str) -> None:
        run.counts["failed"] += 1
        if exc.permanent:
            log.warning("delivery on %s refused for good: %s", exc.channel, exc.reason)
            await record.close(self.store.db, rows, DeliveryStatus.DEAD, run.now,
                               kind=kind, events=self._events(rows, run), reason=exc.reason)
            run.counts["dead"] += len(rows)
            return
        log.info("delivery on %s failed (will retry): %s", exc.channel, exc.reason)
        for row in rows:
            run.errors[row.notification_id] = str(exc)
            run.touched.add(row.notification_id)

    async def _settle(self, nid: int, run: _Run) -> None:
        """The outbox outcome of one notification: done, retry later, or wait for its
        digest."""
        note = await self._note(nid, run)
        if note is None or note.status is not OutboxStatus.PENDING:
            return
        db = self.store.db
        rows = await record.rows_for(db, nid)
        open_rows = [r for r in rows if r.is_open]
        if not open_rows:
            dead = [r for r in rows if r.status is DeliveryStatus.DEAD]
            if dead:
                await self.outbox.mark_failed(nid, None, dead[0].reason or "given up")
            elif any(r.status in record.DONE_OK for r in rows):
                await self.outbox.mark_sent(nid, run.now)
            else:
                reasons = sorted({r.reason or "" for r in rows})
                await self.outbox.mark_skipped(nid, run.now, "; ".join(reasons))
            return
        error = run.errors.get(nid)
        later = [t for t in await self._flush_times(open_rows) if t > run.now]
        if error is not None:
            attempts = note.attempts + 1
            if attempts >= self.config.retry.max_attempts:
                reason = f"gave up after {attempts} attempts: {error}"
                await record.close(db, open_rows, DeliveryStatus.DEAD, run.now,
                                   kind=note.kind, events={nid: _event(note)}, reason=reason)
                await self.outbox.mark_failed(nid, None, reason)
                run.counts["dead"] += len(open_rows)
                return
            retry_at = run.now + backoff_ms(self.config.retry, attempts, self._rng)
            await self.outbox.mark_failed(nid, min([retry_at, *later]), error)
            return
        due = min(later, default=None)
        if due is not None:
            await self.outbox.postpone(nid, due)
        elif any(r.status is DeliveryStatus.HELD for r in open_rows):
            # its digest is due but was not sent this round (a batch limit): next round
            await self.outbox.postpone(nid, run.now)

    # --- helpers ----------------------------------------------------------------------------

    async def _flush_times(self, rows: Sequence[DeliveryRow]) -> list[int]:
        times = []
        for key in {r.group_key for r in rows if r.status is DeliveryStatus.HELD}:
            oldest = await record.oldest_held(self.store.db, key)
            if oldest is not None:
                times.append(grouping.flush_at(oldest, self.config.grouping))
        return times

    async def _note(self, nid: int, run: _Run) -> Notification | None:
        note = run.notes.get(nid)
        if note is None:
            note = await self.outbox.get(nid)
            if note is not None:
                run.notes[nid] = note
        return note

    @staticmethod
    def _events(rows: Sequence[DeliveryRow], run: _Run) -> dict[int, str | None]:
        return {r.notification_id: _event(run.notes[r.notification_id])
                for r in rows if r.notification_id in run.notes}

    async def deliveries_of(self, alarm_id: str) -> list[DeliveryRow]:
        """Who was told what about one alarm, and when (for the alarm detail view)."""
        return await record.for_alarm(self.store.db, alarm_id)


def _event(note: Notification) -> str | None:
    ev = note.payload.get("event")
    return str(ev) if ev is not None else None


def _texts(note: Notification, row: DeliveryRow) -> tuple[str, str]:
    """Subject and short text (SMS, email) in Chinese, for duty officers."""
    p = note.payload
    prefix = "[演练] " if p.get("simulated") else ""
    what = p.get("tag") or p.get("hazard_source")
    event = {"raised": "报警", "cleared": "恢复"}.get(str(p.get("event")), str(p.get("event")))
    head = f"{prefix}[{p.get('priority')}] {event}"
    esc = p.get("escalation")
    if note.kind == NotificationKind.ESCALATE and isinstance(esc, Mapping):
        head = f"{prefix}[{p.get('priority')}] 报警未确认，升级至第 {esc.get('step')} 级"
        if row.recipient.missing:
            head += f"（{row.recipient.missing}）"
    subject = f"{head}: {p.get('enterprise')} {what}"
    text = f"{head} {p.get('ts')} {p.get('enterprise')} {what}: {p.get('message')}"
    return subject, text
