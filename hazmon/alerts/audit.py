"""Append-only, tamper-evident audit log: a hash chain in the alarm database.

Each entry is (seq, ts_ms, actor, action, alarm_id, payload) with
    hash = SHA-256(prev_hash + canonical JSON of the entry)
and prev_hash the previous entry's hash (64 zeros for the first). Changing, removing or
inserting any entry breaks the chain from that point, which `verify_chain` finds. An
entry is written in the same transaction as the state change it records, so the log and
the alarm tables cannot disagree. (Cutting entries off the end cannot be seen from the
chain alone: record `VerifyResult.head_hash` somewhere else, e.g. a daily report, to pin
it.)
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hazmon.alerts.errors import StoreError
from hazmon.alerts.sql import Database, Tx, connect

log = logging.getLogger(__name__)

GENESIS = "0" * 64

DDL = [
    """CREATE TABLE audit_log (
        seq BIGINT PRIMARY KEY,
        ts_ms BIGINT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        alarm_id TEXT,
        payload TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    )""",
    "CREATE INDEX audit_log_alarm ON audit_log (alarm_id, seq)",
]


def canonical_json(obj: Any) -> str:
    """One text for one value: sorted keys, no spaces, UTF-8 kept, no NaN."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    seq: int
    ts_ms: int
    actor: str
    action: str
    alarm_id: str | None
    payload: Mapping[str, Any]
    prev_hash: str
    hash: str


def entry_hash(prev_hash: str, seq: int, ts_ms: int, actor: str, action: str,
               alarm_id: str | None, payload: Any) -> str:
    body = canonical_json({"seq": seq, "ts_ms": ts_ms, "actor": actor, "action": action,
                           "alarm_id": alarm_id, "payload": payload})
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


async def append(tx: Tx, *, ts_ms: int, actor: str, action: str, alarm_id: str | None,
                 payload: Mapping[str, Any]) -> AuditEntry:
    """Add one entry inside the caller's transaction (the state change it records)."""
    if tx.dialect.lock_audit:
        await tx.execute(tx.dialect.lock_audit)
    head = await tx.fetchone("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
    seq, prev = (int(head[0]) + 1, str(head[1])) if head else (1, GENESIS)
    body = dict(payload)
    text = canonical_json(body)
    digest = entry_hash(prev, seq, ts_ms, actor, action, alarm_id, body)
    await tx.execute(
        "INSERT INTO audit_log (seq, ts_ms, actor, action, alarm_id, payload, prev_hash, hash)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (seq, ts_ms, actor, action, alarm_id, text, prev, digest),
    )
    return AuditEntry(seq, ts_ms, actor, action, alarm_id, body, prev, digest)


async def record(db: Database, *, ts_ms: int, actor: str, action: str,
                 payload: Mapping[str, Any]) -> AuditEntry:
    """An entry in a transaction of its own: an event that changes no alarm (the security
    events: a registry reload, a gateway account, a minute's failed sign-ins)."""
    async with db.transaction() as tx:
        return await append(tx, ts_ms=ts_ms, actor=actor, action=action, alarm_id=None,
                            payload=payload)


async def entries(db: Database, *, alarm_id: str | None = None, after_seq: int = 0,
                  limit: int = 1000) -> list[AuditEntry]:
    """Read entries in order (all, or one alarm's), for display and export."""
    sql = ("SELECT seq, ts_ms, actor, action, alarm_id, payload, prev_hash, hash"
           " FROM audit_log WHERE seq > ?")
    params: list[object] = [after_seq]
    if alarm_id is not None:
        sql += " AND alarm_id = ?"
        params.append(alarm_id)
    sql += " ORDER BY seq LIMIT ?"
    params.append(limit)
    rows = await db.fetchall(sql, params)
    return [AuditEntry(int(r[0]), int(r[1]), r[2], r[3], r[4], json.loads(r[5]), r[6], r[7])
            for r in rows]


@dataclass(frozen=True, slots=True)
class VerifyResult:
    ok: bool
    checked: int  # entries walked
    head_seq: int  # last good entry (0 when none)
    head_hash: str  # its hash: keep it elsewhere to detect truncation later
    broken_seq: int | None = None  # the first entry that is wrong
    problem: str | None = None

    def __str__(self) -> str:
        if self.ok:
            return f"audit chain ok: {self.checked} entries, head {self.head_seq} {self.head_hash}"
        return f"audit chain broken at seq {self.broken_seq}: {self.problem}"


async def verify_chain(db: Database, *, page: int = 1000) -> VerifyResult:
    """Walk the whole chain in seq order; return the first broken entry, or ok."""
    expected, prev = 1, GENESIS
    while True:
        rows = await db.fetchall(
            "SELECT seq, ts_ms, actor, action, alarm_id, payload, prev_hash, hash"
            " FROM audit_log WHERE seq >= ? ORDER BY seq LIMIT ?",
            (expected, page),
        )
        if not rows:
            return VerifyResult(True, expected - 1, expected - 1, prev)
        for seq, ts_ms, actor, action, alarm_id, payload_text, prev_hash, digest in rows:
            problem = _check(int(seq), expected, prev, int(ts_ms), actor, action, alarm_id,
                             payload_text, prev_hash, digest)
            if problem is not None:
                log.warning("audit chain broken at seq %d: %s", seq, problem)
                return VerifyResult(False, expected - 1, expected - 1, prev, int(seq), problem)
            prev, expected = digest, expected + 1


def _check(seq: int, expected: int, prev: str, ts_ms: int, actor: str, action: str,
           alarm_id: str | None, payload_text: str, prev_hash: str, digest: str) -> str | None:
    if seq != expected:
        return f"gap in sequence: expected seq {expected}, found {seq}"
    if prev_hash != prev:
        return "prev_hash does not match the previous entry's hash"
    try:
        payload = json.loads(payload_text)
    except (TypeError, ValueError):
        return "payload is not valid JSON"
    if canonical_json(payload) != payload_text:
        return "payload is not in canonical form (edited)"
    if entry_hash(prev, seq, ts_ms, actor, action, alarm_id, payload) != digest:
        return "hash mismatch: the entry's content was changed"
    return None


async def verify_audit(db_url: str) -> VerifyResult:
    """Verify the audit chain of the database at `db_url` (for `hazmon audit verify`)."""
    db = await connect(db_url, create=False)
    try:
        return await verify_chain(db)
    except StoreError as exc:
        raise StoreError(f"cannot verify the audit log: {exc}") from exc
    finally:
        await db.close()
