"""Every duty fact true at a moment, from a snapshot of the duty store: the pure step
between what is filed and what the warning layer is handed (`DutyFact`).

The snapshot is read from the store now and then (the service loop, the API); the facts
are computed from it at any `now_ms`, so a deadline passing between two reads is seen at
once by whoever asks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from hazmon.duties import deadline, rollcall
from hazmon.duties.chain import DutyRecord, overdue_duties, overdue_hidden_dangers
from hazmon.duties.commitment import Commitment, local_day
from hazmon.duties.config import DutiesConfig
from hazmon.duties.facts import DutyFact
from hazmon.duties.rollcall import RollCall
from hazmon.duties.runstate import RunStateRecord, running_but_silent, stopped_past_expected_end


@dataclass(frozen=True, slots=True)
class Snapshot:
    # enterprise -> its hazard sources' codes (the registry at the time of the read)
    sources: Mapping[str, tuple[str, ...]]
    # Days whose deadline passed before this are not judged (duties began then).
    started_ms: int
    # (enterprise, hazard source) -> when its 包保 duties began
    since_ms: Mapping[tuple[str, str], int] = field(default_factory=dict)
    commitments: Mapping[tuple[str, date], Commitment] = field(default_factory=dict)
    run_states: tuple[RunStateRecord, ...] = ()
    records: tuple[DutyRecord, ...] = ()
    calls: tuple[RollCall, ...] = ()
    silent: frozenset[str] = frozenset()  # enterprises whose gateway sends nothing


def judged_days(now_ms: int, config: DutiesConfig) -> tuple[date, date]:
    """Today and yesterday (province time): a day's missing commitment is still handed
    over the morning after, so crossing midnight never drops it unseen."""
    today = local_day(now_ms, config)
    return today, today - timedelta(days=1)


def facts(snap: Snapshot, now_ms: int, config: DutiesConfig) -> list[DutyFact]:
    out: list[DutyFact] = []
    for day in judged_days(now_ms, config):
        if deadline.deadline_ms(day, config) < snap.started_ms:
            continue
        for ent in sorted(snap.sources):
            c = snap.commitments.get((ent, day))
            st = deadline.status(day, c, now_ms, config)
            f = deadline.fact(ent, day, st, config, c.filed_at_ms if c else None)
            if f is not None:
                out.append(f)
    for rs in snap.run_states:
        if rs.enterprise not in snap.sources:
            continue
        for maybe in (stopped_past_expected_end(rs, now_ms),
                      running_but_silent(rs, rs.enterprise not in snap.silent, now_ms)):
            if maybe is not None:
                out.append(maybe)
    for ent, codes in sorted(snap.sources.items()):
        for hs in codes:
            since = snap.since_ms.get((ent, hs), snap.started_ms)
            out.extend(overdue_duties(ent, hs, snap.records, since_ms=since, now_ms=now_ms,
                                      config=config))
    out.extend(f for f in overdue_hidden_dangers(snap.records, now_ms, config)
               if f.enterprise in snap.sources)
    for rc in snap.calls:
        m = rollcall.missed_fact(rc, now_ms)
        if m is not None and rc.enterprise in snap.sources:
            out.append(m)
    return out
