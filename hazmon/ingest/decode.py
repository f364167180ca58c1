"""Decode and validate a telemetry batch (docs/CONTRACT.md §3) in one pass.

A payload that is not a batch is rejected whole; a reading that is invalid is rejected
alone and the rest of the batch goes on. Nothing here does I/O or reads a clock: the
caller passes `now_ms`.

Two paths, one answer. `decode_fast`: msgspec decodes straight into typed structs that
accept only the contract's keys and types, and a tight loop does the checks a type cannot
(registered tag, finite value, time window); it gives up (None) at the first thing that
is not a plainly good batch. `decode_general`: orjson (the stdlib for NaN literals) into
Python objects and a check of every key, which finds each rejection with its reason, its
message and the reading as it came, and keeps the good readings. `decode` tries the
first, then the second, so every payload the fast path cannot vouch for is judged by the
general path alone (tests/ingest/test_decode_paths.py runs both on fuzzed payloads).
"""

from __future__ import annotations

import json
import math
import reprlib
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import msgspec
import orjson

from hazmon.domain.reading import Quality, Reading
from hazmon.domain.registry import Registry

# Before 2000-01-01: almost always epoch seconds sent as milliseconds, or a clock at zero.
MIN_PLAUSIBLE_MS = 946_684_800_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

MAX_SEQ = 2**63  # seq is below this


class Reason(StrEnum):
    # whole payload
    TOO_LARGE = "too_large"
    NOT_JSON = "not_json"
    NOT_UTF8 = "not_utf8"
    WRONG_SHAPE = "wrong_shape"
    TOO_MANY_READINGS = "too_many_readings"
    WRONG_TOPIC = "wrong_topic"
    UNKNOWN_ENTERPRISE = "unknown_enterprise"
    REGION_MISMATCH = "region_mismatch"
    INTERNAL_ERROR = "internal_error"  # a fault of hazmon's, not of the sender: see the log
    # one reading
    BAD_READING = "bad_reading"
    UNKNOWN_TAG = "unknown_tag"
    WRONG_TYPE = "wrong_type"
    NON_FINITE = "non_finite"
    BAD_TIME = "bad_time"
    FUTURE_TIME = "future_time"
    IMPLAUSIBLE_TIME = "implausible_time"
    BAD_QUALITY = "bad_quality"


@dataclass(frozen=True, slots=True)
class Rejection:
    reason: Reason
    detail: str
    index: int | None = None  # position of the reading in the batch; None: the whole payload
    tag: str | None = None
    item: Any = None  # the rejected reading as it came, kept for inspection


class Decoded(msgspec.Struct):  # one per message: a struct is made in C, a dataclass is not
    readings: list[Reading] = msgspec.field(default_factory=list)
    rejections: list[Rejection] = msgspec.field(default_factory=list)
    seq: int | None = None
    simulated: bool = False
    newest_ms: int | None = None  # the newest reading's time (None: no reading)

    @property
    def rejected_whole(self) -> bool:
        if not self.rejections:  # nearly every message: no generator made for it
            return False
        return any(r.index is None for r in self.rejections)


class BatchRejected(Exception):  # noqa: N818 - a rejection, not a crash
    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


_QUALITY = {q.value: q for q in Quality}
_GOOD = Quality.GOOD


# The fast path's schema: only the contract's keys (an unknown one sends the batch to the
# general path, since msgspec would skip its value without checking it the way orjson and
# the stdlib do, e.g. its UTF-8 or a 5,000-digit integer) and only the types accepted as
# they are (`value` a number but never a bool; `ts` an int64 or a string; a known quality).
class _FastReading(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    tag: str
    value: float
    ts: int | str | None = None
    quality: Quality | None = None


class _FastBatch(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    readings: list[_FastReading]
    seq: int | None = None
    ts: int | str | msgspec.UnsetType = msgspec.UNSET
    simulated: bool = False


_FAST = msgspec.json.Decoder(_FastBatch)


def _short(value: Any) -> str:
    """repr of untrusted input for a message: bounded in size and depth (a plain repr of
    a list nested a thousand deep raises RecursionError)."""
    return reprlib.repr(value)


def parse_time(value: Any) -> int:
    """RFC 3339 with an offset, or integer epoch milliseconds → UTC epoch milliseconds."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            # RFC 3339 allows a lower-case "z"; fromisoformat (3.11) takes only "Z".
            dt = datetime.fromisoformat(value[:-1] + "Z" if value.endswith("z") else value)
        except ValueError:
            raise ValueError(f"time {value!r} is not RFC 3339") from None
        if dt.tzinfo is None:
            raise ValueError(f"time {value!r} has no UTC offset")
        # Integer arithmetic: `dt.timestamp() * 1000` loses a millisecond to float
        # rounding for some times (e.g. 2039-07-06T01:24:33.693Z).
        delta = dt - _EPOCH
        return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000
    raise ValueError(f"time {_short(value)} is neither RFC 3339 nor integer epoch milliseconds")


def _loads(payload: bytes) -> Any:
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError:
        pass
    # orjson refuses NaN/Infinity literals; the stdlib takes them, so such a reading is
    # rejected alone (non-finite) instead of losing its whole batch.
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BatchRejected(Reason.NOT_UTF8, f"payload is not UTF-8: {exc.reason}") from None
    try:
        return json.loads(text)
    # ValueError: also an integer of more than 4300 digits (Python's conversion limit)
    except (ValueError, RecursionError) as exc:
        raise BatchRejected(Reason.NOT_JSON, f"payload is not JSON: {exc}") from None


class Decoder:
    """Turns one payload of one enterprise into readings and rejections."""

    def __init__(
        self,
        registry: Registry,
        *,
        max_bytes: int = 256 * 1024,
        max_readings: int = 1000,
        future_tolerance_ms: int = 300_000,
    ) -> None:
        self.registry = registry
        self.max_bytes = max_bytes
        self.max_readings = max_readings
        self.future_tolerance_ms = future_tolerance_ms

    def decode(self, region: str, enterprise: str, payload: bytes, now_ms: int) -> Decoded:
        fast = self.decode_fast(region, enterprise, payload, now_ms)
        return fast if fast is not None else self.decode_general(
            region, enterprise, payload, now_ms)

    def decode_fast(
        self, region: str, enterprise: str, payload: bytes, now_ms: int
    ) -> Decoded | None:
        """The batch when it is valid and every reading in it is; None for anything else,
        which only `decode_general` judges."""
        ent = self.registry.enterprises.get(enterprise)
        if ent is None or ent.region != region or len(payload) > self.max_bytes:
            return None
        try:
            batch = _FAST.decode(payload)
        except (msgspec.DecodeError, RecursionError):  # ValidationError is a DecodeError
            return None
        raw = batch.readings
        seq = batch.seq
        # Exact types and 64-bit ranges: orjson reads an integer beyond 64 bits as a float
        # (which the general path rejects), msgspec as an int.
        if len(raw) > self.max_readings or (
                seq is not None and (type(seq) is not int or not 0 <= seq < MAX_SEQ)):
            return None
        batch_ts: int | None
        bts = batch.ts
        if type(bts) is int:
            if not -(2**63) <= bts < 2**64:
                return None
            batch_ts = bts
        elif bts is msgspec.UNSET:
            batch_ts = None
        elif type(bts) is str:
            try:
                batch_ts = parse_time(bts)
            except ValueError:
                return None
        else:
            return None
        simulated = batch.simulated or ent.simulated
        sensors = self.registry.sensors_of(enterprise)
        latest_ok = now_ms + self.future_tolerance_ms
        readings: list[Reading] = []
        append = readings.append
        newest = MIN_PLAUSIBLE_MS
        for r in raw:
            info = sensors.get(r.tag)
            if info is None:
                return None
            value = r.value
            if value - value != 0.0:  # NaN or infinite (msgspec refuses them; cheap to be sure)
                return None
            ts = r.ts
            if ts is None:
                if batch_ts is None:
                    return None
                ts = batch_ts
            elif type(ts) is not int:
                if type(ts) is not str:
                    return None
                try:
                    ts = parse_time(ts)
                except ValueError:
                    return None
            if ts > latest_ok or ts < MIN_PLAUSIBLE_MS:
                return None
            if ts > newest:
                newest = ts
            q = r.quality
            append(Reading(info, ts, value, _GOOD if q is None else q, simulated))
        return Decoded(readings, [], seq, simulated, newest if readings else None)

    def decode_general(
        self, region: str, enterprise: str, payload: bytes, now_ms: int
    ) -> Decoded:
        """Any payload: each rejection with its reason, and the good readings kept."""
        out = Decoded()
        try:
            self._decode(region, enterprise, payload, now_ms, out)
        except BatchRejected as exc:
            out.readings.clear()
            out.rejections = [Rejection(exc.reason, exc.detail)]
        out.newest_ms = max((r.ts_ms for r in out.readings), default=None)
        return out

    def _batch(self, payload: bytes) -> tuple[dict[str, Any], list[Any]]:
        if len(payload) > self.max_bytes:
            raise BatchRejected(
                Reason.TOO_LARGE, f"payload is {len(payload)} bytes, limit {self.max_bytes}"
            )
        data = _loads(payload)
        if not isinstance(data, dict):
            raise BatchRejected(Reason.WRONG_SHAPE, "batch must be a JSON object")
        readings = data.get("readings")
        if not isinstance(readings, list):
            raise BatchRejected(Reason.WRONG_SHAPE, "batch needs a `readings` array")
        if len(readings) > self.max_readings:
            raise BatchRejected(
                Reason.TOO_MANY_READINGS,
                f"{len(readings)} readings in one batch, limit {self.max_readings}",
            )
        return data, readings

    def _decode(
        self, region: str, enterprise: str, payload: bytes, now_ms: int, out: Decoded
    ) -> None:
        ent = self.registry.enterprises.get(enterprise)
        if ent is None:
            raise BatchRejected(
                Reason.UNKNOWN_ENTERPRISE, f"enterprise {enterprise} not registered"
            )
        if ent.region != region:
            raise BatchRejected(
                Reason.REGION_MISMATCH,
                f"enterprise {enterprise} is registered in region {ent.region}, not {region}",
            )
        data, readings = self._batch(payload)
        seq = data.get("seq")
        # Below 2^63: the sequence state is saved as JSON of 64-bit integers (a larger seq
        # once stopped the service when the gap state was written).
        if seq is not None and (not isinstance(seq, int) or isinstance(seq, bool)
                                or not 0 <= seq < MAX_SEQ):
            raise BatchRejected(
                Reason.WRONG_SHAPE, f"seq {_short(seq)} must be an integer from 0 to 2^63 - 1"
            )
        out.seq = seq
        simulated = data.get("simulated", False)
        if not isinstance(simulated, bool):
            raise BatchRejected(Reason.WRONG_SHAPE, "`simulated` must be true or false")
        out.simulated = simulated = simulated or ent.simulated
        batch_ts: int | None = None
        if "ts" in data:
            try:
                batch_ts = parse_time(data["ts"])
            except ValueError as exc:
                raise BatchRejected(Reason.WRONG_SHAPE, f"batch ts: {exc}") from None

        sensors = self.registry.sensors_of(enterprise)
        latest_ok = now_ms + self.future_tolerance_ms
        append = out.readings.append
        reject = out.rejections.append
        for i, r in enumerate(readings):
            if not isinstance(r, dict):
                reject(Rejection(Reason.BAD_READING, "reading must be a JSON object", i, None, r))
                continue
            tag = r.get("tag")
            if not isinstance(tag, str):
                reject(Rejection(Reason.BAD_READING, "reading needs a string `tag`", i, None, r))
                continue
            info = sensors.get(tag)
            if info is None:
                reject(Rejection(Reason.UNKNOWN_TAG, f"tag {tag!r} not registered", i, tag, r))
                continue
            value = r.get("value")
            if type(value) is not float:
                if isinstance(value, int) and not isinstance(value, bool):
                    try:
                        value = float(value)
                    except OverflowError:  # beyond a float's range (the stdlib parses any)
                        reject(Rejection(Reason.NON_FINITE,
                                         f"value {_short(value)} is beyond a float's range",
                                         i, tag, r))
                        continue
                else:
                    reject(Rejection(
                        Reason.WRONG_TYPE, f"value {_short(value)} is not a number", i, tag, r
                    ))
                    continue
            if not math.isfinite(value):
                reject(Rejection(Reason.NON_FINITE, f"value {value!r} is not finite", i, tag, r))
                continue
            raw_ts = r.get("ts")
            if raw_ts is None:
                if batch_ts is None:
                    reject(Rejection(Reason.BAD_TIME, "no ts on reading or batch", i, tag, r))
                    continue
                ts = batch_ts
            else:
                try:
                    ts = parse_time(raw_ts)
                except ValueError as exc:
                    reject(Rejection(Reason.BAD_TIME, str(exc), i, tag, r))
                    continue
            if ts > latest_ok:
                reject(Rejection(
                    # integer division: a float one overflows on a huge integer ts
                    Reason.FUTURE_TIME,
                    f"ts {_short(ts)} is {_short((ts - now_ms) // 1000)} s in the future",
                    i, tag, r,
                ))
                continue
            if ts < MIN_PLAUSIBLE_MS:
                reject(Rejection(
                    Reason.IMPLAUSIBLE_TIME,
                    f"ts {_short(ts)} is before 2000 (seconds sent as ms?)",
                    i, tag, r,
                ))
                continue
            q = r.get("quality")
            if q is None:
                quality = Quality.GOOD
            else:
                found = _QUALITY.get(q) if isinstance(q, str) else None
                if found is None:
                    reject(Rejection(Reason.BAD_QUALITY, f"quality {_short(q)} unknown", i, tag, r))
                    continue
                quality = found
            append(Reading(info, ts, value, quality, simulated))
