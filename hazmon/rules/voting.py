"""Voting: k of n gas detectors of one hazard source at a GB 50493 level (e.g. 2oo3).

A detector votes when its own threshold alarm at that level (``high`` for 一级报警,
``high_high`` for 二级报警) is raised, deadband and delays included, so the vote inherits
the detectors' hysteresis instead of chattering on raw values. A detector that has gone
stale or bad keeps the vote it had (its threshold state is held, see `health`): losing
data from a detector that was in alarm must not make a gas cloud look smaller. k is never
lowered for faulty detectors; their data-health alarms say that separately.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final, Protocol

from hazmon.domain.rulespec import VotingRule
from hazmon.domain.signal import AlarmSignal, Category, SignalKind
from hazmon.rules.change import Change
from hazmon.rules.kind import GroupKind, Groups
from hazmon.rules.priority import priority, vote_severity

_RAISED: Final = Change.RAISED  # global loads: see `change`
_CLEARED: Final = Change.CLEARED
_NONE: Final = Change.NONE

_LEVEL_CN: Final = {"first": "一级报警", "second": "二级报警"}


class Member(Protocol):
    """A detector's threshold at the vote's level (a `threshold.Threshold` is one)."""

    @property
    def active(self) -> bool: ...


class Vote:
    FIELDS: Final = ("active", "count", "enterprise", "hazard_source", "members", "spec")
    __slots__ = FIELDS

    def __init__(
        self,
        spec: VotingRule,
        enterprise: str,
        hazard_source: str,
        members: Sequence[Member | None],
    ) -> None:
        self.spec = spec
        self.enterprise = enterprise
        self.hazard_source = hazard_source
        self.members = members  # None: a tag without a limit at this level never votes
        self.active = False
        self.count = 0

    @property
    def rule(self) -> str:
        return self.spec.rule


def step(vote: Vote) -> Change:
    """Recount after a member's threshold changed; return what it did to the vote."""
    count = 0
    for member in vote.members:
        if member is not None and member.active:
            count += 1
    vote.count = count
    if not vote.active and count >= vote.spec.k:
        vote.active = True
        return _RAISED
    if vote.active and count < vote.spec.k:
        vote.active = False
        return _CLEARED
    return _NONE


# --- cold path: snapshot, restart, signal ----------------------------------------------


def dump(groups: Groups) -> list[dict[str, object]]:
    return [
        {"enterprise": key[0], "hazard_source": key[1], "rule": key[2], "active": vote.active,
         "count": vote.count}
        for key, vote in groups.votes.items()
    ]


def load(groups: Groups, saved: list[dict[str, Any]]) -> None:
    for entry in saved:
        vote = groups.votes.get((entry["enterprise"], entry["hazard_source"], entry["rule"]))
        if vote is not None:
            vote.active, vote.count = bool(entry["active"]), int(entry["count"])


def holds(groups: Groups, sig: AlarmSignal) -> bool | None:
    vote = groups.votes.get((sig.enterprise, sig.hazard_source, sig.rule))
    return None if vote is None else vote.active


KIND: Final[GroupKind] = GroupKind("votes", dump, load, holds)


def signal(
    vote: Vote,
    change: Change,
    ts_ms: int,
    simulated: bool,
    *,
    hazard_source_name: str,
    tier: int | None,
) -> AlarmSignal:
    raised = change is _RAISED
    spec = vote.spec
    over = [
        tag for tag, member in zip(spec.tags, vote.members, strict=True)
        if member and member.active
    ]
    return AlarmSignal(
        kind=SignalKind.RAISE if raised else SignalKind.CLEAR,
        enterprise=vote.enterprise,
        hazard_source=vote.hazard_source,
        tag=None,
        rule=spec.rule,
        category=Category.PROCESS,
        priority=priority(vote_severity(spec.level), tier),
        ts_ms=ts_ms,
        value=float(vote.count),
        limit=float(spec.k),
        message=message(hazard_source_name, spec, raised, over),
        simulated=simulated,
        details={"k": spec.k, "n": len(spec.tags), "level": spec.level, "over": over},
    )


def message(hazard_source_name: str, spec: VotingRule, raised: bool, over: list[str]) -> str:
    level = _LEVEL_CN[spec.level]
    n = len(spec.tags)
    if raised:
        return (
            f"联合报警（{spec.k}oo{n}）：{hazard_source_name} {len(over)}/{n} 个气体探测器"
            f"达到{level}（{'、'.join(over)}）"
        )
    return (
        f"联合报警消除（{spec.k}oo{n}）：{hazard_source_name} 达到{level}的探测器 "
        f"{len(over)}/{n}"
    )
