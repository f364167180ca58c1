"""The ISA-18.2 alarm state machine, pure: `apply(alarm, event) -> Step`.

Main states (ANSI/ISA-18.2-2016 §5.6, IEC 62682):

    normal ──raise──▶ unack_active ──ack──▶ ack_active
                          │                    │
                        clear                clear ──▶ normal (occurrence closed)
                          ▼
                      unack_rtn ──ack──▶ normal (occurrence closed)
                          └──raise (condition back)──▶ unack_active (same occurrence)

Overlays, independent of the main state and each carrying who, when and why:
shelved (an operator, time-limited, automatic unshelve at expiry), suppressed by design
(e.g. the hazard source is shut down) and out of service (maintenance). An overlaid alarm
keeps tracking its process condition; only its notification is held back.

One `Alarm` is one occurrence: it opens at the first raise and closes when it is both
cleared and acknowledged (GB 50493: an alarm stays latched until a person resets it).
Nothing here reads a clock: every event carries its time, in UTC epoch milliseconds.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, ClassVar

from hazmon.alerts.errors import TransitionRefused
from hazmon.domain.signal import Category, Priority

SHELVE_MIN_MINUTES = 1
SHELVE_MAX_MINUTES = 24 * 60  # one day: a longer hold is a design change, not a shelve
MAX_TEXT = 2000

RULES_ACTOR = "system:rules"
TIMER_ACTOR = "system:shelve-timer"
ESCALATION_ACTOR = "system:escalation"


class AlarmState(StrEnum):
    NORMAL = "normal"
    UNACK_ACTIVE = "unack_active"
    ACK_ACTIVE = "ack_active"
    UNACK_RTN = "unack_rtn"


ACTIVE_STATES = frozenset({AlarmState.UNACK_ACTIVE, AlarmState.ACK_ACTIVE})
OPEN_STATES = frozenset({AlarmState.UNACK_ACTIVE, AlarmState.ACK_ACTIVE, AlarmState.UNACK_RTN})


@dataclass(frozen=True, slots=True)
class Overlay:
    """Shelved, suppressed or out of service: who put it there, when, why (and until)."""

    by: str
    at_ms: int
    reason: str
    until_ms: int | None = None  # shelve only

    def to_dict(self) -> dict[str, Any]:
        return {"by": self.by, "at_ms": self.at_ms, "reason": self.reason,
                "until_ms": self.until_ms}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> Overlay | None:
        if d is None:
            return None
        return cls(by=d["by"], at_ms=d["at_ms"], reason=d["reason"], until_ms=d.get("until_ms"))


@dataclass(frozen=True, slots=True)
class Alarm:
    """One alarm occurrence and its current state (its history is kept beside it)."""

    id: str
    enterprise: str
    hazard_source: str
    tag: str | None
    rule: str
    category: Category
    priority: Priority
    region: str = ""
    tier: int | None = None
    simulated: bool = False
    state: AlarmState = AlarmState.NORMAL
    value: float | None = None
    limit: float | None = None
    message: str = ""
    raised_at_ms: int | None = None  # first activation of this occurrence
    active_at_ms: int | None = None  # latest activation
    updated_at_ms: int | None = None  # latest change of any kind
    cleared_at_ms: int | None = None
    acked_at_ms: int | None = None
    acked_by: str | None = None
    closed_at_ms: int | None = None
    activations: int = 0
    shelved: Overlay | None = None
    suppressed: Overlay | None = None
    out_of_service: Overlay | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    history_len: int = 0  # entries so far; the next entry's seq is history_len + 1

    @property
    def subject(self) -> str:
        return self.tag or f"@{self.hazard_source}"

    @property
    def key(self) -> tuple[str, str, str]:
        """Same as AlarmSignal.key: one open occurrence per key."""
        return (self.enterprise, self.subject, self.rule)

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def is_closed(self) -> bool:
        return self.closed_at_ms is not None

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_STATES

    @property
    def is_acked(self) -> bool:
        return self.acked_at_ms is not None

    @property
    def quiet_reason(self) -> str | None:
        """Why notification should hold this alarm back, or None to notify."""
        if self.out_of_service is not None:
            return "out_of_service"
        if self.suppressed is not None:
            return "suppressed"
        if self.shelved is not None:
            return "shelved"
        return None


# --- events --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Raise:
    ts_ms: int
    value: float | None = None
    limit: float | None = None
    message: str = ""
    actor: str = RULES_ACTOR
    name: ClassVar[str] = "raise"


@dataclass(frozen=True, slots=True)
class Update:
    ts_ms: int
    value: float | None = None
    limit: float | None = None
    message: str = ""
    actor: str = RULES_ACTOR
    name: ClassVar[str] = "update"


@dataclass(frozen=True, slots=True)
class Clear:
    ts_ms: int
    value: float | None = None
    message: str = ""
    actor: str = RULES_ACTOR
    name: ClassVar[str] = "clear"


@dataclass(frozen=True, slots=True)
class Ack:
    ts_ms: int
    actor: str
    note: str = ""
    name: ClassVar[str] = "ack"


@dataclass(frozen=True, slots=True)
class Shelve:
    ts_ms: int
    actor: str
    minutes: int
    reason: str
    name: ClassVar[str] = "shelve"


@dataclass(frozen=True, slots=True)
class Unshelve:
    ts_ms: int
    actor: str
    reason: str = ""
    name: ClassVar[str] = "unshelve"


@dataclass(frozen=True, slots=True)
class ShelveExpire:
    ts_ms: int
    actor: str = TIMER_ACTOR
    name: ClassVar[str] = "shelve_expire"


@dataclass(frozen=True, slots=True)
class Suppress:
    ts_ms: int
    actor: str
    reason: str
    name: ClassVar[str] = "suppress"


@dataclass(frozen=True, slots=True)
class Unsuppress:
    ts_ms: int
    actor: str
    reason: str = ""
    name: ClassVar[str] = "unsuppress"


@dataclass(frozen=True, slots=True)
class RemoveFromService:
    ts_ms: int
    actor: str
    reason: str
    name: ClassVar[str] = "remove_from_service"


@dataclass(frozen=True, slots=True)
class ReturnToService:
    ts_ms: int
    actor: str
    reason: str = ""
    name: ClassVar[str] = "return_to_service"


@dataclass(frozen=True, slots=True)
class Comment:
    ts_ms: int
    actor: str
    text: str
    name: ClassVar[str] = "comment"


@dataclass(frozen=True, slots=True)
class Escalate:
    """Not an ISA-18.2 state change: the record that an unacknowledged alarm was sent one
    step up the responsibility chain (see escalation.py)."""

    ts_ms: int
    step: int
    level: str
    target: Mapping[str, Any] = field(default_factory=dict)
    actor: str = ESCALATION_ACTOR
    name: ClassVar[str] = "escalate"


Event = (
    Raise | Update | Clear | Ack | Shelve | Unshelve | ShelveExpire | Suppress | Unsuppress
    | RemoveFromService | ReturnToService | Comment | Escalate
)

EVENT_TYPES: tuple[type[Event], ...] = (
    Raise, Update, Clear, Ack, Shelve, Unshelve, ShelveExpire, Suppress, Unsuppress,
    RemoveFromService, ReturnToService, Comment, Escalate,
)


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One transition of one occurrence. `event` is the past-tense name used on the wire
    (docs/CONTRACT.md §5.5): raised, updated, cleared, acknowledged, shelved, ..."""

    alarm_id: str
    seq: int
    ts_ms: int
    event: str
    actor: str
    from_state: AlarmState
    to_state: AlarmState
    data: Mapping[str, Any] = field(default_factory=dict)

    @property
    def closed(self) -> bool:
        return bool(self.data.get("closed"))


@dataclass(frozen=True, slots=True)
class Step:
    alarm: Alarm
    entry: HistoryEntry


# --- the machine ---------------------------------------------------------------------------


def apply(alarm: Alarm, event: Event) -> Step:
    """The alarm after `event`, and the history entry recording it; or TransitionRefused."""
    st = alarm.state

    def refuse(reason: str) -> TransitionRefused:
        return TransitionRefused(alarm.id, event.name, st.value, reason)

    if alarm.is_closed and not isinstance(event, Comment):
        raise refuse("occurrence is closed")  # a new raise opens a new occurrence
    if alarm.raised_at_ms is None and not isinstance(event, Raise):
        raise refuse("alarm has not been raised")
    actor = event.actor.strip()
    if not actor:
        raise refuse("an actor is required")

    ts = event.ts_ms
    data: dict[str, Any] = {}
    new: Alarm

    match event:
        case Raise():
            if st in ACTIVE_STATES:
                raise refuse("already active")
            first = st is AlarmState.NORMAL
            new = replace(
                alarm, state=AlarmState.UNACK_ACTIVE, value=event.value,
                limit=event.limit, message=event.message or alarm.message,
                raised_at_ms=ts if first else alarm.raised_at_ms, active_at_ms=ts,
                cleared_at_ms=None, activations=alarm.activations + 1,
            )
            name = "raised"
            data = {"value": event.value, "limit": event.limit, "message": new.message}
            if not first:
                data["reactivated"] = True
        case Update():
            if st not in ACTIVE_STATES:
                raise refuse("not active")
            new = replace(
                alarm, value=event.value,
                limit=event.limit if event.limit is not None else alarm.limit,
                message=event.message or alarm.message,
            )
            name = "updated"
            data = {"value": event.value, "limit": new.limit}
        case Clear():
            if st not in ACTIVE_STATES:
                raise refuse("already cleared")
            closes = st is AlarmState.ACK_ACTIVE
            new = replace(
                alarm, state=AlarmState.NORMAL if closes else AlarmState.UNACK_RTN,
                value=event.value if event.value is not None else alarm.value,
                cleared_at_ms=ts, closed_at_ms=ts if closes else None,
            )
            name = "cleared"
            data = {"value": event.value}
        case Ack():
            if st is AlarmState.ACK_ACTIVE:
                raise refuse("already acknowledged")
            note = event.note.strip()
            if len(note) > MAX_TEXT:
                raise refuse(f"note longer than {MAX_TEXT} characters")
            closes = st is AlarmState.UNACK_RTN
            new = replace(
                alarm, state=AlarmState.NORMAL if closes else AlarmState.ACK_ACTIVE,
                acked_at_ms=ts, acked_by=actor, closed_at_ms=ts if closes else None,
            )
            name = "acknowledged"
            data = {"note": note}
        case Shelve():
            if alarm.shelved is not None:
                raise refuse("already shelved")
            reason = event.reason.strip()
            if not reason:
                raise refuse("shelve needs a reason")
            if len(reason) > MAX_TEXT:
                raise refuse(f"reason longer than {MAX_TEXT} characters")
            if (
                isinstance(event.minutes, bool) or not isinstance(event.minutes, int)
                or not SHELVE_MIN_MINUTES <= event.minutes <= SHELVE_MAX_MINUTES
            ):
                raise refuse(
                    f"shelve duration must be {SHELVE_MIN_MINUTES}–{SHELVE_MAX_MINUTES} minutes"
                )
            until = ts + event.minutes * 60_000
            new = replace(alarm, shelved=Overlay(actor, ts, reason, until))
            name = "shelved"
            data = {"minutes": event.minutes, "reason": reason, "until_ms": until}
        case Unshelve():
            if alarm.shelved is None:
                raise refuse("not shelved")
            new = replace(alarm, shelved=None)
            name = "unshelved"
            data = {"reason": event.reason.strip(), "was": alarm.shelved.to_dict()}
        case ShelveExpire():
            if alarm.shelved is None:
                raise refuse("not shelved")
            expiry = alarm.shelved.until_ms
            if expiry is not None and ts < expiry:
                raise refuse("shelve has not expired yet")
            new = replace(alarm, shelved=None)
            name = "shelve_expired"
            data = {"was": alarm.shelved.to_dict()}
        case Suppress():
            if alarm.suppressed is not None:
                raise refuse("already suppressed")
            reason = _required_reason(event.reason, refuse, "suppression")
            new = replace(alarm, suppressed=Overlay(actor, ts, reason))
            name = "suppressed"
            data = {"reason": reason}
        case Unsuppress():
            if alarm.suppressed is None:
                raise refuse("not suppressed")
            new = replace(alarm, suppressed=None)
            name = "unsuppressed"
            data = {"reason": event.reason.strip(), "was": alarm.suppressed.to_dict()}
        case RemoveFromService():
            if alarm.out_of_service is not None:
                raise refuse("already out of service")
            reason = _required_reason(event.reason, refuse, "removal from service")
            new = replace(alarm, out_of_service=Overlay(actor, ts, reason))
            name = "removed_from_service"
            data = {"reason": reason}
        case ReturnToService():
            if alarm.out_of_service is None:
                raise refuse("not out of service")
            new = replace(alarm, out_of_service=None)
            name = "returned_to_service"
            data = {"reason": event.reason.strip(), "was": alarm.out_of_service.to_dict()}
        case Comment():
            text = event.text.strip()
            if not text:
                raise refuse("comment needs text")
            if len(text) > MAX_TEXT:
                raise refuse(f"comment longer than {MAX_TEXT} characters")
            new = alarm
            name = "commented"
            data = {"text": text}
        case Escalate():
            if alarm.is_acked:
                raise refuse("already acknowledged")
            new = alarm
            name = "escalated"
            data = {"step": event.step, "level": event.level, "target": dict(event.target)}
        case _:  # pragma: no cover - the union is closed
            raise refuse(f"unknown event {event!r}")

    if alarm.closed_at_ms is None and new.closed_at_ms is not None:
        data["closed"] = True  # this event ended the occurrence
    seq = alarm.history_len + 1
    new = replace(new, updated_at_ms=ts, history_len=seq)
    entry = HistoryEntry(alarm.id, seq, ts, name, actor, st, new.state, data)
    return Step(new, entry)


def _required_reason(
    reason: str, refuse: Callable[[str], TransitionRefused], what: str
) -> str:
    text = reason.strip()
    if not text:
        raise refuse(f"{what} needs a reason")
    if len(text) > MAX_TEXT:
        raise refuse(f"reason longer than {MAX_TEXT} characters")
    return text


def new_alarm(
    alarm_id: str,
    *,
    enterprise: str,
    hazard_source: str,
    tag: str | None,
    rule: str,
    category: Category,
    priority: Priority,
    region: str = "",
    tier: int | None = None,
    simulated: bool = False,
    details: Mapping[str, Any] | None = None,
    suppressed: Overlay | None = None,
    out_of_service: Overlay | None = None,
) -> Alarm:
    """A not-yet-raised occurrence (state normal); apply a Raise to open it. An occurrence
    of a hazard source that is suppressed or out of service is born with that overlay, so
    its very first event already says it is held back."""
    return Alarm(
        id=alarm_id, enterprise=enterprise, hazard_source=hazard_source, tag=tag, rule=rule,
        category=category, priority=priority, region=region, tier=tier, simulated=simulated,
        details=dict(details or {}), suppressed=suppressed, out_of_service=out_of_service,
    )
