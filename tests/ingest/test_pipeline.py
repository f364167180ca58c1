"""The pipeline in process: a fault of its own on one message, Will times, topic routes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from hazmon.core.metrics import Metrics
from hazmon.domain.registry import Registry
from hazmon.ingest.pipeline import Ingest
from hazmon.ingest.rejects import RejectStore
from hazmon.ingest.settings import IngestSettings
from tests.support import ENT

BASE_MS = 1_795_312_800_000


class _ExplodingSink:
    """A sink seam that fails the way an unforeseen bug would."""

    def __init__(self) -> None:
        self.calls = 0

    async def put(self, lines: list[str], ack: Any) -> None:
        self.calls += 1
        raise RuntimeError("boom")


async def test_internal_error_is_kept_acked_and_does_not_propagate(
    registry: Registry, tmp_path: Path
) -> None:
    metrics = Metrics()
    rejects = RejectStore(metrics, tmp_path / "rejects.jsonl")
    sink = _ExplodingSink()
    ingest = Ingest(registry, sink, rejects, IngestSettings(), metrics,  # type: ignore[arg-type]
                    clock=lambda: BASE_MS)
    acked: list[bool] = []
    payload = orjson.dumps({"readings": [{"tag": "MHS-01.T101.LT01", "value": 1.0,
                                          "ts": BASE_MS}]})
    await ingest.handle(f"hazmon/v1/320921/{ENT}/telemetry", payload, lambda: acked.append(True))
    assert sink.calls == 1
    assert acked == [True]
    assert ingest.internal_errors.total() == 1
    [rec] = list(rejects.recent)
    assert rec.reason == "internal_error"
    assert "RuntimeError: boom" in rec.detail
    assert "MHS-01.T101.LT01" in (tmp_path / "rejects.jsonl").read_text()


class _NullSink:
    async def put(self, lines: list[str], ack: Any) -> None:
        ack()


class _Recorder:
    def __init__(self) -> None:
        self.gateway: list[tuple[str, bool, int]] = []

    async def on_readings(self, readings: list[Any]) -> None:
        return None

    async def on_gateway(self, enterprise: str, online: bool, ts_ms: int) -> None:
        self.gateway.append((enterprise, online, ts_ms))


async def test_last_will_offline_is_dated_after_the_data(
    registry: Registry, tmp_path: Path
) -> None:
    """A Will carries the time the gateway connected; it means 'offline now', so it must
    not be older than the data the gateway sent since. An explicit offline keeps its ts."""
    metrics = Metrics()
    now = BASE_MS + 3_600_000
    ingest = Ingest(registry, _NullSink(), RejectStore(metrics),  # type: ignore[arg-type]
                    IngestSettings(), metrics, clock=lambda: now)
    rec = _Recorder()
    ingest.consumers.append(rec)
    topic = f"hazmon/v1/320921/{ENT}/status"
    await ingest.handle(topic, orjson.dumps({"state": "online", "ts": BASE_MS}), lambda: None)
    data = orjson.dumps({"readings": [{"tag": "MHS-01.T101.LT01", "value": 1.0,
                                       "ts": BASE_MS + 60_000}]})
    await ingest.handle(f"hazmon/v1/320921/{ENT}/telemetry", data, lambda: None)
    await ingest.handle(topic, orjson.dumps({"state": "offline", "ts": BASE_MS}), lambda: None)
    await ingest.handle(topic, orjson.dumps({"state": "online", "ts": BASE_MS + 70_000}),
                        lambda: None)
    await ingest.handle(topic, orjson.dumps({"state": "offline", "ts": BASE_MS + 80_000}),
                        lambda: None)
    await ingest.handle(topic, orjson.dumps({"state": "online"}), lambda: None)
    assert rec.gateway == [(ENT, True, BASE_MS), (ENT, False, BASE_MS + 60_000),
                           (ENT, True, BASE_MS + 70_000), (ENT, False, BASE_MS + 80_000),
                           (ENT, True, now)]


class _LineSink:
    def __init__(self) -> None:
        self.lines: list[str] = []

    async def put(self, lines: list[str], ack: Any) -> None:
        self.lines.extend(lines)
        ack()


async def test_topics_parsed_once_route_alike_and_stay_bounded(
    registry: Registry, tmp_path: Path, monkeypatch: Any
) -> None:
    """Routes are remembered per topic: the same message routes the same the second time,
    a bad topic is refused every time (never remembered), and the memory is bounded."""
    import hazmon.ingest.pipeline as pipeline

    metrics = Metrics()
    rejects = RejectStore(metrics, tmp_path / "rejects.jsonl")
    sink = _LineSink()
    ingest = Ingest(registry, sink, rejects, IngestSettings(), metrics,  # type: ignore[arg-type]
                    clock=lambda: BASE_MS + 1000)
    good = f"hazmon/v1/320921/{ENT}/telemetry"
    bad = f"hazmon/v1/320921/{ENT}/telemtry"
    for k in range(2):
        payload = orjson.dumps({"readings": [{"tag": "MHS-01.T101.LT01", "value": float(k),
                                              "ts": BASE_MS + k}]})
        await ingest.handle(good, payload, lambda: None)
        await ingest.handle(bad, payload, lambda: None)
    assert len(sink.lines) == 2
    assert sink.lines[1].endswith(f'value=1.0,quality="good" {BASE_MS + 1}')
    assert [r.reason for r in rejects.recent] == ["wrong_topic", "wrong_topic"]
    assert list(ingest._routes) == [good]

    monkeypatch.setattr(pipeline, "ROUTES_KEPT", 3)
    topics = [f"hazmon/v1/320921/91320000MA{n:07d}X/status" for n in range(10)]
    for topic in topics:  # valid topics of unregistered enterprises: each one remembered
        await ingest.handle(topic, b"", lambda: None)
    # full at 3: forgotten all at once, so the newest are kept and it never holds more
    assert list(ingest._routes) == topics[8:]
