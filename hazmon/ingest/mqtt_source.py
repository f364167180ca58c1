"""The MQTT source: a persistent QoS 1 session with manual acknowledgement.

- A fixed client id and a session that outlives the connection (MQTT 5 session expiry,
  or clean_session=False on 3.1.1): the broker queues messages while hazmon is down.
- Messages are acknowledged only when the handler says their data is durable (see
  `hazmon.ingest.sink`); the acks of one write go out together (`mqtt_client`). The
  broker then stops sending once `receive_maximum` messages wait for their ack, which is
  also our backpressure.
- Reconnects with capped, jittered backoff, each attempt logged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiomqtt
from paho.mqtt.client import MQTT_CLEAN_START_FIRST_ONLY
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from hazmon.core.metrics import Metrics
from hazmon.ingest import paho_fast
from hazmon.ingest.backoff import Backoff
from hazmon.ingest.mqtt_client import IngestClient
from hazmon.ingest.settings import MqttSettings
from hazmon.ingest.tls import client_context, describe_failure

log = logging.getLogger(__name__)

paho_fast.install()

Ack = Callable[[], None]
Handler = Callable[[str, bytes, Ack], Awaitable[None]]


# One read can hold a couple of thousand messages, handed on without the handler having to
# wait: the writer, the rules' timers and the API get the loop between every few hundred.
_YIELD_EVERY = 256


def _noop() -> None:
    return None


class MqttSource:
    def __init__(
        self,
        settings: MqttSettings,
        handler: Handler,
        filters: Callable[[], list[str]],
        metrics: Metrics,
    ) -> None:
        self.settings = settings
        self.handler = handler
        self.filters = filters
        self.connected = False
        self.ready = asyncio.Event()  # set once subscribed: messages flow from here on
        self.last_error: str | None = None
        self._client: IngestClient | None = None
        self._holding = False
        self._subscribed: set[str] = set()
        self._backoff = Backoff(settings.reconnect_min_s, settings.reconnect_max_s)
        self._tls = client_context(settings.tls) if settings.tls is not None else None
        self.messages = metrics.counter("hazmon_mqtt_messages_total", "MQTT messages received")
        self.reconnects = metrics.counter(
            "hazmon_mqtt_connect_attempts_total", "MQTT connection attempts, by outcome",
            ("outcome",),
        )
        metrics.gauge("hazmon_mqtt_connected", "1 while connected to the broker",
                      fn=lambda: 1.0 if self.connected else 0.0)

    def _make_client(self) -> IngestClient:
        s = self.settings
        v5 = s.protocol == "5"
        props: Properties | None = None
        if v5:
            props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            props.SessionExpiryInterval = s.session_expiry_s
            props.ReceiveMaximum = s.receive_maximum
        return IngestClient(
            s.host, s.port,
            identifier=s.client_id,
            username=s.username,
            password=s.password.get_secret_value() if s.password else None,
            protocol=aiomqtt.ProtocolVersion.V5 if v5 else aiomqtt.ProtocolVersion.V311,
            clean_session=None if v5 else False,
            # never throw away the queued session, not even at start (MQTT 5); on 3.1.1
            # clean_session=False says it, and paho refuses any clean_start but its default
            clean_start=False if v5 else MQTT_CLEAN_START_FIRST_ONLY,
            keepalive=s.keepalive,
            properties=props,
            max_inflight_messages=100,
            tls_context=self._tls,
        )

    def _ack_for(self, client: IngestClient, mid: int, qos: int) -> Ack:
        if qos == 0:
            return _noop

        def ack() -> None:
            # After a reconnect the old connection's acks are moot: the broker resends those
            # messages and the copies are acknowledged in their turn.
            if client is self._client and self.connected:
                client.ack(mid, qos)

        return ack

    async def run(self) -> None:
        while True:
            client = self._make_client()
            try:
                async with client:
                    self._client = client
                    self.connected = True
                    self.last_error = None
                    self.reconnects.inc(1, "ok")
                    self._backoff.reset()
                    log.info("connected to MQTT broker %s:%d as %s", self.settings.host,
                             self.settings.port, self.settings.client_id)
                    self._subscribed = set()
                    await self.sync_subscriptions()
                    self.ready.set()
                    while True:
                        batch = await client.next_batch()
                        self.messages.inc(len(batch))
                        for i, (topic, payload, mid, qos) in enumerate(batch, 1):
                            if self._holding:
                                break  # not handed on, so never acknowledged: comes again
                            await self.handler(topic, payload, self._ack_for(client, mid, qos))
                            if not i % _YIELD_EVERY:
                                await asyncio.sleep(0)
            except aiomqtt.MqttError as exc:
                self.reconnects.inc(1, "failed")
                delay = self._backoff.next()
                tls_problem = describe_failure(exc, self.settings.tls)
                self.last_error = tls_problem or str(exc)
                log.warning("MQTT connection to %s:%d lost or refused (%s); attempt %d in %.1f s",
                            self.settings.host, self.settings.port, self.last_error,
                            self._backoff.attempt + 1, delay)
                await asyncio.sleep(delay)
            finally:
                self.connected = False
                self._client = None
                self.ready.clear()

    def hold(self) -> None:
        """Stop handing messages on (at shutdown, before the writer's last flush). The
        connection stays up, so acknowledgements of what is stored still reach the broker;
        messages held back are not acknowledged and are delivered again after a restart."""
        self._holding = True

    def health(self) -> dict[str, Any]:
        """The `broker` section of /health."""
        return {"state": "up" if self.connected else "down",
                "subscriptions": sorted(self._subscribed),
                "last_error": self.last_error}

    async def sync_subscriptions(self) -> None:
        """Subscribe to the current filters and drop those no longer owned (registry reload)."""
        client = self._client
        if client is None:
            return
        wanted = set(self.filters())
        for f in sorted(wanted - self._subscribed):
            await client.subscribe(f, qos=1)
            log.info("subscribed to %s", f)
        for f in sorted(self._subscribed - wanted):
            await client.unsubscribe(f)
            log.info("unsubscribed from %s", f)
        self._subscribed = wanted

    async def publish(self, topic: str, payload: bytes, *, qos: int = 1,
                      retain: bool = False) -> bool:
        """Publish on the ingest connection; False when not connected (caller retries)."""
        client = self._client
        if client is None or not self.connected:
            return False
        try:
            await client.publish(topic, payload, qos=qos, retain=retain)
        except aiomqtt.MqttError as exc:
            log.warning("publish to %s failed: %s", topic, exc)
            return False
        return True
