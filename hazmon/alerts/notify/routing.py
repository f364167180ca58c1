"""The routing stage: which channels, and whom on each, a notification goes to.

Every route whose `match` fits adds its channels (a union, each channel once). The
recipient depends on the kind of notification:

- an alarm event goes to the enterprise's duty line (`enterprise`);
- an escalation step to an operational / technical / principal level goes to the person
  of that role: as the escalation recorded them, or looked up again in the directory if
  none was registered then; with nobody registered, to the enterprise's duty line,
  marked `missing`;
- a step to a county / city / province level goes to that centre (its code derived from
  the alarm's region); routes with `level` and `region_prefix` pick the centre's channels.

Each channel type may then address that recipient its own way (the MQTT channel: the
plant's own `alarms` topic) and say when it cannot be reached (see channels/base.py).

Simulated feeds never page real people: a simulated notification reaches only channels
marked `test: true`, or a channel whose type takes it (the simulated plant's own HMI).
This guard runs after the routes, so no route can get around it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from hazmon.alerts.directory import NotifyDirectory
from hazmon.alerts.escalation import CONTACT_LEVELS
from hazmon.alerts.notify import record
from hazmon.alerts.notify.channels import ChannelType, channel_type
from hazmon.alerts.notify.config import NotifyConfig, RouteMatch
from hazmon.alerts.notify.dedup import dedup_key
from hazmon.alerts.notify.delivery import DeliveryStatus, PlannedDelivery
from hazmon.alerts.notify.message import Recipient
from hazmon.alerts.notify.stage import Context, Stage, Work, event_of
from hazmon.alerts.outbox import Notification, NotificationKind
from hazmon.domain.signal import PRIORITY_RANK, Priority

log = logging.getLogger(__name__)


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


def simulated_block(note: Notification, kind: ChannelType[Any], channel_test: bool,
                    directory: NotifyDirectory | None) -> str | None:
    if not note.payload.get("simulated") or channel_test:
        return None
    if kind.takes_simulated(note, directory):
        return None
    return "simulated alarm: not a test channel"


def plan(note: Notification, config: NotifyConfig, directory: NotifyDirectory | None,
         dedup_key: str) -> list[PlannedDelivery]:
    """The deliveries of one notification (status pending, or skipped with a reason)."""
    names: list[str] = []
    for route in config.routes:
        if matches(route.match, note):
            names.extend(n for n in route.to if n not in names)
    priority = str(note.payload.get("priority", "low"))
    recipient = recipient_for(note, directory)
    out: list[PlannedDelivery] = []
    for name in names:
        ch = config.channel(name)
        kind = channel_type(ch.type)
        rcpt = kind.address(note, recipient)
        group_key = f"{name}|*" if ch.group_by == "channel" else f"{name}|{rcpt.key()}"
        reason = simulated_block(note, kind, ch.test, directory) or kind.unreachable(rcpt)
        out.append(PlannedDelivery(
            name, rcpt, group_key, dedup_key, priority,
            DeliveryStatus.SKIPPED if reason else DeliveryStatus.PENDING, reason,
        ))
    return out


class Route(Stage[Work, Work]):
    """Plans a notification seen for the first time; one that matches no route is
    skipped. A notification planned before keeps its plan (a config change does not
    redirect a notification already under way)."""

    async def run(self, ctx: Context, items: Sequence[Work]) -> list[Work]:
        out = []
        for work in items:
            if work.rows:
                out.append(work)
                continue
            note = work.note
            planned = plan(note, ctx.config, ctx.directory, dedup_key(note))
            if not planned:
                await record.skip_whole(ctx, note, "no route")
                log.warning("notification %d (%s %s) matched no route", note.id, note.kind,
                            event_of(note))
                continue
            for p in planned:
                if p.status is DeliveryStatus.SKIPPED:
                    ctx.counts["skipped"] += 1
                    log.info("notification %d to %s skipped: %s", note.id, p.channel,
                             p.reason)
            out.append(replace(work, planned=tuple(planned)))
        return out
