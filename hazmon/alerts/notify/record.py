"""The record stage: the `notify_deliveries` table (plan and outcome of every delivery)
and the audit entry written in the same transaction as each outcome.

A notification is planned once, at first sight: one row per (channel, recipient), so a
retry resends only what failed, a restart never resends what was delivered, and a later
config change does not redirect a notification already under way. Outcomes: `sent`
(alone), `digested` (inside a grouped digest), `skipped` (on purpose, with the reason),
`dead` (given up). `pending` and `held` (waiting for a digest) are still open.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hazmon.alerts import audit
from hazmon.alerts.notify.delivery import (
    OPEN,
    DeliveryRow,
    DeliveryStatus,
    PlannedDelivery,
)
from hazmon.alerts.notify.message import Recipient
from hazmon.alerts.notify.stage import Context, Stage, Work, event_of
from hazmon.alerts.outbox import Notification
from hazmon.alerts.sql import Database, Tx

NOTIFY_ACTOR = "system:notify"


_COLS = ("id, notification_id, alarm_id, channel, recipient, recipient_doc, group_key,"
         " dedup_key, priority, status, reason, created_at, held_at, done_at, digest_id")


def _row(r: Sequence[Any]) -> DeliveryRow:
    return DeliveryRow(
        id=int(r[0]), notification_id=int(r[1]), alarm_id=r[2], channel=r[3],
        recipient=Recipient.from_dict(json.loads(r[5])), group_key=r[6], dedup_key=r[7],
        priority=r[8], status=DeliveryStatus(r[9]), reason=r[10], created_at_ms=int(r[11]),
        held_at_ms=None if r[12] is None else int(r[12]),
        done_at_ms=None if r[13] is None else int(r[13]), digest_id=r[14],
    )


async def rows_for(db: Database, notification_id: int) -> list[DeliveryRow]:
    rows = await db.fetchall(
        f"SELECT {_COLS} FROM notify_deliveries WHERE notification_id = ? ORDER BY id",
        (notification_id,),
    )
    return [_row(r) for r in rows]


async def for_alarm(db: Database, alarm_id: str) -> list[DeliveryRow]:
    """Who was told what about one alarm (for the API's alarm detail)."""
    rows = await db.fetchall(
        f"SELECT {_COLS} FROM notify_deliveries WHERE alarm_id = ? ORDER BY id", (alarm_id,)
    )
    return [_row(r) for r in rows]


async def already_planned(db: Database, dedup_key: str, channel: str, recipient: str,
                          notification_id: int) -> bool:
    """The dedup stage's question: did (or will) another notification of the same alarm
    and kind reach this channel and recipient?"""
    row = await db.fetchone(
        "SELECT 1 FROM notify_deliveries WHERE dedup_key = ? AND channel = ?"
        " AND recipient = ? AND notification_id <> ? AND status IN (?, ?, ?, ?) LIMIT 1",
        (dedup_key, channel, recipient, notification_id, DeliveryStatus.SENT.value,
         DeliveryStatus.DIGESTED.value, DeliveryStatus.PENDING.value,
         DeliveryStatus.HELD.value),
    )
    return row is not None


def _audit_payload(row: DeliveryRow | PlannedDelivery, notification_id: int, kind: str,
                   event: str | None, **extra: Any) -> dict[str, Any]:
    return {"notification": notification_id, "kind": kind, "event": event,
            "channel": row.channel, "recipient": row.recipient.to_dict(),
            **{k: v for k, v in extra.items() if v is not None}}


async def insert_plan(db: Database, *, notification_id: int, alarm_id: str | None,
                      kind: str, event: str | None, planned: Sequence[PlannedDelivery],
                      now_ms: int) -> list[DeliveryRow]:
    async with db.transaction() as tx:
        for p in planned:
            await tx.execute(
                "INSERT INTO notify_deliveries (notification_id, alarm_id, channel, recipient,"
                " recipient_doc, group_key, dedup_key, priority, status, reason, created_at,"
                " done_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (notification_id, channel, recipient) DO NOTHING",
                (notification_id, alarm_id, p.channel, p.recipient.key(),
                 json.dumps(p.recipient.to_dict(), ensure_ascii=False), p.group_key,
                 p.dedup_key, p.priority, p.status.value, p.reason, now_ms,
                 None if p.status in OPEN else now_ms),
            )
            if p.status is DeliveryStatus.SKIPPED:
                await audit.append(
                    tx, ts_ms=now_ms, actor=NOTIFY_ACTOR, action="notification_skipped",
                    alarm_id=alarm_id,
                    payload=_audit_payload(p, notification_id, kind, event, reason=p.reason),
                )
        rows = await tx.fetchall(
            f"SELECT {_COLS} FROM notify_deliveries WHERE notification_id = ? ORDER BY id",
            (notification_id,),
        )
    return [_row(r) for r in rows]


async def skip_notification(db: Database, *, notification_id: int, alarm_id: str | None,
                            kind: str, event: str | None, reason: str, now_ms: int) -> None:
    """The whole notification is not sent (held back, or nobody routed): close what was
    open and say so in the audit log."""
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE notify_deliveries SET status = ?, reason = ?, done_at = ?"
            " WHERE notification_id = ? AND status IN (?, ?)",
            (DeliveryStatus.SKIPPED.value, reason, now_ms, notification_id,
             DeliveryStatus.PENDING.value, DeliveryStatus.HELD.value),
        )
        await audit.append(
            tx, ts_ms=now_ms, actor=NOTIFY_ACTOR, action="notification_skipped",
            alarm_id=alarm_id,
            payload={"notification": notification_id, "kind": kind, "event": event,
                     "reason": reason},
        )


async def close(db: Database, rows: Sequence[DeliveryRow], status: DeliveryStatus,
                now_ms: int, *, kind: str, events: dict[int, str | None],
                reason: str | None = None, digest_id: str | None = None) -> None:
    """Record outcomes (sent, digested, dead) with one audit entry each, in one
    transaction; a row already closed (a concurrent instance) is left as it is."""
    action = {DeliveryStatus.SENT: "notified", DeliveryStatus.DIGESTED: "notified",
              DeliveryStatus.DEAD: "notification_given_up",
              DeliveryStatus.SKIPPED: "notification_skipped"}[status]
    async with db.transaction() as tx:
        for row in rows:
            changed = await tx.execute(
                "UPDATE notify_deliveries SET status = ?, reason = ?, done_at = ?,"
                " digest_id = COALESCE(?, digest_id) WHERE id = ? AND status IN (?, ?)",
                (status.value, reason, now_ms, digest_id, row.id,
                 DeliveryStatus.PENDING.value, DeliveryStatus.HELD.value),
            )
            if changed == 1:
                await _audit(tx, row, now_ms, action, kind=kind,
                             event=events.get(row.notification_id), reason=reason,
                             digest=digest_id)


async def _audit(tx: Tx, row: DeliveryRow, now_ms: int, action: str, *, kind: str,
                 event: str | None, reason: str | None, digest: str | None) -> None:
    await audit.append(
        tx, ts_ms=now_ms, actor=NOTIFY_ACTOR, action=action, alarm_id=row.alarm_id,
        payload=_audit_payload(row, row.notification_id, kind, event, reason=reason,
                               digest=digest),
    )


async def hold(db: Database, rows: Sequence[DeliveryRow], now_ms: int) -> None:
    async with db.transaction() as tx:
        for row in rows:
            await tx.execute(
                "UPDATE notify_deliveries SET status = ?, held_at = COALESCE(held_at, ?)"
                " WHERE id = ? AND status = ?",
                (DeliveryStatus.HELD.value, now_ms, row.id, DeliveryStatus.PENDING.value),
            )


async def held_in_group(db: Database, group_key: str) -> list[DeliveryRow]:
    rows = await db.fetchall(
        f"SELECT {_COLS} FROM notify_deliveries WHERE group_key = ? AND status = ?"
        " ORDER BY held_at, id",
        (group_key, DeliveryStatus.HELD.value),
    )
    return [_row(r) for r in rows]


async def oldest_held(db: Database, group_key: str) -> int | None:
    row = await db.fetchone(
        "SELECT MIN(held_at) FROM notify_deliveries WHERE group_key = ? AND status = ?",
        (group_key, DeliveryStatus.HELD.value),
    )
    return int(row[0]) if row and row[0] is not None else None


@dataclass(frozen=True, slots=True)
class GroupState:
    singles_in_window: int  # messages sent alone to this recipient within the window
    digest_in_window: bool  # a digest went to it within the window: the flood goes on
    oldest_held_ms: int | None  # a digest is being gathered since then


async def group_state(db: Database, group_key: str, now_ms: int,
                      window_ms: int) -> GroupState:
    since = now_ms - window_ms
    singles = await db.fetchone(
        "SELECT COUNT(*) FROM notify_deliveries WHERE group_key = ? AND status = ?"
        " AND done_at > ?",
        (group_key, DeliveryStatus.SENT.value, since),
    )
    digests = await db.fetchone(
        "SELECT COUNT(*) FROM notify_deliveries WHERE group_key = ? AND status = ?"
        " AND done_at > ?",
        (group_key, DeliveryStatus.DIGESTED.value, since),
    )
    return GroupState(
        singles_in_window=int(singles[0]) if singles else 0,
        digest_in_window=bool(digests and int(digests[0]) > 0),
        oldest_held_ms=await oldest_held(db, group_key),
    )


# --- the stages that read and write the plan ---------------------------------------------


class Load(Stage[Notification, Work]):
    """What was recorded of each notification before: a retry, an item held for a
    digest, or a restart picks up its planned deliveries rather than routing again."""

    async def run(self, ctx: Context, items: Sequence[Notification]) -> list[Work]:
        out = []
        for note in items:
            ctx.remember(note)
            out.append(Work(note, tuple(await rows_for(ctx.db, note.id))))
        return out


class RecordPlan(Stage[Work, Work]):
    """The deliveries planned this round become rows (skipped ones with their audit
    entry); from here on a notification is only ever delivered as recorded."""

    async def run(self, ctx: Context, items: Sequence[Work]) -> list[Work]:
        out = []
        for work in items:
            if work.planned:
                note = work.note
                rows = await insert_plan(ctx.db, notification_id=note.id,
                                         alarm_id=note.alarm_id, kind=note.kind,
                                         event=event_of(note), planned=work.planned,
                                         now_ms=ctx.now)
                work = Work(note, tuple(rows))
            out.append(work)
        return out


async def skip_whole(ctx: Context, note: Notification, reason: str) -> None:
    """A notification not sent at all (held back, or nobody routed): recorded as skipped
    in the deliveries, the audit log and the outbox."""
    await skip_notification(ctx.db, notification_id=note.id, alarm_id=note.alarm_id,
                            kind=note.kind, event=event_of(note), reason=reason,
                            now_ms=ctx.now)
    await ctx.outbox.mark_skipped(note.id, ctx.now, reason)
    ctx.counts["skipped"] += 1
