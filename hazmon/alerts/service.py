"""AlarmService: rules signals and people's actions in, ISA-18.2 alarms out.

Every change runs as one chain inside one database transaction (docs/DESIGN.md habit 9):

    hold check (suppressed / out of service) → dedup (one open occurrence per key)
    → lifecycle transition → store + history → audit entry → outbox / escalation

and only after the commit are listeners told (docs/CONTRACT.md §5.6 alarm event dicts), so nobody
hears of a change that was rolled back. Human actions read the injected clock; signals
carry their own time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from hazmon.alerts import audit, escalation, holds, outbox
from hazmon.alerts.claims import Claimant
from hazmon.alerts.directory import Directory
from hazmon.alerts.errors import ActionRefused, AlarmNotFound, TransitionRefused
from hazmon.alerts.escalation import EscalationPolicy, EscalationState, EscalationStatus
from hazmon.alerts.event import alarm_event
from hazmon.alerts.holds import Hold, HoldKind
from hazmon.alerts.lifecycle import (
    Ack,
    Alarm,
    Clear,
    Comment,
    Escalate,
    Event,
    HistoryEntry,
    Raise,
    RemoveFromService,
    ReturnToService,
    Shelve,
    ShelveExpire,
    Suppress,
    Unshelve,
    Unsuppress,
    Update,
    apply,
    new_alarm,
)
from hazmon.alerts.outbox import NotificationKind
from hazmon.alerts.sql import StoreConflict, Tx
from hazmon.alerts.store import AlarmStore
from hazmon.alerts.ulid import UlidFactory
from hazmon.core.clock import Clock, wall_ms
from hazmon.domain.signal import AlarmSignal, Category, SignalKind

log = logging.getLogger(__name__)

Listener = Callable[[dict[str, Any]], Awaitable[None]]

# After these an alarm that is active, unacknowledged and no longer held back is
# announced again: the operator must see what the shelve or the maintenance hid.
_RELEASES = frozenset({"unshelved", "shelve_expired", "unsuppressed", "returned_to_service"})


@dataclass(frozen=True, slots=True)
class TickResult:
    unshelved: int = 0
    escalated: int = 0


class EventStream:
    """An async iterator of alarm events with a bounded queue: a slow reader loses the
    oldest events (counted and logged), never blocks the alarm service."""

    def __init__(self, owner: AlarmService, maxsize: int) -> None:
        self._owner = owner
        self._queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(maxsize)
        self._closed = False
        self.dropped = 0

    def _put(self, event: dict[str, Any]) -> None:
        if self._queue.full():
            self._queue.get_nowait()
            self.dropped += 1
            log.warning("alarm event stream full: dropped the oldest (%d so far)", self.dropped)
        self._queue.put_nowait(event)

    def close(self) -> None:
        """Stop after the events already queued."""
        self._owner._streams.discard(self)
        self._closed = True
        with contextlib.suppress(asyncio.QueueFull):  # full: nobody is waiting anyway
            self._queue.put_nowait(None)

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        return self

    async def __anext__(self) -> dict[str, Any]:
        if self._closed and self._queue.empty():
            raise StopAsyncIteration
        event = await self._queue.get()
        if event is None:
            raise StopAsyncIteration
        return event


class AlarmService:
    def __init__(
        self,
        store: AlarmStore,
        *,
        directory: Directory | None = None,
        escalation_policy: EscalationPolicy | None = None,
        clock: Clock = wall_ms,
        ids: UlidFactory | None = None,
        claimant: Claimant | None = None,
    ) -> None:
        self.store = store
        self.outbox = outbox.Outbox(store.db)
        self.claimant = claimant  # several instances: escalation steps are claimed
        self.directory = directory
        self.policy = escalation_policy if escalation_policy is not None else EscalationPolicy()
        self._clock = clock
        self._ids = ids or UlidFactory()
        self._listeners: list[Listener] = []
        self._streams: set[EventStream] = set()
        self.counts: dict[str, int] = {
            "raised": 0, "deduplicated": 0, "reactivated": 0, "cleared": 0,
            "ignored_clear": 0, "quiet_raise": 0, "escalated": 0,
        }

    # --- subscribers ----------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener(event)` after each committed change; returns an unsubscribe."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(listener)

        return unsubscribe

    def events(self, maxsize: int = 1000) -> EventStream:
        """`async for event in service.events(): ...`; `stream.close()` ends it."""
        stream = EventStream(self, maxsize)
        self._streams.add(stream)
        return stream

    async def _publish(self, changes: Sequence[tuple[Alarm, HistoryEntry]]) -> None:
        for alarm, entry in changes:
            event = alarm_event(alarm, entry)
            for stream in list(self._streams):
                stream._put(event)
            for listener in list(self._listeners):
                try:
                    await listener(event)
                except Exception:  # a broken subscriber must not break alarm handling
                    log.exception("alarm listener %r failed on %s", listener, event["id"])

    # --- the chain ------------------------------------------------------------------------

    async def _step(self, tx: Tx, alarm: Alarm, event: Event, *, created: bool = False,
                    changes: list[tuple[Alarm, HistoryEntry]]) -> Alarm:
        """Transition, store, audit and queue one event, inside `tx`."""
        step = apply(alarm, event)
        new, entry = step.alarm, step.entry
        await AlarmStore.save(tx, new, entry, created=created)
        await audit.append(
            tx, ts_ms=entry.ts_ms, actor=entry.actor, action=entry.event, alarm_id=new.id,
            payload={
                "seq": entry.seq, "from": entry.from_state.value, "to": entry.to_state.value,
                "key": list(new.key), "priority": new.priority.value,
                "data": dict(entry.data),
            },
        )
        await self._after(tx, new, entry, created=created)
        changes.append((new, entry))
        log.log(logging.DEBUG if entry.event == "updated" else logging.INFO,
                "alarm %s %s by %s: %s → %s", new.id, entry.event, entry.actor,
                entry.from_state.value, entry.to_state.value)
        return new

    async def _after(self, tx: Tx, alarm: Alarm, entry: HistoryEntry, *,
                     created: bool) -> None:
        """Side effects of a transition: notifications and escalation."""
        # Due, and escalation deadlines counted, from when we learn of it: a reading's own
        # time may lie ahead (a gateway clock up to 5 min fast) or far behind (a backlog
        # after an outage, which must not escalate at once through every step).
        ts = self._clock()
        announce = alarm.quiet_reason is None and (
            entry.event in ("raised", "cleared")
            or (entry.event in _RELEASES and alarm.is_active and not alarm.is_acked)
        )
        if announce:
            await outbox.enqueue_in(
                tx, NotificationKind.ALARM, alarm_event(alarm, entry), now_ms=ts,
                alarm_id=alarm.id, dedup_key=f"alarm:{alarm.id}:{entry.seq}",
            )
        if created and (not alarm.simulated or self.policy.escalate_simulated):
            await escalation.start_in(tx, alarm.id, alarm.priority, self.policy, ts)
        if alarm.is_acked or alarm.is_closed:
            reason = "closed" if alarm.is_closed else f"acknowledged by {alarm.acked_by}"
            await escalation.stop_in(tx, alarm.id, ts, reason)

    async def _act(self, alarm_id: str, make: Callable[[int], Event]) -> Alarm:
        """One human (or timer) action on one alarm."""
        changes: list[tuple[Alarm, HistoryEntry]] = []
        now = self._clock()
        async with self.store.db.transaction() as tx:
            alarm = await AlarmStore.get_in(tx, alarm_id)
            if alarm is None:
                raise AlarmNotFound(alarm_id)
            new = await self._step(tx, alarm, make(now), changes=changes)
        await self._publish(changes)
        return new

    # --- signals from the rules engine ----------------------------------------------------

    async def handle_signal(self, signal: AlarmSignal) -> Alarm | None:
        """Apply a rules signal; returns the occurrence it changed (None: nothing to do)."""
        changes: list[tuple[Alarm, HistoryEntry]] = []
        async with self.store.db.transaction() as tx:
            current = await AlarmStore.open_by_key_in(tx, signal.key)
            result = await self._signal_in(tx, signal, current, changes)
        await self._publish(changes)
        return result

    async def _signal_in(self, tx: Tx, signal: AlarmSignal, current: Alarm | None,
                         changes: list[tuple[Alarm, HistoryEntry]]) -> Alarm | None:
        ts = signal.ts_ms
        if signal.kind is SignalKind.CLEAR:
            if current is None or not current.is_active:
                self.counts["ignored_clear"] += 1
                log.debug("clear for %s with no active alarm: ignored", signal.key)
                return None
            self.counts["cleared"] += 1
            return await self._step(tx, current, Clear(ts, signal.value, signal.message),
                                    changes=changes)
        if current is None:
            if signal.kind is SignalKind.UPDATE:
                # the raise was lost (e.g. the rules engine restarted): open it now
                log.info("update for %s without an open alarm: raising it", signal.key)
            return await self._create(tx, signal, changes)
        if current.is_active:
            if signal.kind is SignalKind.RAISE:
                self.counts["deduplicated"] += 1
            elif (signal.value, signal.message) == (current.value, current.message) and (
                signal.limit is None or signal.limit == current.limit
            ):
                return current  # nothing new: keep history and audit free of repeats
            return await self._step(
                tx, current, Update(ts, signal.value, signal.limit, signal.message),
                changes=changes,
            )
        # returned to normal but not yet acknowledged: the same occurrence comes back
        self.counts["reactivated"] += 1
        return await self._step(
            tx, current, Raise(ts, signal.value, signal.limit, signal.message), changes=changes
        )

    async def _create(self, tx: Tx, signal: AlarmSignal,
                      changes: list[tuple[Alarm, HistoryEntry]]) -> Alarm:
        covering = await holds.covering_in(tx, signal.enterprise, signal.hazard_source,
                                           signal.tag)
        # Suppression by design holds back process alarms only: a stopped unit's data
        # health (stale, offline, bad quality) still needs someone (ISA-18.2).
        suppressed = next((h.overlay() for h in covering if h.kind is HoldKind.SUPPRESSED
                           and signal.category is Category.PROCESS), None)
        oos = next((h.overlay() for h in covering if h.kind is HoldKind.OUT_OF_SERVICE), None)
        d = self.directory
        alarm = new_alarm(
            self._ids.new(signal.ts_ms),
            enterprise=signal.enterprise, hazard_source=signal.hazard_source, tag=signal.tag,
            rule=signal.rule, category=signal.category, priority=signal.priority,
            region=(d.region_of(signal.enterprise) if d else None) or "",
            tier=d.tier_of(signal.enterprise, signal.hazard_source) if d else None,
            simulated=signal.simulated, details=signal.details,
            suppressed=suppressed, out_of_service=oos,
        )
        self.counts["raised"] += 1
        if alarm.quiet_reason is not None:
            self.counts["quiet_raise"] += 1
        return await self._step(
            tx, alarm, Raise(signal.ts_ms, signal.value, signal.limit, signal.message),
            created=True, changes=changes,
        )

    # --- people's actions -----------------------------------------------------------------

    async def ack(self, alarm_id: str, actor: str, note: str = "") -> Alarm:
        return await self._act(alarm_id, lambda now: Ack(now, actor, note))

    async def shelve(self, alarm_id: str, actor: str, minutes: int, reason: str) -> Alarm:
        return await self._act(alarm_id, lambda now: Shelve(now, actor, minutes, reason))

    async def unshelve(self, alarm_id: str, actor: str, reason: str = "") -> Alarm:
        return await self._act(alarm_id, lambda now: Unshelve(now, actor, reason))

    async def comment(self, alarm_id: str, actor: str, text: str) -> Alarm:
        return await self._act(alarm_id, lambda now: Comment(now, actor, text))

    async def get(self, alarm_id: str) -> tuple[Alarm, list[HistoryEntry]]:
        found = await self.store.get_with_history(alarm_id)
        if found is None:
            raise AlarmNotFound(alarm_id)
        return found

    # --- holds: suppression by design, out of service ------------------------------------

    async def suppress_hazard_source(self, enterprise: str, hazard_source: str, actor: str,
                                     reason: str) -> list[Alarm]:
        """Suppress a hazard source by design (e.g. shut down): its open process alarms
        and every new one are held back until `unsuppress_hazard_source`; its data-health
        alarms are not."""
        return await self._place_hold(HoldKind.SUPPRESSED, enterprise, hazard_source, None,
                                      actor, reason)

    async def unsuppress_hazard_source(self, enterprise: str, hazard_source: str, actor: str,
                                       reason: str = "") -> list[Alarm]:
        return await self._lift_hold(HoldKind.SUPPRESSED, enterprise, hazard_source, None,
                                     actor, reason)

    async def out_of_service(self, enterprise: str, hazard_source: str, tag: str | None,
                             actor: str, reason: str) -> list[Alarm]:
        """Take a sensor (tag) or a whole hazard source (tag None) out of service."""
        return await self._place_hold(HoldKind.OUT_OF_SERVICE, enterprise, hazard_source, tag,
                                      actor, reason)

    async def return_to_service(self, enterprise: str, hazard_source: str, tag: str | None,
                                actor: str, reason: str = "") -> list[Alarm]:
        return await self._lift_hold(HoldKind.OUT_OF_SERVICE, enterprise, hazard_source, tag,
                                     actor, reason)

    async def holds(self, enterprise: str | None = None) -> list[Hold]:
        return await holds.list_holds(self.store.db, enterprise)

    async def _place_hold(self, kind: HoldKind, enterprise: str, hazard_source: str,
                          tag: str | None, actor: str, reason: str) -> list[Alarm]:
        actor, reason = actor.strip(), reason.strip()
        if not actor:
            raise ActionRefused("an actor is required")
        if not reason:
            raise ActionRefused(f"{kind.value.replace('_', ' ')} needs a reason")
        now = self._clock()
        hold = Hold(kind, enterprise, hazard_source, tag, actor, reason, now)
        changes: list[tuple[Alarm, HistoryEntry]] = []
        async with self.store.db.transaction() as tx:
            if not await holds.add_in(tx, hold):
                raise ActionRefused(f"already {kind.value.replace('_', ' ')}")
            await audit.append(
                tx, ts_ms=now, actor=actor, action=f"hold_{kind.value}", alarm_id=None,
                payload={"enterprise": enterprise, "hazard_source": hazard_source,
                         "tag": tag, "reason": reason},
            )
            for alarm in await AlarmStore.open_alarms_in(tx, enterprise, hazard_source, tag):
                if (kind is HoldKind.SUPPRESSED and alarm.suppressed is None
                        and alarm.category is Category.PROCESS):
                    await self._step(tx, alarm, Suppress(now, actor, reason), changes=changes)
                elif kind is HoldKind.OUT_OF_SERVICE and alarm.out_of_service is None:
                    await self._step(tx, alarm, RemoveFromService(now, actor, reason),
                                     changes=changes)
        await self._publish(changes)
        return [a for a, _ in changes]

    async def _lift_hold(self, kind: HoldKind, enterprise: str, hazard_source: str,
                         tag: str | None, actor: str, reason: str) -> list[Alarm]:
        actor = actor.strip()
        if not actor:
            raise ActionRefused("an actor is required")
        now = self._clock()
        changes: list[tuple[Alarm, HistoryEntry]] = []
        async with self.store.db.transaction() as tx:
            lifted = await holds.remove_in(tx, kind, enterprise, hazard_source, tag)
            if lifted is None:
                raise ActionRefused(f"not {kind.value.replace('_', ' ')}")
            await audit.append(
                tx, ts_ms=now, actor=actor, action=f"release_{kind.value}", alarm_id=None,
                payload={"enterprise": enterprise, "hazard_source": hazard_source,
                         "tag": tag, "reason": reason.strip()},
            )
            for alarm in await AlarmStore.open_alarms_in(tx, enterprise, hazard_source, tag):
                remaining = await holds.covering_in(tx, enterprise, hazard_source, alarm.tag)
                if any(h.kind is kind for h in remaining):
                    continue  # still covered, e.g. the whole hazard source stays out
                if kind is HoldKind.SUPPRESSED and alarm.suppressed is not None:
                    await self._step(tx, alarm, Unsuppress(now, actor, reason),
                                     changes=changes)
                elif kind is HoldKind.OUT_OF_SERVICE and alarm.out_of_service is not None:
                    await self._step(tx, alarm, ReturnToService(now, actor, reason),
                                     changes=changes)
        await self._publish(changes)
        return [a for a, _ in changes]

    # --- time -----------------------------------------------------------------------------

    async def tick(self, now_ms: int | None = None) -> TickResult:
        """Unshelve what has expired and take the escalation steps that are due."""
        now = self._clock() if now_ms is None else now_ms
        unshelved = 0
        for alarm_id in await self.store.shelve_expired(now):
            try:
                await self._act(alarm_id, lambda _: ShelveExpire(now))
                unshelved += 1
            except TransitionRefused as exc:  # changed meanwhile (unshelved by hand)
                log.info("automatic unshelve of %s skipped: %s", alarm_id, exc.reason)
        escalated = 0
        for st in await escalation.due(self.store.db, now, claimant=self.claimant):
            try:
                escalated += await self._escalate(st.alarm_id, now)
            except StoreConflict:  # the compare-and-set: another instance took the step
                log.info("escalation step of %s taken by another instance", st.alarm_id)
        return TickResult(unshelved, escalated)

    async def _escalate(self, alarm_id: str, now: int) -> int:
        """Take every step of one alarm that is due by `now`, each in its own transaction
        (a crash between two steps keeps the first and redoes nothing)."""
        taken = 0
        while True:
            changes: list[tuple[Alarm, HistoryEntry]] = []
            async with self.store.db.transaction() as tx:
                st = await escalation.get_in(tx, alarm_id)
                if (st is None or st.status is not EscalationStatus.ACTIVE
                        or st.next_at_ms is None or st.next_at_ms > now):
                    return taken
                alarm = await AlarmStore.get_in(tx, alarm_id)
                if alarm is None or alarm.is_acked or alarm.is_closed:
                    await escalation.stop_in(tx, alarm_id, now, "no longer unacknowledged")
                    return taken
                if alarm.quiet_reason is not None:
                    # held back: wait, and give people a full step once it is released
                    await escalation.postpone_in(
                        tx, st, now + self.policy.step_ms(st.priority), now,
                        f"waiting: {alarm.quiet_reason}",
                    )
                    return taken
                await self._escalation_step(tx, alarm, st, now, changes)
            await self._publish(changes)
            taken += 1

    async def _escalation_step(self, tx: Tx, alarm: Alarm, st: EscalationState, now: int,
                               changes: list[tuple[Alarm, HistoryEntry]]) -> None:
        level = self.policy.levels[st.step]
        contacts = self.directory.contacts_of(alarm.enterprise) if self.directory else ()
        target = escalation.target_for(level, alarm.region, contacts)
        if target.get("missing"):
            log.warning("alarm %s escalation to %s: no %s contact registered for %s",
                        alarm.id, level, level, alarm.enterprise)
        new = await self._step(tx, alarm, Escalate(now, st.step + 1, level, target),
                               changes=changes)
        entry = changes[-1][1]
        payload = alarm_event(new, entry)
        payload["escalation"] = {"step": st.step + 1, "of": len(self.policy.levels),
                                 "level": level, "due_at_ms": st.next_at_ms}
        await outbox.enqueue_in(
            tx, NotificationKind.ESCALATE, payload, now_ms=now, alarm_id=alarm.id,
            target=target, dedup_key=f"escalate:{alarm.id}:{st.step + 1}",
        )
        await escalation.advance_in(tx, st, self.policy, now)
        self.counts["escalated"] += 1
