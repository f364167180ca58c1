"""The alarm store: current state of every occurrence, its history, the notification
outbox, escalation state and the audit log, in one database (SQLite file by default,
PostgreSQL with the same code, see `sql.py`).

The `alarms` table keeps the whole record as JSON (`doc`) plus the columns the API filters
and sorts on; both are written by the same statement. A partial unique index allows one
open occurrence per signal key, so a duplicate raise cannot slip in even under a race.
The schema is created and migrated at open (`schema_version`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hazmon.alerts import audit, claims
from hazmon.alerts.errors import StoreError
from hazmon.alerts.lifecycle import Alarm, AlarmState, HistoryEntry, Overlay
from hazmon.alerts.sql import Database, Tx, Where, connect_migrated, migrate_schema_in
from hazmon.domain.signal import PRIORITY_RANK, Category, Priority

log = logging.getLogger(__name__)

# version -> statements; append new versions, never edit a released one.
MIGRATIONS: dict[int, list[str]] = {
    1: [
        """CREATE TABLE alarms (
            id TEXT PRIMARY KEY,
            enterprise TEXT NOT NULL,
            region TEXT NOT NULL,
            hazard_source TEXT NOT NULL,
            tag TEXT,
            subject TEXT NOT NULL,
            rule TEXT NOT NULL,
            category TEXT NOT NULL,
            priority TEXT NOT NULL,
            priority_rank INTEGER NOT NULL,
            tier INTEGER,
            simulated INTEGER NOT NULL,
            state TEXT NOT NULL,
            is_open INTEGER NOT NULL,
            quiet TEXT,
            shelved_until BIGINT,
            raised_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL,
            cleared_at BIGINT,
            acked_at BIGINT,
            closed_at BIGINT,
            value DOUBLE PRECISION,
            limit_value DOUBLE PRECISION,
            message TEXT NOT NULL,
            doc TEXT NOT NULL
        )""",
        "CREATE UNIQUE INDEX alarms_open_key ON alarms (enterprise, subject, rule)"
        " WHERE is_open = 1",
        "CREATE INDEX alarms_region ON alarms (region, id)",
        "CREATE INDEX alarms_enterprise ON alarms (enterprise, id)",
        "CREATE INDEX alarms_raised ON alarms (raised_at)",
        "CREATE INDEX alarms_shelved ON alarms (shelved_until) WHERE is_open = 1",
        """CREATE TABLE alarm_history (
            id {serial_pk},
            alarm_id TEXT NOT NULL REFERENCES alarms (id),
            seq INTEGER NOT NULL,
            ts_ms BIGINT NOT NULL,
            event TEXT NOT NULL,
            actor TEXT NOT NULL,
            from_state TEXT NOT NULL,
            to_state TEXT NOT NULL,
            data TEXT NOT NULL,
            UNIQUE (alarm_id, seq)
        )""",
        """CREATE TABLE outbox (
            id {serial_pk},
            alarm_id TEXT,
            kind TEXT NOT NULL,
            target TEXT,
            payload TEXT NOT NULL,
            dedup_key TEXT UNIQUE,
            created_at BIGINT NOT NULL,
            due_at BIGINT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            status TEXT NOT NULL,
            sent_at BIGINT,
            last_error TEXT
        )""",
        "CREATE INDEX outbox_due ON outbox (status, due_at)",
        """CREATE TABLE escalations (
            alarm_id TEXT PRIMARY KEY REFERENCES alarms (id),
            priority TEXT NOT NULL,
            step INTEGER NOT NULL,
            started_at BIGINT NOT NULL,
            next_at BIGINT,
            status TEXT NOT NULL,
            updated_at BIGINT NOT NULL,
            note TEXT
        )""",
        "CREATE INDEX escalations_due ON escalations (status, next_at)",
        # Standing suppressions (a hazard source shut down) and removals from service
        # (a sensor or hazard source under maintenance): applied to every new occurrence.
        """CREATE TABLE holds (
            kind TEXT NOT NULL,
            enterprise TEXT NOT NULL,
            hazard_source TEXT NOT NULL,
            tag TEXT NOT NULL,
            actor TEXT NOT NULL,
            reason TEXT NOT NULL,
            since_ms BIGINT NOT NULL,
            PRIMARY KEY (kind, enterprise, hazard_source, tag)
        )""",
        *audit.DDL,
    ],
    # The notification pipeline's plan and record (hazmon.alerts.notify): one row per
    # (notification, channel, recipient), so a retry resends only what failed, a restart
    # never resends what was delivered, and floods are grouped per recipient.
    2: [
        """CREATE TABLE notify_deliveries (
            id {serial_pk},
            notification_id BIGINT NOT NULL,
            alarm_id TEXT,
            channel TEXT NOT NULL,
            recipient TEXT NOT NULL,
            recipient_doc TEXT NOT NULL,
            group_key TEXT NOT NULL,
            dedup_key TEXT NOT NULL,
            priority TEXT NOT NULL,
            status TEXT NOT NULL,
            reason TEXT,
            created_at BIGINT NOT NULL,
            held_at BIGINT,
            done_at BIGINT,
            digest_id TEXT,
            UNIQUE (notification_id, channel, recipient)
        )""",
        "CREATE INDEX notify_deliveries_group ON notify_deliveries (group_key, status, done_at)",
        "CREATE INDEX notify_deliveries_dedup ON notify_deliveries (dedup_key, channel,"
        " recipient)",
        "CREATE INDEX notify_deliveries_alarm ON notify_deliveries (alarm_id, id)",
        "CREATE INDEX alarm_history_ts ON alarm_history (event, ts_ms)",
    ],
}
SCHEMA_VERSION = max(MIGRATIONS)


async def migrate(db: Database) -> int:
    """Bring the schema to SCHEMA_VERSION; return the version found before."""
    async with db.transaction() as tx:
        found = await migrate_schema_in(tx, "schema_version", MIGRATIONS, "database")
        await claims.migrate_in(tx)  # several instances (claims.py): its own versions
    return found


# --- the record <-> row codec --------------------------------------------------------------


def _alarm_doc(a: Alarm) -> dict[str, Any]:
    return {
        "id": a.id, "enterprise": a.enterprise, "hazard_source": a.hazard_source,
        "tag": a.tag, "rule": a.rule, "category": a.category.value,
        "priority": a.priority.value, "region": a.region, "tier": a.tier,
        "simulated": a.simulated, "state": a.state.value, "value": a.value,
        "limit": a.limit, "message": a.message, "raised_at_ms": a.raised_at_ms,
        "active_at_ms": a.active_at_ms, "updated_at_ms": a.updated_at_ms,
        "cleared_at_ms": a.cleared_at_ms, "acked_at_ms": a.acked_at_ms,
        "acked_by": a.acked_by, "closed_at_ms": a.closed_at_ms,
        "activations": a.activations,
        "shelved": a.shelved.to_dict() if a.shelved else None,
        "suppressed": a.suppressed.to_dict() if a.suppressed else None,
        "out_of_service": a.out_of_service.to_dict() if a.out_of_service else None,
        "details": dict(a.details), "history_len": a.history_len,
    }


def alarm_from_doc(text: str) -> Alarm:
    d = json.loads(text)
    return Alarm(
        id=d["id"], enterprise=d["enterprise"], hazard_source=d["hazard_source"],
        tag=d["tag"], rule=d["rule"], category=Category(d["category"]),
        priority=Priority(d["priority"]), region=d["region"], tier=d["tier"],
        simulated=d["simulated"], state=AlarmState(d["state"]), value=d["value"],
        limit=d["limit"], message=d["message"], raised_at_ms=d["raised_at_ms"],
        active_at_ms=d["active_at_ms"], updated_at_ms=d["updated_at_ms"],
        cleared_at_ms=d["cleared_at_ms"], acked_at_ms=d["acked_at_ms"],
        acked_by=d["acked_by"], closed_at_ms=d["closed_at_ms"],
        activations=d["activations"], shelved=Overlay.from_dict(d["shelved"]),
        suppressed=Overlay.from_dict(d["suppressed"]),
        out_of_service=Overlay.from_dict(d["out_of_service"]),
        details=d["details"], history_len=d["history_len"],
    )


def _doc_text(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), default=str)


_ALARM_COLS = (
    "id, enterprise, region, hazard_source, tag, subject, rule, category, priority,"
    " priority_rank, tier, simulated, state, is_open, quiet, shelved_until, raised_at,"
    " updated_at, cleared_at, acked_at, closed_at, value, limit_value, message, doc"
)


def _alarm_row(a: Alarm) -> tuple[object, ...]:
    if a.raised_at_ms is None or a.updated_at_ms is None:
        raise StoreError(f"alarm {a.id} was never raised; nothing to store")
    return (
        a.id, a.enterprise, a.region, a.hazard_source, a.tag, a.subject, a.rule,
        a.category.value, a.priority.value, PRIORITY_RANK[a.priority], a.tier,
        int(a.simulated), a.state.value, int(a.is_open), a.quiet_reason,
        a.shelved.until_ms if a.shelved else None, a.raised_at_ms, a.updated_at_ms,
        a.cleared_at_ms, a.acked_at_ms, a.closed_at_ms, a.value, a.limit, a.message,
        _doc_text(_alarm_doc(a)),
    )


def _entry_from_row(r: Sequence[Any]) -> HistoryEntry:
    return HistoryEntry(
        alarm_id=r[0], seq=int(r[1]), ts_ms=int(r[2]), event=r[3], actor=r[4],
        from_state=AlarmState(r[5]), to_state=AlarmState(r[6]), data=json.loads(r[7]),
    )


# --- queries -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AlarmFilter:
    """What the API filters on; every field left None matches everything."""

    region_prefix: str | None = None  # "32" a province, "3209" a city, "320921" a county
    enterprise: str | None = None
    hazard_source: str | None = None
    tag: str | None = None
    rule: str | None = None
    tier: Sequence[int] | None = None
    state: Sequence[AlarmState] | None = None
    priority: Sequence[Priority] | None = None
    category: Category | None = None
    open: bool | None = None
    simulated: bool | None = None
    since_ms: int | None = None  # raised at or after
    until_ms: int | None = None  # raised before

    def where(self) -> tuple[str, list[object]]:
        w = Where()
        w.region_prefix(self.region_prefix)
        for col in ("enterprise", "hazard_source", "tag", "rule"):
            w.eq(col, getattr(self, col))
        w.among("tier", self.tier)
        w.among("state", self.state)
        w.among("priority", self.priority)
        w.eq("category", self.category)
        w.flag("is_open", self.open)
        w.flag("simulated", self.simulated)
        w.since_until("raised_at", self.since_ms, self.until_ms)
        return w.sql()


@dataclass(frozen=True, slots=True)
class AlarmEventRow:
    """One raised / cleared / acknowledged history entry with its occurrence's scope
    columns: the input of the alarm KPIs (hazmon.alerts.kpis)."""

    alarm_id: str
    enterprise: str
    region: str
    hazard_source: str
    subject: str
    rule: str
    priority: Priority
    tier: int | None
    simulated: bool
    raised_at_ms: int
    event: str  # raised (each activation, reactivations too) | cleared | acknowledged
    ts_ms: int


KPI_EVENTS = ("raised", "cleared", "acknowledged")


@dataclass(frozen=True, slots=True)
class Page:
    items: list[Alarm]
    next_cursor: str | None  # pass back as `cursor` for the next (older) page


MAX_PAGE = 1000


class AlarmStore:
    """Open with `await AlarmStore.open(url)` (creates/migrates the schema); close it."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @classmethod
    async def open(cls, url: str) -> AlarmStore:
        return cls(await connect_migrated(url, migrate))

    async def close(self) -> None:
        await self.db.close()

    async def __aenter__(self) -> AlarmStore:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # writes, inside the caller's transaction ---------------------------------------------

    @staticmethod
    async def save(tx: Tx, alarm: Alarm, entry: HistoryEntry | None, *, created: bool) -> None:
        """Insert (created) or update an occurrence, and add its history entry."""
        row = _alarm_row(alarm)
        if created:
            marks = ", ".join("?" for _ in row)
            await tx.execute(f"INSERT INTO alarms ({_ALARM_COLS}) VALUES ({marks})", row)
        else:
            cols = [c.strip() for c in _ALARM_COLS.split(",")][1:]
            sets = ", ".join(f"{c} = ?" for c in cols)
            changed = await tx.execute(
                f"UPDATE alarms SET {sets} WHERE id = ?", (*row[1:], alarm.id)
            )
            if changed != 1:
                raise StoreError(f"alarm {alarm.id} not in the store")
        if entry is not None:
            await tx.execute(
                "INSERT INTO alarm_history (alarm_id, seq, ts_ms, event, actor, from_state,"
                " to_state, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (entry.alarm_id, entry.seq, entry.ts_ms, entry.event, entry.actor,
                 entry.from_state.value, entry.to_state.value, _doc_text(dict(entry.data))),
            )

    @staticmethod
    async def get_in(tx: Tx, alarm_id: str) -> Alarm | None:
        row = await tx.fetchone("SELECT doc FROM alarms WHERE id = ?", (alarm_id,))
        return alarm_from_doc(row[0]) if row else None

    @staticmethod
    async def open_by_key_in(tx: Tx, key: tuple[str, str, str]) -> Alarm | None:
        row = await tx.fetchone(
            "SELECT doc FROM alarms WHERE enterprise = ? AND subject = ? AND rule = ?"
            " AND is_open = 1",
            key,
        )
        return alarm_from_doc(row[0]) if row else None

    @staticmethod
    async def open_alarms_in(tx: Tx, enterprise: str, hazard_source: str | None = None,
                             tag: str | None = None) -> list[Alarm]:
        flt = AlarmFilter(enterprise=enterprise, hazard_source=hazard_source, tag=tag,
                          open=True)
        where, params = flt.where()
        rows = await tx.fetchall(f"SELECT doc FROM alarms{where} ORDER BY id", params)
        return [alarm_from_doc(r[0]) for r in rows]

    # reads --------------------------------------------------------------------------------

    async def get(self, alarm_id: str) -> Alarm | None:
        row = await self.db.fetchone("SELECT doc FROM alarms WHERE id = ?", (alarm_id,))
        return alarm_from_doc(row[0]) if row else None

    async def history(self, alarm_id: str) -> list[HistoryEntry]:
        rows = await self.db.fetchall(
            "SELECT alarm_id, seq, ts_ms, event, actor, from_state, to_state, data"
            " FROM alarm_history WHERE alarm_id = ? ORDER BY seq",
            (alarm_id,),
        )
        return [_entry_from_row(r) for r in rows]

    async def get_with_history(self, alarm_id: str) -> tuple[Alarm, list[HistoryEntry]] | None:
        async with self.db.transaction(write=False) as tx:
            alarm = await self.get_in(tx, alarm_id)
            if alarm is None:
                return None
            rows = await tx.fetchall(
                "SELECT alarm_id, seq, ts_ms, event, actor, from_state, to_state, data"
                " FROM alarm_history WHERE alarm_id = ? ORDER BY seq",
                (alarm_id,),
            )
        return alarm, [_entry_from_row(r) for r in rows]

    async def open_by_key(self, key: tuple[str, str, str]) -> Alarm | None:
        """The open occurrence of a signal key (for deduplicating raises), if any."""
        async with self.db.transaction(write=False) as tx:
            return await self.open_by_key_in(tx, key)

    async def query(self, flt: AlarmFilter | None = None, *, limit: int = 100,
                    cursor: str | None = None) -> Page:
        """Newest first (ids sort by raise time); keyset paging by `cursor`."""
        limit = max(1, min(limit, MAX_PAGE))
        where, params = (flt or AlarmFilter()).where()
        if cursor is not None:
            where += (" AND" if where else " WHERE") + " id < ?"
            params.append(cursor)
        rows = await self.db.fetchall(
            f"SELECT doc FROM alarms{where} ORDER BY id DESC LIMIT ?", (*params, limit + 1)
        )
        items = [alarm_from_doc(r[0]) for r in rows[:limit]]
        return Page(items, items[-1].id if len(rows) > limit else None)

    async def change_mark(self) -> int:
        """Where the change feed stands: the highest history entry id (0 for none). Every
        write of an occurrence adds a history entry (AlarmService._step), whose serial id
        orders the writes: `changed_since(mark)` returns what was written after it."""
        row = await self.db.fetchone("SELECT MAX(id) FROM alarm_history")
        return int(row[0]) if row and row[0] is not None else 0

    async def changed_since(self, mark: int) -> list[Alarm]:
        """The occurrences (as they are now, newest first) with a history entry after
        `mark`, an earlier `change_mark()`."""
        rows = await self.db.fetchall(
            "SELECT doc FROM alarms WHERE id IN"
            " (SELECT alarm_id FROM alarm_history WHERE id > ?) ORDER BY id DESC", (mark,))
        return [alarm_from_doc(r[0]) for r in rows]

    async def count(self, flt: AlarmFilter | None = None) -> int:
        where, params = (flt or AlarmFilter()).where()
        row = await self.db.fetchone(f"SELECT COUNT(*) FROM alarms{where}", params)
        return int(row[0]) if row else 0

    async def open_alarms(self, *, enterprise: str, hazard_source: str | None = None,
                          tag: str | None = None) -> list[Alarm]:
        async with self.db.transaction(write=False) as tx:
            return await self.open_alarms_in(tx, enterprise, hazard_source, tag)

    async def kpi_events(self, flt: AlarmFilter | None, since_ms: int,
                         until_ms: int) -> list[AlarmEventRow]:
        """Activations, clears and acknowledgements before `until_ms` of every occurrence in
        scope that was open at some time in [since_ms, until_ms): enough to count the
        period's activations and to tell which alarms were still active at its end.
        `flt.since_ms/until_ms` (raise time) are ignored: the period decides."""
        base = flt or AlarmFilter()
        scope = AlarmFilter(
            region_prefix=base.region_prefix, enterprise=base.enterprise,
            hazard_source=base.hazard_source, tag=base.tag, rule=base.rule, tier=base.tier,
            priority=base.priority, category=base.category, simulated=base.simulated,
        )
        where, params = scope.where()
        cond = " AND ".join(
            p for p in (where.removeprefix(" WHERE "),
                        "raised_at < ?", "(closed_at IS NULL OR closed_at >= ?)") if p
        )
        rows = await self.db.fetchall(
            "SELECT a.id, a.enterprise, a.region, a.hazard_source, a.subject, a.rule,"
            " a.priority, a.tier, a.simulated, a.raised_at, h.event, h.ts_ms"
            " FROM alarm_history h JOIN alarms a ON a.id = h.alarm_id"
            f" WHERE h.alarm_id IN (SELECT id FROM alarms WHERE {cond})"
            f" AND h.event IN ({', '.join('?' for _ in KPI_EVENTS)}) AND h.ts_ms < ?"
            " ORDER BY h.ts_ms, a.id, h.seq",
            (*params, until_ms, since_ms, *KPI_EVENTS, until_ms),
        )
        return [
            AlarmEventRow(
                alarm_id=r[0], enterprise=r[1], region=r[2], hazard_source=r[3],
                subject=r[4], rule=r[5], priority=Priority(r[6]),
                tier=None if r[7] is None else int(r[7]), simulated=bool(r[8]),
                raised_at_ms=int(r[9]), event=r[10], ts_ms=int(r[11]),
            )
            for r in rows
        ]

    async def shelve_expired(self, now_ms: int) -> list[str]:
        """Ids of open alarms whose shelve has run out."""
        rows = await self.db.fetchall(
            "SELECT id FROM alarms WHERE is_open = 1 AND shelved_until IS NOT NULL"
            " AND shelved_until <= ? ORDER BY shelved_until, id",
            (now_ms,),
        )
        return [r[0] for r in rows]
