"""The warning store: warnings, their history, latches and pending pushes, in the alarm
database (`hazmon.alerts.sql.Database`, SQLite or PostgreSQL).

Every step of a warning is written in one transaction with its history row, its entry in
the hash-chained audit (`hazmon.alerts.audit`, action ``warning.<event>``, the warning's
id in the entry's `alarm_id` column) and the pushes it asks for, so a restart finds the
warnings, their feedback deadlines (the `deadline_ms` column) and every push not yet
delivered exactly as they were. One open warning per subject is a unique index: a second
one cannot be written even by two processes racing.

The tables have their own schema-version table (`warnings_schema`), as the API tokens do,
so the alarm store's migrations and these never step on each other.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from hazmon.alerts import audit
from hazmon.alerts.sql import Database, StoreConflict, Tx, Where, migrate_schema
from hazmon.warnings.levels import WarningLevel
from hazmon.warnings.lifecycle import EarlyWarning, Step, WarningEvent, WarningState
from hazmon.warnings.records import (
    event_from_record,
    event_to_record,
    from_record,
    to_record,
)

log = logging.getLogger(__name__)

# version -> statements. Append new versions, never edit a released one.
MIGRATIONS: dict[int, list[str]] = {
    1: [
        """CREATE TABLE warnings (
            id TEXT PRIMARY KEY,
            enterprise TEXT NOT NULL,
            subject TEXT NOT NULL,
            hazard_source TEXT,
            region TEXT NOT NULL,
            level TEXT NOT NULL,
            level_rank INTEGER NOT NULL,
            state TEXT NOT NULL,
            is_open INTEGER NOT NULL,
            overdue INTEGER NOT NULL,
            simulated INTEGER NOT NULL,
            reviewer TEXT NOT NULL,
            deadline_ms BIGINT,
            opened_at BIGINT NOT NULL,
            closed_at BIGINT,
            history_len INTEGER NOT NULL,
            doc TEXT NOT NULL
        )""",
        "CREATE UNIQUE INDEX warnings_open_subject ON warnings (enterprise, subject)"
        " WHERE is_open = 1",
        "CREATE INDEX warnings_region ON warnings (region, id)",
        "CREATE INDEX warnings_deadline ON warnings (deadline_ms) WHERE is_open = 1",
        """CREATE TABLE warning_history (
            warning_id TEXT NOT NULL REFERENCES warnings (id),
            seq INTEGER NOT NULL,
            ts_ms BIGINT NOT NULL,
            event TEXT NOT NULL,
            actor TEXT NOT NULL,
            doc TEXT NOT NULL,
            PRIMARY KEY (warning_id, seq)
        )""",
        """CREATE TABLE warning_latches (
            enterprise TEXT NOT NULL,
            subject TEXT NOT NULL,
            codes TEXT NOT NULL,
            PRIMARY KEY (enterprise, subject)
        )""",
        """CREATE TABLE warning_pushes (
            id {serial_pk},
            warning_id TEXT NOT NULL REFERENCES warnings (id),
            event_seq INTEGER NOT NULL,
            channel TEXT NOT NULL,
            recipient TEXT NOT NULL,
            payload TEXT NOT NULL,
            dedup_key TEXT NOT NULL UNIQUE,
            simulated INTEGER NOT NULL,
            status TEXT NOT NULL,
            attempts INTEGER NOT NULL,
            created_at BIGINT NOT NULL,
            due_at BIGINT NOT NULL,
            sent_at BIGINT,
            last_error TEXT
        )""",
        "CREATE INDEX warning_pushes_due ON warning_pushes (status, due_at)",
        "CREATE INDEX warning_pushes_warning ON warning_pushes (warning_id, id)",
    ],
}
SCHEMA_VERSION = max(MIGRATIONS)

ENTERPRISE_SUBJECT = "@enterprise"  # the subject of an enterprise-wide warning


def subject_of(hazard_source: str | None) -> str:
    return hazard_source if hazard_source is not None else ENTERPRISE_SUBJECT


async def migrate(db: Database) -> None:
    await migrate_schema(db, "warnings_schema", MIGRATIONS, "warnings")


def _text(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), default=str)


def _without(codes: frozenset[str]) -> Callable[[frozenset[str]], frozenset[str]]:
    return lambda held: held - codes


async def _relatch_in(tx: Tx, enterprise: str, subject: str,
                      change: Callable[[frozenset[str]], frozenset[str]]) -> None:
    row = await tx.fetchone(
        "SELECT codes FROM warning_latches WHERE enterprise = ? AND subject = ?",
        (enterprise, subject))
    held = frozenset(json.loads(row[0])) if row is not None else frozenset()
    codes = change(held)
    if codes == held:
        return
    await tx.execute("DELETE FROM warning_latches WHERE enterprise = ? AND subject = ?",
                     (enterprise, subject))
    if codes:
        await tx.execute(
            "INSERT INTO warning_latches (enterprise, subject, codes) VALUES (?, ?, ?)",
            (enterprise, subject, _text(sorted(codes))))


# --- pushes --------------------------------------------------------------------------------


class PushStatus(StrEnum):
    PENDING = "pending"  # to be delivered at due_at (first try or a retry)
    SENT = "sent"
    FAILED = "failed"  # given up: refused for good, or out of attempts


@dataclass(frozen=True, slots=True)
class NewPush:
    """One delivery a step asks for: one channel, one recipient (or a group post)."""

    channel: str
    recipient: Mapping[str, Any]  # targets.Recipient as a dict, or {"kind": "group", ...}
    payload: Mapping[str, Any]  # the message: the warning, the step, the text
    key: str  # unique within the step: the recipient's identity on the channel


@dataclass(frozen=True, slots=True)
class Push:
    id: int
    warning_id: str
    event_seq: int
    channel: str
    recipient: Mapping[str, Any]
    payload: Mapping[str, Any]
    simulated: bool
    status: PushStatus
    attempts: int
    created_at_ms: int
    due_at_ms: int
    sent_at_ms: int | None
    last_error: str | None


_PUSH_COLS = ("id, warning_id, event_seq, channel, recipient, payload, simulated, status,"
              " attempts, created_at, due_at, sent_at, last_error")


def _push(r: Sequence[Any]) -> Push:
    return Push(int(r[0]), r[1], int(r[2]), r[3], json.loads(r[4]), json.loads(r[5]),
                bool(r[6]), PushStatus(r[7]), int(r[8]), int(r[9]), int(r[10]),
                None if r[11] is None else int(r[11]), r[12])


# --- queries -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WarningFilter:
    """What the API filters on; every field left None matches everything."""

    region_prefix: str | None = None
    enterprise: str | None = None
    hazard_source: str | None = None
    level: Sequence[WarningLevel] | None = None
    state: Sequence[WarningState] | None = None
    open: bool | None = None
    overdue: bool | None = None
    simulated: bool | None = None
    since_ms: int | None = None  # opened at or after
    until_ms: int | None = None  # opened before
    ids: Sequence[str] | None = None

    def where(self) -> tuple[str, list[object]]:
        w = Where()
        w.region_prefix(self.region_prefix)
        w.eq("enterprise", self.enterprise)
        w.eq("hazard_source", self.hazard_source)
        w.among("level", self.level)
        w.among("state", self.state)
        w.among("id", self.ids)
        w.flag("is_open", self.open)
        w.flag("overdue", self.overdue)
        w.flag("simulated", self.simulated)
        w.since_until("opened_at", self.since_ms, self.until_ms)
        return w.sql()


# Open before closed, overdue first, gravest first, newest first: what a duty officer
# looks at first.
ORDER = " ORDER BY is_open DESC, overdue DESC, level_rank, id DESC"


@dataclass(frozen=True, slots=True)
class Saved:
    """What a transaction wrote: the step and the ids of the pushes it queued."""

    step: Step
    pushes: tuple[int, ...] = field(default_factory=tuple)


Act = Callable[[EarlyWarning], Awaitable[tuple[Step, Sequence[NewPush]]]]


class WarningStore:
    """`await WarningStore.open(db)` on an open Database (e.g. `alarm_store.db`)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @classmethod
    async def open(cls, db: Database) -> WarningStore:
        await migrate(db)
        return cls(db)

    # --- writes ---------------------------------------------------------------------------

    async def save(self, step: Step, *, created: bool,
                   pushes: Sequence[NewPush] = ()) -> Saved:
        """Write one step (an opening when `created`) with its history, audit entry and
        pushes. A second open warning for the subject raises StoreConflict."""
        async with self.db.transaction() as tx:
            ids = await self._save_in(tx, step, created=created, pushes=pushes)
        return Saved(step, ids)

    async def act(self, warning_id: str, act: Act) -> Saved | None:
        """Read a warning, let `act` decide its step, and write it, in one transaction:
        nobody changes the warning in between. None when there is no such warning;
        whatever `act` raises (a refusal) leaves everything as it was."""
        async with self.db.transaction() as tx:
            row = await tx.fetchone("SELECT doc FROM warnings WHERE id = ?", (warning_id,))
            if row is None:
                return None
            step, pushes = await act(from_record(json.loads(row[0])))
            ids = await self._save_in(tx, step, created=False, pushes=pushes)
        return Saved(step, ids)

    async def _save_in(self, tx: Tx, step: Step, *, created: bool,
                       pushes: Sequence[NewPush]) -> tuple[int, ...]:
        w, e = step.warning, step.event
        doc = _text(to_record(w))
        cols = (w.enterprise, subject_of(w.hazard_source), w.hazard_source, w.region,
                w.level.value, w.level.rank, w.state.value, int(w.is_open), int(w.overdue),
                int(w.simulated), w.reviewer.value, w.deadline_ms, w.opened_at_ms,
                w.closed_at_ms, w.history_len, doc)
        if created:
            await tx.execute(
                "INSERT INTO warnings (id, enterprise, subject, hazard_source, region, level,"
                " level_rank, state, is_open, overdue, simulated, reviewer, deadline_ms,"
                " opened_at, closed_at, history_len, doc)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (w.id, *cols),
            )
        else:
            # Guarded by the history length it was read at: a change made by another
            # process in between is a conflict, never a lost update.
            changed = await tx.execute(
                "UPDATE warnings SET enterprise = ?, subject = ?, hazard_source = ?,"
                " region = ?, level = ?, level_rank = ?, state = ?, is_open = ?,"
                " overdue = ?, simulated = ?, reviewer = ?, deadline_ms = ?, opened_at = ?,"
                " closed_at = ?, history_len = ?, doc = ? WHERE id = ? AND history_len = ?",
                (*cols, w.id, e.seq - 1),
            )
            if changed != 1:
                raise StoreConflict(f"warning {w.id} changed concurrently")
        event = event_to_record(e)
        await tx.execute(
            "INSERT INTO warning_history (warning_id, seq, ts_ms, event, actor, doc)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (e.warning_id, e.seq, e.at_ms, e.event, e.actor, _text(event)),
        )
        await audit.append(
            tx, ts_ms=e.at_ms, actor=e.actor, action=f"warning.{e.event}", alarm_id=w.id,
            payload=json.loads(_text({
                **event, "enterprise": w.enterprise, "hazard_source": w.hazard_source,
                "region": w.region, "level": w.level.value, "simulated": w.simulated})),
        )
        if e.event == "accepted":  # closed on these reasons: latched until they clear once
            codes = frozenset(r.code for r in w.reasons)
            await _relatch_in(tx, w.enterprise, subject_of(w.hazard_source),
                              lambda held: held | codes)
        ids: list[int] = []
        for p in pushes:
            await tx.execute(
                "INSERT INTO warning_pushes (warning_id, event_seq, channel, recipient,"
                " payload, dedup_key, simulated, status, attempts, created_at, due_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)",
                (w.id, e.seq, p.channel, _text(dict(p.recipient)), _text(dict(p.payload)),
                 f"{w.id}:{e.seq}:{p.channel}:{p.key}", int(w.simulated),
                 PushStatus.PENDING.value, e.at_ms, e.at_ms),
            )
            row = await tx.fetchone(
                "SELECT id FROM warning_pushes WHERE dedup_key = ?",
                (f"{w.id}:{e.seq}:{p.channel}:{p.key}",),
            )
            if row is not None:
                ids.append(int(row[0]))
        return tuple(ids)

    # --- reads ----------------------------------------------------------------------------

    async def get(self, warning_id: str) -> EarlyWarning | None:
        row = await self.db.fetchone("SELECT doc FROM warnings WHERE id = ?", (warning_id,))
        return from_record(json.loads(row[0])) if row else None

    async def history(self, warning_id: str) -> list[WarningEvent]:
        rows = await self.db.fetchall(
            "SELECT doc FROM warning_history WHERE warning_id = ? ORDER BY seq", (warning_id,)
        )
        return [event_from_record(json.loads(r[0])) for r in rows]

    async def query(self, flt: WarningFilter | None = None, *, limit: int = 100,
                    offset: int = 0) -> tuple[list[EarlyWarning], int]:
        """A page in ORDER and the number matching in all."""
        where, params = (flt or WarningFilter()).where()
        async with self.db.transaction(write=False) as tx:
            total = await tx.fetchone(f"SELECT COUNT(*) FROM warnings{where}", params)
            rows = await tx.fetchall(f"SELECT doc FROM warnings{where}{ORDER} LIMIT ? OFFSET ?",
                                     (*params, limit, offset))
        return [from_record(json.loads(r[0])) for r in rows], int(total[0]) if total else 0

    async def query_all(self, flt: WarningFilter | None = None) -> list[EarlyWarning]:
        """Every warning matching, in ORDER (a report's period: not paged)."""
        where, params = (flt or WarningFilter()).where()
        rows = await self.db.fetchall(f"SELECT doc FROM warnings{where}{ORDER}", params)
        return [from_record(json.loads(r[0])) for r in rows]

    async def histories(self, warning_ids: Sequence[str]) -> dict[str, list[WarningEvent]]:
        """The history of each warning named (for reports: on time, returned, closed)."""
        out: dict[str, list[WarningEvent]] = {i: [] for i in warning_ids}
        ids = list(out)
        for start in range(0, len(ids), 500):  # bounded IN lists
            chunk = ids[start:start + 500]
            rows = await self.db.fetchall(
                "SELECT doc FROM warning_history WHERE warning_id IN"
                f" ({', '.join('?' for _ in chunk)}) ORDER BY warning_id, seq", chunk)
            for r in rows:
                e = event_from_record(json.loads(r[0]))
                out[e.warning_id].append(e)
        return out

    async def open_warnings(self) -> list[EarlyWarning]:
        rows = await self.db.fetchall("SELECT doc FROM warnings WHERE is_open = 1 ORDER BY id")
        return [from_record(json.loads(r[0])) for r in rows]

    async def overdue_due(self, now_ms: int) -> list[EarlyWarning]:
        """Open warnings whose feedback deadline has passed (the deadline timer's input)."""
        rows = await self.db.fetchall(
            "SELECT doc FROM warnings WHERE is_open = 1 AND deadline_ms IS NOT NULL"
            " AND deadline_ms <= ? ORDER BY deadline_ms, id", (now_ms,))
        return [from_record(json.loads(r[0])) for r in rows]

    # --- latches (see lifecycle.decide) ---------------------------------------------------

    async def latches(self) -> dict[tuple[str, str | None], frozenset[str]]:
        rows = await self.db.fetchall("SELECT enterprise, subject, codes FROM warning_latches")
        return {(r[0], None if r[1] == ENTERPRISE_SUBJECT else r[1]): frozenset(json.loads(r[2]))
                for r in rows}

    async def unlatch(self, drops: Mapping[tuple[str, str | None], frozenset[str]]) -> None:
        """Forget latched codes whose conditions cleared (only those: a close that
        latched codes meanwhile keeps them)."""
        drops = {k: v for k, v in drops.items() if v}
        if not drops:
            return
        async with self.db.transaction() as tx:
            for (enterprise, source), codes in drops.items():
                await _relatch_in(tx, enterprise, subject_of(source), _without(codes))

    # --- pushes ---------------------------------------------------------------------------

    async def due_pushes(self, now_ms: int, limit: int = 100) -> list[Push]:
        rows = await self.db.fetchall(
            f"SELECT {_PUSH_COLS} FROM warning_pushes WHERE status = ? AND due_at <= ?"
            " ORDER BY due_at, id LIMIT ?", (PushStatus.PENDING.value, now_ms, limit))
        return [_push(r) for r in rows]

    async def pushes(self, warning_id: str | None = None) -> list[Push]:
        sql = f"SELECT {_PUSH_COLS} FROM warning_pushes"
        params: tuple[object, ...] = ()
        if warning_id is not None:
            sql += " WHERE warning_id = ?"
            params = (warning_id,)
        rows = await self.db.fetchall(sql + " ORDER BY id", params)
        return [_push(r) for r in rows]

    async def next_push_due(self) -> int | None:
        row = await self.db.fetchone(
            "SELECT MIN(due_at) FROM warning_pushes WHERE status = ?",
            (PushStatus.PENDING.value,))
        return None if row is None or row[0] is None else int(row[0])

    async def push_sent(self, push_id: int, now_ms: int) -> None:
        async with self.db.transaction() as tx:
            await tx.execute(
                "UPDATE warning_pushes SET status = ?, attempts = attempts + 1, sent_at = ?,"
                " last_error = NULL WHERE id = ?", (PushStatus.SENT.value, now_ms, push_id))

    async def push_failed(self, push_id: int, error: str, retry_at_ms: int | None) -> None:
        """A failed attempt: tried again at `retry_at_ms`, or given up when None."""
        status = PushStatus.PENDING if retry_at_ms is not None else PushStatus.FAILED
        async with self.db.transaction() as tx:
            await tx.execute(
                "UPDATE warning_pushes SET status = ?, attempts = attempts + 1,"
                " due_at = COALESCE(?, due_at), last_error = ? WHERE id = ?",
                (status.value, retry_at_ms, error[:500], push_id))
