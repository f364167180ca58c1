"""A flood of rejected payloads reaches the log as the first of each (enterprise, reason)
and one summary line a minute with the counts of the others, while the reject store and
the metrics keep every one. Time is the ingest clock (tests.clock.FakeClock)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import orjson
import pytest

from hazmon.domain.registry import Registry
from hazmon.ingest.decode import Reason, Rejection
from hazmon.ingest.influx import InfluxClient
from hazmon.ingest.pipeline import Ingest
from hazmon.ingest.rejectlog import MAX_SUMMARY_PAIRS
from hazmon.ingest.rejects import RejectStore
from hazmon.ingest.sink import InfluxSink
from hazmon.ingest.spool import Spool
from hazmon.service.metrics import Metrics
from hazmon.service.settings import InfluxSettings, IngestSettings
from tests.clock import FakeClock
from tests.conftest import ENT, ENT2

TOPIC = f"hazmon/v1/320921/{ENT}/telemetry"
TOPIC2 = f"hazmon/v1/320902/{ENT2}/telemetry"
SUMMARY = ("rejected payloads not logged one by one in the last minute"
           " (all kept in the reject store and the metrics): ")


def lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    out = [r.getMessage() for r in caplog.records
           if r.name == "hazmon.ingest.rejects" and r.levelno == logging.WARNING]
    caplog.clear()
    return out


def first(topic: str, reason: str, detail: str, enterprise: str) -> str:
    return (f"rejected payload on {topic}: {reason}: {detail} (further ones from {enterprise}"
            f" for {reason} are counted in a summary every minute)")


def reject(store: RejectStore, clock: FakeClock, reason: Reason, *, topic: str = TOPIC,
           enterprise: str | None = ENT, detail: str = "bad") -> None:
    store.record(topic, enterprise, [Rejection(reason, detail)], b"{", clock())


def test_first_of_each_pair_then_a_summary_a_minute(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "hazmon.ingest.rejects")
    clock = FakeClock()
    path = tmp_path / "rejects.jsonl"
    store = RejectStore(Metrics(), path)

    reject(store, clock, Reason.NOT_JSON, detail="payload is not JSON")
    assert lines(caplog) == [first(TOPIC, "not_json", "payload is not JSON", ENT)]
    for _ in range(10):  # repeats within the minute: counted, not logged
        clock.advance(ms=2000)
        reject(store, clock, Reason.NOT_JSON)
    reject(store, clock, Reason.TOO_LARGE, detail="70000 bytes")
    reject(store, clock, Reason.TOO_LARGE)
    reject(store, clock, Reason.TOO_LARGE)
    reject(store, clock, Reason.NOT_JSON, topic=TOPIC2, enterprise=ENT2, detail="x")
    reject(store, clock, Reason.WRONG_TOPIC, topic="a/b", enterprise=None, detail="topic?")
    assert lines(caplog) == [first(TOPIC, "too_large", "70000 bytes", ENT),
                             first(TOPIC2, "not_json", "x", ENT2),
                             first("a/b", "wrong_topic", "topic?", "-")]

    clock.advance(ms=60_000 - 20_000 - 1)  # the last millisecond of the minute
    store.log.flush(clock())
    assert lines(caplog) == []
    clock.advance(ms=1)  # the minute is over: the next rejection brings its summary
    reject(store, clock, Reason.NOT_JSON)
    assert lines(caplog) == [SUMMARY + f"{ENT} not_json 10, {ENT} too_large 2"]

    # the pairs of the last minute carry on: counted, and summed up at the end of this one
    reject(store, clock, Reason.TOO_LARGE)
    clock.advance(minutes=1)
    store.log.flush(clock())  # the pipeline's flush: no rejection needed for the summary
    assert lines(caplog) == [SUMMARY + f"{ENT} not_json 1, {ENT} too_large 1"]

    # a minute without any: forgotten, the next one is logged in full again
    clock.advance(minutes=1)
    store.log.flush(clock())
    clock.advance(minutes=3)
    reject(store, clock, Reason.NOT_JSON, detail="again")
    assert lines(caplog) == [first(TOPIC, "not_json", "again", ENT)]

    # the store and the metrics keep every one
    assert store.batches.get(ENT, "not_json") == 13
    assert store.batches.get(ENT, "too_large") == 4
    assert store.batches.get(ENT2, "not_json") == 1
    assert store.batches.total() == 19
    assert len(store.recent) == 19
    kept = [json.loads(line) for line in path.read_text("utf-8").splitlines()]
    assert [(k["enterprise"], k["reason"]) for k in kept].count((ENT, "not_json")) == 13
    assert len(kept) == 19


def test_single_readings_are_never_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "hazmon.ingest.rejects")
    clock = FakeClock()
    store = RejectStore(Metrics())
    for i in range(3):
        store.record(TOPIC, ENT, [Rejection(Reason.UNKNOWN_TAG, "x", i, "T", {})], b"{}",
                     clock())
        clock.advance(minutes=1)
    store.log.flush(clock())
    assert lines(caplog) == []
    assert store.readings.get(ENT, "unknown_tag") == 3


def test_a_summary_of_many_pairs_stays_one_bounded_line(
    caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "hazmon.ingest.rejects")
    clock = FakeClock()
    store = RejectStore(Metrics())
    pairs = MAX_SUMMARY_PAIRS + 5
    for i in range(pairs):
        for _ in range(2 + (i == 0)):  # the first pair once more: it heads the line
            reject(store, clock, Reason.NOT_JSON, enterprise=f"E{i:02d}")
    assert len(lines(caplog)) == pairs
    clock.advance(minutes=1)
    store.log.flush(clock())
    [line] = lines(caplog)
    named = ", ".join(["E00 not_json 2"] + [f"E{i:02d} not_json 1"
                                            for i in range(1, MAX_SUMMARY_PAIRS)])
    assert line == SUMMARY + named + ", and 5 more pairs 5"


async def test_through_the_pipeline_with_its_clock(
    registry: Registry, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Malformed telemetry from one gateway, then only its status messages: the summary of
    the minute comes with the first message after it."""
    caplog.set_level(logging.WARNING, "hazmon.ingest.rejects")
    clock = FakeClock()
    metrics = Metrics()
    influx = InfluxClient(InfluxSettings(url="http://127.0.0.1:9"))  # never reached
    sink = InfluxSink(influx, Spool(tmp_path / "spool", 1 << 20), InfluxSettings(), metrics)
    store = RejectStore(metrics, tmp_path / "rejects.jsonl")
    ingest = Ingest(registry, sink, store, IngestSettings(), metrics, clock)
    acks: list[int] = []

    async def send(n: int) -> None:  # every third one a JSON array, the others cut short
        for _ in range(n):
            payload = b"[]" if len(acks) % 3 == 0 else b'{"readings": ['
            await ingest.handle(TOPIC, payload, lambda: acks.append(1))
            clock.advance(ms=2000)

    try:
        await send(30)  # T0 .. T0 + 58 s: 10 arrays, 20 cut short
        assert lines(caplog) == [
            first(TOPIC, "wrong_shape", "batch must be a JSON object", ENT),
            first(TOPIC, "not_json",
                  "payload is not JSON: Expecting value: line 1 column 15 (char 14)", ENT)]
        await send(27)  # T0 + 60 s .. T0 + 112 s: 9 arrays, 18 cut short
        assert lines(caplog) == [SUMMARY + f"{ENT} not_json 19, {ENT} wrong_shape 9"]
        clock.advance(ms=6000)  # T0 + 120 s: the gateway sends only its status now
        await ingest.handle(f"hazmon/v1/320921/{ENT}/status",
                            orjson.dumps({"state": "online"}), lambda: None)
        assert lines(caplog) == [SUMMARY + f"{ENT} not_json 18, {ENT} wrong_shape 9"]
    finally:
        await influx.aclose()
    assert acks == [1] * 57
    assert store.batches.get(ENT, "not_json") == 38
    assert store.batches.get(ENT, "wrong_shape") == 19
    assert len((tmp_path / "rejects.jsonl").read_text("utf-8").splitlines()) == 57
