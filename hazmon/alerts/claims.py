"""Claims: which instance sends a notification or takes an escalation step.

Several instances on one PostgreSQL database all drain the same outbox and escalation
table. Each round, an instance claims what it is about to work on: the due rows are
selected `FOR UPDATE SKIP LOCKED` (rows another instance is claiming right now are
skipped, not waited for) and stamped with its id and an expiry (`claim_until`). Until the
claim expires no other instance takes the row; the claimant itself may take it again (a
retry, a digest becoming due). A crashed instance's claims simply expire.

The claim decides who works on a row; correctness does not rest on it alone. The second
guards stay: an escalation step is recorded by a compare-and-set on its step number, an
escalation notification has a unique dedup key, and a delivery row is closed only from
pending or held. The claim must outlast one round (`claim_s` ≫ a channel's timeout),
else a slow round could be overtaken.

SQLite is one instance's database: a file on a local disk that a second host cannot
share safely, and it has no row locks (a writer locks the whole file). There the claim
is not needed, and not made.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field

from hazmon.alerts.sql import POSTGRES, Database, Tx, migrate_schema_in

# the columns are added by this module's own migration, so that the alarm store's
# numbered migrations stay free for the other parts
_DDL = {
    1: [
        "ALTER TABLE outbox ADD COLUMN claimed_by TEXT",
        "ALTER TABLE outbox ADD COLUMN claim_until BIGINT",
        "ALTER TABLE escalations ADD COLUMN claimed_by TEXT",
        "ALTER TABLE escalations ADD COLUMN claim_until BIGINT",
    ],
}
SCHEMA_VERSION = max(_DDL)


async def migrate_in(tx: Tx) -> None:
    """Add the claim columns (inside the alarm store's migration transaction)."""
    await migrate_schema_in(tx, "claims_schema", _DDL, "claims")


def instance_id() -> str:
    """Unique per process: host, pid and a random part (a pid is reused after a restart)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


@dataclass(frozen=True, slots=True)
class Claimant:
    """Who claims (this instance) and for how long."""

    owner: str = field(default_factory=instance_id)
    ttl_ms: int = 60_000

    def applies(self, db: Database) -> bool:
        return db.dialect is POSTGRES


def free(alias: str = "") -> str:
    """SQL: a row nobody else holds a live claim on (parameters: now, owner)."""
    p = f"{alias}." if alias else ""
    return f"({p}claim_until IS NULL OR {p}claim_until <= ? OR {p}claimed_by = ?)"


async def claim_ids(db: Database, table: str, key: str, ids: Sequence[object],
                    claimant: Claimant, now_ms: int, status: str) -> set[object]:
    """Claim the rows of `table` whose `key` is in `ids` (and whose status is `status`)
    and that nobody else holds; return the keys claimed."""
    if not ids:
        return set()
    marks = ", ".join("?" for _ in ids)
    async with db.transaction() as tx:
        rows = await tx.fetchall(
            f"UPDATE {table} SET claimed_by = ?, claim_until = ?"
            f" WHERE {key} IN (SELECT {key} FROM {table} WHERE {key} IN ({marks})"
            f" AND status = ? AND {free()} FOR UPDATE SKIP LOCKED) RETURNING {key}",
            (claimant.owner, now_ms + claimant.ttl_ms, *ids, status, now_ms,
             claimant.owner),
        )
    return {r[0] for r in rows}
