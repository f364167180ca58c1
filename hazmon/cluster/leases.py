"""Leases on partitions, members of the cluster, in the shared PostgreSQL database.

A lease is a row (partition, holder, until_ms, epoch). Expiry is judged by the database
server's clock alone (`clock_timestamp()`), so the instances' clocks never need to
agree. Taking a lease over bumps its epoch: what the holder writes for its partition
(rule snapshots) is fenced by holder and epoch, so an instance that lost its lease
without noticing cannot overwrite its successor's state.

Why a table and not advisory locks (docs/ARCHITECTURE.md "Several instances"): an
advisory lock lives as long as one database session. With a connection pool, every
transaction may run on another connection; a PostgreSQL restart or a dropped connection
would free every lock at once, with no grace; and the holder learns of the loss only by
asking. A lease has a deadline both sides know: the holder stops working on a partition
before its lease can run out, the taker waits until it has, and a restart of the
database shorter than the lease changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from hazmon.alerts.sql import Database, Tx

NOW_MS = "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)"

DDL = (
    """CREATE TABLE IF NOT EXISTS cluster_members (
        instance TEXT PRIMARY KEY,
        until_ms BIGINT NOT NULL,
        joined_ms BIGINT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS cluster_leases (
        partition TEXT PRIMARY KEY,
        holder TEXT,
        until_ms BIGINT NOT NULL,
        epoch BIGINT NOT NULL,
        taken_ms BIGINT
    )""",
    """CREATE TABLE IF NOT EXISTS cluster_rules_state (
        partition TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        epoch BIGINT NOT NULL,
        saved_ms BIGINT NOT NULL,
        body TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS cluster_gateways (
        enterprise TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        since_ms BIGINT,
        last_seen_ms BIGINT,
        newest_data_ms BIGINT,
        updated_ms BIGINT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS cluster_sensor_seen (
        enterprise TEXT NOT NULL,
        tag TEXT NOT NULL,
        last_ms BIGINT NOT NULL,
        updated_ms BIGINT NOT NULL,
        PRIMARY KEY (enterprise, tag)
    )""",
    "CREATE INDEX IF NOT EXISTS cluster_sensor_seen_updated ON cluster_sensor_seen"
    " (updated_ms)",
)


async def migrate(db: Database) -> None:
    if db.dialect.name != "postgresql":
        raise ValueError("several instances share a PostgreSQL database: set alarms.db_url "
                         "to postgresql://...")
    async with db.transaction() as tx:
        # two instances starting at once: one creates, the other waits and finds it made
        await tx.execute("SELECT pg_advisory_xact_lock(16016)")
        for stmt in DDL:
            await tx.execute(stmt)


@dataclass(frozen=True, slots=True)
class Lease:
    partition: str
    epoch: int


class Leases:
    def __init__(self, db: Database, instance: str, lease_ms: int) -> None:
        self.db = db
        self.instance = instance
        self.lease_ms = lease_ms

    async def heartbeat(self) -> int:
        """Say this instance is alive; return how many are (this one included)."""
        async with self.db.transaction() as tx:
            await tx.execute(
                f"INSERT INTO cluster_members (instance, until_ms, joined_ms)"
                f" VALUES (?, {NOW_MS} + ?, {NOW_MS}) ON CONFLICT (instance)"
                f" DO UPDATE SET until_ms = excluded.until_ms",
                (self.instance, self.lease_ms),
            )
            row = await tx.fetchone(
                f"SELECT COUNT(*) FROM cluster_members WHERE until_ms >= {NOW_MS}")
        return max(1, int(row[0]) if row else 1)

    async def leave(self) -> None:
        async with self.db.transaction() as tx:
            await tx.execute("DELETE FROM cluster_members WHERE instance = ?", (self.instance,))

    async def acquire(self, partition: str) -> Lease | None:
        """Take the partition if nobody holds a live lease on it."""
        async with self.db.transaction() as tx:
            row = await tx.fetchone(
                f"INSERT INTO cluster_leases (partition, holder, until_ms, epoch, taken_ms)"
                f" VALUES (?, ?, {NOW_MS} + ?, 1, {NOW_MS}) ON CONFLICT (partition)"
                f" DO UPDATE SET holder = excluded.holder, until_ms = excluded.until_ms,"
                f" epoch = cluster_leases.epoch + 1, taken_ms = excluded.taken_ms"
                f" WHERE cluster_leases.until_ms < {NOW_MS} RETURNING epoch",
                (partition, self.instance, self.lease_ms),
            )
        return Lease(partition, int(row[0])) if row else None

    async def renew(self, held: Iterable[Lease]) -> set[str]:
        """Extend the live leases among `held`; return the partitions still held (a lease
        that ran out is lost even if nobody took it: someone may be about to)."""
        out = set()
        async with self.db.transaction() as tx:
            for lease in held:
                n = await tx.execute(
                    f"UPDATE cluster_leases SET until_ms = {NOW_MS} + ? WHERE partition = ?"
                    f" AND holder = ? AND epoch = ? AND until_ms >= {NOW_MS}",
                    (self.lease_ms, lease.partition, self.instance, lease.epoch),
                )
                if n == 1:
                    out.add(lease.partition)
        return out

    async def release(self, lease: Lease) -> None:
        async with self.db.transaction() as tx:
            await tx.execute(
                "UPDATE cluster_leases SET until_ms = 0, holder = NULL WHERE partition = ?"
                " AND holder = ? AND epoch = ?",
                (lease.partition, self.instance, lease.epoch),
            )

    async def table(self) -> list[tuple[str, str | None, int, int]]:
        """(partition, holder, ms left, epoch) of every lease, for /health and the docs."""
        rows = await self.db.fetchall(
            f"SELECT partition, holder, until_ms - {NOW_MS}, epoch FROM cluster_leases"
            " ORDER BY partition")
        return [(r[0], r[1], int(r[2]), int(r[3])) for r in rows]


async def holds_in(tx: Tx, lease: Lease, instance: str) -> bool:
    """Inside a transaction: is this lease still ours and live? (locks the row, so it
    cannot be taken over before the transaction ends)"""
    row = await tx.fetchone(
        f"SELECT 1 FROM cluster_leases WHERE partition = ? AND holder = ? AND epoch = ?"
        f" AND until_ms >= {NOW_MS} FOR UPDATE",
        (lease.partition, instance, lease.epoch),
    )
    return row is not None
