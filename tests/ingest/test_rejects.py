"""RejectStore: counted per enterprise and reason, kept in memory and in a rotating file."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from hazmon.core.metrics import Metrics
from hazmon.domain.registry import Registry
from hazmon.ingest.decode import Decoder, Reason, Rejection
from hazmon.ingest.rejects import MAX_KEPT_PAYLOAD, RejectStore
from tests.support import ENT, ENT2

TOPIC = f"hazmon/v1/320921/{ENT}/telemetry"
NOW = 1_795_312_800_000


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


def test_counters_per_enterprise_and_reason(tmp_path: Path) -> None:
    m = Metrics()
    store = RejectStore(m, tmp_path / "rejects.jsonl")
    store.record(TOPIC, ENT, [Rejection(Reason.NOT_JSON, "x")], b"{", NOW)
    store.record(TOPIC, ENT, [Rejection(Reason.NOT_JSON, "x")], b"{", NOW)
    store.record(TOPIC, ENT2, [Rejection(Reason.TOO_LARGE, "x")], b"{}", NOW)
    store.record("bad/topic", None, [Rejection(Reason.WRONG_TOPIC, "x")], b"{}", NOW)
    store.record(TOPIC, ENT, [
        Rejection(Reason.UNKNOWN_TAG, "x", 0, "T1", {"tag": "T1"}),
        Rejection(Reason.UNKNOWN_TAG, "x", 3, "T2", {"tag": "T2"}),
        Rejection(Reason.NON_FINITE, "x", 4, "T3", {"tag": "T3"}),
    ], b"{}", NOW)

    assert store.batches.get(ENT, "not_json") == 2
    assert store.batches.get(ENT2, "too_large") == 1
    assert store.batches.get("-", "wrong_topic") == 1  # no enterprise known
    assert store.batches.get(ENT, "unknown_tag") == 0
    assert store.batches.total() == 4
    assert store.readings.get(ENT, "unknown_tag") == 2
    assert store.readings.get(ENT, "non_finite") == 1
    assert store.readings.total() == 3
    text = m.render()
    assert ('hazmon_ingest_rejected_payloads_total{enterprise="91320921MA1XXXXX0Q",'
            'reason="not_json"} 2') in text
    assert ('hazmon_ingest_rejected_readings_total{enterprise="91320921MA1XXXXX0Q",'
            'reason="unknown_tag"} 2') in text


def test_recent_is_bounded_and_keeps_the_newest() -> None:
    store = RejectStore(Metrics(), None, kept=3)
    for i in range(5):
        store.record(TOPIC, ENT, [Rejection(Reason.UNKNOWN_TAG, f"d{i}", i, f"T{i}", i)],
                     b"{}", NOW + i)
    assert [r.detail for r in store.recent] == ["d2", "d3", "d4"]
    last = store.recent[-1]
    assert (last.ts_ms, last.topic, last.enterprise, last.reason, last.index, last.tag,
            last.item) == (NOW + 4, TOPIC, ENT, "unknown_tag", 4, "T4", 4)


def test_no_file_without_a_path(tmp_path: Path) -> None:
    store = RejectStore(Metrics(), None)
    store.record(TOPIC, ENT, [Rejection(Reason.NOT_JSON, "x")], b"{", NOW)
    assert len(store.recent) == 1
    assert list(tmp_path.iterdir()) == []


def test_jsonl_file_content(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "rejects.jsonl"  # the directory is created
    store = RejectStore(Metrics(), path)
    store.record(TOPIC, ENT, [Rejection(Reason.NOT_JSON, "payload is not JSON")], b'{"re',
                 NOW)
    store.record(TOPIC, ENT, [
        Rejection(Reason.UNKNOWN_TAG, "tag 'X' not registered", 2, "X", {"tag": "X", "v": 1}),
    ], b"{}", NOW + 1)
    store.record(TOPIC, None, [Rejection(Reason.NOT_UTF8, "not utf-8")], b"\xff\xfe", NOW + 2)
    store.record(TOPIC, ENT, [], b"ignored", NOW + 3)  # nothing to record

    assert read_jsonl(path) == [
        {"ts": NOW, "topic": TOPIC, "enterprise": ENT, "reason": "not_json",
         "detail": "payload is not JSON", "index": None, "tag": None,
         "item": {"text": '{"re', "bytes": 4}},
        {"ts": NOW + 1, "topic": TOPIC, "enterprise": ENT, "reason": "unknown_tag",
         "detail": "tag 'X' not registered", "index": 2, "tag": "X",
         "item": {"tag": "X", "v": 1}},
        {"ts": NOW + 2, "topic": TOPIC, "enterprise": None, "reason": "not_utf8",
         "detail": "not utf-8", "index": None, "tag": None,
         "item": {"base64": base64.b64encode(b"\xff\xfe").decode(), "bytes": 2}},
    ]


def test_a_whole_payload_is_kept_truncated(tmp_path: Path) -> None:
    path = tmp_path / "rejects.jsonl"
    store = RejectStore(Metrics(), path, file_bytes=10 * 1024**2)
    payload = b"a" * (MAX_KEPT_PAYLOAD + 100)
    store.record(TOPIC, ENT, [Rejection(Reason.TOO_LARGE, "big")], payload, NOW)
    (rec,) = read_jsonl(path)
    assert rec["item"] == {"text": "a" * MAX_KEPT_PAYLOAD, "bytes": MAX_KEPT_PAYLOAD + 100}


def test_rotation_at_file_bytes_keeps_one_previous_file(tmp_path: Path) -> None:
    path = tmp_path / "rejects.jsonl"
    old = path.with_name("rejects.jsonl.1")
    store = RejectStore(Metrics(), path, file_bytes=1024)

    def rec(i: int) -> None:
        store.record(TOPIC, ENT, [Rejection(Reason.UNKNOWN_TAG, f"r{i:03d}" + "x" * 100, 0,
                                            "T", None)], b"{}", NOW + i)

    size = 0
    i = 0
    while True:  # fill to just below the limit
        rec(i)
        i += 1
        new_size = path.stat().st_size
        line = new_size - size
        size = new_size
        if size + line > 1024:
            break
    assert not old.exists()
    before = read_jsonl(path)

    rec(i)  # would pass the limit: the file moves to .1 and a new one starts
    assert read_jsonl(old) == before
    assert [r["ts"] for r in read_jsonl(path)] == [NOW + i]

    # fill again: the second rotation replaces .1; only one previous file is kept
    n = len(before)
    for j in range(i + 1, i + n + 1):
        rec(j)
    assert [r["ts"] for r in read_jsonl(old)] == [NOW + k for k in range(i, i + n)]
    assert [r["ts"] for r in read_jsonl(path)] == [NOW + i + n]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rejects.jsonl", "rejects.jsonl.1"]
    assert path.stat().st_size <= 1024
    assert old.stat().st_size <= 1024


def test_several_rejections_of_one_payload_are_written_together(tmp_path: Path) -> None:
    path = tmp_path / "rejects.jsonl"
    store = RejectStore(Metrics(), path)
    store.record(TOPIC, ENT, [
        Rejection(Reason.UNKNOWN_TAG, "a", 0, "A", {"tag": "A"}),
        Rejection(Reason.BAD_QUALITY, "b", 1, "B", {"tag": "B", "quality": "ok"}),
    ], b"{}", NOW)
    assert [(r["index"], r["reason"]) for r in read_jsonl(path)] == [
        (0, "unknown_tag"), (1, "bad_quality"),
    ]


def test_hostile_readings_are_recorded_not_raised(tmp_path: Path, registry: Registry) -> None:
    """Input the decoder accepts but orjson cannot write back: lone surrogates and NaN
    (through the decoder's stdlib fallback), nesting deeper than orjson writes. Recording
    must not raise: the exception would stop ingest, and the message, never acknowledged,
    would come back."""
    deep = "[" * 300 + "]" * 300
    stdlib_payload = (
        '{"ts": 1795312800000, "readings": ['
        '{"tag": "\\ud800", "value": 1},'
        '{"tag": "MHS-01.GD03", "value": NaN, "note": "\\udfff"},'
        f'{{"tag": "MHS-01.GD03", "value": {deep}}},'
        '{"tag": "MHS-01.GD03", "value": 1.5}]}'
    ).encode()
    deeper = "[" * 1000 + "]" * 1000  # orjson reads up to 1024 levels
    orjson_payload = (
        f'{{"ts": 1795312800000, "readings": [{{"tag": "MHS-01.GD03", "value": {deeper}}},'
        '{"tag": "MHS-01.GD03", "value": 2.5}]}'
    ).encode()
    decoder = Decoder(registry)
    first = decoder.decode("320921", ENT, stdlib_payload, NOW)
    second = decoder.decode("320921", ENT, orjson_payload, NOW)
    assert [r.index for r in first.rejections] == [0, 1, 2]
    assert [r.index for r in second.rejections] == [0]
    assert [r.value for r in first.readings + second.readings] == [1.5, 2.5]

    path = tmp_path / "rejects.jsonl"
    store = RejectStore(Metrics(), path)
    store.record(TOPIC, ENT, first.rejections, stdlib_payload, NOW)
    store.record(TOPIC, ENT, second.rejections, orjson_payload, NOW)

    recs = read_jsonl(path)
    assert [(r["index"], r["reason"]) for r in recs] == [
        (0, "unknown_tag"), (1, "non_finite"), (2, "wrong_type"), (0, "wrong_type"),
    ]
    assert recs[0]["tag"] == "\ud800"
    assert recs[1]["item"]["note"] == "\udfff"
    assert recs[2]["item"]["value"] == json.loads(deep)
    assert isinstance(recs[3]["item"], str)  # too deep to keep as JSON: kept as a repr
    assert store.readings.total() == 4
