"""A delivery: one notification to one recipient on one channel, as planned by the route
stage and then as recorded in `notify_deliveries` (see record.py)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from hazmon.alerts.notify.message import Recipient


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    HELD = "held"
    SENT = "sent"
    DIGESTED = "digested"
    SKIPPED = "skipped"
    DEAD = "dead"


OPEN = frozenset({DeliveryStatus.PENDING, DeliveryStatus.HELD})
DONE_OK = frozenset({DeliveryStatus.SENT, DeliveryStatus.DIGESTED})


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    id: int
    notification_id: int
    alarm_id: str | None
    channel: str
    recipient: Recipient
    group_key: str
    dedup_key: str
    priority: str
    status: DeliveryStatus
    reason: str | None
    created_at_ms: int
    held_at_ms: int | None
    done_at_ms: int | None
    digest_id: str | None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "notification_id": self.notification_id,
            "alarm_id": self.alarm_id, "channel": self.channel,
            "recipient": self.recipient.to_dict(), "status": self.status.value,
            "reason": self.reason, "created_at_ms": self.created_at_ms,
            "done_at_ms": self.done_at_ms, "digest_id": self.digest_id,
        }


@dataclass(frozen=True, slots=True)
class PlannedDelivery:
    channel: str
    recipient: Recipient
    group_key: str
    dedup_key: str
    priority: str
    status: DeliveryStatus = DeliveryStatus.PENDING
    reason: str | None = None
