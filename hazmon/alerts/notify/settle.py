"""The settle stage: the outbox outcome of every notification the round touched. Done
(sent, given up or skipped, by its delivery rows), retried later with capped, jittered
backoff (given up after `retry.max_attempts`), or put off until its digest is due."""

from __future__ import annotations

from collections.abc import Sequence

from hazmon.alerts.notify import grouping, record
from hazmon.alerts.notify.delivery import DONE_OK, DeliveryRow, DeliveryStatus
from hazmon.alerts.notify.retry import backoff_ms
from hazmon.alerts.notify.stage import Context, Dispatch, Stage, event_of
from hazmon.alerts.outbox import Notification, OutboxStatus


class Settle(Stage[Dispatch, Notification]):
    async def run(self, ctx: Context, items: Sequence[Dispatch]) -> list[Notification]:
        notes: dict[int, Notification] = {}
        errors: dict[int, str] = {}  # the last failure of each notification this round
        for item in items:
            for note in item.notes:
                notes.setdefault(note.id, note)
            if item.error is not None:
                for row in item.rows:
                    errors[row.notification_id] = item.error
        settled = [notes[nid] for nid in sorted(notes)]
        for note in settled:
            await _settle(ctx, note, errors.get(note.id))
        return settled


async def _settle(ctx: Context, note: Notification, error: str | None) -> None:
    if note.status is not OutboxStatus.PENDING:
        return
    nid = note.id
    rows = await record.rows_for(ctx.db, nid)
    open_rows = [r for r in rows if r.is_open]
    if not open_rows:
        dead = [r for r in rows if r.status is DeliveryStatus.DEAD]
        if dead:
            await ctx.outbox.mark_failed(nid, None, dead[0].reason or "given up")
        elif any(r.status in DONE_OK for r in rows):
            await ctx.outbox.mark_sent(nid, ctx.now)
        else:
            reasons = sorted({r.reason or "" for r in rows})
            await ctx.outbox.mark_skipped(nid, ctx.now, "; ".join(reasons))
        return
    later = [t for t in await _flush_times(ctx, open_rows) if t > ctx.now]
    if error is not None:
        attempts = note.attempts + 1
        if attempts >= ctx.config.retry.max_attempts:
            reason = f"gave up after {attempts} attempts: {error}"
            await record.close(ctx.db, open_rows, DeliveryStatus.DEAD, ctx.now,
                               kind=note.kind, events={nid: event_of(note)}, reason=reason)
            await ctx.outbox.mark_failed(nid, None, reason)
            ctx.counts["dead"] += len(open_rows)
            return
        retry_at = ctx.now + backoff_ms(ctx.config.retry, attempts, ctx.rng)
        await ctx.outbox.mark_failed(nid, min([retry_at, *later]), error)
        return
    due = min(later, default=None)
    if due is not None:
        await ctx.outbox.postpone(nid, due)
    elif any(r.status is DeliveryStatus.HELD for r in open_rows):
        # its digest is due but was not sent this round (a batch limit): next round
        await ctx.outbox.postpone(nid, ctx.now)


async def _flush_times(ctx: Context, rows: Sequence[DeliveryRow]) -> list[int]:
    times = []
    for key in {r.group_key for r in rows if r.status is DeliveryStatus.HELD}:
        oldest = await record.oldest_held(ctx.db, key)
        if oldest is not None:
            times.append(grouping.flush_at(oldest, ctx.config.grouping))
    return times
