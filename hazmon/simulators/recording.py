"""Record live plant feeds to a file and replay them, keeping their relative timing.

File format: gzip-compressed JSON lines, one per received message:

    {"t": 1795312800.123456, "topic": "hazmon/v1/320921/9132.../telemetry",
     "payload": "{\\"seq\\":1,...}", "qos": 1, "retain": false}

`t` is the receive time (epoch seconds, from a monotonic clock anchored once so the
intervals are exact). A payload that is not UTF-8 (malformed drills send some) is kept
as `"payload_b64"` instead of `"payload"`, so replay reproduces it byte for byte.

Replay publishes each message at its recorded offset from the first divided by `speed`
(`math.inf`: as fast as possible), through one connection, so order is kept. A status
message is republished retained: live subscribers see retained publishes without the
retain flag, yet the status topic is retained by contract (docs/CONTRACT.md §2).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import gzip
import logging
import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiomqtt
import orjson

log = logging.getLogger(__name__)

TOPICS = ("hazmon/v1/+/+/telemetry", "hazmon/v1/+/+/status")


@dataclass(frozen=True, slots=True)
class Recorded:
    t: float
    topic: str
    payload: bytes
    qos: int
    retain: bool

    def to_json(self) -> bytes:
        doc: dict[str, Any] = {"t": round(self.t, 6), "topic": self.topic}
        try:
            doc["payload"] = self.payload.decode("utf-8")
        except UnicodeDecodeError:
            doc["payload_b64"] = base64.b64encode(self.payload).decode("ascii")
        doc["qos"] = self.qos
        doc["retain"] = self.retain
        return orjson.dumps(doc)

    @classmethod
    def from_json(cls, line: bytes) -> Recorded:
        doc = orjson.loads(line)
        if "payload_b64" in doc:
            payload = base64.b64decode(doc["payload_b64"])
        else:
            payload = str(doc["payload"]).encode("utf-8")
        return cls(float(doc["t"]), str(doc["topic"]), payload, int(doc.get("qos", 0)),
                   bool(doc.get("retain", False)))


def read_recording(path: str | Path) -> Iterator[Recorded]:
    """The messages of a recording, in order; a truncated last line (a recorder killed
    mid-write) is skipped."""
    with gzip.open(path, "rb") as f:
        try:
            for line in f:
                if line.strip():
                    try:
                        yield Recorded.from_json(line)
                    except (orjson.JSONDecodeError, KeyError, ValueError):
                        log.warning("%s: skipping an unreadable line", path)
        except EOFError:
            log.warning("%s: recording ends mid-stream (recorder stopped abruptly)", path)


@dataclass(slots=True)
class RecordSummary:
    messages: int = 0
    bytes: int = 0
    wall_s: float = 0.0


class Recorder:
    """Subscribe to the plant topics and write every message to `path`.

    `ready` is set once the subscription is acknowledged: start publishers after it.
    Stop with `stop()`, a `duration_s` or `max_messages`.
    """

    def __init__(
        self,
        host: str,
        port: int,
        path: str | Path,
        *,
        topics: Sequence[str] = TOPICS,
        duration_s: float | None = None,
        max_messages: int | None = None,
        client_id: str | None = None,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        self.host, self.port, self.path = host, port, Path(path)
        self.username, self.password = username, password
        self.topics = topics
        self.duration_s = duration_s
        self.max_messages = max_messages
        self.client_id = client_id
        self.ready = asyncio.Event()
        self.summary = RecordSummary()
        self._stop = asyncio.Event()

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> RecordSummary:
        wall0, mono0 = time.time(), time.monotonic()
        async with aiomqtt.Client(self.host, self.port, identifier=self.client_id,
                                  username=self.username, password=self.password) as client:
            for topic in self.topics:
                await client.subscribe(topic, qos=1)
            # Let our TCP stack acknowledge the SUBACK before anyone publishes: a broker
            # without TCP_NODELAY (Mosquitto's default) otherwise holds the first message
            # back until our delayed ACK (40 ms on Linux), skewing the recorded timing.
            await asyncio.sleep(0.1)
            self.ready.set()
            log.info("recording %s to %s", ", ".join(self.topics), self.path)
            with gzip.open(self.path, "wb", compresslevel=6) as out:
                receiver = asyncio.ensure_future(self._receive(client, out, wall0, mono0))
                stopper = asyncio.ensure_future(self._stop.wait())
                try:
                    await asyncio.wait(
                        {receiver, stopper}, timeout=self.duration_s,
                        return_when=asyncio.FIRST_COMPLETED,
                    )
                finally:
                    for task in (receiver, stopper):
                        task.cancel()
                        with contextlib.suppress(asyncio.CancelledError):
                            await task
        self.summary.wall_s = time.monotonic() - mono0
        return self.summary

    async def _receive(
        self, client: aiomqtt.Client, out: gzip.GzipFile, wall0: float, mono0: float
    ) -> None:
        async for msg in client.messages:
            payload = msg.payload if isinstance(msg.payload, bytes | bytearray) else (
                b"" if msg.payload is None else str(msg.payload).encode()
            )
            rec = Recorded(
                wall0 + (time.monotonic() - mono0), str(msg.topic), bytes(payload),
                int(msg.qos), bool(msg.retain),
            )
            out.write(rec.to_json() + b"\n")
            self.summary.messages += 1
            self.summary.bytes += len(payload)
            if self.max_messages is not None and self.summary.messages >= self.max_messages:
                return


@dataclass(slots=True)
class ReplaySummary:
    messages: int = 0
    bytes: int = 0
    wall_s: float = 0.0
    recorded_s: float = 0.0  # span of the recording
    max_lag_s: float = 0.0  # worst delay behind schedule


async def replay(
    path: str | Path,
    host: str,
    port: int,
    *,
    speed: float = 1.0,
    client_id: str | None = None,
    username: str | None = None,
    password: str | None = None,
    retain_status: bool = True,
    on_progress: Callable[[ReplaySummary], None] | None = None,
    progress_every: int = 1000,
    on_message: Callable[[Recorded], None] | None = None,
) -> ReplaySummary:
    """Publish a recording again; `speed` 1 is real time, 10 ten times faster,
    `math.inf` as fast as possible. `on_message` sees each message just before it is
    published (a test clocks the receiving service by the replayed readings' times)."""
    if not speed > 0:
        raise ValueError("speed must be positive (math.inf: as fast as possible)")
    summary = ReplaySummary()
    async with aiomqtt.Client(host, port, identifier=client_id, username=username,
                              password=password) as client:
        mono0 = time.monotonic()
        first: float | None = None
        for rec in read_recording(path):
            if first is None:
                first = rec.t
            offset = rec.t - first
            summary.recorded_s = offset
            if not math.isinf(speed):
                due = mono0 + offset / speed
                delay = due - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                else:
                    summary.max_lag_s = max(summary.max_lag_s, -delay)
            retain = rec.retain or (retain_status and rec.topic.endswith("/status"))
            if on_message is not None:
                on_message(rec)
            await client.publish(rec.topic, rec.payload, qos=rec.qos, retain=retain)
            summary.messages += 1
            summary.bytes += len(rec.payload)
            if on_progress is not None and summary.messages % progress_every == 0:
                summary.wall_s = time.monotonic() - mono0
                on_progress(summary)
        summary.wall_s = time.monotonic() - mono0
    return summary
