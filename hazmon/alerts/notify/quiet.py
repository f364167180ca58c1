"""The quiet stage: an alarm that is shelved, suppressed by design or out of service is
not announced (ISA-18.2: only its notification is held back). The alarm's state is read
when the notification is about to go, not when it was queued, so a shelve placed during
a retry backoff still holds the rest back. An escalation that arrives after the alarm was
acknowledged or closed is moot."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from hazmon.alerts.lifecycle import Alarm
from hazmon.alerts.notify import record
from hazmon.alerts.notify.stage import Context, Stage, Work
from hazmon.alerts.outbox import Notification, NotificationKind
from hazmon.alerts.store import AlarmStore

log = logging.getLogger(__name__)


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


class Quiet(Stage[Work, Work]):
    async def run(self, ctx: Context, items: Sequence[Work]) -> list[Work]:
        out = []
        for work in items:
            if work.rows and not any(r.is_open for r in work.rows):
                out.append(work)  # all done (e.g. inside last round's digest): settle it
                continue
            reason = await quiet_reason(ctx.store, work.note)
            if reason is None:
                out.append(work)
                continue
            await record.skip_whole(ctx, work.note, reason)
            log.info("notification %d for %s not sent: %s", work.note.id, work.note.alarm_id,
                     reason)
        return out
