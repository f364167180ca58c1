"""Publish simulated plants to an MQTT broker, each enterprise acting as its own gateway.

One aiomqtt client per enterprise, not a shared one: the Last Will belongs to a
connection, and docs/CONTRACT.md §2.2 makes `offline` each gateway's own Will on its own status
topic, so only a connection per enterprise lets one plant go offline while the others
stay up (the gateway_outage scenario, or `drop_connection`). A few hundred local
connections cost the broker little.

Time: a `SimClock` maps wall time to simulated time, `speed` simulated seconds per wall
second (`math.inf`: as fast as possible, never sleeping). `rate` is in batches per
*simulated* second per enterprise, as a real gateway's send interval; the load on the
broker is rate × speed batches per wall second per enterprise. Payloads depend only on
the seed, the registry, the scenarios and the start time, never on wall timing.

Each gateway publishes its telemetry at QoS 1 one message at a time, awaiting PUBACK,
so its messages reach the broker in order (MQTT orders per client).

Credentials: `username` may hold `{enterprise}`, replaced by each gateway's enterprise
code, so each simulated gateway logs in under its own account as a real one does (the
broker ACL of `deploy/hazmon.acl` lets user X write only the topics of enterprise X).
A refused login ends the run (`BrokerRefused`): retrying cannot cure a wrong password.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import socket
import ssl
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import aiomqtt

from hazmon.simulators.gateway import GatewaySim, Message
from hazmon.simulators.plant import EnterprisePlant

log = logging.getLogger(__name__)


class SimClock:
    """Simulated epoch seconds, running `speed` times faster than the wall clock."""

    def __init__(self, t0: float, speed: float = 1.0) -> None:
        if not speed > 0:
            raise ValueError("speed must be positive (math.inf: as fast as possible)")
        self.t0 = t0
        self.speed = speed
        self._mono0 = time.monotonic()

    @property
    def fastest(self) -> bool:
        return math.isinf(self.speed)

    def restart(self) -> None:
        self._mono0 = time.monotonic()

    def now(self) -> float:
        if self.fastest:
            return math.inf
        return self.t0 + (time.monotonic() - self._mono0) * self.speed

    async def sleep_until(self, t: float) -> None:
        if self.fastest:
            await asyncio.sleep(0)  # let the other gateways and the broker I/O run
            return
        delay = (t - self.now()) / self.speed
        if delay > 0:
            await asyncio.sleep(delay)


@dataclass(slots=True)
class ScenarioStats:
    batches: int = 0
    readings: int = 0  # readings the scenario shaped
    defects: int = 0  # bad readings and bad messages sent
    backlog: int = 0  # messages delayed by an outage


@dataclass(slots=True)
class Progress:
    """Totals so far; handed to the progress callback and returned as the summary."""

    wall_s: float = 0.0
    sim_s: float = 0.0  # simulated seconds covered (furthest gateway)
    messages: int = 0
    telemetry: int = 0
    status: int = 0
    readings: int = 0
    bytes: int = 0
    drops: int = 0
    reconnects: int = 0
    errors: int = 0
    scenarios: dict[str, ScenarioStats] = field(default_factory=dict)

    @property
    def messages_per_s(self) -> float:
        return self.messages / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def readings_per_s(self) -> float:
        return self.readings / self.wall_s if self.wall_s > 0 else 0.0

    def line(self) -> str:
        return (
            f"sim {self.sim_s:,.0f} s | {self.messages:,} msgs {self.readings:,} readings "
            f"{self.bytes / 1e6:,.1f} MB | {self.messages_per_s:,.0f} msg/s "
            f"{self.readings_per_s:,.0f} readings/s"
        )

    def report(self) -> str:
        lines = [
            f"simulated {self.sim_s:,.0f} s in {self.wall_s:,.1f} s wall",
            f"messages {self.messages:,} (telemetry {self.telemetry:,}, status {self.status:,}), "
            f"readings {self.readings:,}, {self.bytes:,} bytes",
            f"rate {self.messages_per_s:,.1f} msg/s, {self.readings_per_s:,.1f} readings/s",
            f"connection drops {self.drops}, reconnects {self.reconnects}, "
            f"publish errors {self.errors}",
        ]
        for label, s in sorted(self.scenarios.items()):
            lines.append(
                f"  {label}: {s.batches} batches, {s.readings} readings shaped, "
                f"{s.defects} defects, {s.backlog} delayed"
            )
        return "\n".join(lines)


Summary = Progress


@dataclass(slots=True)
class PublisherConfig:
    host: str = "127.0.0.1"
    port: int = 1883
    rate: float = 1.0  # batches per simulated second per enterprise
    readings_per_batch: int | None = None  # None: one reading per sensor per batch
    duration_s: float | None = 60.0  # simulated seconds; None runs until stopped
    speed: float = 1.0  # simulated seconds per wall second; math.inf: as fast as possible
    start: float | None = None  # simulated start, epoch seconds; None: now (whole second)
    qos: int = 1
    client_prefix: str = "hazmon-sim"
    username: str | None = None  # "{enterprise}" is replaced by each gateway's code
    password: str | None = None
    # enterprise code → its own password (scripts/gateway-accounts.sh prints such a list);
    # an enterprise not in it uses `password`
    passwords: Mapping[str, str] = field(default_factory=dict)
    keepalive: int = 30
    progress_interval_s: float = 1.0
    # TLS to the broker (deploy/mosquitto-tls.conf); None: plain TCP.
    tls_context: ssl.SSLContext | None = None


ProgressCallback = Callable[[Progress], None]

ENTERPRISE_PLACEHOLDER = "{enterprise}"

# CONNACK refusals no retry cures: MQTT 3.1.1 codes 4 and 5 (paho reports them as the
# MQTT 5 codes 0x86 and 0x87), bad user name or password and not authorised.
_LOGIN_REFUSED = frozenset({4, 5, 0x86, 0x87})


class BrokerRefused(Exception):  # noqa: N818 - the broker's answer, not a crash
    """The broker refused the login: wrong user name or password, or not authorised."""


def login_refused(exc: aiomqtt.MqttError) -> bool:
    rc = exc.rc if isinstance(exc, aiomqtt.MqttCodeError) else None
    return getattr(rc, "value", rc) in _LOGIN_REFUSED


def username_for(template: str | None, enterprise: str) -> str | None:
    return None if template is None else template.replace(ENTERPRISE_PLACEHOLDER, enterprise)


class _Connection:
    """One gateway's MQTT connection, with its Last Will on the status topic."""

    def __init__(self, cfg: PublisherConfig, gw: GatewaySim, client_id: str) -> None:
        self.cfg = cfg
        self.gw = gw
        self.client_id = client_id
        self.username = username_for(cfg.username, gw.plant.enterprise)
        self.password = cfg.passwords.get(gw.plant.enterprise, cfg.password)
        self.client: aiomqtt.Client | None = None

    async def connect(self, t: float) -> None:
        will = self.gw.last_will()
        backoff = 0.2
        while True:
            client = aiomqtt.Client(
                self.cfg.host,
                self.cfg.port,
                username=self.username,
                password=self.password,
                identifier=self.client_id,
                will=aiomqtt.Will(will.topic, will.payload, qos=1, retain=True),
                clean_session=True,
                keepalive=self.cfg.keepalive,
                timeout=10,
                tls_context=self.cfg.tls_context,
            )
            try:
                await client.__aenter__()
            except aiomqtt.MqttError as exc:
                if login_refused(exc):
                    raise BrokerRefused(
                        f"{self.cfg.host}:{self.cfg.port} refused user {self.username!r}: {exc}"
                    ) from exc
                # Capped, jittered exponential backoff, like a real gateway.
                log.warning("%s: connect failed (%s); retry in %.1f s", self.client_id, exc,
                            backoff)
                await asyncio.sleep(backoff * random.uniform(0.5, 1.0))
                backoff = min(backoff * 2, 10.0)
                continue
            self.client = client
            log.info("%s: connected to %s:%d", self.client_id, self.cfg.host, self.cfg.port)
            return

    async def publish(self, m: Message) -> None:
        assert self.client is not None
        await self.client.publish(m.topic, m.payload, qos=m.qos, retain=m.retain)

    async def drop(self) -> None:
        """Cut the connection without an MQTT DISCONNECT, so the broker sends the Will."""
        client, self.client = self.client, None
        if client is None:
            return
        sock = client._client.socket()  # paho's socket: aiomqtt offers no abrupt close
        if isinstance(sock, socket.socket):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        # Wait for paho to notice, so aiomqtt's exit does not try a graceful DISCONNECT.
        for _ in range(200):
            if client._disconnected.done():
                break
            await asyncio.sleep(0.01)
        with contextlib.suppress(Exception):
            await client.__aexit__(None, None, None)
        if client._disconnected.done() and not client._disconnected.cancelled():
            client._disconnected.exception()  # mark retrieved: an expected loss
        log.info("%s: connection dropped (Last Will)", self.client_id)

    async def close(self, t: float) -> Message | None:
        """A clean shutdown: say offline (the Will is not sent on DISCONNECT), then leave.
        Returns the offline message when it was published."""
        client, self.client = self.client, None
        if client is None:
            return None
        m = self.gw.status("offline", t)
        sent: Message | None = m
        try:
            await client.publish(m.topic, m.payload, qos=1, retain=True)
        except aiomqtt.MqttError as exc:
            log.warning("%s: could not publish offline status: %s", self.client_id, exc)
            sent = None
        with contextlib.suppress(aiomqtt.MqttError):
            await client.__aexit__(None, None, None)
        return sent


class Publisher:
    """Run the gateways of `plants` against a broker; `await run()` returns the summary."""

    def __init__(
        self,
        plants: Sequence[EnterprisePlant],
        config: PublisherConfig,
        *,
        on_progress: ProgressCallback | None = None,
        on_message: Callable[[Message], None] | None = None,
        instance: str | None = None,
    ) -> None:
        self.cfg = config
        self.t0 = config.start if config.start is not None else float(math.floor(time.time()))
        self.clock = SimClock(self.t0, config.speed)
        self.gateways = [
            GatewaySim(p, self.t0, config.rate, config.readings_per_batch, config.qos)
            for p in plants
        ]
        self.on_progress = on_progress
        self.on_message = on_message
        # A per-run suffix keeps two simulators on one broker from taking over each
        # other's sessions.
        self.instance = instance or f"{random.getrandbits(24):06x}"
        self.stats = Progress()
        self._stop = asyncio.Event()
        self._connections: dict[str, _Connection] = {}
        self._started = time.monotonic()
        self.connected = asyncio.Event()  # every gateway has connected once
        self._reached = self.t0  # newest simulated time handled by any gateway

    def now_s(self) -> float:
        """How far the gateways have got, in simulated epoch seconds: the time of the newest
        tick handled (its messages sent, or held back by an outage). Unlike `clock.now()`
        it waits for a publisher that falls behind, and stops when the run ends, so a
        service clocked by it never sees readings as later than they are."""
        return self._reached

    def stop(self) -> None:
        """Finish after the current tick (each gateway then publishes offline and leaves)."""
        self._stop.set()

    async def drop_connection(self, enterprise: str) -> None:
        """Cut one gateway's connection abruptly (a test or drill hook); it reconnects at
        its next tick."""
        await self._connections[enterprise].drop()
        self.stats.drops += 1

    async def run(self) -> Progress:
        self._started = time.monotonic()
        self.clock.restart()
        t_end = math.inf if self.cfg.duration_s is None else self.t0 + self.cfg.duration_s
        ready = [asyncio.Event() for _ in self.gateways]
        try:
            async with asyncio.TaskGroup() as tg:
                workers = [
                    tg.create_task(self._gateway(gw, t_end, ev), name=f"gw-{gw.plant.enterprise}")
                    for gw, ev in zip(self.gateways, ready, strict=True)
                ]
                reporter = tg.create_task(self._report(), name="sim-progress")
                for ev in ready:
                    await ev.wait()
                self.connected.set()
                await asyncio.gather(*workers)
                reporter.cancel()
        finally:
            self._snapshot()
        if self.on_progress is not None:
            self.on_progress(self.stats)
        return self.stats

    def _snapshot(self) -> None:
        self.stats.wall_s = time.monotonic() - self._started

    async def _report(self) -> None:
        while True:
            await asyncio.sleep(self.cfg.progress_interval_s)
            self._snapshot()
            if self.on_progress is not None:
                self.on_progress(self.stats)

    async def _gateway(self, gw: GatewaySim, t_end: float, ready: asyncio.Event) -> None:
        ent = gw.plant.enterprise
        conn = _Connection(self.cfg, gw, f"{self.cfg.client_prefix}-{ent}-{self.instance}")
        self._connections[ent] = conn
        await conn.connect(gw.t0)
        await self._send(conn, gw.status("online", gw.t0))
        ready.set()
        k = 0
        t = gw.t0
        while not self._stop.is_set():
            t = gw.time_of(k)
            if t >= t_end:
                break
            await self.clock.sleep_until(t)
            tick = gw.tick(k)
            k += 1
            if tick.drop:
                await conn.drop()
                self.stats.drops += 1
            if tick.reconnect or (conn.client is None and not gw.offline):
                await conn.connect(t)
                self.stats.reconnects += 1
                if not tick.reconnect:  # dropped by hand: announce it as the outage does
                    await self._send(conn, gw.status("online", t))
            for m in tick.messages:
                await self._send(conn, m)
            self.stats.sim_s = max(self.stats.sim_s, t + gw.interval - gw.t0)
            self._reached = max(self._reached, t)
        last = await conn.close(min(t + gw.interval, t_end))
        if last is not None:
            self._count(last)

    async def _send(self, conn: _Connection, m: Message) -> None:
        while True:
            try:
                await conn.publish(m)
                break
            except aiomqtt.MqttError as exc:
                # The broker went away: reconnect and send again (QoS 1 may duplicate; the
                # centre drops repeats by seq).
                self.stats.errors += 1
                log.warning("%s: publish failed (%s); reconnecting", conn.client_id, exc)
                await conn.drop()
                await conn.connect(m.sim_t)
                self.stats.reconnects += 1
        self._count(m)
        if self.on_message is not None:
            self.on_message(m)

    def _count(self, m: Message) -> None:
        s = self.stats
        s.messages += 1
        s.bytes += len(m.payload)
        if m.topic == "" or m.topic.endswith("/status"):
            s.status += 1
        else:
            s.telemetry += 1
            s.readings += m.readings
        for label, shaped in m.scenarios:
            st = s.scenarios.setdefault(label, ScenarioStats())
            st.batches += 1
            st.readings += shaped
            st.defects += len(m.defects)
            st.backlog += int(m.backlog)
