"""Rejected input, counted and kept for inspection with a bounded size.

Recent rejections stay in memory for the API; all of them go to a JSON-lines file that
rotates once at a size limit (one previous file kept), so a flood of bad input can
neither fill the disk nor hide the first examples of a new fault. Nor can it flood the
log: payloads rejected whole are logged through hazmon.ingest.rejectlog (the first of
each enterprise and reason, then a summary a minute).
"""

from __future__ import annotations

import base64
import json
import logging
import reprlib
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from hazmon.ingest.decode import Rejection
from hazmon.ingest.rejectlog import RejectLog
from hazmon.service.metrics import Metrics

log = logging.getLogger(__name__)

MAX_KEPT_PAYLOAD = 64 * 1024


@dataclass(frozen=True, slots=True)
class RejectRecord:
    ts_ms: int
    topic: str
    enterprise: str | None
    reason: str
    detail: str
    index: int | None
    tag: str | None
    item: Any  # the rejected reading, or the (truncated) payload for a whole rejection

    def to_json(self) -> dict[str, Any]:
        return {
            "ts": self.ts_ms, "topic": self.topic, "enterprise": self.enterprise,
            "reason": self.reason, "detail": self.detail, "index": self.index,
            "tag": self.tag, "item": self.item,
        }


def _payload_for_inspection(payload: bytes) -> dict[str, Any]:
    cut = payload[:MAX_KEPT_PAYLOAD]
    try:
        return {"text": cut.decode("utf-8"), "bytes": len(payload)}
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(cut).decode("ascii"), "bytes": len(payload)}


def _json_line(rec: RejectRecord) -> bytes:
    doc = rec.to_json()
    try:
        return orjson.dumps(doc, default=repr) + b"\n"
    except TypeError:
        pass
    # orjson refuses lone surrogates ("\ud800", which the decoder's stdlib fallback takes)
    # and nesting deeper than 254: bad input must not stop ingest, so escape or shorten.
    try:
        return json.dumps(doc, default=repr).encode("ascii") + b"\n"
    except (ValueError, RecursionError):
        doc["item"] = reprlib.repr(rec.item)
        return json.dumps(doc, default=repr).encode("ascii") + b"\n"


class RejectStore:
    def __init__(
        self, metrics: Metrics, path: Path | None = None, kept: int = 1000,
        file_bytes: int = 16 * 1024**2, reject_log: RejectLog | None = None,
    ) -> None:
        self.recent: deque[RejectRecord] = deque(maxlen=kept)
        self.log = reject_log or RejectLog()
        self.path = path
        self.file_bytes = file_bytes
        self.batches = metrics.counter(
            "hazmon_ingest_rejected_payloads_total",
            "Payloads rejected whole, by enterprise and reason", ("enterprise", "reason"),
        )
        self.readings = metrics.counter(
            "hazmon_ingest_rejected_readings_total",
            "Single readings rejected, by enterprise and reason", ("enterprise", "reason"),
        )
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)

    def record(
        self, topic: str, enterprise: str | None, rejections: list[Rejection], payload: bytes,
        now_ms: int,
    ) -> None:
        lines: list[bytes] = []
        ent = enterprise or "-"
        for rej in rejections:
            if rej.index is None:
                self.batches.inc(1, ent, rej.reason.value)
                item: Any = _payload_for_inspection(payload)
                self.log.rejected(now_ms, topic, ent, rej.reason.value, rej.detail)
            else:
                self.readings.inc(1, ent, rej.reason.value)
                item = rej.item
            rec = RejectRecord(now_ms, topic, enterprise, rej.reason.value, rej.detail,
                               rej.index, rej.tag, item)
            self.recent.append(rec)
            lines.append(_json_line(rec))
        if self.path is not None and lines:
            self._append(b"".join(lines))

    def _append(self, data: bytes) -> None:
        assert self.path is not None
        try:
            if self.path.exists() and self.path.stat().st_size + len(data) > self.file_bytes:
                self.path.replace(self.path.with_suffix(self.path.suffix + ".1"))
            with self.path.open("ab") as f:
                f.write(data)
        except OSError as exc:  # inspection copy only: never stop ingest for it
            log.error("cannot write rejects file %s: %s", self.path, exc)
