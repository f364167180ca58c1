"""The decoder's two paths against the decoder as it was (tests/ingest/decode_reference.py).

`Decoder.decode` takes msgspec's fast path for a plainly good batch and the general path
for anything else. On seeded random payloads — good batches in every form the contract
allows, and bad ones of every kind: bad readings among good ones, odd batch fields,
unknown keys, duplicate keys, flipped and cut bytes, limits — it must give exactly what
the old decoder gave: the same readings (sensor, time, value to the bit, quality,
simulated), the same rejections (reason, message, index, tag, the input as it came), the
same `seq` and `simulated`. The fast path must have answered for a large share of them,
or the comparison would test only the general path.
"""

from __future__ import annotations

import json
import random
from typing import Any

import orjson

from hazmon.domain.registry import Registry
from hazmon.ingest.decode import MIN_PLAUSIBLE_MS, Decoded, Decoder
from tests.ingest import decode_reference as ref
from tests.ingest.test_decode_fuzz import ODD_QUALITY, ODD_TS, ODD_VALUES, mutate_reading
from tests.support import ENT, ENT2

NOW = 1_780_000_000_000
REGION = "320921"
TAGS = ["MHS-01.T101.LT01", "MHS-01.T101.PT01", "MHS-01.GD03"]
SEED = 20261202
TOLERANCE = 300_000


def normal(out: Decoded | ref.Decoded) -> tuple[Any, ...]:
    """What a caller can see of an outcome, in plain values (the two modules' classes
    differ); floats by repr, so 0.0 and -0.0 stay apart."""
    readings = [(id(r.sensor), r.ts_ms, repr(r.value), type(r.value), r.quality.value,
                 r.simulated) for r in out.readings]
    rejections = [(str(r.reason), r.detail, r.index, r.tag, repr(r.item))
                  for r in out.rejections]
    return readings, rejections, out.seq, out.simulated


def rfc3339(rng: random.Random, ms: int) -> str:
    from datetime import UTC, datetime, timedelta, timezone

    dt = datetime.fromtimestamp(ms / 1000, UTC)
    form = rng.randrange(5)
    if form == 0:
        return dt.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    if form == 1:
        return dt.strftime("%Y-%m-%dT%H:%M:%S") + "z"
    if form == 2:
        return dt.astimezone(timezone(timedelta(hours=8))).isoformat(timespec="milliseconds")
    if form == 3:
        return dt.isoformat()
    return dt.astimezone(timezone(timedelta(hours=-5, minutes=-30))).isoformat()


def good_ts(rng: random.Random) -> int | str:
    ms = NOW - rng.randrange(10**9) if rng.random() < 0.95 else rng.choice(
        [NOW + TOLERANCE, NOW + TOLERANCE + 1, MIN_PLAUSIBLE_MS, MIN_PLAUSIBLE_MS - 1, NOW])
    return ms if rng.random() < 0.7 else rfc3339(rng, ms)


def good_reading(rng: random.Random, with_ts: bool) -> dict[str, Any]:
    r: dict[str, Any] = {"tag": rng.choice(TAGS)}
    r["value"] = rng.choice([rng.uniform(-1e6, 1e6), rng.randrange(-10**6, 10**6), 0.0, -0.0,
                             0, rng.randrange(2**53, 2**80), 5e-324, 1e308, -1e308,
                             round(rng.uniform(0, 100), 4)])
    if with_ts or rng.random() < 0.3:
        r["ts"] = good_ts(rng) if rng.random() < 0.98 else None
    if rng.random() < 0.3:
        r["quality"] = rng.choice(["good", "uncertain", "bad", None])
    items = list(r.items())
    rng.shuffle(items)
    return dict(items)


def good_batch(rng: random.Random) -> dict[str, Any]:
    batch_ts = rng.random() < 0.5
    batch: dict[str, Any] = {"readings": [good_reading(rng, not batch_ts)
                                          for _ in range(rng.choice([0, 1, 1, 3, 10, 40]))]}
    if batch_ts:
        batch["ts"] = good_ts(rng)
    if rng.random() < 0.6:
        batch["seq"] = rng.choice([0, 1, rng.randrange(2**63), 2**63 - 1, None])
    if rng.random() < 0.3:
        batch["simulated"] = rng.getrandbits(1) == 1
    items = list(batch.items())
    rng.shuffle(items)
    return dict(items)


def spoil(rng: random.Random, batch: dict[str, Any]) -> dict[str, Any]:
    """One way or several of making a good batch bad (or odd but still good)."""
    for _ in range(rng.randrange(1, 3)):
        kind = rng.randrange(6)
        rs = batch.get("readings", [])
        if kind <= 1 and rs:
            i = rng.randrange(len(rs))
            if isinstance(rs[i], dict) and rs[i]:
                rs[i] = mutate_reading(rng, rs[i])
        elif kind == 2:
            batch[rng.choice(["seq", "ts", "simulated"])] = rng.choice(
                ODD_VALUES + ODD_TS + [2**63, -1, 2**64, 10**30])
        elif kind == 3 and rs:
            i = rng.randrange(len(rs))
            if isinstance(rs[i], dict):
                rs[i][rng.choice(["ts", "quality", "value"])] = rng.choice(
                    ODD_TS + ODD_QUALITY + ODD_VALUES)
        elif kind == 4:
            batch[rng.choice(["note", "unit", "值"])] = rng.choice(ODD_VALUES)
        else:
            if rng.random() < 0.2:
                batch.pop("readings", None)
            else:
                rs.extend([5, None, "x"])
    return batch


def encode(batch: Any, rng: random.Random) -> bytes:
    form = rng.randrange(4)
    if form == 0:
        try:
            return orjson.dumps(batch)
        except TypeError:  # an integer beyond 64 bits
            pass
    if form == 1:
        try:
            return json.dumps(batch, ensure_ascii=False, indent=rng.choice([None, 2])).encode()
        except UnicodeEncodeError:
            pass
    return json.dumps(batch, separators=rng.choice([(",", ":"), (", ", ": ")])).encode()


def corrupt(rng: random.Random, payload: bytes) -> bytes:
    b = bytearray(payload)
    for _ in range(rng.randrange(1, 4)):
        op = rng.randrange(5)
        if op == 0 and b:
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
        elif op == 1:
            del b[rng.randrange(len(b) + 1):]
        elif op == 2:
            at = rng.randrange(len(b) + 1)
            b[at:at] = rng.choice([b"\xff", b"[" * 1100, b"1" * 5000, b"\\u0000", b"\\ud800",
                                   "值".encode(), b"NaN", b"-Infinity", b" ", b"\t", b","])
        elif op == 3:
            # a key twice: the later value counts in both JSON parsers
            b = bytearray(bytes(b).replace(b'"value":', b'"value":1,"value":', 1))
        else:
            b = bytearray(bytes(b).replace(b'"ts":', b'"ts":"x","ts":', 1))
    return bytes(b)


def payload(rng: random.Random) -> bytes:
    batch = good_batch(rng)
    roll = rng.random()
    if roll < 0.45:
        return encode(batch, rng)
    if roll < 0.8:
        return encode(spoil(rng, batch), rng)
    if roll < 0.95:
        return corrupt(rng, encode(batch, rng))
    return rng.choice([b"", b"[]", b"null", b"{}", b'{"readings": [', rng.randbytes(50),
                       b"\xef\xbb\xbf" + encode(batch, rng), encode(batch, rng) + b" x"])


def test_both_paths_give_what_the_old_decoder_gave(registry: Registry) -> None:
    rng = random.Random(SEED)
    limits: list[dict[str, int]] = [{}, {"max_readings": 5}, {"max_bytes": 300}]
    new = [Decoder(registry, future_tolerance_ms=TOLERANCE, **kw) for kw in limits]
    old = [ref.Decoder(registry, future_tolerance_ms=TOLERANCE, **kw) for kw in limits]
    fast = general = 0
    for n in range(6000):
        p = payload(rng)
        k = n % 3 if n % 10 == 0 else 0
        region, ent = rng.choice([(REGION, ENT)] * 20 + [("320902", ENT2), (REGION, ENT2),
                                                        (REGION, "91320921MA1ZZZZZ9X")])
        want = normal(old[k].decode(region, ent, p, NOW))
        assert normal(new[k].decode(region, ent, p, NOW)) == want, p
        assert normal(new[k].decode_general(region, ent, p, NOW)) == want, p
        quick = new[k].decode_fast(region, ent, p, NOW)
        if quick is None:
            general += 1
        else:
            fast += 1
            assert normal(quick) == want, p
            assert quick.rejections == []
    # both paths well exercised: a third or more of the payloads are plainly good
    print(f"fast path {fast}, general path {general}")
    assert fast > 1500
    assert general > 2500


def test_a_plain_good_batch_takes_the_fast_path(registry: Registry) -> None:
    """The contract's own example forms: the fast path answers, so good traffic is cheap."""
    dec = Decoder(registry)
    for body in [
        {"seq": 1842, "ts": "2026-05-28T10:00:00.000+08:00", "readings": [
            {"tag": TAGS[0], "value": 7.42},
            {"tag": TAGS[1], "value": 0.62, "ts": 1780000000250, "quality": "good"},
            {"tag": TAGS[2], "value": 12, "quality": "uncertain"}]},
        {"readings": [{"tag": TAGS[0], "value": 1.0, "ts": NOW}], "simulated": True},
        {"seq": 0, "readings": []},
    ]:
        out = dec.decode_fast(REGION, ENT, orjson.dumps(body), NOW)
        assert out is not None
        assert len(out.readings) == len(body["readings"])


def test_an_unknown_key_is_ignored_by_the_general_path(registry: Registry) -> None:
    """msgspec would skip an unknown key's value without the checks orjson makes (its
    UTF-8, say): such a batch is judged by the general path, and still stored."""
    dec = Decoder(registry)
    body = orjson.dumps({"readings": [{"tag": TAGS[0], "value": 1.0, "ts": NOW, "unit": "m"}],
                         "gateway": "g1"})
    assert dec.decode_fast(REGION, ENT, body, NOW) is None
    out = dec.decode(REGION, ENT, body, NOW)
    assert out.rejections == []
    assert [r.tag for r in out.readings] == [TAGS[0]]
    bad_utf8 = b'{"x": "\xff", "readings": [{"tag": "%s", "value": 1.0, "ts": %d}]}' % (
        TAGS[0].encode(), NOW)
    assert [r.reason for r in dec.decode(REGION, ENT, bad_utf8, NOW).rejections] == ["not_utf8"]
