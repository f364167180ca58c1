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
from typing import Protocol

from hazmon.domain.rulespec import VotingRule
from hazmon.rules.threshold import CLEARED, NONE, RAISED


class Member(Protocol):
    """A detector's threshold at the vote's level (a `threshold.Threshold` is one)."""

    @property
    def active(self) -> bool: ...


class Vote:
    __slots__ = ("active", "count", "enterprise", "hazard_source", "members", "spec")

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


def step(v: Vote) -> int:
    """Recount after a member's threshold changed; RAISED, CLEARED or NONE."""
    count = 0
    for th in v.members:
        if th is not None and th.active:
            count += 1
    v.count = count
    if not v.active and count >= v.spec.k:
        v.active = True
        return RAISED
    if v.active and count < v.spec.k:
        v.active = False
        return CLEARED
    return NONE
