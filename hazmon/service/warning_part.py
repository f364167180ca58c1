"""The warning part of the service: every `warnings.interval_s` the facts of every
enterprise are gathered from the running parts and evaluated (`WarningEngine.run`), and
the pushes the steps queued are delivered (`WarningPusher`).

    alarm store (open alarms, raises) ┐
    registry (names, tiers, regions)  ├─ gather → evaluate → decide → store (+ audit,
    gateway tracker, last-seen times  │                                 pushes) → channels
    duties (DutyFactsSource)          ┘

Everything reads the injected clock; the waits between rounds are real time.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import httpx

from hazmon.alerts.notify import NotifyConfig
from hazmon.alerts.notify.channels import ChannelDeps, Publish, build_channel
from hazmon.alerts.notify.message import Channel
from hazmon.alerts.store import AlarmStore
from hazmon.core.clock import Clock
from hazmon.domain.regions import Regions, load_regions
from hazmon.domain.registry import Registry
from hazmon.ingest.gateways import GatewayTracker
from hazmon.warnings.alarm_view import AlarmView
from hazmon.warnings.availability import AvailabilityWindow, LastSeen
from hazmon.warnings.engine import Round, WarningEngine
from hazmon.warnings.facts import GatewayFact
from hazmon.warnings.gather import (
    DutyFactsSource,
    NoDutyFacts,
    Observations,
    availability_window_ms,
    gather,
    raises_window_ms,
)
from hazmon.warnings.policy import WarningPolicy, load_policy
from hazmon.warnings.pusher import WarningPusher
from hazmon.warnings.pushes import PushChannels, PushPlanner
from hazmon.warnings.settings import WarningSettings
from hazmon.warnings.store import WarningStore

log = logging.getLogger(__name__)


class WarningSetupError(ValueError):
    pass


def push_channels(settings: WarningSettings, notify: NotifyConfig | None
                  ) -> tuple[PushChannels, list[str]]:
    """The channels named in `warnings.push`, checked against `alarms.notify.channels`."""
    configured = {c.name: c for c in (notify.channels if notify is not None else [])}
    names = [*settings.push.people, *settings.push.groups]
    unknown = [n for n in names if n not in configured]
    if unknown:
        raise WarningSetupError(
            f"warnings.push names channel(s) {', '.join(unknown)} not in "
            f"alarms.notify.channels ({', '.join(configured) or 'none configured'})")
    test = frozenset(n for n in names if configured[n].test)
    return PushChannels(tuple(settings.push.people), tuple(settings.push.groups), test), names


class WarningPart:
    def __init__(self, settings: WarningSettings, *, notify: NotifyConfig | None,
                 registry: Callable[[], Registry], alarm_store: AlarmStore,
                 store: WarningStore, gateways: GatewayTracker, last_seen: LastSeen,
                 clock: Clock, duty_facts: DutyFactsSource | None = None,
                 publish: Publish | None = None,
                 channels: dict[str, Channel] | None = None) -> None:
        self.settings = settings
        self.registry = registry
        self.alarm_store = alarm_store
        self.store = store
        self.gateways = gateways
        self.last_seen = last_seen
        self.clock = clock
        self.duty_facts: DutyFactsSource = duty_facts or NoDutyFacts()
        self.policy = (load_policy(settings.policy_file) if settings.policy_file is not None
                       else WarningPolicy())
        self.regions: Regions | None = (load_regions(settings.regions_file)
                                        if settings.regions_file is not None else None)
        push, names = push_channels(settings, notify)
        self._http = httpx.AsyncClient()
        deps = ChannelDeps(self._http, time.time, publish)
        built = dict(channels or {})
        for c in notify.channels if notify is not None else []:
            if c.name in names and c.name not in built:
                built[c.name] = build_channel(c, deps)
        self.planner = PushPlanner(self.policy, registry, self.regions, push)
        self.engine = WarningEngine(store, self.policy, self.planner, clock)
        self.pusher = WarningPusher(store, built, clock, settings.push)
        self.engine.listeners.append(lambda saved: self.pusher.wake() if saved.pushes else None)
        window = availability_window_ms(self.policy)
        self.availability = AvailabilityWindow(window) if window is not None else None
        self.last_round: Round | None = None
        self.alarms = AlarmView(alarm_store, raises_window_ms(self.policy))

    async def aclose(self) -> None:
        await self._http.aclose()

    def _gateway(self, enterprise: str) -> GatewayFact | None:
        gw = self.gateways.gateways.get(enterprise)
        if gw is None or gw.state == "unknown" or gw.since_ms is None:
            return None
        return GatewayFact(online=gw.state == "online", since_ms=gw.since_ms)

    async def observe(self, registry: Registry, now: int) -> Observations:
        await self.alarms.refresh(now)  # the changes since the last round (alarm_view.py)
        open_alarms, raises = self.alarms.open_alarms, self.alarms.raises(now)
        avail = self.availability
        if avail is not None:
            avail.sample(registry, self.last_seen, now)
        return Observations(
            open_alarms=open_alarms, raises=raises, gateway=self._gateway,
            availability=(lambda e, hs: avail.availability(e, hs, now)) if avail is not None
            else (lambda e, hs: None),
            duty_facts=self.duty_facts.facts(now),
        )

    async def evaluate_once(self) -> Round:
        registry = self.registry()  # one registry for the whole round
        obs = await self.observe(registry, self.clock())
        self.last_round = await self.engine.run(gather(registry, obs))
        return self.last_round

    async def run(self) -> None:
        # The first round one interval after the start: the ingest and rules parts have
        # their start to themselves, and the alarms restored from the store are in.
        while True:
            await asyncio.sleep(self.settings.interval_s)
            try:
                await self.evaluate_once()
            except Exception:  # a database hiccup: the next round tries again
                log.exception("warnings: evaluation round failed")
