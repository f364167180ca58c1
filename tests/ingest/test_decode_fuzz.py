"""Bounded fuzzing of the telemetry decoder (seeded: a failure reproduces).

Random bytes and mutated valid batches must never raise out of the decoder; a mutation
of one reading costs only that reading; every rejection says why.
"""

from __future__ import annotations

import json
import random
from typing import Any

import orjson

from hazmon.domain.registry import Registry
from hazmon.ingest.decode import Decoded, Decoder, Reason
from tests.support import ENT

NOW = 1_780_000_000_000
REGION = "320921"
TAGS = ["MHS-01.T101.LT01", "MHS-01.T101.PT01", "MHS-01.GD03"]
SEED = 20261201

ODD_VALUES: list[Any] = [
    "7", "", None, True, False, [], {}, [1.0], {"v": 1}, 10**30, 10**400, -(10**400),
    1e308, -1e308, 5e-324, float("nan"), float("inf"), float("-inf"), "NaN", "∞", "七",
    "\u0000", "\ud800", "😀" * 50,
]
ODD_TS: list[Any] = [
    "yesterday", "2026-13-01T00:00:00Z", "2026-01-01T00:00:00", "2026-01-01T00:00:00+99:00",
    1.5e12, -1, 0, 10**400, -(10**400), True, [], {}, "", "😀", NOW + 10**9,
]
ODD_QUALITY: list[Any] = ["excellent", 1, None, [], "GOOD", "good\u0000", "好"]


def check(out: Decoded, n_readings: int | None) -> None:
    """What holds for any outcome: reasons on every rejection, whole or per reading."""
    for r in out.rejections:
        assert isinstance(r.reason, Reason)
        assert r.detail
    if out.rejected_whole:
        assert len(out.rejections) == 1
        assert out.readings == []
    elif n_readings is not None:
        indexes = [r.index for r in out.rejections]
        assert len(set(indexes)) == len(indexes)
        assert len(out.readings) + len(out.rejections) == n_readings


def valid_reading(rng: random.Random, i: int) -> dict[str, Any]:
    r: dict[str, Any] = {"tag": rng.choice(TAGS), "value": rng.uniform(-1e6, 1e6),
                         "ts": NOW - rng.randrange(10**9) - i}
    if rng.random() < 0.3:
        r["quality"] = rng.choice(["good", "uncertain", "bad"])
    return r


def nested(depth: int) -> Any:
    v: Any = 1.0
    for _ in range(depth):
        v = [v]
    return v


def mutate_reading(rng: random.Random, r: dict[str, Any]) -> dict[str, Any] | Any:
    r = dict(r)
    kind = rng.randrange(9)
    if kind == 0:
        r["value"] = rng.choice(ODD_VALUES)
    elif kind == 1:
        r["ts"] = rng.choice(ODD_TS)
    elif kind == 2:
        r["quality"] = rng.choice(ODD_QUALITY)
    elif kind == 3:
        r["tag"] = rng.choice(["", "NO.SUCH", "罐区.LT01", 5, None, "x" * 5000])
    elif kind == 4:
        del r[rng.choice(list(r))]
    elif kind == 5:
        r["value"] = nested(rng.randrange(1, 200))
    elif kind == 6:
        r[rng.choice(["extra", "值", ""])] = rng.choice(ODD_VALUES)
    elif kind == 7:
        return rng.choice(ODD_VALUES)  # not an object at all
    else:
        r["value"] = rng.randrange(-(2**70), 2**70)  # an integer: still valid
    return r


def dumps(batch: Any, rng: random.Random) -> bytes:
    """Valid UTF-8 JSON, raw or \\u-escaped; the stdlib also writes NaN/Infinity literals
    and a lone surrogate as an escape, which orjson would refuse."""
    if rng.getrandbits(1):
        try:
            return json.dumps(batch, ensure_ascii=False).encode()
        except UnicodeEncodeError:  # a lone surrogate has no UTF-8 form: escape it
            pass
    return json.dumps(batch).encode()


def test_random_bytes_never_escape(registry: Registry) -> None:
    rng = random.Random(SEED)
    decoder = Decoder(registry)
    for _ in range(1500):
        payload = rng.randbytes(rng.randrange(0, 400))
        if rng.random() < 0.5:  # bytes that start like JSON reach the deeper checks
            payload = b'{"readings": [' + payload
        check(decoder.decode(REGION, ENT, payload, NOW), None)


def test_mutated_readings_cost_only_themselves(registry: Registry) -> None:
    rng = random.Random(SEED + 1)
    decoder = Decoder(registry)
    for _ in range(2000):
        readings = [valid_reading(rng, i) for i in range(rng.randrange(1, 20))]
        mutated = set(rng.sample(range(len(readings)), rng.randrange(0, len(readings) + 1)))
        sent = [mutate_reading(rng, r) if i in mutated else r for i, r in enumerate(readings)]
        out = decoder.decode(REGION, ENT, dumps({"readings": sent}, rng), NOW)
        check(out, len(sent))
        assert not out.rejected_whole
        kept = [(r.sensor.sensor.tag, r.ts_ms, r.value) for r in out.readings]
        rejected = {r.index for r in out.rejections}
        for i, r in enumerate(readings):
            if i not in mutated:
                assert (r["tag"], r["ts"], r["value"]) in kept
                assert i not in rejected


def test_mutated_bytes_and_batch_fields_never_escape(registry: Registry) -> None:
    rng = random.Random(SEED + 2)
    decoder = Decoder(registry)
    for _ in range(2000):
        batch: dict[str, Any] = {"readings": [valid_reading(rng, i)
                                              for i in range(rng.randrange(1, 10))]}
        if rng.random() < 0.3:
            batch[rng.choice(["seq", "ts", "simulated"])] = rng.choice(ODD_VALUES + ODD_TS)
        try:
            raw = orjson.dumps(batch) if rng.random() < 0.5 else dumps(batch, rng)
            payload = bytearray(raw)
        except TypeError:  # orjson will not write an integer beyond 64 bits
            payload = bytearray(dumps(batch, rng))
        for _ in range(rng.randrange(0, 4)):
            op = rng.randrange(3)
            if op == 0 and payload:
                payload[rng.randrange(len(payload))] ^= 1 << rng.randrange(8)
            elif op == 1:
                del payload[rng.randrange(len(payload) + 1):]
            else:
                at = rng.randrange(len(payload) + 1)
                payload[at:at] = rng.choice([b"\xff", b"[" * 3000, b"1" * 5000, b"\\u0000",
                                             "值".encode(), b"NaN", b"-Infinity"])
        n = len(batch["readings"])
        out = decoder.decode(REGION, ENT, bytes(payload), NOW)
        check(out, None)
        assert len(out.readings) <= n + 3


def test_too_deep_a_batch_is_rejected_whole_with_a_reason(registry: Registry) -> None:
    deep = b"[" * 5000 + b"1" + b"]" * 5000  # past both JSON parsers' nesting limits
    payload = b'{"ts": %d, "readings": [{"tag": "%s", "value": %s}]}' % (NOW, TAGS[0].encode(),
                                                                         deep)
    out = Decoder(registry).decode(REGION, ENT, payload, NOW)
    assert [r.reason for r in out.rejections] == [Reason.NOT_JSON]
