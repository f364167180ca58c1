"""hazmon.ingest.mqtt_client against a real Mosquitto: every message in order and intact
(across reads, with MQTT 5 properties, with paho's DEBUG path), acknowledged exactly as
acked (coalesced PUBACKs), the consumer woken by a disconnect, and PUBLISH decoded as paho
decodes it."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Iterator
from pathlib import Path

import aiomqtt
import pytest
from paho.mqtt import _packet
from paho.mqtt.enums import MQTTProtocolVersion
from paho.mqtt.exception import MalformedPacket
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from hazmon.core.metrics import Metrics
from hazmon.ingest.mqtt_client import Incoming, IngestClient, _decode_publish
from hazmon.ingest.mqtt_source import Ack, MqttSource
from hazmon.ingest.settings import MqttSettings
from hazmon.testing.mosquitto import Mosquitto
from tests.support import ENT

TOPIC = f"hazmon/v1/320921/{ENT}/telemetry"
PROTOCOLS = ["5", "3.1.1"]


async def _ignore(topic: str, payload: bytes, ack: Ack) -> None:
    return None


def ingest_client(port: int, client_id: str, protocol: str) -> IngestClient:
    """The client exactly as the source makes it (persistent session, manual acks)."""
    settings = MqttSettings(port=port, client_id=client_id, protocol=protocol)  # type: ignore[arg-type]
    return MqttSource(settings, _ignore, lambda: [], Metrics())._make_client()


async def take(client: IngestClient, n: int) -> list[Incoming]:
    got: list[Incoming] = []
    while len(got) < n:
        got += await asyncio.wait_for(client.next_batch(), 20)
    return got


async def publish(port: int, items: list[tuple[bytes, int]],
                  properties: Properties | None = None) -> None:
    async with aiomqtt.Client("127.0.0.1", port, protocol=aiomqtt.ProtocolVersion.V5) as c:
        for payload, qos in items:
            await c.publish(TOPIC, payload, qos=qos, properties=properties)


@pytest.mark.integration
@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_only_what_was_acknowledged_is_acknowledged(
        mosquitto: Mosquitto, protocol: str) -> None:
    cid = f"mqtt-client-acks-{protocol}"
    async with ingest_client(mosquitto.port, cid, protocol) as c:
        await c.subscribe("hazmon/v1/+/+/telemetry", qos=1)
    await publish(mosquitto.port, [(b"%d" % i, 1) for i in range(40)])  # queued meanwhile

    async with ingest_client(mosquitto.port, cid, protocol) as c:
        got = await take(c, 40)
        assert [p for _, p, _, _ in got] == [b"%d" % i for i in range(40)]
        assert {(t, q) for t, _, _, q in got} == {(TOPIC, 1)}
        for _, payload, mid, qos in got:
            if int(payload) % 3 == 0:
                c.ack(mid, qos)  # acks of one turn: one write of several PUBACKs
        await asyncio.sleep(0)
        # a fence: the broker answers a connection's packets in order, so once this
        # publish is acknowledged it has read the PUBACKs before it (closing at once could
        # lose them in the socket teardown, a redelivery this test would take for a bug)
        await c.publish("hazmon/test/fence", b"", qos=1)
    # what was not acknowledged comes again, what was does not: the broker took every
    # PUBACK of the coalesced write. A marker published last closes the redelivery.
    await publish(mosquitto.port, [(b"end", 1)])
    async with ingest_client(mosquitto.port, cid, protocol) as c:
        again = await take(c, 40 - 14 + 1)
        assert [p for _, p, _, _ in again] == (
            [b"%d" % i for i in range(40) if i % 3] + [b"end"])
        for _, _, mid, qos in again:
            c.ack(mid, qos)


@pytest.mark.integration
async def test_large_small_qos0_and_properties_arrive_intact(mosquitto: Mosquitto) -> None:
    rng = random.Random(7)
    big = rng.randbytes(700_000)  # spans several reads of the buffered socket
    items = [(b"a", 1), (big, 1), (b"", 1), (b"q0", 0), *[(b"s%d" % i, 1) for i in range(300)],
             (big[::-1], 1)]
    props = Properties(PacketTypes.PUBLISH)
    props.MessageExpiryInterval = 3600
    props.ContentType = "application/json"
    props.UserProperty = ("gateway", "gw-1")
    async with ingest_client(mosquitto.port, "mqtt-client-big", "5") as c:
        await c.subscribe("hazmon/v1/+/+/telemetry", qos=1)
        await publish(mosquitto.port, items, props)
        got = await take(c, len(items))
        assert [(p, q) for _, p, _, q in got] == items
        assert all(t == TOPIC for t, _, _, _ in got)
        for _, _, mid, qos in got:
            c.ack(mid, qos)


@pytest.mark.integration
async def test_paho_debug_log_path_delivers_too(mosquitto: Mosquitto,
                                                caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, "mqtt")  # paho's logger (aiomqtt's): paho's own path
    async with ingest_client(mosquitto.port, "mqtt-client-debug", "5") as c:
        await c.subscribe("hazmon/v1/+/+/telemetry", qos=1)
        await publish(mosquitto.port, [(b"%d" % i, 1) for i in range(5)])
        got = await take(c, 5)
        assert [(t, p, q) for t, p, _, q in got] == [(TOPIC, b"%d" % i, 1) for i in range(5)]
    assert any("Received PUBLISH" in r.getMessage() for r in caplog.records)


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[Mosquitto]:
    with Mosquitto(tmp_path / "broker") as b:
        yield b


@pytest.mark.integration
async def test_a_lost_connection_ends_next_batch(own_broker: Mosquitto) -> None:
    client = ingest_client(own_broker.port, "mqtt-client-lost", "5")
    async with client:
        await client.subscribe("hazmon/v1/+/+/telemetry", qos=1)
        waiting = asyncio.create_task(client.next_batch())
        await asyncio.sleep(0.1)
        assert not waiting.done()
        own_broker.stop()
        with pytest.raises(aiomqtt.MqttError):
            await asyncio.wait_for(waiting, 20)


def _packet_bytes(topic: bytes, mid: int, qos: int, props: bytes | None,
                  payload: bytes) -> bytearray:
    out = bytearray(len(topic).to_bytes(2, "big") + topic)
    if qos:
        out += mid.to_bytes(2, "big")
    if props is not None:
        out += props
    return out + payload


@pytest.mark.parametrize("v5", [True, False])
def test_publish_decoded_as_paho_decodes_it(v5: bool) -> None:
    rng = random.Random(3)
    proto = MQTTProtocolVersion.MQTTv5 if v5 else MQTTProtocolVersion.MQTTv311
    for i in range(300):
        qos = i % 2
        topic = f"hazmon/v1/320921/{ENT}/telemetry/{'长' * rng.randrange(40)}".encode()
        props = None
        if v5:
            p = Properties(PacketTypes.PUBLISH)
            if i % 3:
                p.UserProperty = ("k" * rng.randrange(200), "v")  # long: 2-byte length
            props = p.pack()
        payload = rng.randbytes(rng.randrange(300))
        mid = rng.randrange(1, 65536)
        header = 0x30 | (qos << 1)
        packet = _packet_bytes(topic, mid, qos, props, payload)
        ref = _packet.decode_publish(header, packet, proto)
        framed = b"xx" + bytes(packet) + b"yy"  # decoded in place, within its bounds
        assert _decode_publish(header, framed, 2, 2 + len(packet), v5) == (
            ref.topic.decode(), ref.payload, ref.mid, ref.qos)


@pytest.mark.parametrize("packet", [
    b"", b"\x00", b"\x00\x09short", b"\x00\x01t",  # topic longer than the packet; no mid
    b"\x00\x01t\x00\x01\x85\x80\x80\x80\x01",  # properties length over 4 bytes
    b"\x00\x01t\x00\x01\x05ab",  # properties longer than the packet
])
def test_malformed_publish_is_refused(packet: bytes) -> None:
    with pytest.raises(MalformedPacket):
        _decode_publish(0x32, packet + b"next packet", 0, len(packet), True)


def _publish_packet(topic: bytes, mid: int, payload: bytes) -> bytes:
    body = len(topic).to_bytes(2, "big") + topic + mid.to_bytes(2, "big") + b"\x00" + payload
    n, length = len(body), bytearray()
    while True:
        n, digit = divmod(n, 128)
        length.append(digit | (0x80 if n else 0))
        if not n:
            return bytes([0x32]) + bytes(length) + body


async def test_packets_cut_anywhere_by_the_reads_are_framed_whole() -> None:
    rng = random.Random(5)
    c = ingest_client(1, "framing", "5")  # never connected: the framing alone
    sizes = [0, 1, 100, 127, 128, 300, 16_383, 16_384, 70_000, *range(50)]
    expected = [(TOPIC, rng.randbytes(s), 1 + i, 1) for i, s in enumerate(sizes)]
    stream = b"".join(_publish_packet(t.encode(), mid, p) for t, p, mid, _ in expected)
    cuts = [*sorted(rng.sample(range(1, len(stream)), 400)), len(stream)]
    got: list[Incoming] = []
    prev = 0
    for cut in cuts:
        chunk = stream[prev:cut]
        prev = cut
        assert c._packets(c._rest + chunk) == 0  # as `_read` hands each recv over
        got += await c.next_batch() if c._inbox else []
    assert got == expected
    assert c._rest == b""
    # a remaining length over 4 bytes is a protocol error, not a wait for more
    assert c._packets(b"\x32\xff\xff\xff\xff\x01") != 0
