"""Escalation of unacknowledged alarms up the responsibility chain.

An alarm that nobody acknowledges goes, one step per deadline, to the hazard source's
operational, technical and principal persons in charge (包保责任人, the registry's Contact
roles), then to the city and the province monitoring centre. Acknowledgement (or the
occurrence closing) stops it; an alarm that returned to normal unacknowledged keeps going
up, since it is latched until a person resets it (GB/T 50493, docs/STANDARDS.md §3.5).
While an alarm is shelved, suppressed or out of service its escalation waits (the
deadline restarts when it is no longer held back).

Deadlines are per priority and configurable; the national platform's real figures are
not public (docs/REGULATORY.md §3), so these defaults are a starting point, chosen so a critical
alarm reaches the province within 25 minutes and a low one within 5 hours:

    critical 5 min per step, high 15, medium 30, low 60

The state (steps done, when the next one is due) lives in the `escalations` table and each
step is written in one transaction with its history entry, audit entry and "escalate"
outbox notification, so a restart mid-escalation neither repeats nor skips a step. A
service that was down past several deadlines catches up step by step, in order.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from hazmon.alerts import claims
from hazmon.alerts.claims import Claimant
from hazmon.alerts.directory import ContactLike
from hazmon.alerts.sql import Database, StoreConflict, Tx
from hazmon.domain.signal import Priority

log = logging.getLogger(__name__)

LEVELS: tuple[str, ...] = ("operational", "technical", "principal", "city", "province")
CONTACT_LEVELS = frozenset({"operational", "technical", "principal"})
CENTRE_LEVELS = frozenset({"county", "city", "province"})

DEFAULT_STEP_MINUTES: Mapping[Priority, int] = {
    Priority.CRITICAL: 5,
    Priority.HIGH: 15,
    Priority.MEDIUM: 30,
    Priority.LOW: 60,
}


@dataclass(frozen=True, slots=True)
class EscalationPolicy:
    step_minutes: Mapping[Priority, int] = field(
        default_factory=lambda: dict(DEFAULT_STEP_MINUTES)
    )
    levels: tuple[str, ...] = LEVELS
    escalate_simulated: bool = False  # a drill never pages real people

    def __post_init__(self) -> None:
        for p in Priority:
            minutes = self.step_minutes.get(p)
            if minutes is None or minutes < 1:
                raise ValueError(f"escalation step for {p} must be at least 1 minute")
        unknown = set(self.levels) - CONTACT_LEVELS - CENTRE_LEVELS
        if unknown or not self.levels:
            known = sorted(CONTACT_LEVELS | CENTRE_LEVELS)
            raise ValueError(f"escalation levels must be some of {known}")

    def step_ms(self, priority: Priority) -> int:
        return self.step_minutes[priority] * 60_000


class EscalationStatus(StrEnum):
    ACTIVE = "active"
    STOPPED = "stopped"  # acknowledged or closed
    EXHAUSTED = "exhausted"  # every level has been told


@dataclass(frozen=True, slots=True)
class EscalationState:
    alarm_id: str
    priority: Priority
    step: int  # steps done so far; the next one goes to levels[step]
    started_at_ms: int
    next_at_ms: int | None
    status: EscalationStatus
    note: str | None = None


def region_centre(region: str, level: str) -> str:
    """GB/T 2260 code of the centre above a county code: 320921 → city 320900, prov 320000."""
    if level == "province":
        return region[:2] + "0000"
    if level == "city":
        return region[:4] + "00"
    return region


def target_for(level: str, region: str, contacts: Sequence[ContactLike]) -> dict[str, Any]:
    """Who a step goes to. A missing contact does not skip the step: it is sent marked
    `missing` so the pipeline can route it to the enterprise's duty line and say so."""
    if level in CONTACT_LEVELS:
        for c in contacts:
            if c.role == level:
                return {"level": level, "role": level, "name": c.name, "phone": c.phone}
        return {"level": level, "role": level, "missing": True}
    return {"level": level, "region": region_centre(region, level) if region else None}


_COLS = "alarm_id, priority, step, started_at, next_at, status, note"


def _state(r: Sequence[Any]) -> EscalationState:
    return EscalationState(
        alarm_id=r[0], priority=Priority(r[1]), step=int(r[2]), started_at_ms=int(r[3]),
        next_at_ms=None if r[4] is None else int(r[4]), status=EscalationStatus(r[5]),
        note=r[6],
    )


async def start_in(tx: Tx, alarm_id: str, priority: Priority, policy: EscalationPolicy,
                   now_ms: int) -> None:
    await tx.execute(
        f"INSERT INTO escalations ({_COLS}, updated_at) VALUES (?, ?, 0, ?, ?, ?, NULL, ?)"
        " ON CONFLICT (alarm_id) DO NOTHING",
        (alarm_id, priority.value, now_ms, now_ms + policy.step_ms(priority),
         EscalationStatus.ACTIVE.value, now_ms),
    )


async def stop_in(tx: Tx, alarm_id: str, now_ms: int, reason: str) -> bool:
    changed = await tx.execute(
        "UPDATE escalations SET status = ?, next_at = NULL, note = ?, updated_at = ?"
        " WHERE alarm_id = ? AND status = ?",
        (EscalationStatus.STOPPED.value, reason, now_ms, alarm_id,
         EscalationStatus.ACTIVE.value),
    )
    return changed == 1


async def get_in(tx: Tx, alarm_id: str) -> EscalationState | None:
    row = await tx.fetchone(f"SELECT {_COLS} FROM escalations WHERE alarm_id = ?",
                            (alarm_id,))
    return _state(row) if row else None


async def get(db: Database, alarm_id: str) -> EscalationState | None:
    async with db.transaction(write=False) as tx:
        return await get_in(tx, alarm_id)


async def due(db: Database, now_ms: int, limit: int = 500,
              claimant: Claimant | None = None) -> list[EscalationState]:
    """Active escalations with a step due, soonest first; with a claimant (several
    instances on PostgreSQL, claims.py) claimed, leaving out those another one holds."""
    if claimant is not None and claimant.applies(db):
        async with db.transaction() as tx:
            claimed = await tx.fetchall(
                f"UPDATE escalations SET claimed_by = ?, claim_until = ? WHERE alarm_id IN"
                f" (SELECT alarm_id FROM escalations WHERE status = ? AND next_at <= ?"
                f" AND {claims.free()} ORDER BY next_at, alarm_id LIMIT ?"
                f" FOR UPDATE SKIP LOCKED) RETURNING {_COLS}",
                (claimant.owner, now_ms + claimant.ttl_ms, EscalationStatus.ACTIVE.value,
                 now_ms, now_ms, claimant.owner, limit),
            )
        return sorted((_state(r) for r in claimed),
                      key=lambda st: (st.next_at_ms or 0, st.alarm_id))
    rows = await db.fetchall(
        f"SELECT {_COLS} FROM escalations WHERE status = ? AND next_at <= ?"
        " ORDER BY next_at, alarm_id LIMIT ?",
        (EscalationStatus.ACTIVE.value, now_ms, limit),
    )
    return [_state(r) for r in rows]


async def advance_in(tx: Tx, st: EscalationState, policy: EscalationPolicy,
                     now_ms: int) -> EscalationState:
    """Record that step `st.step` was taken. The WHERE on the old step makes it a
    compare-and-set: a step can be recorded once only."""
    step = st.step + 1
    last = step >= len(policy.levels)
    base = st.next_at_ms if st.next_at_ms is not None else now_ms
    # anchored on the schedule, not on when the tick ran: no drift, and catch-up works
    next_at = None if last else base + policy.step_ms(st.priority)
    status = EscalationStatus.EXHAUSTED if last else EscalationStatus.ACTIVE
    changed = await tx.execute(
        "UPDATE escalations SET step = ?, next_at = ?, status = ?, updated_at = ?"
        " WHERE alarm_id = ? AND step = ? AND status = ?",
        (step, next_at, status.value, now_ms, st.alarm_id, st.step,
         EscalationStatus.ACTIVE.value),
    )
    if changed != 1:
        raise StoreConflict(f"escalation of {st.alarm_id} changed under us")
    return EscalationState(st.alarm_id, st.priority, step, st.started_at_ms, next_at, status)


async def postpone_in(tx: Tx, st: EscalationState, next_at_ms: int, now_ms: int,
                      reason: str) -> None:
    await tx.execute(
        "UPDATE escalations SET next_at = ?, note = ?, updated_at = ?"
        " WHERE alarm_id = ? AND status = ?",
        (next_at_ms, reason, now_ms, st.alarm_id, EscalationStatus.ACTIVE.value),
    )
