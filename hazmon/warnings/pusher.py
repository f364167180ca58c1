"""Delivers the pending pushes of the warning store on the configured channels.

Each push row is one message to one recipient (or one group post) on one channel
(`hazmon.alerts.notify.channels`: the same channel types as the alarms, built from the
same `alarms.notify.channels` entries). A delivery is recorded on its row; a failure is
retried with a doubling delay, a permanent refusal given up at once. The rows are in the
database, so a restart goes on with whatever was not delivered.

Simulated warnings travel only on test channels: a row of a simulated warning for a
channel that is not a test channel is refused here even if it was queued.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any

from hazmon.alerts.notify.message import Channel, DeliveryError, Message, Recipient
from hazmon.core.clock import Clock
from hazmon.warnings.settings import WarningPushSettings
from hazmon.warnings.store import Push, WarningStore

log = logging.getLogger(__name__)


def notify_recipient(r: Mapping[str, Any], warning: Mapping[str, Any]) -> Recipient:
    """The channel's view of a push recipient (`hazmon.alerts.notify.message.Recipient`):
    a 包保 chain member is a contact of the enterprise, an official a centre of their
    level and unit, a group post the centre of the reviewing level."""
    kind = r.get("kind")
    if kind == "chain":
        return Recipient("contact", enterprise=warning.get("enterprise"), role=r.get("role"),
                         name=r.get("name"), phone=r.get("phone"))
    if kind == "regulator":
        return Recipient("centre", enterprise=warning.get("enterprise"), role=r.get("duty"),
                         name=r.get("name"), phone=r.get("phone"), level=r.get("role"),
                         region=r.get("unit"))
    return Recipient("centre", enterprise=warning.get("enterprise"), level=r.get("level"),
                     region=r.get("region"), name=r.get("channel"))


def message_of(push: Push) -> Message:
    p = push.payload
    warning = p.get("warning", {})
    return Message(
        id=f"warning:{push.warning_id}:{push.event_seq}:{push.id}", channel=push.channel,
        recipient=notify_recipient(push.recipient, warning),
        kind="escalate" if p.get("event") == "overdue" else "alarm",
        body={"type": "warning", **p}, subject=str(p.get("subject", "")),
        text=str(p.get("text", "")), simulated=push.simulated,
    )


class WarningPusher:
    def __init__(self, store: WarningStore, channels: Mapping[str, Channel], clock: Clock,
                 settings: WarningPushSettings) -> None:
        self.store = store
        self.channels = dict(channels)
        self.clock = clock
        self.settings = settings
        self.totals = {"sent": 0, "retried": 0, "failed": 0}
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def deliver_due(self) -> int:
        """Try every push due now; the number delivered."""
        sent = 0
        for push in await self.store.due_pushes(self.clock()):
            if await self._deliver(push):
                sent += 1
        return sent

    async def _deliver(self, push: Push) -> bool:
        channel = self.channels.get(push.channel)
        if channel is None:
            await self._give_up(push, f"no channel {push.channel} configured")
            return False
        if push.simulated and not channel.test:
            await self._give_up(push, "simulated warning: only test channels carry it")
            return False
        try:
            await channel.send(message_of(push))
        except DeliveryError as exc:
            attempts = push.attempts + 1
            if exc.permanent or attempts >= self.settings.max_attempts:
                await self._give_up(push, exc.reason)
                return False
            delay_s = min(self.settings.retry_s * 2 ** (attempts - 1), self.settings.retry_max_s)
            await self.store.push_failed(push.id, exc.reason, self.clock() + int(delay_s * 1000))
            self.totals["retried"] += 1
            log.warning("warning push %d on %s failed (%s); again in %.0f s", push.id,
                        push.channel, exc.reason, delay_s)
            return False
        await self.store.push_sent(push.id, self.clock())
        self.totals["sent"] += 1
        return True

    async def _give_up(self, push: Push, reason: str) -> None:
        await self.store.push_failed(push.id, reason, None)
        self.totals["failed"] += 1
        log.error("warning push %d on %s given up: %s", push.id, push.channel, reason)

    async def run(self) -> None:
        """Wait for a wake-up or `poll_s`, then deliver what is due (pushes left from
        before a restart go out at the first poll)."""
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.settings.poll_s):
                    await self._wake.wait()
            self._wake.clear()
            try:
                await self.deliver_due()
            except Exception:  # a database hiccup: the rows stay, try again next round
                log.exception("warning pushes: delivery round failed")
