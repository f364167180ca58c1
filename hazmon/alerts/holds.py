"""Standing holds on alarms: a hazard source suppressed by design (shut down, under
commissioning) or a sensor / hazard source out of service (maintenance). A hold outlives
single occurrences: every new occurrence it covers is born held back. Suppression covers
the process alarms only (data health stays raised); out of service covers every alarm."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from hazmon.alerts.lifecycle import Overlay
from hazmon.alerts.sql import Database, Tx


class HoldKind(StrEnum):
    SUPPRESSED = "suppressed"
    OUT_OF_SERVICE = "out_of_service"


@dataclass(frozen=True, slots=True)
class Hold:
    kind: HoldKind
    enterprise: str
    hazard_source: str
    tag: str | None  # None: the whole hazard source
    actor: str
    reason: str
    since_ms: int

    def covers(self, enterprise: str, hazard_source: str, tag: str | None) -> bool:
        return (
            self.enterprise == enterprise and self.hazard_source == hazard_source
            and (self.tag is None or self.tag == tag)
        )

    def overlay(self) -> Overlay:
        return Overlay(self.actor, self.since_ms, self.reason)


_COLS = "kind, enterprise, hazard_source, tag, actor, reason, since_ms"


def _hold(r: Sequence[Any]) -> Hold:
    return Hold(HoldKind(r[0]), r[1], r[2], r[3] or None, r[4], r[5], int(r[6]))


async def add_in(tx: Tx, hold: Hold) -> bool:
    """Place a hold; False when the same one is already in place."""
    changed = await tx.execute(
        f"INSERT INTO holds ({_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (kind, enterprise, hazard_source, tag) DO NOTHING",
        (hold.kind.value, hold.enterprise, hold.hazard_source, hold.tag or "", hold.actor,
         hold.reason, hold.since_ms),
    )
    return changed == 1


async def remove_in(tx: Tx, kind: HoldKind, enterprise: str, hazard_source: str,
                    tag: str | None) -> Hold | None:
    row = await tx.fetchone(
        f"SELECT {_COLS} FROM holds WHERE kind = ? AND enterprise = ? AND hazard_source = ?"
        " AND tag = ?",
        (kind.value, enterprise, hazard_source, tag or ""),
    )
    if row is None:
        return None
    await tx.execute(
        "DELETE FROM holds WHERE kind = ? AND enterprise = ? AND hazard_source = ? AND tag = ?",
        (kind.value, enterprise, hazard_source, tag or ""),
    )
    return _hold(row)


async def covering_in(tx: Tx, enterprise: str, hazard_source: str,
                      tag: str | None) -> list[Hold]:
    """Holds that apply to an alarm of this hazard source (and tag), oldest first."""
    rows = await tx.fetchall(
        f"SELECT {_COLS} FROM holds WHERE enterprise = ? AND hazard_source = ?"
        " AND (tag = '' OR tag = ?) ORDER BY since_ms",
        (enterprise, hazard_source, tag or ""),
    )
    return [_hold(r) for r in rows]


async def list_holds(db: Database, enterprise: str | None = None) -> list[Hold]:
    sql = f"SELECT {_COLS} FROM holds"
    params: list[object] = []
    if enterprise is not None:
        sql += " WHERE enterprise = ?"
        params.append(enterprise)
    rows = await db.fetchall(sql + " ORDER BY enterprise, hazard_source, tag, kind", params)
    return [_hold(r) for r in rows]
