"""Live state beside the registry: gateway presence and the worst active alarm.

The alarm index is built per request from the open alarms in the caller's scope (one
keyset-paged query): small next to the registry itself, and always current.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel

from hazmon.alerts.lifecycle import Alarm
from hazmon.alerts.store import AlarmFilter, AlarmStore
from hazmon.api.scope import Principal
from hazmon.core.clock import rfc3339
from hazmon.domain.signal import PRIORITY_RANK, Priority
from hazmon.ingest.gateways import GatewayTracker

log = logging.getLogger(__name__)

MAX_OPEN_SCANNED = 20_000  # a province with more open alarms than this has other problems


class GatewayPublic(BaseModel):
    state: Literal["online", "offline", "unknown"]
    since: str | None = None
    last_seen: str | None = None


class WorstAlarm(BaseModel):
    id: str
    priority: Priority
    state: str
    rule: str
    tag: str | None
    hazard_source: str
    message: str
    raised_at: str | None


def gateway_of(tracker: GatewayTracker, enterprise: str) -> GatewayPublic:
    # .gateways, not .get(): reading must not create entries for every listed enterprise
    gw = tracker.gateways.get(enterprise)
    if gw is None:
        return GatewayPublic(state="unknown")
    return GatewayPublic(state=gw.state, since=rfc3339(gw.since_ms),
                         last_seen=rfc3339(gw.last_seen_ms))


def _badness(a: Alarm) -> tuple[int, int, int]:
    # highest priority first, then unacknowledged, then the most recent activation
    return (PRIORITY_RANK[a.priority], int(a.is_acked), -(a.active_at_ms or 0))


def worst_public(a: Alarm | None) -> WorstAlarm | None:
    if a is None:
        return None
    return WorstAlarm(id=a.id, priority=a.priority, state=a.state.value, rule=a.rule,
                      tag=a.tag, hazard_source=a.hazard_source, message=a.message,
                      raised_at=rfc3339(a.raised_at_ms))


@dataclass
class AlarmIndex:
    """Worst active alarm and open-alarm counts per enterprise, hazard source and tag."""

    worst: dict[tuple[str, ...], Alarm] = field(default_factory=dict)
    open: Counter[tuple[str, ...]] = field(default_factory=Counter)
    truncated: bool = False

    def add(self, a: Alarm) -> None:
        keys: list[tuple[str, ...]] = [(a.enterprise,), (a.enterprise, a.hazard_source)]
        if a.tag is not None:
            keys.append((a.enterprise, a.hazard_source, a.tag))
        for k in keys:
            self.open[k] += 1
            if a.is_active:
                cur = self.worst.get(k)
                if cur is None or _badness(a) < _badness(cur):
                    self.worst[k] = a


async def alarm_index(store: AlarmStore, principal: Principal,
                      enterprise: str | None = None) -> AlarmIndex:
    index = AlarmIndex()
    flt = principal.alarm_filter(AlarmFilter(open=True, enterprise=enterprise))
    if flt is None:
        return index
    cursor: str | None = None
    scanned = 0
    while True:
        page = await store.query(flt, limit=1000, cursor=cursor)
        for a in page.items:
            if principal.sees_alarm(a):
                index.add(a)
        scanned += len(page.items)
        cursor = page.next_cursor
        if cursor is None:
            return index
        if scanned >= MAX_OPEN_SCANNED:
            log.warning("alarm index for %s: over %d open alarms, the rest not scanned",
                        principal.actor, MAX_OPEN_SCANNED)
            index.truncated = True
            return index
