"""Gateway accounts enforced by a real Mosquitto with the shipped ACL (deploy/hazmon.acl).

The broker is the first fence; hazmon itself still rejects a batch whose topic region does
not match the registry: tests/ingest/test_decode.py::test_region_mismatch_is_rejected_whole
and, through a broker, tests/integration/test_ingest_e2e.py (reason `region_mismatch`).
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiomqtt
import pytest

from hazmon.ingest.accounts import passwd
from hazmon.service.cli import main
from hazmon.testing.mosquitto import Mosquitto
from tests.helpers import wait_for
from tests.support import ENT, ENT2, REGISTRY_FILE

pytestmark = pytest.mark.integration

DEPLOY_ACL = Path(__file__).parents[2] / "deploy" / "hazmon.acl"
HAZMON = ("hazmon-ingest", "hazmon-ingest-password")
TOPIC_A = f"hazmon/v1/320921/{ENT}/telemetry"
TOPIC_B = f"hazmon/v1/320902/{ENT2}/telemetry"


class Broker:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.passwd, self.acl = tmp / "hazmon.passwd", tmp / "hazmon.acl"
        shutil.copy(DEPLOY_ACL, self.acl)
        self.passwd.write_text(passwd.render({HAZMON[0]: passwd.hash_password(HAZMON[1])}))
        self.server = Mosquitto(tmp / "broker", password_file=self.passwd, acl_file=self.acl)

    def gateway(self, capsys: pytest.CaptureFixture[str], *args: str, reload: bool = True
                ) -> str:
        """Run `hazmon gateway`. Mosquitto loses a SIGHUP that arrives while it reloads, so
        a series of changes signals once, at its end."""
        assert self.server.proc is not None
        pid = ["--reload-pid", str(self.server.proc.pid)] if reload else []
        code = main(["gateway", *args, "--passwd", str(self.passwd), "--acl", str(self.acl),
                     *pid])
        out = capsys.readouterr()
        assert code == 0, out.err
        return out.out.strip()

    def client(self, user: str, password: str) -> aiomqtt.Client:
        return aiomqtt.Client(self.server.host, self.server.port, username=user,
                              password=password, protocol=aiomqtt.ProtocolVersion.V5,
                              timeout=10)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    b = Broker(tmp_path)
    with b.server:
        yield b


async def refused(b: Broker, user: str, password: str) -> bool:
    try:
        async with b.client(user, password):
            return False
    except aiomqtt.MqttCodeError as exc:
        return "authori" in str(exc).lower()


class Listener:
    """hazmon's account reading every telemetry topic."""

    def __init__(self) -> None:
        self.got: list[tuple[str, bytes]] = []

    async def run(self, client: aiomqtt.Client, ready: asyncio.Event) -> None:
        await client.subscribe("hazmon/v1/+/+/+", qos=1)
        ready.set()
        async for m in client.messages:
            assert isinstance(m.payload, bytes)
            self.got.append((m.topic.value, m.payload))


@pytest.fixture
async def listener(broker: Broker) -> AsyncIterator[Listener]:
    lst, ready = Listener(), asyncio.Event()
    async with broker.client(*HAZMON) as client:
        task = asyncio.create_task(lst.run(client, ready))
        await ready.wait()
        yield lst
        task.cancel()


async def forge(broker: Broker, password: str, topic: str) -> None:
    async with broker.client(ENT2, password) as b:
        await b.publish(topic, b"forged by B", qos=1)
        await b.publish(TOPIC_B, b"after the forgery", qos=1)


async def test_a_gateway_publishes_only_its_own_topics(
    broker: Broker, listener: Listener, capsys: pytest.CaptureFixture[str]
) -> None:
    reg = ["--registry", str(REGISTRY_FILE)]
    pw_a = broker.gateway(capsys, "add", ENT, *reg, reload=False)
    pw_b = broker.gateway(capsys, "add", ENT2, *reg)
    await wait_for(lambda: refused(broker, ENT2, pw_b), expect=lambda r: r is False,
                   what="the broker reloaded with the new accounts")
    forbidden = [TOPIC_A,  # A's topic
                 f"hazmon/v1/320921/{ENT2}/telemetry",  # its own code, a wrong region
                 f"hazmon/v1/320902/{ENT2}/alarms"]  # its own alarms are read-only
    for topic in forbidden:
        # Mosquitto 2.0 drops a publish the ACL denies and cuts the connection, so the
        # next publish on it fails: proof that the broker has judged the first one.
        with pytest.raises(aiomqtt.MqttError):
            await forge(broker, pw_b, topic)
    async with broker.client(ENT2, pw_b) as b:
        await b.publish(TOPIC_B, b"B's own", qos=1)
    async with broker.client(ENT, pw_a) as a:
        await a.publish(TOPIC_A, b"A's own", qos=1)
    own = {(TOPIC_A, b"A's own"), (TOPIC_B, b"B's own")}
    await wait_for(lambda: own <= set(listener.got), what="the two allowed messages")
    assert not [m for m in listener.got if m[1] == b"forged by B" or m[0] in forbidden[1:]]


async def test_a_gateway_reads_only_its_own_alarms(
    broker: Broker, capsys: pytest.CaptureFixture[str]
) -> None:
    pw_b = broker.gateway(capsys, "add", ENT2, "--registry", str(REGISTRY_FILE))
    await wait_for(lambda: refused(broker, ENT2, pw_b), expect=lambda r: r is False,
                   what="the broker reloaded")
    got: list[str] = []
    async with broker.client(ENT2, pw_b) as b:
        await b.subscribe("hazmon/v1/#", qos=1)
        async with broker.client(*HAZMON) as hz:
            await hz.publish(f"hazmon/v1/320921/{ENT}/alarms", b"for A", qos=1)
            await hz.publish(f"hazmon/v1/320902/{ENT2}/alarms", b"for B", qos=1)
        async for m in b.messages:
            got.append(m.topic.value)
            break
    assert got == [f"hazmon/v1/320902/{ENT2}/alarms"]


async def test_revoke_refuses_and_rotate_replaces_the_password(
    broker: Broker, capsys: pytest.CaptureFixture[str]
) -> None:
    reg = ["--registry", str(REGISTRY_FILE)]
    old = broker.gateway(capsys, "add", ENT, *reg, reload=False)
    pw_b = broker.gateway(capsys, "add", ENT2, *reg)
    await wait_for(lambda: refused(broker, ENT, old), expect=lambda r: r is False,
                   what="the broker reloaded")
    new = broker.gateway(capsys, "rotate", ENT, *reg)
    await wait_for(lambda: refused(broker, ENT, new), expect=lambda r: r is False,
                   what="the rotated password accepted")
    assert await refused(broker, ENT, old)

    broker.gateway(capsys, "revoke", ENT2)
    await wait_for(lambda: refused(broker, ENT2, pw_b), what="the revoked account refused")
    assert not await refused(broker, ENT, new)  # the others unaffected
    assert not await refused(broker, *HAZMON)
