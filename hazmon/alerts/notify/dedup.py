"""The dedup stage: one message per alarm occurrence and kind of news per recipient.

The outbox already refuses the same history entry twice. This stage goes further: an
occurrence that returns to normal and comes back before anyone acknowledged it (a
chattering alarm) is announced once, not on every swing; "raised" and "cleared" are each
sent once per occurrence and recipient, and each escalation step once. Re-announcements
after a shelve, suppression or maintenance ends are keyed by their history entry, so a
second release is announced again (the operator must see what was hidden).
"""

from __future__ import annotations

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
