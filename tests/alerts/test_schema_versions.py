"""Schema versions (hazmon.alerts.sql.migrate_schema), on SQLite and a real PostgreSQL: the
one migration loop behind the alarm store, its claims, the API tokens, the warnings and
the duties, each part with its own version table in the one database.

A database that the per-part loops of before left behind must open unchanged: the same
version rows, tables, columns and indexes, its data kept."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest

from hazmon.alerts import claims
from hazmon.alerts import store as alarm_store
from hazmon.alerts.errors import StoreError
from hazmon.alerts.sql import Database, connect, migrate_schema, migrate_schema_in
from hazmon.api import tokens
from hazmon.api.tokens import TokenStore
from hazmon.duties import store as duty_store
from hazmon.duties.store import DutyStore
from hazmon.warnings import store as warning_store
from hazmon.warnings.store import WarningStore

# Every part's version table and migrations, in the order the service opens them.
PARTS: list[tuple[str, Mapping[int, Sequence[str]]]] = [
    ("schema_version", alarm_store.MIGRATIONS),
    ("claims_schema", claims._DDL),
    ("api_tokens_schema", tokens.MIGRATIONS),
    ("warnings_schema", warning_store.MIGRATIONS),
    ("duties_schema", duty_store.MIGRATIONS),
]

# Two versions whose statements fail when run twice (no IF NOT EXISTS): a version applied
# again would raise.
TWO = {1: ["CREATE TABLE part_a (id INTEGER NOT NULL)"],
       2: ["CREATE TABLE part_b (id {serial_pk}, a INTEGER)",
           "CREATE INDEX part_b_a ON part_b (a)"]}


async def _legacy_layout(db: Database) -> None:
    """The database as the per-part loops of before left it at today's versions: each
    part's version table, one row a version, every statement applied in order."""
    async with db.transaction() as tx:
        for table, migrations in PARTS:
            await tx.execute(f"CREATE TABLE IF NOT EXISTS {table} (version INTEGER NOT NULL)")
            for version in range(1, max(migrations) + 1):
                for stmt in migrations[version]:
                    await tx.execute(db.dialect.ddl(stmt))
                await tx.execute(f"INSERT INTO {table} (version) VALUES (?)", (version,))


async def _shape(db: Database) -> tuple[set[tuple[str, str]], set[str]]:
    """(table, column) pairs and index names of the database."""
    if db.dialect.name == "sqlite":
        tables = [r[0] for r in await db.fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'table'"
            " AND name NOT LIKE 'sqlite_%'")]
        cols = {(t, str(r[1])) for t in tables
                for r in await db.fetchall(f"PRAGMA table_info({t})")}
        idx = {r[0] for r in await db.fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")}
        return cols, idx
    cols = {(r[0], r[1]) for r in await db.fetchall(
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = current_schema()")}
    idx = {r[0] for r in await db.fetchall(
        "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()")}
    return cols, idx


async def _versions(db: Database, table: str) -> list[int]:
    return [int(r[0]) for r in await db.fetchall(f"SELECT version FROM {table} ORDER BY 1")]


async def test_a_database_at_todays_versions_opens_unchanged(db_url: str) -> None:
    db = await connect(db_url)
    try:
        await _legacy_layout(db)
        async with db.transaction() as tx:  # a token, to see that data stays
            await tx.execute(
                "INSERT INTO api_tokens (id, name, role, scope, secret_sha256, created_at)"
                " VALUES ('0123456789abcdef', 'kept', 'city', '3209', 'x', 1)")
        before = await _shape(db)
        # every part's own entry point, as the service opens them
        assert await alarm_store.migrate(db) == max(alarm_store.MIGRATIONS)
        await TokenStore.open(db)
        await WarningStore.open(db)
        await DutyStore.open(db)
        for table, migrations in PARTS:
            assert await migrate_schema(db, table, migrations, table) == max(migrations)
            assert await _versions(db, table) == list(range(1, max(migrations) + 1))
        assert await _shape(db) == before
        assert await db.fetchall("SELECT id, name FROM api_tokens") == [
            ("0123456789abcdef", "kept")]
    finally:
        await db.close()


async def test_a_new_database_gets_the_layout_the_old_loops_gave(db_url: str) -> None:
    db = await connect(db_url)
    try:
        await alarm_store.migrate(db)
        for store in (TokenStore, WarningStore, DutyStore):
            await store.open(db)
        shared = await _shape(db)
        for table, migrations in PARTS:
            assert await _versions(db, table) == list(range(1, max(migrations) + 1))
        async with db.transaction() as tx:  # empty again, then as the old loops built it
            for table in {t for t, _ in shared[0]}:
                cascade = "" if db.dialect.name == "sqlite" else " CASCADE"
                await tx.execute(f"DROP TABLE IF EXISTS {table}{cascade}")
        assert await _shape(db) == (set(), set())
        await _legacy_layout(db)
        assert await _shape(db) == shared
    finally:
        await db.close()


async def test_versions_apply_once_in_order_and_only_the_new_ones(db_url: str) -> None:
    db = await connect(db_url)
    try:
        assert await migrate_schema(db, "part_schema", {1: TWO[1]}, "part") == 0
        assert await _versions(db, "part_schema") == [1]
        assert await migrate_schema(db, "part_schema", {1: TWO[1]}, "part") == 1  # idempotent
        # a later release adds version 2: only it runs ({serial_pk} as the dialect has it)
        assert await migrate_schema(db, "part_schema", TWO, "part") == 1
        assert await _versions(db, "part_schema") == [1, 2]
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO part_b (a) VALUES (7)")
            await tx.execute("INSERT INTO part_b (a) VALUES (8)")
        assert await db.fetchall("SELECT id, a FROM part_b ORDER BY id") == [(1, 7), (2, 8)]
        assert await migrate_schema(db, "part_schema", TWO, "part") == 2
    finally:
        await db.close()


async def test_parts_keep_their_own_versions_in_one_transaction(db_url: str) -> None:
    db = await connect(db_url)
    try:
        async with db.transaction() as tx:
            assert await migrate_schema_in(tx, "a_schema", {1: TWO[1]}, "a") == 0
            assert await migrate_schema_in(tx, "b_schema", {1: TWO[2]}, "b") == 0
        assert await _versions(db, "a_schema") == [1]
        assert await _versions(db, "b_schema") == [1]
    finally:
        await db.close()


async def test_a_newer_database_is_refused_and_left_as_found(db_url: str) -> None:
    db = await connect(db_url)
    try:
        await migrate_schema(db, "part_schema", TWO, "part")
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO part_schema (version) VALUES (3)")
        before = await _shape(db)
        with pytest.raises(StoreError, match=r"part schema 3 is newer than this hazmon \(2\)"):
            await migrate_schema(db, "part_schema", TWO, "part")
        assert await _shape(db) == before
        assert await _versions(db, "part_schema") == [1, 2, 3]
    finally:
        await db.close()


async def test_a_failing_version_rolls_back_whole(db_url: str) -> None:
    db = await connect(db_url)
    try:
        bad = {1: TWO[1],
               2: ["CREATE TABLE part_c (id INTEGER)", "CREATE TABLE part_a (x INTEGER)"]}
        with pytest.raises(StoreError):
            await migrate_schema(db, "part_schema", bad, "part")
        # nothing of version 1 or 2 stays: the version table itself is rolled back too
        assert await _shape(db) == (set(), set())
    finally:
        await db.close()


async def test_the_version_table_must_be_a_name(db_url: str) -> None:
    db = await connect(db_url)
    try:
        with pytest.raises(ValueError, match="not a table name"):
            await migrate_schema(db, "x; DROP TABLE alarms", TWO, "part")
    finally:
        await db.close()
