"""A clustered broker: three NATS nodes (MQTT 3.1.1 over JetStream, sessions and queued
messages replicated on every node). hazmon's `protocol: "3.1.1"` session is on node 0,
the plants publish through node 1; node 0 is killed mid-stream and started again. The
session and what was published meanwhile survive on the other nodes: every reading is
stored."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import aiomqtt
import pytest

from hazmon.ingest.topics import Channel, topic_for
from hazmon.testing.influxdb import InfluxDB
from hazmon.testing.nats import NatsCluster, nats_binary
from tests.helpers import BASE_MS, batch, count_points, make_settings, running, wait_for
from tests.real_parts import missing
from tests.support import ENT

pytestmark = pytest.mark.integration

TAGS = ["MHS-01.T101.LT01", "MHS-01.T101.PT01", "MHS-01.GD03"]
BATCHES, PER_BATCH = 300, 10


@pytest.fixture(scope="module")
def nats(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsCluster]:
    if nats_binary() is None:
        pytest.skip(missing("NATS server", "apt-get install nats-server"))
    with NatsCluster(tmp_path_factory.mktemp("nats")) as cluster:
        yield cluster


def _payload(b: int) -> bytes:
    return batch([{"tag": TAGS[i % 3], "value": float(i % 7),
                   "ts": BASE_MS + (b * PER_BATCH + i) * 100} for i in range(PER_BATCH)],
                 seq=b + 1)


async def _publish(port: int, first: int, last: int, period_s: float) -> None:
    """Batches first..last-1 through one node, each until the broker acknowledged it
    (a broker re-electing a stream leader may refuse a moment: publish it again)."""
    topic = topic_for("320921", ENT, Channel.TELEMETRY)
    b = first
    while b < last:
        try:
            async with aiomqtt.Client("127.0.0.1", port, timeout=5,
                                      protocol=aiomqtt.ProtocolVersion.V311) as client:
                while b < last:
                    await client.publish(topic, _payload(b), qos=1, timeout=5)
                    b += 1
                    await asyncio.sleep(period_s)
        except aiomqtt.MqttError:
            await asyncio.sleep(0.2)


async def test_a_broker_node_killed_mid_stream_loses_no_reading(
    tmp_path: Path, nats: NatsCluster, influxdb: InfluxDB, unique: str,
) -> None:
    settings = make_settings(tmp_path, nats.mqtt_port(0), influxdb.url, unique,
                             mqtt={"protocol": "3.1.1"})
    async with running(settings):
        feed = asyncio.create_task(_publish(nats.mqtt_port(1), 0, BATCHES, 0.01))
        await wait_for(lambda: count_points(influxdb.url, unique), timeout=30,
                       expect=lambda n: n >= 50 * PER_BATCH, what="stream under way")
        await asyncio.to_thread(nats.kill, 0)  # hazmon's node
        stored_at_kill = await count_points(influxdb.url, unique)
        await feed  # the rest published through node 1 while node 0 is down
        assert stored_at_kill < BATCHES * PER_BATCH, "the kill should be mid-stream"
        await asyncio.to_thread(nats.start_node, 0)
        await wait_for(lambda: count_points(influxdb.url, unique), timeout=90,
                       expect=lambda n: n == BATCHES * PER_BATCH,
                       what=f"{BATCHES * PER_BATCH} readings stored")
