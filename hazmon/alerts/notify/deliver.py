"""The deliver stage: each message goes out on its channel once per round, and its
outcome is recorded (a delivery row and an audit entry each). A refusal for good is
given up at once; any other failure is left for the settle stage to retry with backoff.

Delivery is at least once: a crash between a channel accepting a message and the record
being written sends that message again after the restart (messages carry a stable id
for receivers to drop it)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace

from hazmon.alerts.notify import record
from hazmon.alerts.notify.delivery import DeliveryStatus
from hazmon.alerts.notify.message import Channel, DeliveryError, Message
from hazmon.alerts.notify.stage import Context, Dispatch, Stage, event_of

log = logging.getLogger(__name__)


class Deliver(Stage[Dispatch, Dispatch]):
    async def run(self, ctx: Context, items: Sequence[Dispatch]) -> list[Dispatch]:
        out = []
        for item in items:
            if item.channel is not None and item.message is not None:
                item = await _send(ctx, item, item.channel, item.message)
            out.append(item)
        return out


async def _send(ctx: Context, item: Dispatch, channel: Channel, message: Message) -> Dispatch:
    digest = message.kind == "digest"
    kind = "digest" if digest else item.notes[0].kind
    events = {n.id: event_of(n) for n in item.notes}
    if ctx.outbox.claimant is not None:
        # several instances: renew the claim just before sending; a round slower than
        # the claim lost it to another instance, which sends it instead (claims.py)
        ids = sorted(events)
        if set(ids) - await ctx.outbox.claim(ids, ctx.current()):
            log.warning("notification(s) %s claimed by another instance meanwhile; not "
                        "sent here", ids)
            return Dispatch(())
    try:
        await channel.send(message)
    except DeliveryError as exc:
        ctx.counts["failed"] += 1
        if not exc.permanent:
            log.info("delivery on %s failed (will retry): %s", exc.channel, exc.reason)
            return replace(item, error=str(exc))
        log.warning("delivery on %s refused for good: %s", exc.channel, exc.reason)
        await record.close(ctx.db, item.rows, DeliveryStatus.DEAD, ctx.now, kind=kind,
                           events=events, reason=exc.reason)
        ctx.counts["dead"] += len(item.rows)
        return item
    if digest:
        await record.close(ctx.db, item.rows, DeliveryStatus.DIGESTED, ctx.now, kind=kind,
                           events=events, digest_id=message.id)
        ctx.counts["digests"] += 1
        ctx.counts["digested"] += len(item.rows)
        log.info("digest %s of %d alarms sent on %s", message.id, len(item.rows),
                 channel.name)
    else:
        await record.close(ctx.db, item.rows, DeliveryStatus.SENT, ctx.now, kind=kind,
                           events=events)
        ctx.counts["sent"] += 1
    return item
