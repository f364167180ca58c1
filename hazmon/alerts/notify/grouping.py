"""The grouping stage: an alarm flood must not become a notification flood.

Per recipient (or per channel, `group_by: channel`): at most `threshold` messages alone
in any `window_s`, the most urgent first. Beyond that, deliveries are held and go out
together as one digest once the oldest held one has waited `digest_wait_s` (default: the
window). While a digest went to the recipient within the window, new deliveries join the
next digest, so a long flood gives one message per window. Example with the defaults
(5 in 60 s): 30 alarms in one minute → 5 messages alone, then one digest of 25.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from hazmon.alerts.notify import compose, record
from hazmon.alerts.notify.channels import CHANNEL_TYPES
from hazmon.alerts.notify.config import GroupingConfig
from hazmon.alerts.notify.delivery import DeliveryRow, DeliveryStatus
from hazmon.alerts.notify.message import Channel, Message
from hazmon.alerts.notify.record import GroupState
from hazmon.alerts.notify.stage import Context, Dispatch, Stage, Work
from hazmon.core.clock import rfc3339
from hazmon.domain.signal import PRIORITY_RANK, Priority

T = TypeVar("T")

PRIORITIES = tuple(p.value for p in Priority)


def _rank(priority: str) -> int:
    try:
        return PRIORITY_RANK[Priority(priority)]
    except ValueError:
        return len(PRIORITY_RANK)


def split(pending: Sequence[tuple[str, T]], state: GroupState,
          cfg: GroupingConfig) -> tuple[list[T], list[T]]:
    """(send alone, hold for the digest) from (priority, item) pairs in arrival order."""
    if state.digest_in_window or state.oldest_held_ms is not None:
        return [], [item for _, item in pending]  # a flood is on: join the digest
    budget = max(0, cfg.threshold - state.singles_in_window)
    order = sorted(range(len(pending)), key=lambda i: (_rank(pending[i][0]), i))
    alone = set(order[:budget])
    return ([pending[i][1] for i in range(len(pending)) if i in alone],
            [pending[i][1] for i in range(len(pending)) if i not in alone])


def flush_at(oldest_held_ms: int, cfg: GroupingConfig) -> int:
    return oldest_held_ms + cfg.wait_ms


def digest(digest_id: str, items: Sequence[Mapping[str, Any]], cfg: GroupingConfig,
           now_ms: int) -> tuple[dict[str, Any], str, str]:
    """(JSON body, subject, text) of one digest of alarm events."""
    by_priority = Counter(str(i.get("priority")) for i in items)
    ordered = sorted(items, key=lambda i: (_rank(str(i.get("priority"))), str(i.get("ts"))))
    top = [
        {k: i.get(k) for k in ("id", "event", "priority", "enterprise", "hazard_source",
                               "tag", "rule", "value", "limit", "ts", "message",
                               "simulated")}
        | ({"escalation": i["escalation"]} if i.get("escalation") else {})
        for i in ordered[: cfg.top]
    ]
    enterprises = sorted({str(i.get("enterprise")) for i in items})
    simulated = bool(items) and all(bool(i.get("simulated")) for i in items)
    body: dict[str, Any] = {
        "event": "digest",
        "id": digest_id,
        "ts": rfc3339(now_ms),
        "simulated": simulated,
        "digest": {
            "count": len(items),
            "by_priority": {p: by_priority.get(p, 0) for p in PRIORITIES},
            "enterprises": enterprises,
            "first": min((str(i.get("ts")) for i in items), default=None),
            "last": max((str(i.get("ts")) for i in items), default=None),
            "items": top,
            "more": max(0, len(items) - len(top)),
        },
    }
    counts = "，".join(f"{p} {by_priority[p]}" for p in PRIORITIES if by_priority.get(p))
    prefix = "[演练] " if simulated else ""
    subject = f"{prefix}hazmon 报警汇总: {len(items)} 条 ({counts})"
    lines = [subject] + [
        f"- [{i['priority']}] {i.get('ts')} {i.get('message') or i.get('rule')}" for i in top
    ]
    if body["digest"]["more"]:
        lines.append(f"… 另有 {body['digest']['more']} 条")
    return body, subject, "\n".join(lines)


class Group(Stage[Work, Dispatch]):
    """Open deliveries by group key (channel and recipient): which go alone now, which
    are held for a digest, and the digest that is due. Every notification is passed on
    to be settled, with or without a message."""

    async def run(self, ctx: Context, items: Sequence[Work]) -> list[Dispatch]:
        groups: dict[str, list[DeliveryRow]] = {}
        for work in items:
            for row in work.rows:
                if row.status is DeliveryStatus.PENDING:
                    groups.setdefault(row.group_key, []).append(row)
                elif row.status is DeliveryStatus.HELD:
                    groups.setdefault(row.group_key, [])  # its digest may be due
        out = [Dispatch((work.note,)) for work in items]
        for group_key, pending in groups.items():
            out.extend(await self._group(ctx, group_key, pending))
        return out

    async def _group(self, ctx: Context, group_key: str,
                     pending: list[DeliveryRow]) -> list[Dispatch]:
        name = group_key.split("|", 1)[0]
        channel = ctx.channels.get(name)
        if channel is None:  # removed from the config since it was planned
            await record.close(ctx.db, pending, DeliveryStatus.DEAD, ctx.now, kind="alarm",
                               events=ctx.events(pending),
                               reason=f"channel {name} no longer configured")
            ctx.counts["dead"] += len(pending)
            return []
        cfg = ctx.config.grouping
        grouped = cfg.enabled and _grouped(ctx, name, channel)
        if grouped:
            state = await record.group_state(ctx.db, group_key, ctx.now, cfg.window_ms)
            alone, hold = split([(r.priority, r) for r in pending], state, cfg)
        else:
            alone, hold = pending, []
        out = []
        for row in alone:
            note = await ctx.note(row.notification_id)
            if note is not None:
                out.append(Dispatch((note,), (row,), channel, compose.single(note, row)))
        if hold:
            await record.hold(ctx.db, hold, ctx.now)
            ctx.counts["held"] += len(hold)
        if grouped:
            held = await record.held_in_group(ctx.db, group_key)
            oldest = min((r.held_at_ms for r in held if r.held_at_ms is not None),
                         default=None)
            if oldest is not None and ctx.now >= flush_at(oldest, cfg):
                due = await _digest(ctx, channel, group_key, held)
                if due is not None:
                    out.append(due)
        return out


def _grouped(ctx: Context, name: str, channel: Channel) -> bool:
    configured = next((c for c in ctx.config.channels if c.name == name), None)
    if configured is not None and configured.grouping is not None:
        return configured.grouping
    kind = CHANNEL_TYPES.get(channel.type)  # an injected channel of its own type: people
    return kind.groups_by_default if kind is not None else True


async def _digest(ctx: Context, channel: Channel, group_key: str,
                  held: Sequence[DeliveryRow]) -> Dispatch | None:
    # several instances: a digest carries only notifications this one holds the claim
    # of, so two instances never both send the same held delivery
    mine = await ctx.outbox.claim(sorted({r.notification_id for r in held}), ctx.now)
    held = [r for r in held if r.notification_id in mine]
    items: list[dict[str, Any]] = []
    rows: list[DeliveryRow] = []
    notes = []
    for row in held:
        note = await ctx.note(row.notification_id)
        if note is None:
            continue
        notes.append(note)
        items.append(dict(note.payload))
        rows.append(row)
    if not rows:
        return None
    digest_id = f"d{rows[0].id}.{len(rows)}"
    body, subject, text = digest(digest_id, items, ctx.config.grouping, ctx.now)
    body["notification"] = {"id": digest_id, "kind": "digest", "channel": rows[0].channel,
                            "recipient": None if group_key.endswith("|*")
                            else rows[0].recipient.to_dict()}
    message = Message(digest_id, rows[0].channel, rows[0].recipient, "digest", body,
                      subject, text, bool(body["simulated"]),
                      tuple(r.notification_id for r in rows))
    return Dispatch(tuple(notes), tuple(rows), channel, message)
