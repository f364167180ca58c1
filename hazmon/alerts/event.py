"""The alarm event of docs/CONTRACT.md §5.6: one dict per alarm change, for SSE, MQTT and
webhooks."""

from __future__ import annotations

from typing import Any

from hazmon.alerts.lifecycle import Alarm, HistoryEntry
from hazmon.core.clock import rfc3339


def alarm_event(alarm: Alarm, entry: HistoryEntry) -> dict[str, Any]:
    """The contract's fields first, then extras a console or notifier can use."""
    quiet = alarm.quiet_reason
    return {
        "id": alarm.id,
        "event": entry.event,
        "state": alarm.state.value,
        "priority": alarm.priority.value,
        "enterprise": alarm.enterprise,
        "hazard_source": alarm.hazard_source,
        "tag": alarm.tag,
        "rule": alarm.rule,
        "value": alarm.value,
        "limit": alarm.limit,
        "ts": rfc3339(entry.ts_ms),
        "message": alarm.message,
        # extras
        "seq": entry.seq,
        "actor": entry.actor,
        "region": alarm.region,
        "tier": alarm.tier,
        "category": alarm.category.value,
        "simulated": alarm.simulated,
        "open": alarm.is_open,
        "closed": entry.closed,
        "acked": alarm.is_acked,
        "acked_by": alarm.acked_by,
        "raised_at": rfc3339(alarm.raised_at_ms),
        "activations": alarm.activations,
        "shelved_until": rfc3339(alarm.shelved.until_ms) if alarm.shelved else None,
        "suppressed": alarm.suppressed is not None,
        "out_of_service": alarm.out_of_service is not None,
        # notification holds back shelved / suppressed / out-of-service alarms
        "quiet": quiet,
        "notify": quiet is None,
        "detail": dict(entry.data),
    }
