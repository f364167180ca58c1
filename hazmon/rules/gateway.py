"""Gateway offline: an enterprise's whole data link is down. A data-health alarm.

``gateway_offline`` is raised when the enterprise's status topic says offline (its Last
Will), or when nothing at all came from the enterprise for `GatewayRule.silence_s`, and
cleared by an ``online`` status or by any reading newer than the offline status. Its
signal has ``tag=None`` and ``hazard_source=""`` (it concerns the whole enterprise), so
its key is ``(enterprise, "@", "gateway_offline")``.

Back online, a gateway first sends its backlog (older readings, in order); until data as
new as its ``online`` status has arrived it is *catching up*, and its sensors' stale is
held as while it was offline: a clock tick between the ``online`` and the end of the
backlog must not find every sensor of the plant stale (a flood of stale alarms after
every outage).

Reception times (`Gateway.RECEPTION_SLOTS` and the watch's `watch_from`) are wall times of
this process: they are saved for a registry reload, but a restart sets them aside
(`after_restart`), so a gateway's silence counts from the restart and not from the last
tick before the outage — else a restart after a few minutes down, or mid-backlog, would
find every gateway silent and every sensor stale while the broker's backlog drains.
"""

from __future__ import annotations

from typing import Any, Final

from hazmon.domain.registry import Enterprise
from hazmon.domain.signal import AlarmSignal, Category, SignalKind
from hazmon.rules import messages
from hazmon.rules.change import Change
from hazmon.rules.kind import GroupKind, Groups
from hazmon.rules.priority import Severity, priority

GATEWAY_OFFLINE: Final = "gateway_offline"

_RAISED: Final = Change.RAISED  # global loads: see `change`
_CLEARED: Final = Change.CLEARED
_NONE: Final = Change.NONE


class Gateway:
    """Liveness of one enterprise's gateway."""

    FIELDS: Final = (
        "active", "catch_up_ms", "last_seen_ms", "offline_ms", "reason", "received_ms",
        "restarted", "silence_ms", "ticked_ms", "ticked_seen_ms",
    )
    __slots__ = FIELDS

    def __init__(self, silence_ms: int) -> None:
        self.silence_ms = silence_ms
        self.active = False
        self.catch_up_ms: int | None = None  # back online at this time, backlog not in yet
        self.reason = ""  # "status" (said offline / Last Will) or "silence"
        self.offline_ms: int | None = None  # time of the newest offline status
        self.last_seen_ms: int | None = None  # newest reading or online status
        # Wall time (a tick's now) by which `last_seen_ms` last moved: a backlog dequeued now
        # with old timestamps still proves the gateway alive.
        self.received_ms: int | None = None
        self.ticked_seen_ms: int | None = None  # `last_seen_ms` as the last tick saw it
        self.ticked_ms: int | None = None  # the last tick's now
        self.restarted = False  # reception times set aside: the next tick starts them

    # Wall times of this process (see the module docstring): set aside by `after_restart`.
    RECEPTION_SLOTS: Final = ("received_ms", "restarted", "ticked_ms", "ticked_seen_ms")


def status(state: Gateway, online: bool, ts_ms: int) -> Change:
    """The enterprise's status topic said online or offline at `ts_ms`."""
    if online:
        if state.offline_ms is not None and ts_ms < state.offline_ms:
            return _NONE  # an older "online" (e.g. a retained message) after the Last Will
        state.offline_ms = None
        if state.active:
            state.catch_up_ms = ts_ms
        state.last_seen_ms = ts_ms if state.last_seen_ms is None else max(state.last_seen_ms, ts_ms)
        return _clear(state)
    if state.last_seen_ms is not None and ts_ms < state.last_seen_ms:
        return _NONE  # data newer than this "offline" already arrived
    state.offline_ms = ts_ms
    state.catch_up_ms = None
    state.reason = "status"
    if state.active:
        return _NONE
    state.active = True
    return _RAISED


def seen(state: Gateway, ts_ms: int) -> Change:
    """A reading from the enterprise arrived; data newer than an offline status clears it."""
    if state.last_seen_ms is None or ts_ms > state.last_seen_ms:
        state.last_seen_ms = ts_ms
    if state.catch_up_ms is not None and ts_ms >= state.catch_up_ms:
        state.catch_up_ms = None  # the backlog is in: live data again
    if state.active and (state.offline_ms is None or ts_ms > state.offline_ms):
        state.offline_ms = None
        return _clear(state)
    return _NONE


def received(state: Gateway, watch_from_ms: int, now_ms: int) -> int:
    """Wall time of the gateway's newest received activity, noted at tick `now_ms`."""
    if state.restarted:
        # The first tick of a restarted process: what the saved process heard is no
        # measure of silence now; count from here (data newer than this still counts).
        state.restarted = False
        state.received_ms = now_ms
    if state.last_seen_ms is not None and state.last_seen_ms != state.ticked_seen_ms:
        # Received since the last tick: its time is the earliest that is sure.
        state.ticked_seen_ms = state.last_seen_ms
        since = state.ticked_ms if state.ticked_ms is not None else state.last_seen_ms
        state.received_ms = since if state.received_ms is None else max(state.received_ms, since)
    if state.ticked_ms is None or now_ms > state.ticked_ms:
        state.ticked_ms = now_ms
    # Never heard from, or not since this process began watching: from when it began.
    heard = [v for v in (state.received_ms, state.last_seen_ms) if v is not None]
    return max(heard) if heard else watch_from_ms  # never heard from: since watching began


def tick(state: Gateway, watch_from_ms: int, now_ms: int) -> Change:
    last = received(state, watch_from_ms, now_ms)
    if state.active:
        return _NONE
    if now_ms - last >= state.silence_ms:
        state.active = True
        state.reason = "silence"
        return _RAISED
    return _NONE


def holds_stale(state: Gateway) -> bool:
    """Whether the gateway's sensors must not be judged stale now: it is offline, or back
    but still sending the backlog of its outage."""
    return state.active or state.catch_up_ms is not None


def _clear(state: Gateway) -> Change:
    if state.active:
        state.active = False
        return _CLEARED
    return _NONE


class GatewayWatch:
    """The engine's view of one enterprise's gateway: its liveness and what the signal
    needs."""

    FIELDS: Final = ("enterprise", "state", "tier", "watch_from")
    __slots__ = FIELDS

    def __init__(self, enterprise: Enterprise, silence_s: float, tier: int | None) -> None:
        self.enterprise = enterprise
        self.state = Gateway(round(silence_s * 1000))
        self.tier = tier  # the most dangerous tier among the enterprise's hazard sources
        self.watch_from: int | None = None  # silence is counted from here until data


def start_watch(watch: GatewayWatch, start_ms: int) -> None:
    """The engine starts watching at wall time `start_ms` (its owner's clock): silence
    counts from there, and whatever arrives before the first tick was received after it.
    Without a start (the pure tests, where data time is the clock), a first tick would
    take what came before it as received at its data time: a broker's backlog, with data
    times long past, fed to a fresh engine before any tick looked like a silent gateway."""
    watch.watch_from = start_ms
    watch.state.ticked_ms = start_ms


def after_restart(watch: GatewayWatch) -> None:
    """Set aside the reception times of the process that saved the state: silence counts
    from this process's first tick. The data times (`last_seen_ms`, `offline_ms`,
    `catch_up_ms`) and an active alarm are kept."""
    state = watch.state
    state.received_ms = None
    state.ticked_ms = None
    state.ticked_seen_ms = state.last_seen_ms  # seen before the restart: not news to a tick
    state.restarted = True
    watch.watch_from = None


# --- cold path: snapshot, restart, signal ----------------------------------------------


def dump(groups: Groups) -> list[dict[str, object]]:
    return [
        {
            "enterprise": code,
            "active": watch.state.active,
            "reason": watch.state.reason,
            "offline_ms": watch.state.offline_ms,
            "last_seen_ms": watch.state.last_seen_ms,
            "catch_up_ms": watch.state.catch_up_ms,
            "received_ms": watch.state.received_ms,
            "ticked_ms": watch.state.ticked_ms,
            "ticked_seen_ms": watch.state.ticked_seen_ms,
            "restarted": watch.state.restarted,
            "watch_from": watch.watch_from,
        }
        for code, watch in groups.gateways.items()
    ]


def load(groups: Groups, saved: list[dict[str, Any]]) -> None:
    for entry in saved:
        watch = groups.gateways.get(entry["enterprise"])
        if watch is None:
            continue
        state = watch.state
        state.active, state.reason = bool(entry["active"]), str(entry["reason"])
        state.offline_ms, state.last_seen_ms = entry["offline_ms"], entry["last_seen_ms"]
        state.catch_up_ms = entry.get("catch_up_ms")  # absent from older snapshots
        state.received_ms = entry.get("received_ms")  # these three too
        state.ticked_ms = entry.get("ticked_ms")
        state.ticked_seen_ms = entry.get("ticked_seen_ms")
        state.restarted = bool(entry.get("restarted", False))
        watch.watch_from = entry["watch_from"]


def holds(groups: Groups, sig: AlarmSignal) -> bool | None:
    if sig.rule != GATEWAY_OFFLINE:
        return None
    watch = groups.gateways.get(sig.enterprise)
    return watch is not None and watch.state.active


KIND: Final[GroupKind] = GroupKind("gateways", dump, load, holds)


def signal(watch: GatewayWatch, change: Change, ts_ms: int) -> AlarmSignal:
    raised = change is _RAISED
    state = watch.state
    last = state.last_seen_ms if state.last_seen_ms is not None else watch.watch_from
    silent_ms = ts_ms - last if last is not None else 0
    return AlarmSignal(
        kind=SignalKind.RAISE if raised else SignalKind.CLEAR,
        enterprise=watch.enterprise.code,
        hazard_source="",
        tag=None,
        rule=GATEWAY_OFFLINE,
        category=Category.DATA_HEALTH,
        priority=priority(Severity.GATEWAY, watch.tier),
        ts_ms=ts_ms,
        value=None,
        limit=None,
        message=message(watch.enterprise, raised, state.reason, silent_ms),
        simulated=watch.enterprise.simulated,
        details={"reason": state.reason} if raised else {},
    )


def message(enterprise: Enterprise, raised: bool, reason: str, silent_ms: int) -> str:
    if not raised:
        return f"网关恢复在线：{enterprise.name}"
    if reason == "status":
        return f"网关离线：{enterprise.name} 网关上报离线"
    return f"网关离线：{enterprise.name} 已 {messages.minutes(silent_ms)} 分钟未收到任何数据"
