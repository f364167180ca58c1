"""The message of a single delivery: the alarm event (docs/CONTRACT.md §5.6) plus a `notification`
object saying whom it is for, and a short Chinese subject and text for duty officers.
(A digest's message is composed by the group stage, see grouping.py.)"""

from __future__ import annotations

from collections.abc import Mapping

from hazmon.alerts.notify.delivery import DeliveryRow
from hazmon.alerts.notify.message import Message
from hazmon.alerts.outbox import Notification, NotificationKind


def single(note: Notification, row: DeliveryRow) -> Message:
    body = dict(note.payload)
    msg_id = f"n{note.id}.{row.id}"  # stable over retries: receivers drop repeats
    body["notification"] = {
        "id": msg_id, "kind": note.kind, "channel": row.channel,
        "recipient": row.recipient.to_dict(), "attempt": note.attempts + 1,
    }
    subject, text = texts(note, row)
    return Message(msg_id, row.channel, row.recipient,
                   "escalate" if note.kind == NotificationKind.ESCALATE else "alarm",
                   body, subject, text, bool(body.get("simulated")), (note.id,))


def texts(note: Notification, row: DeliveryRow) -> tuple[str, str]:
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
