"""Whether a day's commitment came in time, and the order regulators see them in."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum

from hazmon.duties.commitment import Commitment
from hazmon.duties.config import DutiesConfig
from hazmon.duties.facts import DutyFact, FactKind


class CommitmentStatus(StrEnum):
    PENDING = "pending"  # not filed, deadline not passed yet
    ON_TIME = "on_time"
    LATE = "late"
    MISSING = "missing"  # not filed, deadline passed


def local_ms(day: date, at: time, config: DutiesConfig) -> int:
    """Epoch ms of a local wall-clock time of the province on a day."""
    return int(datetime.combine(day, at, tzinfo=config.zone).timestamp() * 1000)


def deadline_ms(day: date, config: DutiesConfig) -> int:
    return local_ms(day, config.commitment.deadline, config)


def status(
    day: date, commitment: Commitment | None, now_ms: int, config: DutiesConfig
) -> CommitmentStatus:
    """The status of an enterprise's commitment for `day` as seen at `now_ms`.

    Filed exactly at the deadline is on time. A filing before the province's window start
    is refused by the validation (`commitment.consistency_problems`), not graded here."""
    due = deadline_ms(day, config)
    if commitment is not None and commitment.day == day:
        return CommitmentStatus.ON_TIME if commitment.filed_at_ms <= due else CommitmentStatus.LATE
    return CommitmentStatus.PENDING if now_ms <= due else CommitmentStatus.MISSING


def fact(
    enterprise: str, day: date, st: CommitmentStatus, config: DutiesConfig,
    filed_at_ms: int | None = None,
) -> DutyFact | None:
    """The fact for the warning layer: a missing or late commitment (else None)."""
    due = deadline_ms(day, config)
    if st is CommitmentStatus.MISSING:
        return DutyFact(FactKind.COMMITMENT_MISSING, enterprise, None, due,
                        f"commitment:{day.isoformat()}", f"{day.isoformat()}安全承诺未按时填报",
                        day)
    if st is CommitmentStatus.LATE:
        return DutyFact(FactKind.COMMITMENT_LATE, enterprise, None, filed_at_ms or due,
                        f"commitment:{day.isoformat()}", f"{day.isoformat()}安全承诺逾期填报",
                        day)
    return None


@dataclass(frozen=True, slots=True)
class DayRow:
    """One line of the regulator's list of the day."""

    enterprise: str
    status: CommitmentStatus
    commitment: Commitment | None

    @property
    def major_hidden_danger(self) -> bool:
        return self.commitment is not None and self.commitment.input.major_hidden_danger

    @property
    def transient(self) -> bool:
        return self.commitment is not None and bool(self.commitment.transient_sources)


def day_rows(
    day: date, enterprises: Iterable[str], commitments: Sequence[Commitment], now_ms: int,
    config: DutiesConfig,
) -> list[DayRow]:
    """The region's commitments of a day, in the order shown: missing first, then major
    hidden danger, then a source in start-up / shutdown / turnaround, then late, then
    pending, then the rest; by enterprise code within each."""
    by_ent = {c.enterprise: c for c in commitments if c.day == day}
    rows = [DayRow(e, status(day, by_ent.get(e), now_ms, config), by_ent.get(e))
            for e in enterprises]

    def rank(r: DayRow) -> tuple[int, str]:
        if r.status is CommitmentStatus.MISSING:
            k = 0
        elif r.major_hidden_danger:
            k = 1
        elif r.transient:
            k = 2
        elif r.status is CommitmentStatus.LATE:
            k = 3
        elif r.status is CommitmentStatus.PENDING:
            k = 4
        else:
            k = 5
        return k, r.enterprise

    return sorted(rows, key=rank)
