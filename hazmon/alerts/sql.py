"""A thin database adapter: the same SQL runs on SQLite (aiosqlite) and PostgreSQL
(psycopg 3). Queries are written once with `?` placeholders and portable SQL; the
differences live here: placeholders, DDL types, how a write transaction starts, and the
drivers' exceptions, translated to StoreError at this boundary.

URLs: "sqlite:///relative/path.db", "sqlite:////absolute/path.db" (SQLAlchemy's
convention), "sqlite:///:memory:", "postgresql://user@host:port/dbname".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from enum import Enum
from typing import Any

import aiosqlite

from hazmon.alerts.errors import StoreError

log = logging.getLogger(__name__)

Params = Sequence[object]
Row = tuple[Any, ...]


class StoreConflict(StoreError):  # noqa: N818 - names the HTTP outcome (409)
    """A uniqueness constraint held (e.g. a second open alarm for one key)."""


class StoreUnavailable(StoreError):  # noqa: N818 - a state of the server, not a bug
    """A transient failure: the server unreachable or restarting, or our transaction
    aborted by it (deadlock, serialisation). Nothing was committed: the same work may be
    tried again, and callers that must not lose it (alarm signals) do."""


@dataclass(frozen=True, slots=True)
class Dialect:
    name: str
    serial_pk: str  # an auto-increment integer primary key column type
    # serialises writers to the audit chain across processes (SQLite: BEGIN IMMEDIATE)
    lock_audit: str | None

    def ddl(self, text: str) -> str:
        return text.replace("{serial_pk}", self.serial_pk)


SQLITE = Dialect("sqlite", "INTEGER PRIMARY KEY AUTOINCREMENT", None)
POSTGRES = Dialect(
    "postgresql",
    "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
    "LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE",
)


class Tx(ABC):
    """One open transaction: every statement in it commits or rolls back together."""

    dialect: Dialect

    @abstractmethod
    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run a statement; return the number of rows it changed."""

    @abstractmethod
    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]: ...

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None


class Database(ABC):
    """One connection, used by one task at a time (an asyncio.Lock): simple, and enough
    for the alarm rate of one instance. Reads go through a transaction too, so a reader
    never sees half of a state change."""

    dialect: Dialect
    url: str

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self.down_since_ms: int | None = None  # set by a transient failure, cleared by a commit
        self.last_error: str | None = None

    def health(self) -> dict[str, Any]:
        """For /health: "up", or "down" since the last transient failure."""
        return {"state": "up" if self.down_since_ms is None else "down",
                "dialect": self.dialect.name, "down_since_ms": self.down_since_ms,
                "error": self.last_error}

    def _failed(self, exc: StoreError) -> None:
        if isinstance(exc, StoreUnavailable):
            if self.down_since_ms is None:
                log.warning("alarm database unavailable: %s", exc)
                self.down_since_ms = int(time.time() * 1000)
            self.last_error = str(exc)[:300]

    def _succeeded(self) -> None:
        if self.down_since_ms is not None:
            log.warning("alarm database reachable again")
            self.down_since_ms = None
            self.last_error = None

    @abstractmethod
    def transaction(self, write: bool = True) -> AbstractAsyncContextManager[Tx]:
        """`async with db.transaction() as tx:`; write=False for a read-only snapshot."""

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        async with self.transaction(write=False) as tx:
            rows: list[Row] = await tx.fetchall(sql, params)
            return rows

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    @abstractmethod
    async def close(self) -> None: ...


# --- SQLite ------------------------------------------------------------------------------


class _SqliteTx(Tx):
    dialect = SQLITE

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Params = ()) -> int:
        try:
            async with self._conn.execute(sql, tuple(params)) as cur:
                return cur.rowcount
        except sqlite3.IntegrityError as exc:
            raise StoreConflict(str(exc)) from exc
        except sqlite3.Error as exc:
            raise StoreError(f"sqlite: {exc}") from exc

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        try:
            async with self._conn.execute(sql, tuple(params)) as cur:
                return [tuple(r) for r in await cur.fetchall()]
        except sqlite3.IntegrityError as exc:
            raise StoreConflict(str(exc)) from exc
        except sqlite3.Error as exc:
            raise StoreError(f"sqlite: {exc}") from exc


class SqliteDatabase(Database):
    dialect = SQLITE

    def __init__(self, url: str, conn: aiosqlite.Connection) -> None:
        super().__init__()
        self.url = url
        self._conn = conn

    @classmethod
    async def connect(cls, url: str, path: str, create: bool = True) -> SqliteDatabase:
        if not create and path != ":memory:" and not await asyncio.to_thread(os.path.exists, path):
            # checked first: do not leave an empty file behind when verifying a wrong path
            raise StoreError(f"cannot open {url}: no such file")
        try:
            conn = await aiosqlite.connect(path, isolation_level=None)
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"cannot open {url}: {exc}") from exc
        try:
            # WAL: readers do not block the writer; synchronous=FULL: a committed alarm
            # or audit entry survives a power cut.
            for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON",
                           "busy_timeout=10000"):
                await conn.execute(f"PRAGMA {pragma}")
        except sqlite3.Error as exc:
            await conn.close()
            raise StoreError(f"cannot open {url}: {exc}") from exc
        return cls(url, conn)

    @asynccontextmanager
    async def transaction(self, write: bool = True) -> AsyncIterator[Tx]:
        async with self._lock:
            try:
                # IMMEDIATE takes the write lock up front, so two processes cannot both
                # read the audit chain head and then both append to it.
                await self._conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            except sqlite3.Error as exc:
                raise StoreError(f"sqlite: {exc}") from exc
            try:
                yield _SqliteTx(self._conn)
            except BaseException:
                await self._conn.execute("ROLLBACK")
                raise
            try:
                await self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                await self._conn.execute("ROLLBACK")
                raise StoreError(f"sqlite commit: {exc}") from exc

    async def close(self) -> None:
        await self._conn.close()


# --- PostgreSQL --------------------------------------------------------------------------


def _pg_sql(sql: str) -> str:
    # psycopg uses %s and treats a literal % as a format character.
    return sql.replace("%", "%%").replace("?", "%s")


def _pg_error(exc: Exception) -> StoreError:
    """The driver's exception as ours: conflicts, transient failures, the rest."""
    import psycopg
    from psycopg import errors

    if isinstance(exc, psycopg.errors.IntegrityError):
        return StoreConflict(str(exc))
    transient = (psycopg.OperationalError, psycopg.InterfaceError,
                 errors.DeadlockDetected, errors.SerializationFailure)
    if isinstance(exc, transient):
        return StoreUnavailable(f"postgresql: {exc}")
    return StoreError(f"postgresql: {exc}")


class _PgTx(Tx):
    dialect = POSTGRES

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Params = ()) -> int:
        import psycopg

        try:
            cur = await self._conn.execute(_pg_sql(sql), tuple(params))
            return int(cur.rowcount)
        except psycopg.Error as exc:
            raise _pg_error(exc) from exc

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        import psycopg

        try:
            cur = await self._conn.execute(_pg_sql(sql), tuple(params))
            return [tuple(r) for r in await cur.fetchall()]
        except psycopg.Error as exc:
            raise _pg_error(exc) from exc


@dataclass(frozen=True, slots=True)
class PoolSettings:
    """The connection pool: a few connections, each checked before use (a server restart
    leaves dead ones behind), replaced in the background with backoff while the server is
    away. `timeout_s` bounds how long a transaction waits for a connection."""

    min_size: int = 1
    max_size: int = 4
    timeout_s: float = 5.0
    reconnect_timeout_s: float = 365 * 24 * 3600.0  # never give up on the alarm database


class PostgresDatabase(Database):
    """A `psycopg_pool` pool. Writers of one process still take turns (the lock): the
    audit chain is serialised by the server anyway, and it keeps the one-instance
    behaviour; readers (the API) do not wait for them."""

    dialect = POSTGRES

    def __init__(self, url: str, pool: Any) -> None:
        super().__init__()
        self.url = url
        self._pool = pool

    @classmethod
    async def connect(cls, url: str, pool: PoolSettings | None = None) -> PostgresDatabase:
        try:
            from psycopg_pool import AsyncConnectionPool, PoolTimeout
        except ImportError as exc:  # a base dependency: missing only from a broken install
            raise StoreError("PostgreSQL needs psycopg and psycopg_pool, dependencies of "
                             "hazmon: reinstall hazmon (e.g. `bash scripts/bootstrap.sh`)"
                             ) from exc
        ps = pool or PoolSettings()
        p: Any = AsyncConnectionPool(
            url, min_size=ps.min_size, max_size=ps.max_size, timeout=ps.timeout_s,
            reconnect_timeout=ps.reconnect_timeout_s, kwargs={"autocommit": True},
            check=AsyncConnectionPool.check_connection, open=False, name="hazmon-alarms",
        )
        try:
            # the first connection must work: a wrong URL is an error at start, not a wait
            await p.open(wait=True, timeout=ps.timeout_s)
        except PoolTimeout as exc:
            await p.close()
            raise StoreError(f"cannot connect to {_redact(url)}: no connection within "
                             f"{ps.timeout_s:g} s") from exc
        return cls(url, p)

    @asynccontextmanager
    async def transaction(self, write: bool = True) -> AsyncIterator[Tx]:
        async with self._lock if write else contextlib.nullcontext():
            try:
                async with self._session() as tx:
                    yield tx
            except StoreError as exc:
                self._failed(exc)
                raise
            self._succeeded()

    @asynccontextmanager
    async def _session(self) -> AsyncIterator[Tx]:
        import psycopg
        from psycopg_pool import PoolTimeout

        try:
            async with self._pool.connection() as conn, conn.transaction():
                yield _PgTx(conn)
        except PoolTimeout as exc:
            raise StoreUnavailable(f"postgresql: no connection: {exc}") from exc
        except psycopg.Error as exc:  # commit failures surface here
            raise _pg_error(exc) from exc

    async def close(self) -> None:
        await self._pool.close()


def _redact(url: str) -> str:
    """Never log a password."""
    scheme, sep, rest = url.partition("://")
    creds, at, host = rest.rpartition("@")
    if not at or ":" not in creds:
        return url
    return f"{scheme}{sep}{creds.split(':', 1)[0]}:***@{host}"


@asynccontextmanager
async def schema_lock(url: str) -> AsyncIterator[None]:
    """While held, no other process opening the same PostgreSQL database migrates it:
    instances started together would otherwise race on CREATE TABLE. A session-level
    advisory lock on a connection of its own (the pool's connections come and go);
    nothing to do for SQLite, whose writers already take turns."""
    if not url.startswith(("postgresql://", "postgres://")):
        yield
        return
    import psycopg

    try:
        conn = await psycopg.AsyncConnection.connect(url, autocommit=True)
    except psycopg.Error as exc:
        raise StoreError(f"cannot connect to {_redact(url)}: {exc}") from exc
    try:
        await conn.execute("SELECT pg_advisory_lock(16015)")
        yield
    finally:
        await conn.close()  # the lock goes with the session


async def connect(url: str, *, create: bool = True) -> Database:
    """Open the database a URL names (see the module docstring for the forms);
    create=False refuses to create a missing SQLite file."""
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        if not path:
            raise StoreError(f"no file in {url!r}")
        return await SqliteDatabase.connect(url, path, create)
    if url.startswith(("postgresql://", "postgres://")):
        return await PostgresDatabase.connect(url)
    raise StoreError(f"unsupported database URL {_redact(url)!r}: use sqlite:/// or postgresql://")


async def connect_migrated(url: str, migrate: Callable[[Database], Awaitable[object]]) -> Database:
    """`connect(url)` with `migrate` run on it; closed again if the migration fails."""
    db = await connect(url)
    try:
        await migrate(db)
    except BaseException:
        await db.close()
        raise
    return db


# --- WHERE clauses -----------------------------------------------------------------------


class Where:
    """A WHERE clause built one condition at a time, its parameters in step; a condition
    whose value is None is left out (a filter field left None matches everything).
    An enum member stands for its value (psycopg would otherwise send its name)."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._params: list[object] = []

    def add(self, condition: str, *params: object) -> None:
        self._parts.append(condition)
        self._params.extend(_param(p) for p in params)

    def eq(self, col: str, value: object) -> None:
        if value is not None:
            self.add(f"{col} = ?", value)

    def flag(self, col: str, value: bool | None) -> None:
        """A 0/1 column (booleans are stored as integers on both engines)."""
        if value is not None:
            self.add(f"{col} = ?", int(value))

    def among(self, col: str, values: Sequence[object] | None) -> None:
        """`col IN (...)`; an empty list matches nothing."""
        if values is None:
            return
        if not values:
            self.add("1 = 0")
            return
        self.add(f"{col} IN ({', '.join('?' for _ in values)})", *values)

    def since_until(self, col: str, since: int | None, until: int | None) -> None:
        """`since <= col < until`, either end open when None."""
        if since is not None:
            self.add(f"{col} >= ?", since)
        if until is not None:
            self.add(f"{col} < ?", until)

    def region_prefix(self, prefix: str | None, col: str = "region") -> None:
        """Regions under a GB/T 2260 prefix ("32" a province, "3209" a city, "320921" a
        county); anything but 1-6 digits is a ValueError, never a LIKE pattern."""
        if prefix is None:
            return
        if not prefix.isdigit() or len(prefix) > 6:
            raise ValueError(f"region prefix must be 1-6 digits: {prefix!r}")
        self.add(f"{col} LIKE ?", prefix + "%")

    def sql(self) -> tuple[str, list[object]]:
        """(" WHERE a AND b", params), or ("", []) when there is no condition."""
        return (" WHERE " + " AND ".join(self._parts)) if self._parts else "", list(self._params)


def _param(value: object) -> object:
    return value.value if isinstance(value, Enum) else value


# --- schema versions ---------------------------------------------------------------------

# version -> statements; a part appends new versions, never edits a released one.
Migrations = Mapping[int, Sequence[str]]


async def migrate_schema_in(tx: Tx, version_table: str, migrations: Migrations, what: str) -> int:
    """Bring one part's tables to the latest of `migrations` inside `tx`; return the
    version found before (0 for a new database).

    Each part (alarm store, claims, API tokens, warnings, duties) keeps its own version
    table, one row per version applied, so the parts number their versions independently
    in one database. Refuses (StoreError) a database a newer hazmon has migrated: this
    code would not know its tables. `what` names the part in that error and the log."""
    if not version_table.isidentifier():
        raise ValueError(f"not a table name: {version_table!r}")
    latest = max(migrations)
    await tx.execute(f"CREATE TABLE IF NOT EXISTS {version_table} (version INTEGER NOT NULL)")
    row = await tx.fetchone(f"SELECT MAX(version) FROM {version_table}")
    found = int(row[0]) if row and row[0] is not None else 0
    if found > latest:
        raise StoreError(f"{what} schema {found} is newer than this hazmon ({latest})")
    for version in range(found + 1, latest + 1):
        for stmt in migrations[version]:
            await tx.execute(tx.dialect.ddl(stmt))
        await tx.execute(f"INSERT INTO {version_table} (version) VALUES (?)", (version,))
        log.info("%s (%s): schema migrated to version %d", what, tx.dialect.name, version)
    return found


async def migrate_schema(db: Database, version_table: str, migrations: Migrations,
                         what: str) -> int:
    """`migrate_schema_in` in a transaction of its own: a failed step leaves the schema as found."""
    async with db.transaction() as tx:
        return await migrate_schema_in(tx, version_table, migrations, what)
