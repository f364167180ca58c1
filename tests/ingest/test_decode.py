"""Decoder.decode and parse_time (docs/CONTRACT.md §3): whole rejections, single rejections,
times."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest

from hazmon.domain.reading import Quality
from hazmon.domain.registry import Registry
from hazmon.ingest.decode import MIN_PLAUSIBLE_MS, Decoded, Decoder, Reason, parse_time
from tests.support import ENT, ENT2

REGION = "320921"
NOW = 1_795_312_800_000  # 2026-11-22T02:00:00Z
BATCH_TS = NOW - 60_000
LT, PT, GD = "MHS-01.T101.LT01", "MHS-01.T101.PT01", "MHS-01.GD03"


@pytest.fixture(scope="module")
def decoder(registry: Registry) -> Decoder:
    return Decoder(registry)


def dumps(batch: Any) -> bytes:
    return orjson.dumps(batch)


def summary(decoded: Decoded) -> list[tuple[str, int, float, Quality, bool]]:
    return [(r.tag, r.ts_ms, r.value, r.quality, r.simulated) for r in decoded.readings]


def assert_whole(decoded: Decoded, reason: Reason) -> None:
    assert decoded.readings == []
    assert [(r.reason, r.index) for r in decoded.rejections] == [(reason, None)]
    assert decoded.rejected_whole
    assert decoded.rejections[0].detail


# --- the whole payload --------------------------------------------------------------------

GOOD_READING = {"tag": LT, "value": 1.0, "ts": NOW}

WHOLE_CASES: list[tuple[str, bytes, Reason]] = [
    ("not json", b'{"readings": [', Reason.NOT_JSON),
    ("empty payload", b"", Reason.NOT_JSON),
    ("not json text", b"hello", Reason.NOT_JSON),
    ("not utf-8", b'{"readings": [], "x": "\xff\xfe"}', Reason.NOT_UTF8),
    ("top level list", b"[]", Reason.WRONG_SHAPE),
    ("top level number", b"42", Reason.WRONG_SHAPE),
    ("top level string", b'"readings"', Reason.WRONG_SHAPE),
    ("readings missing", dumps({"seq": 1}), Reason.WRONG_SHAPE),
    ("readings an object", dumps({"readings": {"tag": LT}}), Reason.WRONG_SHAPE),
    ("readings null", dumps({"readings": None}), Reason.WRONG_SHAPE),
    ("1001 readings", dumps({"readings": [GOOD_READING] * 1001}), Reason.TOO_MANY_READINGS),
    ("seq negative", dumps({"seq": -1, "readings": [GOOD_READING]}), Reason.WRONG_SHAPE),
    ("seq string", dumps({"seq": "7", "readings": [GOOD_READING]}), Reason.WRONG_SHAPE),
    ("seq true", dumps({"seq": True, "readings": [GOOD_READING]}), Reason.WRONG_SHAPE),
    ("seq false", dumps({"seq": False, "readings": [GOOD_READING]}), Reason.WRONG_SHAPE),
    ("seq float", dumps({"seq": 7.0, "readings": [GOOD_READING]}), Reason.WRONG_SHAPE),
    ("batch ts garbage", dumps({"ts": "yesterday", "readings": [GOOD_READING]}),
     Reason.WRONG_SHAPE),
    ("batch ts naive", dumps({"ts": "2026-11-22T02:00:00", "readings": [GOOD_READING]}),
     Reason.WRONG_SHAPE),
    ("batch ts float", dumps({"ts": 1.7953128e12, "readings": [GOOD_READING]}),
     Reason.WRONG_SHAPE),
    ("batch ts null", dumps({"ts": None, "readings": [GOOD_READING]}), Reason.WRONG_SHAPE),
    ("simulated string", dumps({"simulated": "yes", "readings": [GOOD_READING]}),
     Reason.WRONG_SHAPE),
    ("simulated 1", dumps({"simulated": 1, "readings": [GOOD_READING]}), Reason.WRONG_SHAPE),
]


@pytest.mark.parametrize(
    ("payload", "reason"), [c[1:] for c in WHOLE_CASES], ids=[c[0] for c in WHOLE_CASES]
)
def test_a_payload_that_is_not_a_batch_is_rejected_whole(
    decoder: Decoder, payload: bytes, reason: Reason
) -> None:
    assert_whole(decoder.decode(REGION, ENT, payload, NOW), reason)


def test_too_large_is_rejected_whole_and_the_limit_itself_is_accepted(decoder: Decoder) -> None:
    limit = 256 * 1024
    body = dumps({"readings": [GOOD_READING]})
    at_limit = body[:-1] + b" " * (limit - len(body)) + b"}"
    assert len(at_limit) == limit
    ok = decoder.decode(REGION, ENT, at_limit, NOW)
    assert ok.rejections == []
    assert summary(ok) == [(LT, NOW, 1.0, Quality.GOOD, False)]

    over = body[:-1] + b" " * (limit + 1 - len(body)) + b"}"
    assert len(over) == limit + 1
    assert_whole(decoder.decode(REGION, ENT, over, NOW), Reason.TOO_LARGE)


def test_1000_readings_are_accepted(decoder: Decoder) -> None:
    out = decoder.decode(REGION, ENT, dumps({"readings": [GOOD_READING] * 1000}), NOW)
    assert out.rejections == []
    assert len(out.readings) == 1000


def test_unknown_enterprise_is_rejected_whole(decoder: Decoder) -> None:
    payload = dumps({"readings": [GOOD_READING]})
    assert_whole(
        decoder.decode(REGION, "91320921MA1ZZZZZ9X", payload, NOW), Reason.UNKNOWN_ENTERPRISE
    )


def test_region_mismatch_is_rejected_whole(decoder: Decoder) -> None:
    payload = dumps({"readings": [GOOD_READING]})
    # ENT is registered in 320921, ENT2 in 320902
    assert_whole(decoder.decode("320902", ENT, payload, NOW), Reason.REGION_MISMATCH)
    assert_whole(decoder.decode(REGION, ENT2, payload, NOW), Reason.REGION_MISMATCH)


def test_seq_and_simulated_are_returned(decoder: Decoder) -> None:
    out = decoder.decode(
        REGION, ENT, dumps({"seq": 0, "simulated": True, "readings": [GOOD_READING]}), NOW
    )
    assert out.rejections == []
    assert out.seq == 0
    assert out.simulated is True
    assert summary(out) == [(LT, NOW, 1.0, Quality.GOOD, True)]

    plain = decoder.decode(REGION, ENT, dumps({"readings": [GOOD_READING]}), NOW)
    assert plain.seq is None
    assert plain.simulated is False
    assert plain.readings[0].simulated is False


def test_empty_readings_is_a_valid_batch(decoder: Decoder) -> None:
    out = decoder.decode(REGION, ENT, dumps({"seq": 5, "readings": []}), NOW)
    assert out.readings == []
    assert out.rejections == []
    assert out.seq == 5


# --- one reading --------------------------------------------------------------------------

# Each case: (id, the bad reading as raw JSON text, reason, tag in the rejection)
READING_CASES: list[tuple[str, str, Reason, str | None]] = [
    ("not an object: number", "5", Reason.BAD_READING, None),
    ("not an object: list", f'["{PT}", 1.0]', Reason.BAD_READING, None),
    ("not an object: null", "null", Reason.BAD_READING, None),
    ("not an object: string", f'"{PT}"', Reason.BAD_READING, None),
    ("no tag", '{"value": 1.0}', Reason.BAD_READING, None),
    ("tag not a string", '{"tag": 5, "value": 1.0}', Reason.BAD_READING, None),
    ("unknown tag", '{"tag": "MHS-99.X", "value": 1.0}', Reason.UNKNOWN_TAG, "MHS-99.X"),
    ("tag of another enterprise", '{"tag": "MHS-02.GD01", "value": 1.0}', Reason.UNKNOWN_TAG,
     "MHS-02.GD01"),
    ("value string", f'{{"tag": "{PT}", "value": "0.5"}}', Reason.WRONG_TYPE, PT),
    ("value true", f'{{"tag": "{PT}", "value": true}}', Reason.WRONG_TYPE, PT),
    ("value false", f'{{"tag": "{PT}", "value": false}}', Reason.WRONG_TYPE, PT),
    ("value null", f'{{"tag": "{PT}", "value": null}}', Reason.WRONG_TYPE, PT),
    ("value missing", f'{{"tag": "{PT}"}}', Reason.WRONG_TYPE, PT),
    ("value list", f'{{"tag": "{PT}", "value": [0.5]}}', Reason.WRONG_TYPE, PT),
    ("value NaN literal", f'{{"tag": "{PT}", "value": NaN}}', Reason.NON_FINITE, PT),
    ("value Infinity literal", f'{{"tag": "{PT}", "value": Infinity}}', Reason.NON_FINITE, PT),
    ("value -Infinity literal", f'{{"tag": "{PT}", "value": -Infinity}}', Reason.NON_FINITE,
     PT),
    ("value overflows to inf", f'{{"tag": "{PT}", "value": 1e400}}', Reason.NON_FINITE, PT),
    ("ts garbage", f'{{"tag": "{PT}", "value": 0.5, "ts": "yesterday"}}', Reason.BAD_TIME, PT),
    ("ts naive rfc 3339", f'{{"tag": "{PT}", "value": 0.5, "ts": "2026-11-22T02:00:00"}}',
     Reason.BAD_TIME, PT),
    ("ts date only", f'{{"tag": "{PT}", "value": 0.5, "ts": "2026-11-22"}}', Reason.BAD_TIME,
     PT),
    ("ts float", f'{{"tag": "{PT}", "value": 0.5, "ts": 1795312800000.5}}', Reason.BAD_TIME,
     PT),
    ("ts bool", f'{{"tag": "{PT}", "value": 0.5, "ts": true}}', Reason.BAD_TIME, PT),
    ("ts object", f'{{"tag": "{PT}", "value": 0.5, "ts": {{}}}}', Reason.BAD_TIME, PT),
    ("ts 1 ms past the tolerance", f'{{"tag": "{PT}", "value": 0.5, "ts": {NOW + 300_001}}}',
     Reason.FUTURE_TIME, PT),
    ("ts an hour ahead (offset)",
     f'{{"tag": "{PT}", "value": 0.5, "ts": "2026-11-22T11:00:00+08:00"}}',
     Reason.FUTURE_TIME, PT),
    ("ts 1 ms before 2000", f'{{"tag": "{PT}", "value": 0.5, "ts": {MIN_PLAUSIBLE_MS - 1}}}',
     Reason.IMPLAUSIBLE_TIME, PT),
    ("ts epoch seconds", f'{{"tag": "{PT}", "value": 0.5, "ts": 1795312800}}',
     Reason.IMPLAUSIBLE_TIME, PT),
    ("ts negative", f'{{"tag": "{PT}", "value": 0.5, "ts": -1}}', Reason.IMPLAUSIBLE_TIME, PT),
    ("quality unknown", f'{{"tag": "{PT}", "value": 0.5, "quality": "ok"}}', Reason.BAD_QUALITY,
     PT),
    ("quality upper case", f'{{"tag": "{PT}", "value": 0.5, "quality": "GOOD"}}',
     Reason.BAD_QUALITY, PT),
    ("quality number", f'{{"tag": "{PT}", "value": 0.5, "quality": 1}}', Reason.BAD_QUALITY,
     PT),
]


@pytest.mark.parametrize(
    ("bad", "reason", "tag"), [c[1:] for c in READING_CASES], ids=[c[0] for c in READING_CASES]
)
def test_an_invalid_reading_is_rejected_alone(
    decoder: Decoder, bad: str, reason: Reason, tag: str | None
) -> None:
    payload = (
        f'{{"seq": 9, "ts": {BATCH_TS}, "readings": ['
        f'{{"tag": "{LT}", "value": 7.42}},'
        f"{bad},"
        f'{{"tag": "{GD}", "value": 12.5, "ts": "2026-11-22T09:59:30.250+08:00",'
        f' "quality": "uncertain"}}'
        f"]}}"
    ).encode()
    out = decoder.decode(REGION, ENT, payload, NOW)

    assert not out.rejected_whole
    assert out.seq == 9
    assert len(out.rejections) == 1
    rej = out.rejections[0]
    assert (rej.reason, rej.index, rej.tag) == (reason, 1, tag)
    assert rej.detail
    # kept as it came (repr: NaN != NaN)
    assert repr(rej.item) == repr(json.loads(bad))
    assert summary(out) == [
        (LT, BATCH_TS, 7.42, Quality.GOOD, False),
        (GD, NOW - 29_750, 12.5, Quality.UNCERTAIN, False),
    ]


def test_future_tolerance_edge_is_accepted(decoder: Decoder) -> None:
    edge = NOW + 300_000
    payload = dumps({"readings": [{"tag": PT, "value": 0.5, "ts": edge}]})
    out = decoder.decode(REGION, ENT, payload, NOW)
    assert out.rejections == []
    assert summary(out) == [(PT, edge, 0.5, Quality.GOOD, False)]


def test_2000_edge_is_accepted(decoder: Decoder) -> None:
    payload = dumps({"readings": [{"tag": PT, "value": 0.5, "ts": MIN_PLAUSIBLE_MS}]})
    out = decoder.decode(REGION, ENT, payload, NOW)
    assert out.rejections == []
    assert out.readings[0].ts_ms == MIN_PLAUSIBLE_MS == parse_time("2000-01-01T00:00:00Z")


def test_a_custom_future_tolerance_is_used(registry: Registry) -> None:
    strict = Decoder(registry, future_tolerance_ms=0)
    payload = dumps({"readings": [{"tag": PT, "value": 0.5, "ts": NOW},
                                  {"tag": PT, "value": 0.6, "ts": NOW + 1}]})
    out = strict.decode(REGION, ENT, payload, NOW)
    assert [r.ts_ms for r in out.readings] == [NOW]
    assert [(r.reason, r.index) for r in out.rejections] == [(Reason.FUTURE_TIME, 1)]


def test_no_ts_anywhere_rejects_only_readings_without_their_own(decoder: Decoder) -> None:
    payload = dumps({"readings": [
        {"tag": LT, "value": 1.0},
        {"tag": PT, "value": 0.5, "ts": NOW - 1000},
    ]})
    out = decoder.decode(REGION, ENT, payload, NOW)
    assert [(r.reason, r.index, r.tag) for r in out.rejections] == [(Reason.BAD_TIME, 0, LT)]
    assert summary(out) == [(PT, NOW - 1000, 0.5, Quality.GOOD, False)]


def test_several_bad_readings_each_get_their_own_rejection(decoder: Decoder) -> None:
    payload = (
        f'{{"ts": {BATCH_TS}, "readings": ['
        f'{{"tag": "{LT}", "value": NaN}},'
        f'{{"tag": "{PT}", "value": 0.5}},'
        f'{{"tag": "nope", "value": 1}},'
        f'{{"tag": "{GD}", "value": Infinity}},'
        f'{{"tag": "{GD}", "value": 3}}'
        f"]}}"
    ).encode()
    out = decoder.decode(REGION, ENT, payload, NOW)
    assert [(r.reason, r.index) for r in out.rejections] == [
        (Reason.NON_FINITE, 0), (Reason.UNKNOWN_TAG, 2), (Reason.NON_FINITE, 3),
    ]
    assert summary(out) == [
        (PT, BATCH_TS, 0.5, Quality.GOOD, False),
        (GD, BATCH_TS, 3.0, Quality.GOOD, False),
    ]


def test_deeply_nested_junk_is_rejected_not_raised(decoder: Decoder) -> None:
    deep = "[" * 1000 + "]" * 1000
    payload = (
        f'{{"ts": {BATCH_TS}, "readings": [{{"tag": "{PT}", "value": {deep}}},'
        f'{{"tag": "{PT}", "value": 1, "ts": {deep}}},'
        f'{{"tag": "{PT}", "value": 1, "quality": {deep}}},'
        f'{{"tag": "{LT}", "value": 2}}]}}'
    ).encode()
    out = decoder.decode(REGION, ENT, payload, NOW)
    assert [r.reason for r in out.rejections] == [
        Reason.WRONG_TYPE, Reason.BAD_TIME, Reason.BAD_QUALITY,
    ]
    assert all(len(r.detail) < 200 for r in out.rejections)
    assert summary(out) == [(LT, BATCH_TS, 2.0, Quality.GOOD, False)]

    seq = f'{{"seq": {deep}, "readings": []}}'.encode()
    assert_whole(decoder.decode(REGION, ENT, seq, NOW), Reason.WRONG_SHAPE)


# --- good readings ------------------------------------------------------------------------


def test_the_contract_example(decoder: Decoder, registry: Registry) -> None:
    payload = b"""{
      "seq": 1842,
      "ts": "2026-11-22T10:00:00.000+08:00",
      "readings": [
        {"tag": "MHS-01.T101.LT01", "value": 7.42},
        {"tag": "MHS-01.T101.PT01", "value": 0.62, "ts": 1795312800250, "quality": "good"},
        {"tag": "MHS-01.GD03", "value": 12.5, "quality": "uncertain"}
      ]
    }"""
    out = decoder.decode(REGION, ENT, payload, NOW)
    assert out.rejections == []
    assert out.seq == 1842
    assert summary(out) == [
        (LT, NOW, 7.42, Quality.GOOD, False),
        (PT, NOW + 250, 0.62, Quality.GOOD, False),
        (GD, NOW, 12.5, Quality.UNCERTAIN, False),
    ]
    assert out.readings[2].sensor is registry.sensor(ENT, GD)
    assert out.readings[2].enterprise == ENT


def test_ints_are_floats_and_quality_defaults_to_good(decoder: Decoder) -> None:
    payload = dumps({"ts": NOW, "readings": [
        {"tag": LT, "value": 7},
        {"tag": PT, "value": 0, "quality": "bad"},
        {"tag": GD, "value": -3},
    ]})
    out = decoder.decode(REGION, ENT, payload, NOW)
    assert out.rejections == []
    assert [(r.value, type(r.value), r.quality) for r in out.readings] == [
        (7.0, float, Quality.GOOD), (0.0, float, Quality.BAD), (-3.0, float, Quality.GOOD),
    ]


def test_reading_ts_overrides_batch_ts(decoder: Decoder) -> None:
    payload = dumps({"ts": "2026-11-22T01:00:00Z", "readings": [
        {"tag": LT, "value": 1.0},
        {"tag": PT, "value": 2.0, "ts": "2026-11-22T01:30:00Z"},
        {"tag": GD, "value": 3.0, "ts": NOW - 5},
    ]})
    out = decoder.decode(REGION, ENT, payload, NOW)
    assert [r.ts_ms for r in out.readings] == [NOW - 3_600_000, NOW - 1_800_000, NOW - 5]


def test_late_readings_are_kept(decoder: Decoder) -> None:
    week_ago = NOW - 7 * 86_400_000
    out = decoder.decode(REGION, ENT, dumps({"readings": [
        {"tag": LT, "value": 1.0, "ts": week_ago}]}), NOW)
    assert out.rejections == []
    assert out.readings[0].ts_ms == week_ago


# --- parse_time ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("2026-11-22T02:00:00Z", NOW),
        ("2026-11-22T02:00:00.000Z", NOW),
        ("2026-11-22T02:00:00+00:00", NOW),
        ("2026-11-22T10:00:00.000+08:00", NOW),
        ("2026-11-21T21:00:00-05:00", NOW),
        ("2026-11-22T07:30:00+05:30", NOW),
        ("2026-11-22T02:00:00.250Z", NOW + 250),
        ("2026-11-22T02:00:00.999+08:00", NOW - 8 * 3_600_000 + 999),
        ("2026-11-22T02:00:00.123456Z", NOW + 123),  # sub-millisecond part dropped
        ("2026-11-22T02:00:00z", NOW),
        ("2000-01-01T00:00:00Z", 946_684_800_000),
        ("2000-01-01T08:00:00+08:00", 946_684_800_000),
        ("1970-01-01T00:00:00Z", 0),
        # float rounding of timestamp() * 1000 used to lose a millisecond on these
        ("2039-07-06T01:24:33.693Z", 2_193_528_273_693),
        ("2038-09-10T09:42:49.752Z", 2_167_724_569_752),
    ],
)
def test_parse_time_rfc3339_to_utc_ms(text: str, ms: int) -> None:
    assert parse_time(text) == ms


def test_parse_time_every_millisecond_of_a_second_is_exact() -> None:
    base = parse_time("2039-07-06T01:24:33Z")
    for m in range(1000):
        assert parse_time(f"2039-07-06T01:24:33.{m:03d}Z") == base + m


@pytest.mark.parametrize("ms", [0, MIN_PLAUSIBLE_MS, NOW, NOW + 1, 2**53])
def test_parse_time_integer_ms_passthrough(ms: int) -> None:
    assert parse_time(ms) == ms


@pytest.mark.parametrize(
    "value",
    ["", "yesterday", "2026-11-22T02:00:00", "2026-11-22", "2026-13-01T00:00:00Z",
     "2026-11-22T25:00:00Z", NOW + 0.5, float(NOW), True, False, None, [NOW], {"ms": NOW}],
)
def test_parse_time_refuses(value: Any) -> None:
    with pytest.raises(ValueError, match="time"):
        parse_time(value)
