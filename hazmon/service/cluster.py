"""Several instances as one service: this instance's share of the partitions.

Each cycle (`cluster.renew_s`) the instance says it is alive, renews its leases, and
evens out: with n live instances it holds ceil(P / n) partitions at most, taking free
ones and giving back the excess (after a restart the partitions spread out again).
For each partition it holds it runs:

- an MQTT session of the partition's own (client id `{mqtt.client_id}-{partition}`,
  persistent: while nobody holds the partition the broker queues its messages, and the
  next holder connects with the same id and receives them), subscribed to its regions;
- a rules engine over the partition's enterprises only, restored from the snapshot its
  last holder stored in the database, ticked here (so no instance ever judges the
  silence of a gateway it does not receive);
- the shared presence: its gateways and sensors' last readings written to the
  database, from which every instance's API answers for the whole province.

A lease not renewed in time (the database away longer than the lease) stops the
partition's work here before another instance can take it: the broker keeps the
messages meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import re
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from hazmon.alerts.errors import StoreError
from hazmon.alerts.pending import SignalTaker
from hazmon.alerts.sql import Database
from hazmon.cluster import leases as lease_table
from hazmon.cluster import shared
from hazmon.cluster.leases import Lease, Leases
from hazmon.cluster.partitions import enterprise_partitions, rules_subset, subset, unassigned
from hazmon.core.clock import Clock
from hazmon.core.metrics import Metrics
from hazmon.domain.reading import Reading
from hazmon.domain.registry import Registry
from hazmon.domain.rulespec import RulesFile
from hazmon.domain.signal import AlarmSignal
from hazmon.ingest.gateways import GatewayState, GatewayTracker
from hazmon.ingest.mqtt_source import Handler, MqttSource
from hazmon.ingest.sequence import SequenceTracker
from hazmon.ingest.settings import MqttSettings
from hazmon.ingest.topics import owned_regions, subscriptions
from hazmon.rules import RulesEngine
from hazmon.service.settings import Settings

log = logging.getLogger(__name__)


def default_instance() -> str:
    host = re.sub(r"[^a-z0-9_-]", "-", socket.gethostname().lower())[:20] or "host"
    return f"{host}-{os.getpid()}"


@dataclass
class Worker:
    """One held partition: its lease, engine and MQTT session."""

    name: str
    lease: Lease
    codes: frozenset[str]
    engine: RulesEngine
    source: MqttSource
    task: asyncio.Task[None]
    taken_ms: int
    published: dict[tuple[str, str], int] = field(default_factory=dict)


class ClusterPart:
    def __init__(self, settings: Settings, instance: str, db: Database, handler: Handler,
                 gateways: GatewayTracker, taker: SignalTaker, metrics: Metrics,
                 clock: Clock, registry: Registry, rules: RulesFile | None,
                 sequences: SequenceTracker) -> None:
        if db.dialect.name != "postgresql":
            raise ValueError("cluster.partitions needs the instances to share a PostgreSQL "
                             "database: set alarms.db_url to postgresql://...")
        self.cfg = settings.cluster
        self.mqtt = settings.mqtt
        self.flush_wait_s = settings.influx.flush_interval_s * 2 + 0.2
        self.db = db
        self.handler = handler
        self.gateways = gateways
        self.taker = taker
        self.metrics = metrics
        self.clock = clock
        self.rules = rules
        self.sequences = sequences  # ingest's batch numbering, per gateway
        self.instance = instance
        self.leases = Leases(db, self.instance, round(self.cfg.lease_s * 1000))
        self.workers: dict[str, Worker] = {}
        self.members = 1
        self.deadline = 0.0  # monotonic: until then the leases held are surely ours
        self.seen: dict[tuple[str, str], int] = {}  # other partitions' sensors
        self.taken: list[dict[str, Any]] = []  # every partition this instance took
        self._read_since = 0
        self._last_save = time.monotonic()
        self.set_registry(registry)

    def leads(self) -> bool:
        """Whether this instance runs the province-wide loops (warning rounds and pushes,
        duties): the holder of the first partition by name, so exactly one does while the
        leases hold, and the one that takes that partition over carries them on."""
        return bool(self.cfg.partitions) and min(self.cfg.partitions) in self.workers

    def set_registry(self, registry: Registry) -> None:
        self.registry = registry
        self.by_enterprise = enterprise_partitions(registry, self.cfg.partitions)
        missing = unassigned(registry, self.cfg.partitions)
        if missing:
            log.warning("regions in no partition (nobody serves them): %s",
                        ", ".join(missing))

    # --- readings in (the ingest pipeline's consumer) -------------------------------------

    async def on_readings(self, readings: list[Reading]) -> None:
        by_part: dict[str, list[Reading]] = {}
        for r in readings:
            part = self.by_enterprise.get(r.sensor.enterprise.code)
            if part is not None:
                by_part.setdefault(part, []).append(r)
        for part, rs in by_part.items():
            w = self.workers.get(part)
            if w is not None:  # else released meanwhile: the next holder has them
                await self._deliver(w.engine.evaluate_many(rs))

    async def on_gateway(self, enterprise: str, online: bool, ts_ms: int) -> None:
        w = self.workers.get(self.by_enterprise.get(enterprise, ""))
        if w is not None:
            await self._deliver(w.engine.gateway_status(enterprise, online, ts_ms))

    async def _deliver(self, signals: Sequence[AlarmSignal]) -> None:
        for s in signals:
            try:
                await self.taker.handle_signal(s)
            except Exception:  # one bad signal must not stop ingest
                log.exception("alarm service refused signal %s", s.key)

    def last_seen(self, enterprise: str, tag: str) -> int | None:
        w = self.workers.get(self.by_enterprise.get(enterprise, ""))
        if w is not None:
            return w.engine.last_seen(enterprise, tag)
        return self.seen.get((enterprise, tag))

    # --- the loops ------------------------------------------------------------------------

    async def run(self, tick_s: float) -> None:
        await lease_table.migrate(self.db)
        log.info("cluster: instance %s, partitions %s, lease %.0f s", self.instance,
                 ", ".join(sorted(self.cfg.partitions)), self.cfg.lease_s)
        async with asyncio.TaskGroup() as tg:
            tg.create_task(self._lease_loop(), name="cluster-leases")
            tg.create_task(self._tick_loop(tick_s), name="cluster-tick")

    async def _tick_loop(self, tick_s: float) -> None:
        while True:
            await asyncio.sleep(tick_s)
            now = self.clock()
            for w in list(self.workers.values()):
                await self._deliver(w.engine.tick(now))

    async def _lease_loop(self) -> None:
        while True:
            try:
                await self.cycle()
            except StoreError as exc:
                log.warning("cluster: database unavailable (%s)", exc)
                if self.workers and time.monotonic() >= self.deadline:
                    log.error("cluster: leases not renewed in time; stopping partitions %s",
                              ", ".join(sorted(self.workers)))
                    for name in list(self.workers):
                        await self._stop(name, save=False)
            await asyncio.sleep(self.cfg.renew_s)

    async def cycle(self) -> None:
        """One round: heartbeat, renew, even out, share presence, save snapshots."""
        t0 = time.monotonic()
        self.members = await self.leases.heartbeat()
        kept = await self.leases.renew([w.lease for w in self.workers.values()])
        # one renew period short of the lease: the partition stops here before it can be
        # taken elsewhere, even if this renew was the last to get through
        self.deadline = t0 + self.cfg.lease_s - self.cfg.renew_s
        for name in sorted(set(self.workers) - kept):
            log.error("cluster: lease on %s lost; stopping it", name)
            await self._stop(name, save=False)
        names = sorted(self.cfg.partitions)
        target = math.ceil(len(names) / self.members)
        if len(self.workers) > target:
            for name in sorted(self.workers, reverse=True)[: len(self.workers) - target]:
                log.info("cluster: %d instances, giving %s back", self.members, name)
                await self._stop(name, save=True)
        elif len(self.workers) < target:
            start = sum(self.instance.encode()) % len(names)  # instances start apart
            for name in names[start:] + names[:start]:
                if len(self.workers) >= target:
                    break
                if name in self.workers:
                    continue
                lease = await self.leases.acquire(name)
                if lease is not None:
                    await self._start(name, lease)
        await self._share()
        if time.monotonic() - self._last_save >= self.cfg.save_s:
            self._last_save = time.monotonic()
            await self.save_all()

    def _rules_for(self, codes: frozenset[str]) -> RulesFile | None:
        return rules_subset(self.rules, codes)

    def filters(self, name: str) -> list[str]:
        """The partition's topic filters: one per registry region it covers."""
        regions = owned_regions(self.cfg.partitions[name], self.registry.regions) or []
        return subscriptions(regions) if regions else []

    async def reload(self, registry: Registry) -> None:
        """A registry reload: each held partition's engine and subscriptions follow."""
        self.set_registry(registry)
        for w in list(self.workers.values()):
            w.codes = frozenset(c for c, p in self.by_enterprise.items() if p == w.name)
            await self._deliver(w.engine.reload(subset(registry, w.codes),
                                                self._rules_for(w.codes)))
            await w.source.sync_subscriptions()

    # --- one partition --------------------------------------------------------------------

    async def _start(self, name: str, lease: Lease) -> None:
        codes = frozenset(c for c, p in self.by_enterprise.items() if p == name)
        for code in codes:  # counted by the last holder: what it saw is no gap here
            self.sequences.forget(code)
        part = subset(self.registry, codes)
        rules = self._rules_for(codes)
        start = self.clock()  # reception counts from here, not from a backlog's data times
        engine = RulesEngine(part, rules, start_ms=start)
        snap = await shared.load_rules(self.db, name)
        if snap is not None:
            try:
                engine = RulesEngine.restore(part, snap, rules, start_ms=start)
            except (ValueError, KeyError, TypeError, IndexError) as exc:
                log.error("cluster: rules state of %s unusable (%s); starting fresh", name, exc)
        settings: MqttSettings = self.mqtt.model_copy(
            update={"client_id": f"{self.mqtt.client_id}-{name}"})
        source = MqttSource(settings, self.handler, lambda: self.filters(name), self.metrics)
        now = self.clock()
        # A first tick before the first (queued) message: reception is then counted from
        # here, so a backlog with old data times is not taken for a silent gateway.
        await self._deliver(engine.tick(now))
        # the engine is in place before the session delivers the first (queued) message
        self.workers[name] = Worker(name, lease, codes, engine, source,
                                    asyncio.create_task(source.run(), name=f"mqtt-{name}"),
                                    now)
        self.taken.append({"partition": name, "epoch": lease.epoch, "at_ms": now,
                           "restored": snap is not None})
        log.info("cluster: took %s (epoch %d): %d enterprises, %d active conditions",
                 name, lease.epoch, len(codes), len(engine.active()))

    async def _stop(self, name: str, *, save: bool, flushed: bool = False) -> None:
        w = self.workers.get(name)
        if w is None:
            return
        w.source.hold()  # no more messages handed on; those not acknowledged come again
        if not flushed:  # the writer acknowledges what it stored, on this session
            await asyncio.sleep(self.flush_wait_s)
        w.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await w.task
        del self.workers[name]
        if save:
            try:
                if not await shared.save_rules(self.db, w.lease, self.instance,
                                               w.engine.snapshot()):
                    log.warning("cluster: %s was taken over before its state was saved",
                                name)
                await self.leases.release(w.lease)
            except StoreError as exc:
                log.warning("cluster: could not hand %s back cleanly (%s); its lease "
                            "runs out by itself", name, exc)
        log.info("cluster: stopped %s", name)

    async def save_all(self) -> None:
        for w in list(self.workers.values()):
            if not await shared.save_rules(self.db, w.lease, self.instance,
                                           w.engine.snapshot()):
                log.warning("cluster: rules state of %s not saved: lease no longer ours",
                            w.name)

    # --- shared presence ------------------------------------------------------------------

    async def _share(self) -> None:
        gws = []
        seen: list[tuple[str, str, int]] = []
        for w in self.workers.values():
            for code in w.codes:
                g = self.gateways.gateways.get(code)
                if g is not None:
                    gws.append(shared.GatewayRow(code, g.state, g.since_ms, g.last_seen_ms,
                                                 g.newest_data_ms))
                for tag in self.registry.sensors_of(code):
                    last = w.engine.last_seen(code, tag)
                    if last is not None and w.published.get((code, tag)) != last:
                        w.published[(code, tag)] = last
                        seen.append((code, tag, last))
        if gws or seen:
            await shared.write_presence(self.db, gws, seen)
        margin = round(self.cfg.renew_s * 2000)
        got = await shared.read_presence(self.db, self._read_since - margin)
        self._read_since = got.server_ms
        held = {c for w in self.workers.values() for c in w.codes}
        for row in got.gateways:
            if row.enterprise not in held:
                self.gateways.gateways[row.enterprise] = GatewayState(
                    row.enterprise, row.state,  # type: ignore[arg-type]
                    row.since_ms, row.last_seen_ms, row.newest_data_ms)
        for code, tag, last in got.seen:
            if code not in held:
                self.seen[(code, tag)] = last

    # --- shutdown and health --------------------------------------------------------------

    def hold(self) -> None:
        """At shutdown, with intake: no partition hands on more messages."""
        for w in self.workers.values():
            w.source.hold()

    async def close(self) -> None:
        """Give every partition back (state saved, lease released) and leave."""
        for name in list(self.workers):  # held since `hold`, the writer's last flush done
            await self._stop(name, save=True, flushed=True)
        with contextlib.suppress(StoreError):
            await self.leases.leave()

    def health(self) -> dict[str, Any]:
        return {
            "instance": self.instance,
            "members": self.members,
            "held": sorted(self.workers),
            "lease_left_s": round(max(0.0, self.deadline - time.monotonic()), 1),
            "partitions": {n: w.source.health() for n, w in sorted(self.workers.items())},
            "taken": self.taken[-20:],
        }
