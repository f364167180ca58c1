"""The publisher against a real Mosquitto: topics, QoS, retained status, Last Will."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import aiomqtt
import pytest

from hazmon.simulators.gateway import GatewaySim
from hazmon.simulators.plant import build_plants
from hazmon.simulators.publisher import Publisher, PublisherConfig
from hazmon.simulators.registry_gen import GeneratedRegistry
from hazmon.simulators.scenarios import bind_scenarios, parse_scenario
from hazmon.testing.mosquitto import Mosquitto

pytestmark = pytest.mark.integration
T0 = 1795312800.0


@dataclass
class Got:
    topic: str
    payload: bytes
    qos: int
    retain: bool


class Inbox(list[Got]):
    """Messages received so far, with an event to wait on instead of polling."""

    def __init__(self) -> None:
        super().__init__()
        self.changed = asyncio.Event()

    def add(self, g: Got) -> None:
        self.append(g)
        self.changed.set()

    async def until(self, cond: Callable[[], bool], within: float = 5.0) -> None:
        async with asyncio.timeout(within):
            while not cond():
                self.changed.clear()
                await self.changed.wait()


@asynccontextmanager
async def listen(broker: Mosquitto, out: Inbox) -> AsyncIterator[aiomqtt.Client]:
    async with aiomqtt.Client(broker.host, broker.port) as client:
        await client.subscribe("hazmon/v1/#", qos=1)

        async def pump() -> None:
            async for m in client.messages:
                assert isinstance(m.payload, bytes)
                out.add(Got(str(m.topic), m.payload, m.qos, m.retain))

        task = asyncio.create_task(pump())
        try:
            yield client
        finally:
            task.cancel()


async def test_messages_arrive_with_topics_qos_and_status(
    broker: Mosquitto, registry: GeneratedRegistry
) -> None:
    plants = build_plants(registry.data, seed=7)[:2]
    cfg = PublisherConfig(broker.host, broker.port, rate=2, duration_s=5, speed=math.inf,
                          start=T0)
    got = Inbox()
    async with listen(broker, got):
        summary = await Publisher(plants, cfg).run()
        await got.until(lambda: len(got) >= summary.messages)
    assert summary.telemetry == 2 * 10
    assert summary.status == 2 * 2  # online, then offline at the clean end
    assert summary.readings == 10 * sum(len(p.sensors) for p in plants)
    for p in plants:
        base = f"hazmon/v1/{p.region}/{p.enterprise}"
        # Live messages only: earlier tests on this broker left retained statuses.
        mine = [g for g in got if g.topic.startswith(base + "/") and not g.retain]
        assert {g.topic for g in mine} == {f"{base}/telemetry", f"{base}/status"}
        assert all(g.qos == 1 for g in mine)
        states = [json.loads(g.payload)["state"] for g in mine if g.topic.endswith("/status")]
        assert states == ["online", "offline"]
        batches = [json.loads(g.payload) for g in mine if g.topic.endswith("/telemetry")]
        assert [b["seq"] for b in batches] == list(range(1, 11))
        assert batches[0]["ts"] == "2026-11-22T10:00:00.000+08:00"
        assert batches[1]["ts"] == "2026-11-22T10:00:00.500+08:00"
        # The same seed and start give the same bytes as the broker-free gateway model.
        fresh = next(q for q in build_plants(registry.data, seed=7) if q.enterprise == p.enterprise)
        gw = GatewaySim(fresh, T0, rate=2)
        expected = [m.payload for k in range(10) for m in gw.tick(k).messages]
        assert [g.payload for g in mine if g.topic.endswith("/telemetry")] == expected

    # The status is retained: a late subscriber gets the last one at once.
    late = Inbox()
    async with listen(broker, late):
        await late.until(lambda: len(late) >= 2)
    assert all(g.retain for g in late)
    assert {json.loads(g.payload)["state"] for g in late} == {"offline"}


async def test_last_will_when_the_connection_drops(
    broker: Mosquitto, registry: GeneratedRegistry
) -> None:
    plant = build_plants(registry.data, seed=7)[2]
    cfg = PublisherConfig(broker.host, broker.port, rate=1, duration_s=600, speed=20, start=T0)
    pub = Publisher([plant], cfg)
    task = asyncio.create_task(pub.run())
    try:
        await asyncio.wait_for(pub.connected.wait(), 5)
        status = f"hazmon/v1/{plant.region}/{plant.enterprise}/status"
        got = Inbox()
        async with listen(broker, got):
            await got.until(lambda: any(g.topic == status for g in got))
            first = next(g for g in got if g.topic == status)
            assert first.retain  # the retained online of the connect
            assert json.loads(first.payload)["state"] == "online"
            await pub.drop_connection(plant.enterprise)
            await got.until(lambda: sum(g.topic == status for g in got) >= 3)
        states = [(json.loads(g.payload)["state"], g.retain) for g in got if g.topic == status]
        # The broker's Last Will, then the gateway back online at its next tick.
        assert states[:3] == [("online", True), ("offline", False), ("online", False)]
    finally:
        pub.stop()
        summary = await asyncio.wait_for(task, 10)
    assert summary.drops == 1
    assert summary.reconnects == 1


async def test_outage_scenario_end_to_end(broker: Mosquitto, registry: GeneratedRegistry) -> None:
    plant = build_plants(registry.data, seed=7)[0]
    bind_scenarios([plant], [parse_scenario("outage@MHS-01@5@10")], T0)
    cfg = PublisherConfig(broker.host, broker.port, rate=1, duration_s=30, speed=math.inf,
                          start=T0)
    got = Inbox()
    async with listen(broker, got):
        summary = await Publisher([plant], cfg).run()
        await got.until(lambda: sum(g.topic.endswith("/status") for g in got) >= 5)
        await got.until(lambda: sum(g.topic.endswith("/telemetry") for g in got) >= 30)
    live = [g for g in got if not g.retain]
    states = [json.loads(g.payload)["state"] for g in live if g.topic.endswith("/status")]
    assert states == ["online", "offline", "online", "offline"]
    batches = [json.loads(g.payload) for g in live if g.topic.endswith("/telemetry")]
    assert [b["seq"] for b in batches] == list(range(1, 31))  # nothing lost, in order
    assert batches[5]["ts"] == "2026-11-22T10:00:05.000+08:00"  # backlog keeps its time
    stats = summary.scenarios["gateway_outage@MHS-01@5"]
    assert stats.backlog == 10
    assert summary.drops == 1
