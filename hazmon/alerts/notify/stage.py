"""The stage interface of the notification pipeline, as alertmanager's `notify.Stage`:
a stage takes the round's context and the items the stage before passed on, does its
part (reading and recording in the store as it goes), and returns the items to pass on.
An item a stage does not return is finished for this round (it recorded why).

Stages compose with `>>` into one stage (`pipeline.py` declares the whole chain); the
types check that each stage accepts what the one before returns:

    Notification → Work (load … record) → Dispatch (group, deliver) → Notification (settle)
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from hazmon.alerts.directory import NotifyDirectory
from hazmon.alerts.notify.config import NotifyConfig
from hazmon.alerts.notify.delivery import DeliveryRow, PlannedDelivery
from hazmon.alerts.notify.message import Channel, Message
from hazmon.alerts.outbox import Notification, Outbox
from hazmon.alerts.sql import Database
from hazmon.alerts.store import AlarmStore

COUNT_KEYS = ("seen", "sent", "digests", "digested", "held", "skipped", "duplicates",
              "failed", "dead")

In = TypeVar("In")
Mid = TypeVar("Mid")
Out = TypeVar("Out")
Next = TypeVar("Next")


@dataclass(frozen=True, slots=True)
class Work:
    """One notification before the group stage, with its deliveries: recorded ones (in
    an earlier round, or by the record stage of this one) or, between the route and
    record stages, the ones planned this round."""

    note: Notification
    rows: tuple[DeliveryRow, ...] = ()
    planned: tuple[PlannedDelivery, ...] = ()


@dataclass(frozen=True, slots=True)
class Dispatch:
    """What the group stage made of the deliveries: one message on one channel (a single
    delivery, or a digest of several notifications' deliveries) or, without a message,
    notifications that only need settling (waiting for a digest, done, skipped)."""

    notes: tuple[Notification, ...]
    rows: tuple[DeliveryRow, ...] = ()
    channel: Channel | None = None
    message: Message | None = None
    error: str | None = None  # a failure worth retrying (set by the deliver stage)


@dataclass
class Context:
    """One round: its time, the parts the stages read and record in, and its counts."""

    now: int
    store: AlarmStore
    outbox: Outbox
    config: NotifyConfig
    directory: NotifyDirectory | None
    channels: Mapping[str, Channel]
    rng: random.Random
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNT_KEYS, 0))
    _notes: dict[int, Notification] = field(default_factory=dict)
    # the running clock, when the round runs on it (not a given time): claims renewed
    # during a long round count from now, not from the round's start
    clock: Callable[[], int] | None = None

    def current(self) -> int:
        return self.clock() if self.clock is not None else self.now

    @property
    def db(self) -> Database:
        return self.store.db

    def remember(self, note: Notification) -> None:
        self._notes[note.id] = note

    async def note(self, nid: int) -> Notification | None:
        """A notification of this round, or one read back (a digest item of an earlier
        round)."""
        note = self._notes.get(nid)
        if note is None:
            note = await self.outbox.get(nid)
            if note is not None:
                self._notes[nid] = note
        return note

    def events(self, rows: Sequence[DeliveryRow]) -> dict[int, str | None]:
        return {r.notification_id: event_of(self._notes[r.notification_id])
                for r in rows if r.notification_id in self._notes}


def event_of(note: Notification) -> str | None:
    ev = note.payload.get("event")
    return str(ev) if ev is not None else None


class Stage(ABC, Generic[In, Out]):
    @abstractmethod
    async def run(self, ctx: Context, items: Sequence[In]) -> list[Out]:
        """The items to pass on to the next stage."""

    def __rshift__(self, after: Stage[Out, Next]) -> Stage[In, Next]:
        return _Chain(self, after)

    @property
    def stages(self) -> tuple[Stage[Any, Any], ...]:
        """The single stages, in order (a chain lists its parts)."""
        return (self,)

    @property
    def name(self) -> str:
        return type(self).__name__.lower()


class _Chain(Stage[In, Out], Generic[In, Mid, Out]):
    def __init__(self, first: Stage[In, Mid], then: Stage[Mid, Out]) -> None:
        self._first = first
        self._then = then

    async def run(self, ctx: Context, items: Sequence[In]) -> list[Out]:
        return await self._then.run(ctx, await self._first.run(ctx, items))

    @property
    def stages(self) -> tuple[Stage[Any, Any], ...]:
        return self._first.stages + self._then.stages

    @property
    def name(self) -> str:
        return " → ".join(s.name for s in self.stages)
