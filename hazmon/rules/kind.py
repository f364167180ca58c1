"""The cold-path interface of a rule kind: save, restore, and say whether a condition holds.

The per-reading path is written out inline in `engine` (a call through a table per
reading would cost more than the rules themselves); everything a kind needs only at a
snapshot, a restart or a reload is declared here and registered in `kinds`, so that the
codec (`snapshot`) and the restart check cannot forget a kind.

- `SensorKind`: state kept on each `SensorState` (threshold, rate, trend, health, the
  sample window). Its part of a sensor's snapshot entry is under `key`.
- `GroupKind`: state of something bigger than a sensor (a vote of a hazard source, an
  enterprise's gateway), in its own top-level list of the snapshot under `key`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from hazmon.domain.signal import AlarmSignal, Category, SignalKind
from hazmon.rules.change import Change
from hazmon.rules.priority import Severity, priority

if TYPE_CHECKING:
    from hazmon.rules.gateway import GatewayWatch
    from hazmon.rules.sensor import SensorState
    from hazmon.rules.voting import Vote

VoteKey = tuple[str, str, str]  # (enterprise, hazard source, rule)


@dataclass(frozen=True, slots=True)
class SensorKind:
    """A kind whose state lives on each sensor."""

    key: str  # its part of a sensor's snapshot entry
    slots: tuple[str, ...]  # the `SensorState` slots holding its state (tests check all are)
    dump: Callable[[SensorState], object]  # JSON-able; None: leave the key out
    load: Callable[[SensorState, Any], None]  # the saved part, or None when absent
    # Whether the condition of `rule` holds now; None: `rule` is not one of this kind's.
    holds: Callable[[SensorState, str], bool | None]


class Groups(NamedTuple):
    """The engine's state that belongs to no single sensor."""

    gateways: Mapping[str, GatewayWatch]
    votes: Mapping[VoteKey, Vote]


@dataclass(frozen=True, slots=True)
class GroupKind:
    """A kind whose conditions concern a hazard source or an enterprise (signal tag None)."""

    key: str  # its top-level list in the snapshot
    dump: Callable[[Groups], list[dict[str, object]]]
    load: Callable[[Groups, list[dict[str, Any]]], None]  # entries of unknown keys ignored
    # Whether the condition of a restored signal holds; None: not this kind's signal.
    holds: Callable[[Groups, AlarmSignal], bool | None]


def sensor_signal(
    sensor: SensorState,
    change: Change,
    *,
    rule: str,
    category: Category,
    severity: Severity,
    ts_ms: int,
    value: float | None,
    limit: float | None,
    message: str,
    simulated: bool,
    details: dict[str, object],
) -> AlarmSignal:
    """The signal of a sensor's condition that `change` raised or cleared."""
    return AlarmSignal(
        kind=SignalKind.RAISE if change is Change.RAISED else SignalKind.CLEAR,
        enterprise=sensor.enterprise,
        hazard_source=sensor.hazard_source,
        tag=sensor.info.sensor.tag,
        rule=rule,
        category=category,
        priority=priority(severity, sensor.tier),
        ts_ms=ts_ms,
        value=value,
        limit=limit,
        message=message,
        simulated=simulated,
        details=details,
    )
