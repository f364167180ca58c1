"""The routing stage: which channels, and whom on each, a notification goes to.

Every route whose `match` fits adds its channels (a union, each channel once). The
recipient depends on the kind of notification:

- an alarm event goes to the enterprise's duty line (`enterprise`); on an MQTT channel
  to the plant's own `alarms` topic;
- an escalation step to an operational / technical / principal level goes to the person
  of that role: as the escalation recorded them, or looked up again in the directory if
  none was registered then; with nobody registered, to the enterprise's duty line,
  marked `missing`;
- a step to a county / city / province level goes to that centre (its code derived from
  the alarm's region); routes with `level` and `region_prefix` pick the centre's channels.

Simulated feeds never page real people: a simulated notification reaches only channels
marked `test: true`, and an MQTT channel only when the enterprise itself is a simulated
plant. This guard runs after the routes, so no route can get around it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hazmon.alerts.directory import NotifyDirectory
from hazmon.alerts.escalation import CONTACT_LEVELS
from hazmon.alerts.notify.config import NotifyConfig, RouteMatch
from hazmon.alerts.notify.message import Recipient
from hazmon.alerts.notify.mqtt import alarms_topic
from hazmon.alerts.notify.record import DeliveryStatus, PlannedDelivery
from hazmon.alerts.outbox import Notification, NotificationKind
from hazmon.domain.signal import PRIORITY_RANK, Priority


def _level(note: Notification) -> str | None:
    if note.kind != NotificationKind.ESCALATE:
        return None
    esc = note.payload.get("escalation") or {}
    target = note.target or {}
    level = esc.get("level") or target.get("level")
    return str(level) if level else None


def matches(m: RouteMatch, note: Notification) -> bool:
    p = note.payload
    priority = p.get("priority")
    checks: list[bool] = []
    if m.kind is not None:
        checks.append(note.kind in m.kind)
    if m.event is not None:
        checks.append(p.get("event") in m.event)
    if m.enterprise is not None:
        checks.append(p.get("enterprise") in m.enterprise)
    if m.region_prefix is not None:
        checks.append(str(p.get("region") or "").startswith(m.region_prefix))
    if m.hazard_source is not None:
        checks.append(p.get("hazard_source") in m.hazard_source)
    if m.tier is not None:
        checks.append(p.get("tier") in m.tier)
    if m.priority is not None:
        checks.append(priority in {x.value for x in m.priority})
    if m.min_priority is not None:
        try:
            checks.append(PRIORITY_RANK[Priority(str(priority))] <= PRIORITY_RANK[m.min_priority])
        except ValueError:
            checks.append(False)
    if m.level is not None:
        checks.append(_level(note) in m.level)
    if m.simulated is not None:
        checks.append(bool(p.get("simulated")) == m.simulated)
    return all(checks)


def recipient_for(note: Notification, directory: NotifyDirectory | None) -> Recipient:
    p = note.payload
    enterprise = str(p.get("enterprise", ""))
    level = _level(note)
    if level is None:
        return Recipient("enterprise", enterprise)
    target: Mapping[str, Any] = note.target or {}
    if level in CONTACT_LEVELS:
        if not target.get("missing") and target.get("phone"):
            return Recipient("contact", enterprise, role=level, name=target.get("name"),
                             phone=target.get("phone"))
        # registered since the step was taken? (the registry is reloadable)
        for c in directory.contacts_of(enterprise) if directory else ():
            if c.role == level:
                return Recipient("contact", enterprise, role=level, name=c.name,
                                 phone=c.phone)
        return Recipient("enterprise", enterprise, role=level,
                         missing=f"no {level} contact registered")
    return Recipient("centre", enterprise, level=level,
                     region=target.get("region") or None)


def simulated_block(note: Notification, channel_type: str, channel_test: bool,
                    directory: NotifyDirectory | None) -> str | None:
    if not note.payload.get("simulated") or channel_test:
        return None
    enterprise = str(note.payload.get("enterprise", ""))
    if channel_type == "mqtt" and directory is not None and directory.is_simulated(enterprise):
        return None
    return "simulated alarm: not a test channel"


def plan(note: Notification, config: NotifyConfig, directory: NotifyDirectory | None,
         dedup_key: str) -> list[PlannedDelivery]:
    """The deliveries of one notification (status pending, or skipped with a reason)."""
    names: list[str] = []
    for route in config.routes:
        if matches(route.match, note):
            names.extend(n for n in route.to if n not in names)
    p = note.payload
    priority = str(p.get("priority", "low"))
    recipient = recipient_for(note, directory)
    out: list[PlannedDelivery] = []
    for name in names:
        ch = config.channel(name)
        rcpt = recipient
        if ch.type == "mqtt":
            region, enterprise = p.get("region"), p.get("enterprise")
            rcpt = Recipient("topic", str(enterprise),
                             topic=alarms_topic(str(region), str(enterprise))
                             if region and enterprise else None)
        group_key = f"{name}|*" if ch.group_by == "channel" else f"{name}|{rcpt.key()}"
        reason = simulated_block(note, ch.type, ch.test, directory)
        if reason is None and rcpt.kind == "topic" and rcpt.topic is None:
            reason = "no plant topic: enterprise without a region"
        out.append(PlannedDelivery(
            name, rcpt, group_key, dedup_key, priority,
            DeliveryStatus.SKIPPED if reason else DeliveryStatus.PENDING, reason,
        ))
    return out
