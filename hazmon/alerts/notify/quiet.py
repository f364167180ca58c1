"""The quiet stage: an alarm that is shelved, suppressed by design or out of service is
not announced (ISA-18.2: only its notification is held back). The alarm's state is read
when the notification is about to go, not when it was queued, so a shelve placed during
a retry backoff still holds the rest back. An escalation that arrives after the alarm was
acknowledged or closed is moot."""

from __future__ import annotations

from hazmon.alerts.lifecycle import Alarm
from hazmon.alerts.outbox import Notification, NotificationKind
from hazmon.alerts.store import AlarmStore


def held_back(alarm: Alarm, kind: str) -> str | None:
    """Why this notification of `alarm` must not go out now, or None."""
    if alarm.quiet_reason is not None:
        return alarm.quiet_reason
    if kind == NotificationKind.ESCALATE:
        if alarm.is_closed:
            return "closed"
        if alarm.is_acked:
            return "acknowledged"
    return None


async def quiet_reason(store: AlarmStore, note: Notification) -> str | None:
    if note.alarm_id is None:
        return None
    alarm = await store.get(note.alarm_id)
    if alarm is None:  # not ours to judge (e.g. a test message): let it through
        return None
    return held_back(alarm, note.kind)
