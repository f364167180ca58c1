"""Duty-watch roll call (值班点名): who is called when, and how each call was answered.

Random choices take a seed so that a schedule or a sample can be drawn again exactly
(for the audit, and for tests)."""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from hazmon.duties.config import DutiesConfig
from hazmon.duties.deadline import local_ms
from hazmon.duties.facts import DutyFact, FactKind


class CallStatus(StrEnum):
    WAITING = "waiting"  # not answered, deadline not passed
    ANSWERED = "answered"
    ANSWERED_LATE = "answered_late"
    MISSED = "missed"


@dataclass(frozen=True, slots=True)
class RollCall:
    id: str
    enterprise: str
    called_at_ms: int
    deadline_ms: int
    called_by: str  # a regulator's token name, or "schedule"
    answered_at_ms: int | None = None
    answered_by: str | None = None


def call(id: str, enterprise: str, at_ms: int, by: str, config: DutiesConfig) -> RollCall:
    return RollCall(id, enterprise, at_ms, at_ms + config.roll_call.answer_deadline_s * 1000, by)


def answer(rc: RollCall, at_ms: int, by: str) -> RollCall:
    """The call answered; a second answer keeps the first."""
    if rc.answered_at_ms is not None:
        return rc
    if at_ms < rc.called_at_ms:
        raise ValueError("an answer cannot precede its call")
    return RollCall(rc.id, rc.enterprise, rc.called_at_ms, rc.deadline_ms, rc.called_by,
                    at_ms, by)


def status(rc: RollCall, now_ms: int) -> CallStatus:
    if rc.answered_at_ms is not None:
        return CallStatus.ANSWERED if rc.answered_at_ms <= rc.deadline_ms else (
            CallStatus.ANSWERED_LATE)
    return CallStatus.WAITING if now_ms <= rc.deadline_ms else CallStatus.MISSED


def missed_fact(rc: RollCall, now_ms: int) -> DutyFact | None:
    """Missed, or answered after the deadline: the watch was not kept (→ 黄 by default)."""
    st = status(rc, now_ms)
    if st not in (CallStatus.MISSED, CallStatus.ANSWERED_LATE):
        return None
    word = "未应答" if st is CallStatus.MISSED else "超时应答"
    return DutyFact(FactKind.ROLL_CALL_MISSED, rc.enterprise, None, rc.deadline_ms,
                    f"rollcall:{rc.id}", f"值班点名{word}")


def sample(enterprises: Sequence[str], size: int, seed: int) -> list[str]:
    """A reproducible random sample of a region's enterprises (all when fewer)."""
    pool = sorted(set(enterprises))
    return sorted(random.Random(seed).sample(pool, min(size, len(pool))))


def schedule(day: date, seed: int, config: DutiesConfig) -> list[int]:
    """The day's scheduled call times (epoch ms), random within the configured span."""
    rc = config.roll_call
    lo = local_ms(day, rc.schedule_start, config)
    hi = local_ms(day, rc.schedule_end, config)
    rng = random.Random(f"{seed}:{day.isoformat()}")
    return sorted(rng.randrange(lo, hi) // 1000 * 1000 for _ in range(rc.daily_calls))


@dataclass(frozen=True, slots=True)
class AnswerRate:
    enterprise: str
    calls: int
    answered: int  # in time
    late: int
    missed: int

    @property
    def rate(self) -> float | None:
        """Share answered in time, of the calls decided (waiting ones are left out)."""
        decided = self.answered + self.late + self.missed
        return None if decided == 0 else self.answered / decided


def answer_rates(calls: Iterable[RollCall], now_ms: int) -> dict[str, AnswerRate]:
    counts: dict[str, list[int]] = {}
    for rc in calls:
        c = counts.setdefault(rc.enterprise, [0, 0, 0, 0])
        st = status(rc, now_ms)
        c[0] += 1
        c[1] += st is CallStatus.ANSWERED
        c[2] += st is CallStatus.ANSWERED_LATE
        c[3] += st is CallStatus.MISSED
    return {e: AnswerRate(e, *c) for e, c in sorted(counts.items())}


__all__ = ["AnswerRate", "CallStatus", "RollCall", "answer", "answer_rates", "call",
           "missed_fact", "sample", "schedule", "status"]
