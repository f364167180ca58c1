"""hazmon's MQTT source over TLS to a real Mosquitto with a TLS-only listener."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiomqtt
import pytest

from hazmon.core.metrics import Metrics
from hazmon.ingest.mqtt_source import Ack, MqttSource
from hazmon.ingest.settings import MqttSettings, MqttTlsSettings
from hazmon.ingest.tls import TlsConfigError
from hazmon.testing.mosquitto import BrokerTls, Mosquitto
from tests.helpers import wait_for
from tests.ingest.tls_support import Ca
from tests.support import ENT

pytestmark = pytest.mark.integration

TOPIC = f"hazmon/v1/320921/{ENT}/telemetry"


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("tls")
    ca, other = Ca.make(d, "ca"), Ca.make(d, "other")
    server_crt, server_key = ca.issue("broker", ip="127.0.0.1")
    client_crt, client_key = ca.issue("hazmon-ingest")
    return {"ca": ca.cert, "other_ca": other.cert, "server_crt": server_crt,
            "server_key": server_key, "client_crt": client_crt, "client_key": client_key}


def broker(tmp: Path, certs: dict[str, Path], *, require_certificate: bool) -> Mosquitto:
    return Mosquitto(tmp / "broker", tls=BrokerTls(certs["ca"], certs["server_crt"],
                                                   certs["server_key"], require_certificate))


@pytest.fixture
def tls_broker(tmp_path: Path, certs: dict[str, Path]) -> Iterator[Mosquitto]:
    with broker(tmp_path, certs, require_certificate=False) as b:
        yield b


class Received:
    def __init__(self) -> None:
        self.messages: list[tuple[str, bytes]] = []

    async def __call__(self, topic: str, payload: bytes, ack: Ack) -> None:
        self.messages.append((topic, payload))
        ack()


@contextlib.asynccontextmanager
async def running(source: MqttSource) -> AsyncIterator[MqttSource]:
    task = asyncio.create_task(source.run())
    try:
        yield source
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def source(port: int, tls: MqttTlsSettings, got: Received, client_id: str) -> MqttSource:
    settings = MqttSettings(port=port, tls=tls, client_id=client_id,
                            reconnect_min_s=0.05, reconnect_max_s=0.2)
    return MqttSource(settings, got, lambda: ["hazmon/v1/+/+/+"], Metrics())


async def publish(b: Mosquitto, ca: Path, payload: bytes) -> None:
    ctx = ssl.create_default_context(cafile=str(ca))
    async with aiomqtt.Client(b.host, b.port, tls_context=ctx) as c:
        await c.publish(TOPIC, payload, qos=1)


async def test_source_connects_over_tls_and_receives(
    tls_broker: Mosquitto, certs: dict[str, Path]
) -> None:
    got = Received()
    async with running(source(tls_broker.port, MqttTlsSettings(ca_file=certs["ca"]), got,
                              "tls-ok")) as src:
        await asyncio.wait_for(src.ready.wait(), 20)
        await publish(tls_broker, certs["ca"], b"over tls")
        await wait_for(lambda: got.messages, what="the message")
    assert got.messages == [(TOPIC, b"over tls")]


async def test_wrong_ca_is_refused_clearly_and_retried(
    tls_broker: Mosquitto, certs: dict[str, Path], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "hazmon.ingest.mqtt_source")
    got = Received()
    src = source(tls_broker.port, MqttTlsSettings(ca_file=certs["other_ca"]), got, "tls-bad")
    async with running(src):
        await wait_for(lambda: src.reconnects.total() >= 3, what="three attempts")
        # Published meanwhile: queued for nobody (no session yet), received by no one here.
        assert not src.connected  # Service.health() reports the broker "down" from this
        assert not src.ready.is_set()
    assert src.last_error is not None
    assert "not trusted by mqtt.tls.ca_file" in src.last_error
    assert str(certs["other_ca"]) in src.last_error
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) >= 3
    assert all("certificate is not trusted" in w for w in warnings)
    assert got.messages == []


async def test_client_certificate_when_the_broker_requires_one(
    tmp_path: Path, certs: dict[str, Path]
) -> None:
    with broker(tmp_path, certs, require_certificate=True) as b:
        without = source(b.port, MqttTlsSettings(ca_file=certs["ca"]), Received(), "no-cert")
        async with running(without):
            # TLS 1.3: the broker's "certificate required" alert comes after the client's
            # handshake, so the attempt ends at the CONNACK timeout, not at once.
            await wait_for(lambda: without.reconnects.total() >= 1, timeout=40,
                           what="a refusal")
            assert not without.connected
        got = Received()
        tls = MqttTlsSettings(ca_file=certs["ca"], cert_file=certs["client_crt"],
                              key_file=certs["client_key"])
        async with running(source(b.port, tls, got, "with-cert")) as src:
            await asyncio.wait_for(src.ready.wait(), 20)
    assert src.last_error is None


def test_unreadable_tls_files_stop_at_start(tmp_path: Path, certs: dict[str, Path]) -> None:
    with pytest.raises(TlsConfigError, match="ca_file"):
        source(1, MqttTlsSettings(ca_file=tmp_path / "missing.crt"), Received(), "x")
    with pytest.raises(TlsConfigError, match="both cert_file and key_file"):
        source(1, MqttTlsSettings(ca_file=certs["ca"], cert_file=certs["client_crt"]),
               Received(), "x")
