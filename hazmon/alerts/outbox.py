"""The notification outbox: what is still to be sent, kept in the alarm database.

A notification is enqueued in the same transaction as the alarm change that causes it,
so a crash can neither lose it nor send one for a change that was rolled back. The
notification pipeline (not this module) loops: `due(now)` → deliver → `mark_sent` or
`mark_failed(retry_at)`. Delivery is at least once: a crash between delivering and
`mark_sent` sends that one notification again after the restart, never more.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from hazmon.alerts import claims
from hazmon.alerts.claims import Claimant
from hazmon.alerts.sql import Database, Tx

log = logging.getLogger(__name__)


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"  # given up on: left for a person to look at
    SKIPPED = "skipped"  # deliberately not sent (shelved, suppressed, no route...): see reason


class NotificationKind(StrEnum):
    ALARM = "alarm"  # an alarm event (docs/CONTRACT.md §5.6) for the enterprise's duty channel
    ESCALATE = "escalate"  # an unacknowledged alarm, sent one step up the chain


@dataclass(frozen=True, slots=True)
class Notification:
    id: int
    kind: str
    alarm_id: str | None
    target: Mapping[str, Any] | None
    payload: Mapping[str, Any]
    created_at_ms: int
    due_at_ms: int
    attempts: int
    status: OutboxStatus
    last_error: str | None


_COLS = ("id, kind, alarm_id, target, payload, created_at, due_at, attempts, status,"
         " last_error")


def _row(r: tuple[Any, ...]) -> Notification:
    return Notification(
        id=int(r[0]), kind=r[1], alarm_id=r[2], target=json.loads(r[3]) if r[3] else None,
        payload=json.loads(r[4]), created_at_ms=int(r[5]), due_at_ms=int(r[6]),
        attempts=int(r[7]), status=OutboxStatus(r[8]), last_error=r[9],
    )


async def enqueue_in(
    tx: Tx, kind: str, payload: Mapping[str, Any], *, now_ms: int,
    alarm_id: str | None = None, target: Mapping[str, Any] | None = None,
    dedup_key: str | None = None, due_at_ms: int | None = None,
) -> bool:
    """Add a notification inside the caller's transaction. A `dedup_key` seen before is
    ignored (returns False): the same escalation step is never queued twice."""
    changed = await tx.execute(
        "INSERT INTO outbox (kind, alarm_id, target, payload, dedup_key, created_at, due_at,"
        " attempts, status) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)"
        " ON CONFLICT (dedup_key) DO NOTHING",
        (
            kind, alarm_id,
            json.dumps(dict(target), ensure_ascii=False) if target is not None else None,
            json.dumps(dict(payload), ensure_ascii=False), dedup_key, now_ms,
            now_ms if due_at_ms is None else due_at_ms, OutboxStatus.PENDING.value,
        ),
    )
    return changed == 1


class Outbox:
    """`claimant`: this instance, when several share a PostgreSQL database (claims.py);
    `due` then claims what it returns. Without one, `due` only reads."""

    def __init__(self, db: Database, claimant: Claimant | None = None) -> None:
        self.db = db
        self.claimant = claimant if claimant is not None and claimant.applies(db) else None

    async def enqueue(
        self, kind: str, payload: Mapping[str, Any], *, now_ms: int,
        alarm_id: str | None = None, target: Mapping[str, Any] | None = None,
        dedup_key: str | None = None,
    ) -> bool:
        async with self.db.transaction() as tx:
            return await enqueue_in(tx, kind, payload, now_ms=now_ms, alarm_id=alarm_id,
                                    target=target, dedup_key=dedup_key)

    async def due(self, now_ms: int, limit: int = 100) -> list[Notification]:
        """Pending notifications whose time has come, oldest first (claimed, with a
        claimant: those another instance holds are left out)."""
        c = self.claimant
        if c is not None:
            async with self.db.transaction() as tx:
                claimed = await tx.fetchall(
                    f"UPDATE outbox SET claimed_by = ?, claim_until = ? WHERE id IN"
                    f" (SELECT id FROM outbox WHERE status = ? AND due_at <= ?"
                    f" AND {claims.free()} ORDER BY due_at, id LIMIT ?"
                    f" FOR UPDATE SKIP LOCKED) RETURNING {_COLS}",
                    (c.owner, now_ms + c.ttl_ms, OutboxStatus.PENDING.value, now_ms, now_ms,
                     c.owner, limit),
                )
            return sorted((_row(r) for r in claimed), key=lambda n: (n.due_at_ms, n.id))
        rows = await self.db.fetchall(
            f"SELECT {_COLS} FROM outbox WHERE status = ? AND due_at <= ?"
            " ORDER BY due_at, id LIMIT ?",
            (OutboxStatus.PENDING.value, now_ms, limit),
        )
        return [_row(r) for r in rows]

    async def claim(self, ids: Sequence[int], now_ms: int) -> set[int]:
        """Of these pending notifications, the ones this instance may work on now (all of
        them without a claimant)."""
        if self.claimant is None:
            return set(ids)
        got = await claims.claim_ids(self.db, "outbox", "id", ids, self.claimant, now_ms,
                                     OutboxStatus.PENDING.value)
        return {int(str(i)) for i in got}

    async def get(self, notification_id: int) -> Notification | None:
        row = await self.db.fetchone(f"SELECT {_COLS} FROM outbox WHERE id = ?",
                                     (notification_id,))
        return _row(row) if row else None

    async def mark_sent(self, notification_id: int, now_ms: int) -> None:
        async with self.db.transaction() as tx:
            await tx.execute(
                "UPDATE outbox SET status = ?, sent_at = ?, attempts = attempts + 1"
                " WHERE id = ? AND status = ?",
                (OutboxStatus.SENT.value, now_ms, notification_id, OutboxStatus.PENDING.value),
            )

    async def mark_failed(self, notification_id: int, retry_at_ms: int | None,
                          error: str = "") -> None:
        """Count a failed attempt; retry at `retry_at_ms`, or give up (None → dead)."""
        status = OutboxStatus.PENDING if retry_at_ms is not None else OutboxStatus.DEAD
        async with self.db.transaction() as tx:
            await tx.execute(
                "UPDATE outbox SET status = ?, due_at = COALESCE(?, due_at),"
                " attempts = attempts + 1, last_error = ? WHERE id = ? AND status = ?",
                (status.value, retry_at_ms, error[:1000], notification_id,
                 OutboxStatus.PENDING.value),
            )
        if status is OutboxStatus.DEAD:
            log.warning("notification %d given up: %s", notification_id, error)

    async def mark_skipped(self, notification_id: int, now_ms: int, reason: str) -> None:
        """Not sent on purpose (the alarm is held back, nobody is routed to); the reason is
        kept in `last_error` so a person can see why nothing went out."""
        async with self.db.transaction() as tx:
            await tx.execute(
                "UPDATE outbox SET status = ?, sent_at = ?, last_error = ?"
                " WHERE id = ? AND status = ?",
                (OutboxStatus.SKIPPED.value, now_ms, reason[:1000], notification_id,
                 OutboxStatus.PENDING.value),
            )

    async def postpone(self, notification_id: int, due_at_ms: int) -> None:
        """Look at it again at `due_at_ms` without counting an attempt (a delivery held
        for a grouped digest)."""
        async with self.db.transaction() as tx:
            await tx.execute(
                "UPDATE outbox SET due_at = ? WHERE id = ? AND status = ?",
                (due_at_ms, notification_id, OutboxStatus.PENDING.value),
            )

    async def pending_count(self) -> int:
        row = await self.db.fetchone("SELECT COUNT(*) FROM outbox WHERE status = ?",
                                     (OutboxStatus.PENDING.value,))
        return int(row[0]) if row else 0
