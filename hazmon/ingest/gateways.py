"""Plant gateway presence from the retained `status` topic and its Last Will."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from hazmon.ingest.decode import parse_time

log = logging.getLogger(__name__)

State = Literal["online", "offline", "unknown"]


@dataclass(slots=True)
class GatewayState:
    enterprise: str
    state: State = "unknown"
    since_ms: int | None = None  # time of the last status change, from the gateway
    last_seen_ms: int | None = None  # arrival time of the last telemetry
    newest_data_ms: int | None = None  # newest reading time, on the gateway's clock


class StatusError(ValueError):
    pass


def parse_status(payload: bytes) -> tuple[Literal["online", "offline"], int | None]:
    try:
        data: Any = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise StatusError(f"status is not JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("state") not in ("online", "offline"):
        raise StatusError('status must be {"state": "online"|"offline", "ts": ...}')
    ts = None
    if data.get("ts") is not None:
        try:
            ts = parse_time(data["ts"])
        except ValueError as exc:
            raise StatusError(f"status ts: {exc}") from None
    state: Literal["online", "offline"] = data["state"]
    return state, ts


class GatewayTracker:
    def __init__(self) -> None:
        self.gateways: dict[str, GatewayState] = {}

    def get(self, enterprise: str) -> GatewayState:
        gw = self.gateways.get(enterprise)
        if gw is None:
            gw = self.gateways[enterprise] = GatewayState(enterprise)
        return gw

    def status(self, enterprise: str, state: Literal["online", "offline"], ts_ms: int) -> bool:
        """Record a status message; True when the state changed."""
        gw = self.get(enterprise)
        changed = gw.state != state
        if changed:
            log.info("gateway %s is %s", enterprise, state)
        gw.state = state
        gw.since_ms = ts_ms
        return changed

    def seen(self, enterprise: str, now_ms: int, newest_ms: int | None = None) -> None:
        gw = self.get(enterprise)
        gw.last_seen_ms = now_ms
        if newest_ms is not None and (gw.newest_data_ms is None or newest_ms > gw.newest_data_ms):
            gw.newest_data_ms = newest_ms
        if gw.state == "unknown":
            gw.state = "online"
            gw.since_ms = now_ms

    def counts(self) -> dict[str, int]:
        out = {"online": 0, "offline": 0, "unknown": 0}
        for gw in self.gateways.values():
            out[gw.state] += 1
        return out
