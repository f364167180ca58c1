"""One evaluation round: facts → assessments → decisions → steps in the store.

    round = await engine.run(facts)      # at each interval, with the injected clock's now

For each subject (a hazard source, or an enterprise for enterprise-wide causes)
`lifecycle.decide` says open, raise or leave alone, given its open warning and the codes
latched since its last close; never a second warning while one is open (and the store's
unique index makes sure of it). Then every open warning whose feedback deadline has
passed is marked overdue and handed one level up. Each step is written with its pushes
(`pushes.PushPlanner`) in one transaction.

The manual steps of the API (feedback, review, on-site check, opening by hand) go
through `act` and `open_by_hand` here, so their pushes and latches follow the same path.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from hazmon.alerts.sql import StoreConflict
from hazmon.alerts.ulid import UlidFactory
from hazmon.core.clock import Clock
from hazmon.warnings.evaluate import Assessment, evaluate_all
from hazmon.warnings.facts import EnterpriseFacts
from hazmon.warnings.lifecycle import (
    Action,
    Actor,
    EarlyWarning,
    MarkOverdue,
    OpenNew,
    Raise,
    RaiseOpen,
    Step,
    WarningRefused,
    apply,
    decide,
    open_warning,
    relatch,
)
from hazmon.warnings.policy import WarningPolicy
from hazmon.warnings.pushes import PushPlanner
from hazmon.warnings.store import NewPush, Saved, WarningStore

log = logging.getLogger(__name__)

Key = tuple[str, str | None]


@dataclass
class Round:
    """What one evaluation did, by warning id."""

    at_ms: int
    opened: list[str] = field(default_factory=list)
    raised: list[str] = field(default_factory=list)
    overdue: list[str] = field(default_factory=list)
    assessments: int = 0


class WarningEngine:
    def __init__(self, store: WarningStore, policy: WarningPolicy, planner: PushPlanner,
                 clock: Clock, ids: UlidFactory | None = None) -> None:
        self.store = store
        self.policy = policy
        self.planner = planner
        self.clock = clock
        self.ids = ids or UlidFactory()
        self.rounds = 0
        self.totals = {"opened": 0, "raised": 0, "overdue": 0, "pushes": 0}
        # told after every step written (e.g. the pusher's wake-up when it queued pushes)
        self.listeners: list[Callable[[Saved], None]] = []

    def _saved(self, saved: Saved) -> Saved:
        self.totals["pushes"] += len(saved.pushes)
        for listener in self.listeners:
            listener(saved)
        return saved

    async def run(self, facts: Sequence[EnterpriseFacts]) -> Round:
        now = self.clock()
        done = Round(now)
        assessments = evaluate_all(self.policy, facts, now)
        done.assessments = len(assessments)
        by_key: dict[Key, Assessment] = {a.key: a for a in assessments}
        open_now: dict[Key, EarlyWarning] = {w.key: w for w in await self.store.open_warnings()}
        latches = await self.store.latches()
        cleared: dict[Key, frozenset[str]] = {}
        for key in by_key.keys() | latches.keys():
            a = by_key.get(key)
            latched = latches.get(key, frozenset())
            decision = decide(open_now.get(key), a, latched)
            if isinstance(decision, OpenNew) and a is not None:
                fresh = replace(a, level=decision.level, reasons=decision.reasons)
                saved = await self._open(fresh, now)
                if saved is not None:
                    done.opened.append(saved.step.warning.id)
            elif isinstance(decision, RaiseOpen):
                w = open_now[key]
                saved = await self.act(w.id, Raise(now, decision.level, decision.reasons))
                if saved is not None:
                    done.raised.append(w.id)
            cleared[key] = latched - relatch(latched, a)
        await self.store.unlatch(cleared)
        for w in await self.store.overdue_due(now):
            try:
                saved = await self.act(w.id, MarkOverdue(now))
            except WarningRefused as exc:  # e.g. feedback filed in between
                log.info("warning %s not marked overdue: %s", w.id, exc.code)
                continue
            if saved is not None:
                done.overdue.append(w.id)
        self.rounds += 1
        for k in ("opened", "raised", "overdue"):
            self.totals[k] += len(getattr(done, k))
        if done.opened or done.raised or done.overdue:
            log.info("warnings: %d opened, %d raised, %d overdue", len(done.opened),
                     len(done.raised), len(done.overdue))
        return done

    async def _open(self, assessment: Assessment, now: int) -> Saved | None:
        step = open_warning(self.ids.new(now), assessment, self.policy, now)
        step, pushes = self.planner.pushes(step)
        try:
            saved = await self.store.save(step, created=True, pushes=pushes)
        except StoreConflict:  # opened meanwhile by another instance or by hand
            log.info("warning for %s already open; not opened twice", assessment.key)
            return None
        return self._saved(saved)

    async def open_by_hand(self, assessment: Assessment, actor: Actor) -> Saved:
        """A warning a regulator opens (a patrol's finding), recorded as theirs;
        StoreConflict when the subject has one open already."""
        now = self.clock()
        step = open_warning(self.ids.new(now), assessment, self.policy, now)
        step = Step(step.warning, replace(step.event, actor=actor.id, actor_kind=actor.kind,
                                          data={**step.event.data, "by_hand": True}))
        step, pushes = self.planner.pushes(step)
        return self._saved(await self.store.save(step, created=True, pushes=pushes))

    async def act(self, warning_id: str, action: Action) -> Saved | None:
        """Apply one lifecycle action to a stored warning (WarningRefused as the machine
        says); None when there is no such warning."""

        async def step_of(w: EarlyWarning) -> tuple[Step, list[NewPush]]:
            return self.planner.pushes(apply(w, action, self.policy))

        saved = await self.store.act(warning_id, step_of)
        return self._saved(saved) if saved is not None else None
