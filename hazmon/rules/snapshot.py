"""The rules engine's state as plain JSON-able data, and back.

A snapshot is ``{"version", "now_ms", <group kinds' lists>, "active", "sensors"}``; each
sensor entry holds the reading bookkeeping (`SensorState.READING_SLOTS`) and one part per
registered `SensorKind`. Which kinds there are comes from `kinds`, so a kind is saved,
restored and asked whether its restored conditions still hold in one place.

Restoring is lenient where the data allows: a part missing from an entry is a kind in
its normal state (older snapshots, and states kept only while they hold something),
entries of sensors, gateways or votes no longer configured are skipped, and a restored
active signal whose condition the restored state does not hold is dropped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final, NamedTuple

from hazmon.domain.signal import AlarmSignal, Category, Priority, SignalKind
from hazmon.rules.kind import Groups
from hazmon.rules.kinds import GROUP_KINDS, SENSOR_KINDS
from hazmon.rules.sensor import NEVER, SensorState

SNAPSHOT_VERSION: Final = 1

SensorKey = tuple[str, str]  # (enterprise, tag)


def head(
    now_ms: int | None, groups: Groups, active: Iterable[AlarmSignal]
) -> dict[str, object]:
    """A snapshot without its "sensors" list."""
    snap: dict[str, object] = {"version": SNAPSHOT_VERSION, "now_ms": now_ms}
    for kind in GROUP_KINDS:
        snap[kind.key] = kind.dump(groups)
    snap["active"] = [signal_to_dict(s) for s in active]
    return snap


def sensor_entry(key: SensorKey, sensor: SensorState) -> dict[str, object]:
    entry: dict[str, object] = {
        "enterprise": key[0],
        "tag": key[1],
        "last_ts": sensor.newest_ms,
        "watch_from": sensor.watch_from,
        "simulated": sensor.simulated,
    }
    for kind in SENSOR_KINDS:
        part = kind.dump(sensor)
        if part is not None:
            entry[kind.key] = part
    return entry


class Restored(NamedTuple):
    now_ms: int | None
    active: dict[tuple[str, str, str], AlarmSignal]  # conditions the restored state holds
    delays: list[SensorState]  # sensors with an on/off delay running


def apply(
    snap: Mapping[str, object], sensors: Mapping[SensorKey, SensorState], groups: Groups
) -> Restored:
    """Load `snap` into freshly built state; raise ValueError for another version."""
    if snap.get("version") != SNAPSHOT_VERSION:
        raise ValueError(f"unsupported rules snapshot version {snap.get('version')!r}")
    now = snap.get("now_ms")
    delays: list[SensorState] = []
    for entry in _records(snap.get("sensors")):
        sensor = sensors.get((entry["enterprise"], entry["tag"]))
        if sensor is not None:
            _load_sensor(sensor, entry)
            if sensor.delay_running():
                delays.append(sensor)
    for group_kind in GROUP_KINDS:
        group_kind.load(groups, _records(snap.get(group_kind.key)))
    active: dict[tuple[str, str, str], AlarmSignal] = {}
    for entry in _records(snap.get("active")):
        sig = signal_from_dict(entry)
        if holds(sig, sensors, groups):
            active[sig.key] = sig
    return Restored(now if isinstance(now, int) else None, active, delays)


def holds(
    sig: AlarmSignal, sensors: Mapping[SensorKey, SensorState], groups: Groups
) -> bool:
    """Whether the state holds the condition of an active signal (the kind of its rule
    says; a rule no kind claims holds nothing)."""
    if sig.tag is None:
        for group_kind in GROUP_KINDS:
            verdict = group_kind.holds(groups, sig)
            if verdict is not None:
                return verdict
        return False
    sensor = sensors.get((sig.enterprise, sig.tag))
    if sensor is None:
        return False
    for kind in SENSOR_KINDS:
        verdict = kind.holds(sensor, sig.rule)
        if verdict is not None:
            return verdict
    return False


def _load_sensor(sensor: SensorState, entry: dict[str, Any]) -> None:
    last = entry.get("last_ts")
    sensor.last_ts = NEVER if last is None else last
    sensor.watch_from = entry.get("watch_from")
    sensor.simulated = bool(entry.get("simulated", False))
    for kind in SENSOR_KINDS:
        kind.load(sensor, entry.get(kind.key))


def _records(value: object) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        return []
    return [v for v in value if isinstance(v, dict)]


def signal_to_dict(s: AlarmSignal) -> dict[str, object]:
    return {
        "kind": s.kind.value,
        "enterprise": s.enterprise,
        "hazard_source": s.hazard_source,
        "tag": s.tag,
        "rule": s.rule,
        "category": s.category.value,
        "priority": s.priority.value,
        "ts_ms": s.ts_ms,
        "value": s.value,
        "limit": s.limit,
        "message": s.message,
        "simulated": s.simulated,
        "details": s.details,
    }


def signal_from_dict(d: Mapping[str, Any]) -> AlarmSignal:
    return AlarmSignal(
        kind=SignalKind(d["kind"]),
        enterprise=d["enterprise"],
        hazard_source=d["hazard_source"],
        tag=d["tag"],
        rule=d["rule"],
        category=Category(d["category"]),
        priority=Priority(d["priority"]),
        ts_ms=int(d["ts_ms"]),
        value=d["value"],
        limit=d["limit"],
        message=d["message"],
        simulated=bool(d["simulated"]),
        details=dict(d["details"]),
    )
