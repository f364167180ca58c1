"""Whom a warning is pushed to: the people, resolved from the policy, the 包保 chain and
the regions file. The push channels (SMS, WeCom, DingTalk, ...) take a `PushPlan`.

A level the policy names but the place lacks (an enterprise in no park has no cell) or
that names nobody is listed in `unreached`, so the gap is visible rather than silent.
A simulated enterprise's plan holds nobody unless the policy allows it (issue 14 point 8).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from hazmon.domain.regions import Level, Place
from hazmon.warnings.chain import Chain
from hazmon.warnings.levels import WarningLevel
from hazmon.warnings.policy import WarningPolicy


class RecipientKind(StrEnum):
    CHAIN = "chain"  # the enterprise's 包保 chain
    REGULATOR = "regulator"  # an official of a grid unit


@dataclass(frozen=True, slots=True)
class Recipient:
    kind: RecipientKind
    role: str  # a ChainRole value, or a Level value for regulators
    name: str
    phone: str
    email: str | None = None
    unit: str | None = None  # the grid unit's code, for regulators
    duty: str | None = None


@dataclass(frozen=True, slots=True)
class PushPlan:
    level: WarningLevel
    recipients: tuple[Recipient, ...]
    unreached: tuple[str, ...] = ()  # "technical", "cell", ...: named but nobody to tell
    held_back: str | None = None  # "simulated": the plan is empty on purpose


def regulators(place: Place | None, levels: Sequence[Level]) -> tuple[
        tuple[Recipient, ...], tuple[str, ...]]:
    """The officials of `levels` above a place, and the levels with nobody."""
    out: list[Recipient] = []
    unreached: list[str] = []
    for level in levels:
        unit = place.unit(level) if place is not None else None
        if unit is None or not unit.officials:
            unreached.append(level.value)
            continue
        out.extend(
            Recipient(RecipientKind.REGULATOR, level.value, o.name, o.phone, o.email,
                      unit.code, o.duty)
            for o in unit.officials
        )
    return tuple(out), tuple(unreached)


def push_plan(
    policy: WarningPolicy,
    level: WarningLevel,
    tier: int | None,
    *,
    chain: Chain,
    place: Place | None,
    simulated: bool = False,
) -> PushPlan:
    """The people a new (or raised) warning of `level` goes to, each once."""
    if simulated and not policy.push_simulated:
        return PushPlan(level, (), held_back="simulated")
    targets = policy.push[level]
    people: list[Recipient] = []
    unreached: list[str] = []
    for role in targets.enterprise:
        member = chain.of(role)
        if member is None:
            unreached.append(role.value)
            continue
        c = member.contact
        people.append(Recipient(RecipientKind.CHAIN, role.value, c.name, c.phone, c.email))
    officials, missing = regulators(place, targets.regulators_for(tier))
    people.extend(officials)
    unreached.extend(missing)
    seen: set[tuple[str, str]] = set()
    once = []
    for p in people:  # one person holding two roles is told once, under the first
        if (p.name, p.phone) not in seen:
            seen.add((p.name, p.phone))
            once.append(p)
    return PushPlan(level, tuple(once), tuple(unreached))


def escalation_plan(
    policy: WarningPolicy, level: WarningLevel, reviewer: Level, place: Place | None,
    *, simulated: bool = False,
) -> PushPlan:
    """Whom an overdue warning's escalation goes to: the officials of the new reviewer."""
    if simulated and not policy.push_simulated:
        return PushPlan(level, (), held_back="simulated")
    officials, missing = regulators(place, (reviewer,))
    return PushPlan(level, officials, missing)
