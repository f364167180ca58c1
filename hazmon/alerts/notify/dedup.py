"""The dedup stage: one message per alarm occurrence and kind of news per recipient.

The outbox already refuses the same history entry twice. This stage goes further: an
occurrence that returns to normal and comes back before anyone acknowledged it (a
chattering alarm) is announced once, not on every swing; "raised" and "cleared" are each
sent once per occurrence and recipient, and each escalation step once. Re-announcements
after a shelve, suppression or maintenance ends are keyed by their history entry, so a
second release is announced again (the operator must see what was hidden).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from hazmon.alerts.notify import record
from hazmon.alerts.notify.delivery import DeliveryStatus
from hazmon.alerts.notify.stage import Context, Stage, Work
from hazmon.alerts.outbox import Notification, NotificationKind

ONCE_PER_OCCURRENCE = frozenset({"raised", "cleared"})


def dedup_key(note: Notification) -> str:
    p = note.payload
    alarm = note.alarm_id or str(p.get("id", ""))
    if note.kind == NotificationKind.ESCALATE:
        step = (p.get("escalation") or {}).get("step")
        return f"{alarm}:escalate:{step}"
    event = str(p.get("event", ""))
    if event in ONCE_PER_OCCURRENCE:
        return f"{alarm}:{note.kind}:{event}"
    return f"{alarm}:{note.kind}:{event}:{p.get('seq', note.id)}"


class Dedup(Stage[Work, Work]):
    """A planned delivery whose alarm and kind of news already went (or is going) to
    the same channel and recipient is skipped as a duplicate."""

    async def run(self, ctx: Context, items: Sequence[Work]) -> list[Work]:
        # This round's earlier deliveries: the record stage writes them only after this
        # stage saw the whole batch, so the store does not know them yet.
        passed: set[tuple[str, str, str]] = set()
        out = []
        for work in items:
            checked = []
            for p in work.planned:
                if p.status is DeliveryStatus.PENDING:
                    seen = (p.dedup_key, p.channel, p.recipient.key())
                    if seen in passed or await record.already_planned(
                        ctx.db, p.dedup_key, p.channel, p.recipient.key(), work.note.id
                    ):
                        p = replace(p, status=DeliveryStatus.SKIPPED, reason="duplicate")
                        ctx.counts["duplicates"] += 1
                    else:
                        passed.add(seen)
                checked.append(p)
            out.append(replace(work, planned=tuple(checked)))
        return out
