"""From one MQTT message to stored readings: route, decode, dedup, encode, hand on.

Readings also flow on to consumers (the rules stage) through `ReadingConsumer`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol

from hazmon.core.clock import Clock, wall_ms
from hazmon.core.metrics import Metrics
from hazmon.domain.reading import Reading
from hazmon.domain.registry import Registry
from hazmon.ingest.decode import Decoder, Reason, Rejection
from hazmon.ingest.gaps import GapWatch
from hazmon.ingest.gateways import GatewayTracker, StatusError, parse_status
from hazmon.ingest.lineproto import LineEncoder
from hazmon.ingest.rejects import RejectStore
from hazmon.ingest.sequence import SeqStatus, SequenceTracker
from hazmon.ingest.settings import IngestSettings
from hazmon.ingest.sink import Ack, InfluxSink
from hazmon.ingest.topics import Channel, Route, TopicError, parse_topic

log = logging.getLogger(__name__)

ROUTES_KEPT = 65_536  # parsed topics remembered; all forgotten when full


class ReadingConsumer(Protocol):
    """A later stage (the rules engine) that sees every accepted reading."""

    async def on_readings(self, readings: list[Reading]) -> None: ...

    async def on_gateway(self, enterprise: str, online: bool, ts_ms: int) -> None: ...


# (enterprise, payload, now_ms): a roll-call answer from the plant's `rollcall` topic.
RollCallAnswers = Callable[[str, bytes, int], Awaitable[None]]


class Ingest:
    def __init__(
        self,
        registry: Registry,
        sink: InfluxSink,
        rejects: RejectStore,
        settings: IngestSettings,
        metrics: Metrics,
        clock: Clock = wall_ms,
        state_file: Path | None = None,
    ) -> None:
        self.settings = settings
        self.sink = sink
        self.rejects = rejects
        self.clock = clock
        self.encoder = LineEncoder()
        self.sequences = SequenceTracker()
        self.gateways = GatewayTracker()
        self.consumers: list[ReadingConsumer] = []
        self.roll_call_answers: RollCallAnswers | None = None  # the duties, when wired
        # Parsed topics: a message's topic is parsed once per gateway channel, not per message.
        self._routes: dict[str, Route] = {}
        self.set_registry(registry)
        # Restores the sequence state (gaps, newest numbers) when `state_file` exists.
        self.gaps = GapWatch(self.sequences, lambda: self.registry, settings.gap_grace_s,
                             state_file)
        self.received = metrics.counter(
            "hazmon_ingest_received_readings_total", "Valid readings accepted for storage")
        self.batches = metrics.counter(
            "hazmon_ingest_batches_total", "Telemetry payloads received, by outcome", ("outcome",))
        self.internal_errors = metrics.counter(
            "hazmon_ingest_internal_errors_total", "Messages that hit a fault in hazmon itself")
        self.seq_events = metrics.counter(
            "hazmon_ingest_seq_total", "Telemetry batches by sequence status", ("status",))
        metrics.gauge("hazmon_ingest_seq_missing_batches",
                      "Batches missing now in sequence gaps (not arrived, not even late)",
                      fn=lambda: self.sequences.missing)

    def set_registry(self, registry: Registry) -> None:
        self.registry = registry
        self.decoder = Decoder(
            registry,
            max_bytes=self.settings.max_payload_bytes,
            max_readings=self.settings.max_readings,
            future_tolerance_ms=int(self.settings.future_tolerance_s * 1000),
        )
        self.encoder.clear()

    def health(self) -> dict[str, Any]:
        """The `gateways` section of /health and this stage's share of `counters`."""
        return {
            "gateways": self.gateways.counts(),
            "counters": {
                "received": int(self.received.total()),
                "rejected_payloads": int(self.rejects.batches.total()),
                "rejected_readings": int(self.rejects.readings.total()),
                "duplicate_batches": self.sequences.duplicates,
                "missing_batches": self.sequences.missing,
            },
        }

    async def handle(self, topic: str, payload: bytes, ack: Ack) -> None:
        """Process one message. A fault of ours on one message must not stop the service, nor
        come back forever as a redelivery: it is logged, kept with the rejects and acked."""
        try:
            await self._handle(topic, payload, ack)
        except Exception as exc:
            log.exception("internal error on a message from %s; kept with the rejects", topic)
            self.internal_errors.inc()
            try:
                self.rejects.record(topic, None, [Rejection(
                    Reason.INTERNAL_ERROR, f"{type(exc).__name__}: {exc}")], payload, self.clock())
            finally:
                ack()

    async def _handle(self, topic: str, payload: bytes, ack: Ack) -> None:
        now_ms = self.clock()
        # the minute's summary of rejections is due even if the bad payloads have stopped
        self.rejects.log.flush(now_ms)
        route = self._routes.get(topic)
        if route is None:
            try:
                route = parse_topic(topic)
            except TopicError as exc:
                self.rejects.record(topic, None, [Rejection(Reason.WRONG_TOPIC, str(exc))],
                                    payload, now_ms)
                ack()
                return
            if len(self._routes) >= ROUTES_KEPT:  # topics are few (one set per gateway)
                self._routes.clear()
            self._routes[topic] = route
        if route.channel is Channel.TELEMETRY:
            await self._telemetry(topic, route.region, route.enterprise, payload, now_ms, ack)
        elif route.channel is Channel.STATUS:
            await self._status(topic, route.enterprise, payload, now_ms)
            ack()
        elif route.channel is Channel.ROLLCALL:
            if self.roll_call_answers is not None and route.enterprise in (
                    self.registry.enterprises):
                await self.roll_call_answers(route.enterprise, payload, now_ms)
            ack()
        else:
            ack()  # the alarms channel is ours, going to the plant

    async def _telemetry(
        self, topic: str, region: str, enterprise: str, payload: bytes, now_ms: int, ack: Ack
    ) -> None:
        decoded = self.decoder.decode(region, enterprise, payload, now_ms)
        if decoded.rejections:
            known = enterprise if enterprise in self.registry.enterprises else None
            self.rejects.record(topic, known, decoded.rejections, payload, now_ms)
        if decoded.rejected_whole:
            self.batches.inc(1, "rejected")
            ack()
            return
        newest = decoded.newest_ms
        self.gateways.seen(enterprise, now_ms, newest)
        readings = decoded.readings
        status = self.sequences.observe(enterprise, decoded.seq, readings, now_ms, newest)
        self.seq_events.inc(1, status.value)
        if status is SeqStatus.DUPLICATE:
            self.batches.inc(1, "duplicate")
            # Acknowledged behind the original, which may still wait for its write.
            await self.sink.put([], ack)
            return
        if status is SeqStatus.GAP:
            gap = self.sequences.open_gaps(enterprise)[-1]
            log.warning("data gap from %s: %d batch(es) missing, seq %s",
                        enterprise, gap.missing, gap.label())
        elif status is SeqStatus.RESET:
            log.info("gateway %s restarted its batch counter at seq %s", enterprise,
                     decoded.seq)
        self.batches.inc(1, "accepted")
        self.received.inc(len(readings))
        await self.sink.put(self.encoder.encode(readings), ack)
        if readings:
            for consumer in self.consumers:
                await consumer.on_readings(readings)

    async def _status(self, topic: str, enterprise: str, payload: bytes, now_ms: int) -> None:
        if not payload:  # a retained status being cleared
            return
        if enterprise not in self.registry.enterprises:
            self.rejects.record(topic, None, [Rejection(
                Reason.UNKNOWN_ENTERPRISE, f"enterprise {enterprise} not registered")],
                payload, now_ms)
            return
        try:
            state, ts = parse_status(payload)
        except StatusError as exc:
            self.rejects.record(topic, enterprise, [Rejection(Reason.WRONG_SHAPE, str(exc))],
                                payload, now_ms)
            return
        ts_ms = now_ms if ts is None else ts
        gw = self.gateways.get(enterprise)
        if state == "online" and (gw.state != "online" or gw.since_ms != ts_ms):
            # Connected (again): a gateway that rebooted may count its batches from 0.
            self.sequences.expect_reset(enterprise)
        newest = gw.newest_data_ms
        if state == "offline" and newest is not None and ts_ms < newest:
            # A Last Will is composed when the gateway connects, so its ts is that old; the
            # broker sends it when the connection is lost. Dated no earlier than the newest
            # data (on the gateway's own clock), or the rules would take it for stale news.
            ts_ms = newest
        if self.gateways.status(enterprise, state, ts_ms):
            for consumer in self.consumers:
                await consumer.on_gateway(enterprise, state == "online", ts_ms)
