"""DutyService: the enterprise's duties filed and checked, over the duty store.

The API and the service loop both go through it, so a run state set from a commitment,
by hand or restored after a restart places the same hold: while a source is 停车 or 检修
its process alarms are suppressed by design (`AlarmService.suppress_hazard_source`; data
health stays raised, see `hazmon.alerts.service`), and back in 运行 / 开车 / 试生产 the hold
is lifted. The hold's reason starts with `RUNSTATE_REASON`, so a suppression placed by
hand through the holds API is never lifted by a run-state change.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import date
from typing import Any, Final

from hazmon.alerts.errors import ActionRefused
from hazmon.alerts.holds import HoldKind
from hazmon.alerts.service import AlarmService
from hazmon.alerts.sql import StoreConflict
from hazmon.alerts.ulid import UlidFactory
from hazmon.core.clock import Clock
from hazmon.domain.registry import Enterprise, Registry
from hazmon.duties import deadline, patrol, rollcall
from hazmon.duties.chain import DAY_MS, DutyRecord, holiday_window_start
from hazmon.duties.commitment import file_commitment, local_day, run_states
from hazmon.duties.config import DutiesConfig
from hazmon.duties.facts import DutyFact
from hazmon.duties.findings import Snapshot, facts, judged_days
from hazmon.duties.patrol import PatrolRecord
from hazmon.duties.report import DutyFigures, ScopeEnterprise, duty_figures, span_days
from hazmon.duties.rollcall import RollCall
from hazmon.duties.runstate import (
    LABEL,
    RunState,
    RunStateRecord,
    process_alarms_suppressed,
    transition,
)
from hazmon.duties.store import DutyStore, PatrolDraw, StoredCommitment

log = logging.getLogger(__name__)

RUNSTATE_REASON: Final = "运行状态:"  # the reason prefix of a hold placed by a run state
# A month of a province's roll calls (2 a day, 5 per county, ~100 counties) is ~30,000.
REPORT_MAX_CALLS: Final = 1_000_000


def _none_silent(now_ms: int) -> frozenset[str]:
    return frozenset()


class AlreadyFiledError(ValueError):
    """The enterprise has filed its commitment of that day already (409)."""


class DutyService:
    def __init__(self, store: DutyStore, config: DutiesConfig, alarms: AlarmService,
                 clock: Clock, *, registry: Callable[[], Registry] | None = None,
                 silent: Callable[[int], frozenset[str]] = _none_silent,
                 seed: int | None = None, ids: UlidFactory | None = None) -> None:
        self.store = store
        self.config = config
        self.alarms = alarms
        self.clock = clock
        self.registry = registry
        # now_ms -> enterprises whose gateway has sent nothing lately (the gateway tracker)
        self.silent = silent
        self.seed = seed
        self.ids = ids or UlidFactory()
        # Told after each committed change (the loop refreshes its facts at once).
        self.listeners: list[Callable[[], None]] = []
        # Given each batch of new roll calls once stored (the MQTT call to the plants).
        self.call_hooks: list[Callable[[Sequence[RollCall]], Awaitable[None]]] = []

    def _changed(self) -> None:
        for fn in self.listeners:
            fn()

    def today(self, now_ms: int | None = None) -> date:
        return local_day(self.clock() if now_ms is None else now_ms, self.config)

    # --- commitments ----------------------------------------------------------------------

    async def file_commitment(self, enterprise: Enterprise, data: Any, by: str
                              ) -> StoredCommitment:
        """Validate and keep a commitment (CommitmentError lists every wrong field), set
        the run states it declares and their holds. A late one is kept, marked late."""
        now = self.clock()
        c = file_commitment(data, enterprise, now_ms=now, by=by, config=self.config)
        late = deadline.status(c.day, c, now, self.config) is deadline.CommitmentStatus.LATE
        current = {r.hazard_source: r for r in await self.store.run_states(enterprise.code)}
        declared = run_states(c, current)
        changed = [rs for code, rs in declared.items()
                   if _differs(current.get(code), rs)]
        try:
            await self.store.add_commitment(c, late, changed)
        except StoreConflict as exc:
            raise AlreadyFiledError(f"{c.day.isoformat()}的安全承诺已填报") from exc
        for rs in changed:
            await self.sync_hold(rs)
        self._changed()
        return StoredCommitment(c, late)

    # --- run states -----------------------------------------------------------------------

    async def set_run_state(self, enterprise: str, hazard_source: str, state: RunState, *,
                            by: str, reason: str | None, expected_end_ms: int | None
                            ) -> RunStateRecord:
        """Change a source's run state by hand (TransitionError: refused, in Chinese)."""
        now = self.clock()
        current = await self.store.run_state(enterprise, hazard_source)
        rs = transition(current, enterprise, hazard_source, state, at_ms=now, by=by,
                        reason=reason, expected_end_ms=expected_end_ms)
        await self.store.set_run_state(rs, now, "manual")
        await self.sync_hold(rs)
        self._changed()
        return rs

    async def sync_hold(self, rs: RunStateRecord) -> bool:
        """Make the source's suppression match its run state; True when it changed."""
        held = [h for h in await self.alarms.holds(rs.enterprise)
                if h.kind is HoldKind.SUPPRESSED and h.hazard_source == rs.hazard_source]
        try:
            if process_alarms_suppressed(rs):
                if held:
                    return False  # suppressed already (by an earlier state or by hand)
                why = f"{RUNSTATE_REASON}{LABEL[rs.state]}" + (f"({rs.reason})" if rs.reason
                                                               else "")
                await self.alarms.suppress_hazard_source(rs.enterprise, rs.hazard_source,
                                                         rs.set_by, why)
                log.info("duties: %s %s is %s: process alarms suppressed", rs.enterprise,
                         rs.hazard_source, rs.state.value)
                return True
            ours = [h for h in held if h.reason.startswith(RUNSTATE_REASON)]
            if not ours:
                return False
            await self.alarms.unsuppress_hazard_source(
                rs.enterprise, rs.hazard_source, rs.set_by,
                f"{RUNSTATE_REASON}{LABEL[rs.state]}")
            log.info("duties: %s %s is %s: suppression lifted", rs.enterprise,
                     rs.hazard_source, rs.state.value)
            return True
        except ActionRefused as exc:  # changed concurrently; the next reconcile settles it
            log.info("duties: hold of %s %s not changed: %s", rs.enterprise, rs.hazard_source,
                     exc)
            return False

    async def reconcile_holds(self) -> int:
        """Every source's hold made to match its run state (after a restart, or a crash
        between a run-state change and its hold); how many changed."""
        changed = 0
        for rs in await self.store.run_states():
            changed += await self.sync_hold(rs)
        return changed

    # --- 包保 duty records ----------------------------------------------------------------

    async def record_duty(self, record: DutyRecord, by: str) -> str:
        record_id = self.ids.new(self.clock())
        await self.store.add_duty_record(record_id, record, by, self.clock())
        self._changed()
        return record_id

    def new_id(self) -> str:
        return self.ids.new(self.clock())

    async def fix_hidden_danger(self, danger_id: str, by: str) -> bool:
        done = await self.store.fix_hidden_danger(danger_id, by, self.clock())
        self._changed()
        return done

    # --- roll calls -----------------------------------------------------------------------

    async def call_roll(self, enterprises: Sequence[str], by: str) -> list[RollCall]:
        now = self.clock()
        calls = [rollcall.call(self.ids.new(now), e, now, by, self.config)
                 for e in sorted(set(enterprises))]
        await self.store.add_roll_calls(calls)
        self._changed()
        for hook in self.call_hooks:
            try:
                await hook(calls)
            except Exception:  # the calls stand; the API remains the way to answer
                log.exception("duties: a roll-call hook failed")
        return calls

    def sample_seed(self, what: str) -> int:
        """A seed for one random choice: from the settings' seed (reproducible), else
        fresh; the caller keeps it with what it drew."""
        if self.seed is not None:
            return hash_seed(f"{self.seed}:{what}")
        return secrets.randbits(63)

    async def answer_roll_call(self, call_id: str, by: str) -> RollCall:
        """The call answered (a second answer keeps the first)."""
        await self.store.answer_roll_call(call_id, self.clock(), by)
        rc = await self.store.roll_call(call_id)
        assert rc is not None
        self._changed()
        return rc

    # --- patrols --------------------------------------------------------------------------

    async def draw_patrols(self, registry: Registry, day: date,
                           recent_warnings: dict[str, int] | None = None) -> list[PatrolDraw]:
        """The day's draw per county, made once (the first draw of a day is kept)."""
        kept = {d.county: d for d in await self.store.patrol_draws(day)}
        cands = patrol.candidates(registry, recent_warnings or {})
        counties = sorted({c.county for c in cands} - set(kept))
        if counties:
            seed_text = await self.store.set_mark(
                f"patrol_seed:{day.isoformat()}", str(self.sample_seed(f"patrol:{day}")),
                keep=True)
            drawn = patrol.daily_sample([c for c in cands if c.county in counties], day,
                                        int(seed_text), self.config)
            now = self.clock()
            for county, ents in drawn.items():
                await self.store.add_patrol_draw(PatrolDraw(county, day, seed_text,
                                                            tuple(ents), now))
            log.info("duties: patrol sample of %s drawn for %d counties", day, len(drawn))
        return await self.store.patrol_draws(day)

    async def record_patrol(self, record: PatrolRecord) -> None:
        await self.store.add_patrol_record(record)
        self._changed()


    # --- reports --------------------------------------------------------------------------

    async def report_figures(self, scope: Sequence[ScopeEnterprise], start_ms: int,
                             end_ms: int, now_ms: int,
                             county_names: Mapping[str, str] | None = None) -> DutyFigures:
        """The duty figures of a report's span for the enterprises in its scope
        (`hazmon.duties.report`), read from the store: only the span's rows."""
        days = span_days(start_ms, end_ms, self.config)
        first, last = (days[0], days[-1]) if days else (self.today(now_ms),) * 2
        started = await self.store.mark("started_ms")
        return duty_figures(
            scope=scope, start_ms=start_ms, end_ms=end_ms, now_ms=now_ms, config=self.config,
            calls=await self.store.roll_calls(since_ms=start_ms, until_ms=end_ms,
                                              limit=REPORT_MAX_CALLS),
            draws=await self.store.patrol_draws(first, last) if days else (),
            patrols=await self.store.patrol_records(first, last) if days else (),
            commitments=[sc.commitment for sc in
                         await self.store.commitments_of_day(first, last)] if days else (),
            started_ms=None if started is None else int(started),
            county_names=county_names)

    # --- facts ----------------------------------------------------------------------------

    async def snapshot(self, now_ms: int | None = None) -> Snapshot:
        """What the facts are computed from, read from the store. The first read marks
        when duties began (the service's first day is judged from then on) and when each
        hazard source first appeared (its 包保 duties are due one interval later).

        Only what can still be due or overdue is read, not the history: today's and
        yesterday's commitments, the last two days' roll calls, and of the 包保 records
        each source and role's latest, the last holiday's window and those with an
        unfixed hidden danger (`DutyStore.duty_records_in_force`)."""
        now = self.clock() if now_ms is None else now_ms
        if self.registry is None:
            raise RuntimeError("DutyService.snapshot needs the registry")
        reg = self.registry()
        started = int(await self.store.set_mark("started_ms", str(now), keep=True))
        marks = await self.store.marks("since:")
        sources = {code: tuple(h.code for h in e.hazard_sources)
                   for code, e in reg.enterprises.items()}
        since: dict[tuple[str, str], int] = {}
        for ent, codes in sources.items():
            for hs in codes:
                name = f"since:{ent}:{hs}"
                if name not in marks:
                    marks[name] = await self.store.set_mark(name, str(now), keep=True)
                since[(ent, hs)] = int(marks[name])
        commitments = {}
        for day in judged_days(now, self.config):
            for sc in await self.store.commitments_of_day(day):
                commitments[(sc.commitment.enterprise, day)] = sc.commitment
        calls = await self.store.roll_calls(since_ms=now - 2 * DAY_MS)
        return Snapshot(
            sources=sources, started_ms=started, since_ms=since, commitments=commitments,
            run_states=tuple(await self.store.run_states()),
            records=tuple(r for _, r in await self.store.duty_records_in_force(
                holiday_window_start(now, self.config))),
            calls=tuple(calls), silent=self.silent(now))

    async def facts_now(self) -> list[DutyFact]:
        now = self.clock()
        return facts(await self.snapshot(now), now, self.config)


def hash_seed(text: str) -> int:
    """A stable 63-bit seed of a text (Python's hash() is salted per process)."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") >> 1


def _differs(cur: RunStateRecord | None, new: RunStateRecord) -> bool:
    return cur is None or (cur.state, cur.reason, cur.expected_end_ms) != (
        new.state, new.reason, new.expected_end_ms)
