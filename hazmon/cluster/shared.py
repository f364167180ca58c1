"""What the holder of a partition shares through the database: its rules snapshot (for
whoever takes the partition over) and, for the API of every instance, its gateways'
presence and its sensors' last reading times."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import orjson

from hazmon.alerts.sql import Database
from hazmon.cluster.leases import NOW_MS, Lease, holds_in


async def save_rules(db: Database, lease: Lease, instance: str,
                     snapshot: Mapping[str, object]) -> bool:
    """Store the partition's snapshot if the lease is still ours (fenced by epoch);
    False when it is not (nothing written)."""
    body = orjson.dumps(snapshot).decode()
    async with db.transaction() as tx:
        if not await holds_in(tx, lease, instance):
            return False
        await tx.execute(
            f"INSERT INTO cluster_rules_state (partition, holder, epoch, saved_ms, body)"
            f" VALUES (?, ?, ?, {NOW_MS}, ?) ON CONFLICT (partition) DO UPDATE SET"
            f" holder = excluded.holder, epoch = excluded.epoch, saved_ms = excluded.saved_ms,"
            f" body = excluded.body",
            (lease.partition, instance, lease.epoch, body),
        )
    return True


async def load_rules(db: Database, partition: str) -> dict[str, object] | None:
    row = await db.fetchone("SELECT body FROM cluster_rules_state WHERE partition = ?",
                            (partition,))
    if row is None:
        return None
    snap = orjson.loads(row[0])
    return snap if isinstance(snap, dict) else None


@dataclass(frozen=True, slots=True)
class GatewayRow:
    enterprise: str
    state: str
    since_ms: int | None
    last_seen_ms: int | None
    newest_data_ms: int | None


async def write_presence(db: Database, gateways: Iterable[GatewayRow],
                         seen: Iterable[tuple[str, str, int]]) -> None:
    """Upsert the held enterprises' gateways and the sensors heard from since last time
    (stamped with the server's clock, which the readers compare with)."""
    async with db.transaction() as tx:
        for g in gateways:
            await tx.execute(
                "INSERT INTO cluster_gateways (enterprise, state, since_ms, last_seen_ms,"
                f" newest_data_ms, updated_ms) VALUES (?, ?, ?, ?, ?, {NOW_MS})"
                " ON CONFLICT (enterprise) DO UPDATE SET state = excluded.state,"
                " since_ms = excluded.since_ms, last_seen_ms = excluded.last_seen_ms,"
                " newest_data_ms = excluded.newest_data_ms, updated_ms = excluded.updated_ms",
                (g.enterprise, g.state, g.since_ms, g.last_seen_ms, g.newest_data_ms),
            )
        for enterprise, tag, last_ms in seen:
            await tx.execute(
                f"INSERT INTO cluster_sensor_seen (enterprise, tag, last_ms, updated_ms)"
                f" VALUES (?, ?, ?, {NOW_MS}) ON CONFLICT (enterprise, tag) DO UPDATE SET"
                " last_ms = excluded.last_ms, updated_ms = excluded.updated_ms"
                " WHERE cluster_sensor_seen.last_ms < excluded.last_ms",
                (enterprise, tag, last_ms),
            )


@dataclass(frozen=True, slots=True)
class Presence:
    gateways: list[GatewayRow]
    seen: list[tuple[str, str, int]]
    server_ms: int  # the server's clock when read: the next `since_ms`


async def read_presence(db: Database, since_ms: int) -> Presence:
    """What was written since `since_ms` (the server's clock)."""
    now = await db.fetchone(f"SELECT {NOW_MS}")
    gws = await db.fetchall(
        "SELECT enterprise, state, since_ms, last_seen_ms, newest_data_ms FROM"
        " cluster_gateways WHERE updated_ms >= ?", (since_ms,))
    seen = await db.fetchall(
        "SELECT enterprise, tag, last_ms FROM cluster_sensor_seen WHERE updated_ms >= ?",
        (since_ms,))
    return Presence([GatewayRow(r[0], r[1], r[2], r[3], r[4]) for r in gws],
                    [(r[0], r[1], int(r[2])) for r in seen], int(now[0]) if now else 0)
