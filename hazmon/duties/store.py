"""The duty store: commitments, run states, 包保 records and hidden dangers, roll calls and
patrols, in the alarm database (SQLite or PostgreSQL, `hazmon.alerts.sql`).

Its own schema-version table (`duties_schema`), so the alarm store's migrations and these
never step on each other. Every change by a person is also an entry of the alarm audit
chain, in the same transaction: the audit is one place for what people did.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from hazmon.alerts import audit
from hazmon.alerts.sql import Database, Row, StoreConflict, Tx, migrate_schema
from hazmon.duties.chain import ChainRole, DutyRecord, HiddenDanger
from hazmon.duties.commitment import Commitment, CommitmentInput
from hazmon.duties.patrol import PatrolCheck, PatrolDraw, PatrolRecord
from hazmon.duties.rollcall import RollCall
from hazmon.duties.runstate import RunState, RunStateRecord

log = logging.getLogger(__name__)

__all__ = ["DutyStore", "PatrolDraw", "RunStateChange", "StoredCommitment", "migrate"]

# version -> statements; append new versions, never edit a released one.
MIGRATIONS: dict[int, list[str]] = {
    1: [
        """CREATE TABLE duty_commitments (
            enterprise TEXT NOT NULL,
            day TEXT NOT NULL,
            filed_at BIGINT NOT NULL,
            filed_by TEXT NOT NULL,
            late INTEGER NOT NULL,
            body TEXT NOT NULL,
            text TEXT NOT NULL,
            PRIMARY KEY (enterprise, day)
        )""",
        """CREATE TABLE duty_run_states (
            enterprise TEXT NOT NULL,
            hazard_source TEXT NOT NULL,
            state TEXT NOT NULL,
            since_ms BIGINT NOT NULL,
            set_by TEXT NOT NULL,
            reason TEXT,
            expected_end_ms BIGINT,
            PRIMARY KEY (enterprise, hazard_source)
        )""",
        """CREATE TABLE duty_run_state_history (
            id {serial_pk},
            enterprise TEXT NOT NULL,
            hazard_source TEXT NOT NULL,
            state TEXT NOT NULL,
            at_ms BIGINT NOT NULL,
            set_by TEXT NOT NULL,
            origin TEXT NOT NULL,
            reason TEXT,
            expected_end_ms BIGINT
        )""",
        "CREATE INDEX duty_run_state_history_source ON duty_run_state_history"
        " (enterprise, hazard_source, id)",
        """CREATE TABLE duty_records (
            id TEXT PRIMARY KEY,
            enterprise TEXT NOT NULL,
            hazard_source TEXT NOT NULL,
            role TEXT NOT NULL,
            person TEXT NOT NULL,
            at_ms BIGINT NOT NULL,
            checked TEXT NOT NULL,
            filed_by TEXT NOT NULL,
            filed_at BIGINT NOT NULL
        )""",
        "CREATE INDEX duty_records_source ON duty_records (enterprise, hazard_source, at_ms)",
        """CREATE TABLE duty_hidden_dangers (
            id TEXT PRIMARY KEY,
            record_id TEXT NOT NULL,
            description TEXT NOT NULL,
            fix_by TEXT NOT NULL,
            fixed_at BIGINT,
            fixed_by TEXT
        )""",
        """CREATE TABLE duty_roll_calls (
            id TEXT PRIMARY KEY,
            enterprise TEXT NOT NULL,
            called_at BIGINT NOT NULL,
            deadline BIGINT NOT NULL,
            called_by TEXT NOT NULL,
            answered_at BIGINT,
            answered_by TEXT
        )""",
        "CREATE INDEX duty_roll_calls_enterprise ON duty_roll_calls (enterprise, called_at)",
        "CREATE INDEX duty_roll_calls_time ON duty_roll_calls (called_at)",
        """CREATE TABLE duty_patrol_draws (
            county TEXT NOT NULL,
            day TEXT NOT NULL,
            seed TEXT NOT NULL,
            enterprises TEXT NOT NULL,
            drawn_at BIGINT NOT NULL,
            PRIMARY KEY (county, day)
        )""",
        """CREATE TABLE duty_patrol_records (
            id {serial_pk},
            enterprise TEXT NOT NULL,
            day TEXT NOT NULL,
            official TEXT NOT NULL,
            at_ms BIGINT NOT NULL,
            findings TEXT NOT NULL,
            note TEXT NOT NULL
        )""",
        "CREATE INDEX duty_patrol_records_day ON duty_patrol_records (day, enterprise)",
        # The loop's own marks: scheduled calls made, seeds of the day, when duties began.
        """CREATE TABLE duty_marks (
            name TEXT PRIMARY KEY,
            val TEXT NOT NULL
        )""",
    ],
    # The duty loop reads only what can still be due or overdue (`duty_records_in_force`):
    # each source and role's latest record, the holiday window, the unfixed dangers.
    2: [
        "CREATE INDEX duty_records_role ON duty_records (enterprise, hazard_source, role,"
        " at_ms)",
        "CREATE INDEX duty_records_time ON duty_records (at_ms)",
        "CREATE INDEX duty_hidden_dangers_record ON duty_hidden_dangers (record_id)",
        "CREATE INDEX duty_hidden_dangers_open ON duty_hidden_dangers (fixed_at, record_id)",
    ],
}
SCHEMA_VERSION = max(MIGRATIONS)


async def migrate(db: Database) -> None:
    await migrate_schema(db, "duties_schema", MIGRATIONS, "duties")


@dataclass(frozen=True, slots=True)
class StoredCommitment:
    commitment: Commitment
    late: bool


@dataclass(frozen=True, slots=True)
class RunStateChange:
    """One line of a source's run-state history: who set which state, from where."""

    enterprise: str
    hazard_source: str
    state: RunState
    at_ms: int
    set_by: str
    origin: str  # "commitment" or "manual"
    reason: str | None
    expected_end_ms: int | None


def _commitment(r: Row) -> StoredCommitment:
    c = Commitment(r[0], CommitmentInput.model_validate_json(r[5]), r[6], int(r[2]), r[3])
    return StoredCommitment(c, bool(r[4]))


def _run_state(r: Row) -> RunStateRecord:
    return RunStateRecord(r[0], r[1], RunState(r[2]), int(r[3]), r[4], r[5],
                          None if r[6] is None else int(r[6]))


def _roll_call(r: Row) -> RollCall:
    return RollCall(r[0], r[1], int(r[2]), int(r[3]), r[4],
                    None if r[5] is None else int(r[5]), r[6])


def _records(rows: Sequence[Row], danger_rows: Sequence[Row]) -> list[tuple[str, DutyRecord]]:
    dangers: dict[str, list[HiddenDanger]] = {}
    for d in danger_rows:
        dangers.setdefault(d[0], []).append(HiddenDanger(
            d[1], d[2], date.fromisoformat(d[3]), None if d[4] is None else int(d[4])))
    return [(r[0], DutyRecord(r[1], r[2], ChainRole(r[3]), r[4], int(r[5]),
                              tuple(json.loads(r[6])), tuple(dangers.get(r[0], ()))))
            for r in rows]


_RECORD_COLS = "id, enterprise, hazard_source, role, person, at_ms, checked"
_RECORD_COLS_R = ", ".join(f"r.{c}" for c in _RECORD_COLS.split(", "))
_DANGER_COLS = "d.record_id, d.id, d.description, d.fix_by, d.fixed_at"
_COMMITMENT_COLS = "enterprise, day, filed_at, filed_by, late, body, text"
_RUN_COLS = "enterprise, hazard_source, state, since_ms, set_by, reason, expected_end_ms"
_CALL_COLS = "id, enterprise, called_at, deadline, called_by, answered_at, answered_by"


class DutyStore:
    """`await DutyStore.open(db)` on an open Database (the alarm store's)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @classmethod
    async def open(cls, db: Database) -> DutyStore:
        await migrate(db)
        return cls(db)

    # --- commitments ----------------------------------------------------------------------

    async def add_commitment(self, c: Commitment, late: bool,
                             run_states: Sequence[RunStateRecord] = ()) -> None:
        """File a day's commitment and the run states it declares, in one transaction;
        StoreConflict when the enterprise has filed that day already."""
        async with self.db.transaction() as tx:
            found = await tx.fetchone(
                "SELECT 1 FROM duty_commitments WHERE enterprise = ? AND day = ?",
                (c.enterprise, c.day.isoformat()))
            if found is not None:
                raise StoreConflict(f"commitment of {c.enterprise} for {c.day} already filed")
            await tx.execute(
                f"INSERT INTO duty_commitments ({_COMMITMENT_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (c.enterprise, c.day.isoformat(), c.filed_at_ms, c.filed_by, int(late),
                 c.input.model_dump_json(), c.text))
            for rs in run_states:
                await self._set_run_state_in(tx, rs, c.filed_at_ms, "commitment")
            await audit.append(tx, ts_ms=c.filed_at_ms, actor=c.filed_by,
                               action="commitment_filed", alarm_id=None,
                               payload={"enterprise": c.enterprise, "day": c.day.isoformat(),
                                        "late": late})

    async def commitment(self, enterprise: str, day: date) -> StoredCommitment | None:
        row = await self.db.fetchone(
            f"SELECT {_COMMITMENT_COLS} FROM duty_commitments WHERE enterprise = ? AND day = ?",
            (enterprise, day.isoformat()))
        return None if row is None else _commitment(row)

    async def commitments_of_day(self, day: date, last: date | None = None
                                 ) -> list[StoredCommitment]:
        """The commitments of `day` (to `last` inclusive when given), by day and enterprise."""
        rows = await self.db.fetchall(
            f"SELECT {_COMMITMENT_COLS} FROM duty_commitments WHERE day >= ? AND day <= ?"
            " ORDER BY day, enterprise", (day.isoformat(), (last or day).isoformat()))
        return [_commitment(r) for r in rows]

    async def commitments_of(self, enterprise: str, *, limit: int = 100, offset: int = 0
                             ) -> tuple[list[StoredCommitment], int]:
        """An enterprise's commitments, newest day first, and how many there are."""
        rows = await self.db.fetchall(
            f"SELECT {_COMMITMENT_COLS} FROM duty_commitments WHERE enterprise = ?"
            " ORDER BY day DESC LIMIT ? OFFSET ?", (enterprise, limit, offset))
        total = await self.db.fetchone(
            "SELECT COUNT(*) FROM duty_commitments WHERE enterprise = ?", (enterprise,))
        return [_commitment(r) for r in rows], int(total[0]) if total else 0

    # --- run states -----------------------------------------------------------------------

    async def set_run_state(self, rs: RunStateRecord, at_ms: int, origin: str = "manual"
                            ) -> None:
        async with self.db.transaction() as tx:
            await self._set_run_state_in(tx, rs, at_ms, origin)

    async def _set_run_state_in(self, tx: Tx, rs: RunStateRecord, at_ms: int,
                                origin: str) -> None:
        await tx.execute("DELETE FROM duty_run_states WHERE enterprise = ? AND hazard_source = ?",
                         (rs.enterprise, rs.hazard_source))
        await tx.execute(
            f"INSERT INTO duty_run_states ({_RUN_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (rs.enterprise, rs.hazard_source, rs.state.value, rs.since_ms, rs.set_by,
             rs.reason, rs.expected_end_ms))
        await tx.execute(
            "INSERT INTO duty_run_state_history (enterprise, hazard_source, state, at_ms,"
            " set_by, origin, reason, expected_end_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (rs.enterprise, rs.hazard_source, rs.state.value, at_ms, rs.set_by, origin,
             rs.reason, rs.expected_end_ms))
        await audit.append(tx, ts_ms=at_ms, actor=rs.set_by, action="run_state_set",
                           alarm_id=None,
                           payload={"enterprise": rs.enterprise,
                                    "hazard_source": rs.hazard_source,
                                    "state": rs.state.value, "origin": origin,
                                    "reason": rs.reason,
                                    "expected_end_ms": rs.expected_end_ms})

    async def run_state(self, enterprise: str, hazard_source: str) -> RunStateRecord | None:
        row = await self.db.fetchone(
            f"SELECT {_RUN_COLS} FROM duty_run_states WHERE enterprise = ? AND hazard_source = ?",
            (enterprise, hazard_source))
        return None if row is None else _run_state(row)

    async def run_states(self, enterprise: str | None = None) -> list[RunStateRecord]:
        sql = f"SELECT {_RUN_COLS} FROM duty_run_states"
        params: tuple[object, ...] = ()
        if enterprise is not None:
            sql, params = sql + " WHERE enterprise = ?", (enterprise,)
        rows = await self.db.fetchall(sql + " ORDER BY enterprise, hazard_source", params)
        return [_run_state(r) for r in rows]

    async def run_state_history(self, enterprise: str, hazard_source: str, limit: int = 100
                                ) -> list[RunStateChange]:
        rows = await self.db.fetchall(
            "SELECT enterprise, hazard_source, state, at_ms, set_by, origin, reason,"
            " expected_end_ms FROM duty_run_state_history WHERE enterprise = ?"
            " AND hazard_source = ? ORDER BY id DESC LIMIT ?",
            (enterprise, hazard_source, limit))
        return [RunStateChange(r[0], r[1], RunState(r[2]), int(r[3]), r[4], r[5], r[6],
                               None if r[7] is None else int(r[7])) for r in rows]

    # --- 包保 duty records and hidden dangers ----------------------------------------------

    async def add_duty_record(self, record_id: str, r: DutyRecord, filed_by: str,
                              filed_at_ms: int) -> None:
        async with self.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO duty_records (id, enterprise, hazard_source, role, person, at_ms,"
                " checked, filed_by, filed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (record_id, r.enterprise, r.hazard_source, r.role.value, r.person, r.at_ms,
                 json.dumps(list(r.checked), ensure_ascii=False), filed_by, filed_at_ms))
            for d in r.hidden_dangers:
                await tx.execute(
                    "INSERT INTO duty_hidden_dangers (id, record_id, description, fix_by)"
                    " VALUES (?, ?, ?, ?)", (d.id, record_id, d.description,
                                             d.fix_by.isoformat()))
            await audit.append(tx, ts_ms=filed_at_ms, actor=filed_by, action="duty_recorded",
                               alarm_id=None,
                               payload={"id": record_id, "enterprise": r.enterprise,
                                        "hazard_source": r.hazard_source,
                                        "role": r.role.value,
                                        "hidden_dangers": [d.id for d in r.hidden_dangers]})

    async def duty_records(self, enterprise: str | None = None) -> list[tuple[str, DutyRecord]]:
        """(id, record) oldest first, with their hidden dangers."""
        sql = f"SELECT {_RECORD_COLS} FROM duty_records"
        params: tuple[object, ...] = ()
        dsql = f"SELECT {_DANGER_COLS} FROM duty_hidden_dangers d"
        if enterprise is not None:
            sql, params = sql + " WHERE enterprise = ?", (enterprise,)
            dsql += " JOIN duty_records r ON r.id = d.record_id WHERE r.enterprise = ?"
        rows = await self.db.fetchall(sql + " ORDER BY at_ms, id", params)
        return _records(rows, await self.db.fetchall(dsql + " ORDER BY d.id", params))

    async def duty_records_in_force(self, since_ms: int | None = None
                                    ) -> list[tuple[str, DutyRecord]]:
        """What the duty facts can still depend on, not the whole history (oldest first):
        each (enterprise, source, role)'s latest record (its next check is due one
        interval later, overdue or not), the records since `since_ms` (the window of
        the last holiday's check; None: none needed) and every record with a hidden
        danger not fixed, each with only its unfixed hidden dangers."""
        params: list[object] = []
        window = ""
        if since_ms is not None:
            window = f" UNION SELECT {_RECORD_COLS} FROM duty_records WHERE at_ms >= ?"
            params.append(since_ms)
        rows = await self.db.fetchall(
            f"SELECT {_RECORD_COLS_R} FROM duty_records r JOIN ("
            "SELECT enterprise, hazard_source, role, MAX(at_ms) AS last FROM duty_records"
            " GROUP BY enterprise, hazard_source, role) l ON l.enterprise = r.enterprise"
            " AND l.hazard_source = r.hazard_source AND l.role = r.role AND r.at_ms = l.last"
            f"{window} UNION SELECT {_RECORD_COLS} FROM duty_records WHERE id IN"
            " (SELECT record_id FROM duty_hidden_dangers WHERE fixed_at IS NULL)"
            " ORDER BY 6, 1", params)
        dangers = await self.db.fetchall(
            f"SELECT {_DANGER_COLS} FROM duty_hidden_dangers d WHERE d.fixed_at IS NULL"
            " ORDER BY d.id")
        return _records(rows, dangers)

    async def hidden_danger_owner(self, danger_id: str) -> tuple[str, str, int | None] | None:
        """(enterprise, hazard source, fixed_at_ms) of a hidden danger, None if unknown."""
        row = await self.db.fetchone(
            "SELECT r.enterprise, r.hazard_source, d.fixed_at FROM duty_hidden_dangers d"
            " JOIN duty_records r ON r.id = d.record_id WHERE d.id = ?", (danger_id,))
        return None if row is None else (row[0], row[1], None if row[2] is None else int(row[2]))

    async def fix_hidden_danger(self, danger_id: str, by: str, at_ms: int) -> bool:
        """Mark a hidden danger fixed; False when it was already."""
        async with self.db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE duty_hidden_dangers SET fixed_at = ?, fixed_by = ?"
                " WHERE id = ? AND fixed_at IS NULL", (at_ms, by, danger_id))
            if changed:
                await audit.append(tx, ts_ms=at_ms, actor=by, action="hidden_danger_fixed",
                                   alarm_id=None, payload={"id": danger_id})
        return changed == 1

    # --- roll calls -----------------------------------------------------------------------

    async def add_roll_calls(self, calls: Sequence[RollCall]) -> None:
        if not calls:
            return
        async with self.db.transaction() as tx:
            for rc in calls:
                await tx.execute(
                    f"INSERT INTO duty_roll_calls ({_CALL_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (rc.id, rc.enterprise, rc.called_at_ms, rc.deadline_ms, rc.called_by,
                     rc.answered_at_ms, rc.answered_by))
            await audit.append(tx, ts_ms=calls[0].called_at_ms, actor=calls[0].called_by,
                               action="roll_call", alarm_id=None,
                               payload={"calls": {rc.id: rc.enterprise for rc in calls}})

    async def roll_call(self, call_id: str) -> RollCall | None:
        row = await self.db.fetchone(
            f"SELECT {_CALL_COLS} FROM duty_roll_calls WHERE id = ?", (call_id,))
        return None if row is None else _roll_call(row)

    async def answer_roll_call(self, call_id: str, at_ms: int, by: str) -> bool:
        """Record the first answer of a call; False when it was answered already."""
        async with self.db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE duty_roll_calls SET answered_at = ?, answered_by = ?"
                " WHERE id = ? AND answered_at IS NULL", (at_ms, by, call_id))
            if changed:
                await audit.append(tx, ts_ms=at_ms, actor=by, action="roll_call_answered",
                                   alarm_id=None, payload={"id": call_id})
        return changed == 1

    async def roll_calls(self, *, since_ms: int = 0, until_ms: int | None = None,
                         enterprise: str | None = None, limit: int = 10_000
                         ) -> list[RollCall]:
        """Calls made in `[since_ms, until_ms)`, newest first."""
        sql = f"SELECT {_CALL_COLS} FROM duty_roll_calls WHERE called_at >= ?"
        params: list[object] = [since_ms]
        if until_ms is not None:
            sql += " AND called_at < ?"
            params.append(until_ms)
        if enterprise is not None:
            sql += " AND enterprise = ?"
            params.append(enterprise)
        rows = await self.db.fetchall(sql + " ORDER BY called_at DESC, id DESC LIMIT ?",
                                      [*params, limit])
        return [_roll_call(r) for r in rows]

    # --- patrols --------------------------------------------------------------------------

    async def add_patrol_draw(self, draw: PatrolDraw) -> bool:
        """Keep a county's draw of a day; False when one is kept already (the first stays)."""
        async with self.db.transaction() as tx:
            changed = await tx.execute(
                "INSERT INTO duty_patrol_draws (county, day, seed, enterprises, drawn_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (county, day) DO NOTHING",
                (draw.county, draw.day.isoformat(), draw.seed, json.dumps(list(draw.enterprises)),
                 draw.drawn_at_ms))
        return changed == 1

    async def patrol_draws(self, day: date, last: date | None = None) -> list[PatrolDraw]:
        """The draws of `day` (to `last` inclusive when given), by day and county."""
        rows = await self.db.fetchall(
            "SELECT county, day, seed, enterprises, drawn_at FROM duty_patrol_draws"
            " WHERE day >= ? AND day <= ? ORDER BY day, county",
            (day.isoformat(), (last or day).isoformat()))
        return [PatrolDraw(r[0], date.fromisoformat(r[1]), r[2], tuple(json.loads(r[3])),
                           int(r[4])) for r in rows]

    async def add_patrol_record(self, p: PatrolRecord) -> None:
        async with self.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO duty_patrol_records (enterprise, day, official, at_ms, findings,"
                " note) VALUES (?, ?, ?, ?, ?, ?)",
                (p.enterprise, p.day.isoformat(), p.official, p.at_ms,
                 json.dumps({k.value: v for k, v in p.findings.items()}), p.note))
            await audit.append(tx, ts_ms=p.at_ms, actor=p.official, action="patrol_recorded",
                               alarm_id=None,
                               payload={"enterprise": p.enterprise, "day": p.day.isoformat(),
                                        "failed": [c.value for c in p.failed]})

    async def patrol_records(self, day: date, last: date | None = None) -> list[PatrolRecord]:
        """The patrols of `day` (to `last` inclusive when given), in the order recorded."""
        rows = await self.db.fetchall(
            "SELECT enterprise, day, official, at_ms, findings, note FROM duty_patrol_records"
            " WHERE day >= ? AND day <= ? ORDER BY id",
            (day.isoformat(), (last or day).isoformat()))
        return [PatrolRecord(r[0], date.fromisoformat(r[1]), r[2], int(r[3]),
                             {PatrolCheck(k): bool(v) for k, v in json.loads(r[4]).items()},
                             r[5]) for r in rows]

    # --- marks ----------------------------------------------------------------------------

    async def mark(self, name: str) -> str | None:
        row = await self.db.fetchone("SELECT val FROM duty_marks WHERE name = ?", (name,))
        return None if row is None else str(row[0])

    async def set_mark(self, name: str, value: str, *, keep: bool = False) -> str:
        """Set a mark; with keep=True an existing value stays. Returns the value in force."""
        async with self.db.transaction() as tx:
            if keep:
                await tx.execute("INSERT INTO duty_marks (name, val) VALUES (?, ?)"
                                 " ON CONFLICT (name) DO NOTHING", (name, value))
            else:
                await tx.execute("DELETE FROM duty_marks WHERE name = ?", (name,))
                await tx.execute("INSERT INTO duty_marks (name, val) VALUES (?, ?)",
                                 (name, value))
            row = await tx.fetchone("SELECT val FROM duty_marks WHERE name = ?", (name,))
        return str(row[0]) if row else value

    async def marks(self, prefix: str) -> dict[str, str]:
        rows = await self.db.fetchall("SELECT name, val FROM duty_marks WHERE name LIKE ?",
                                      (prefix.replace("%", "") + "%",))
        return {str(r[0]): str(r[1]) for r in rows}
