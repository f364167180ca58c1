"""Helpers for integration tests: publish like a gateway, query InfluxDB, run the service."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path
from typing import Any

import aiomqtt
import httpx
import orjson

from hazmon.core.clock import Clock, wall_ms
from hazmon.ingest.topics import Channel, topic_for
from hazmon.service.app import Service
from hazmon.service.settings import Settings

BASE_MS = 1_795_312_800_000  # 2026-11-22T10:00:00+08:00 — fixed, so expected times are exact
# The broker forgets a test's MQTT 5 session this long after the test's service left it:
# longer than any restart a test makes, while the default week would keep every finished
# test's session in the session broker, queueing all that later tests publish.
SESSION_EXPIRY_S = 300


def batch(readings: list[dict[str, Any]], seq: int | None = None, ts: Any = None) -> bytes:
    body: dict[str, Any] = {"readings": readings}
    if seq is not None:
        body["seq"] = seq
    if ts is not None:
        body["ts"] = ts
    return orjson.dumps(body)


def make_settings(tmp: Path, mqtt_port: int, influx_url: str, name: str, **extra: Any) -> Settings:
    from tests.support import REGISTRY_FILE

    return Settings(
        registry=extra.pop("registry", REGISTRY_FILE),
        data_dir=tmp / "data",
        registry_poll_s=extra.pop("registry_poll_s", 0),
        mqtt={"host": "127.0.0.1", "port": mqtt_port, "client_id": f"hazmon-{name}",
              "reconnect_min_s": 0.1, "reconnect_max_s": 1.0,
              "session_expiry_s": SESSION_EXPIRY_S, **extra.pop("mqtt", {})},
        influx={"url": influx_url, "database": name, "flush_interval_s": 0.05,
                "retry_min_s": 0.1, "retry_max_s": 1.0, **extra.pop("influx", {})},
        # ops_port: /metrics and the /health detail without a token, on loopback
        http={"host": "127.0.0.1", "port": 0, "ops_port": 0, **extra.pop("http", {})},
        # the duty loop's random roll calls would land on the plants' alarms topics
        duties=extra.pop("duties", {"enabled": False}),
        **extra,
    )


@contextlib.asynccontextmanager
async def running(settings: Settings, clock: Clock = wall_ms) -> AsyncIterator[Service]:
    """The service opened and subscribed; its parts closed in reverse on leaving."""
    async with Service.open(settings, clock=clock) as service:
        await asyncio.wait_for(service.ready.wait(), 20)
        yield service


async def publish_all(port: int, region: str, enterprise: str, payloads: Iterable[bytes],
                      qos: int = 1, client_id: str | None = None) -> int:
    n = 0
    topic = topic_for(region, enterprise, Channel.TELEMETRY)
    async with aiomqtt.Client("127.0.0.1", port, identifier=client_id) as client:
        for p in payloads:
            await client.publish(topic, p, qos=qos)
            n += 1
    return n


async def publish_raw(port: int, topic: str, payload: bytes, retain: bool = False) -> None:
    async with aiomqtt.Client("127.0.0.1", port) as client:
        await client.publish(topic, payload, qos=1, retain=retain)


async def influx_query(url: str, db: str, q: str) -> list[list[Any]]:
    async with httpx.AsyncClient(base_url=url) as client:
        r = await client.get("/query", params={"db": db, "q": q, "epoch": "ms"})
        body = r.json()
        if "error" in body:
            raise AssertionError(body["error"])
        res = body["results"][0]
        if "error" in res:
            raise AssertionError(res["error"])
        series = res.get("series", [])
        return [row for s in series for row in s["values"]]


async def count_points(url: str, db: str, measurement: str = "telemetry") -> int:
    try:
        rows = await influx_query(url, db, f'SELECT count("value") FROM "{measurement}"')
    except AssertionError as exc:
        if "database not found" in str(exc):
            return 0
        raise
    return int(rows[0][1]) if rows else 0


async def wait_for(check: Callable[[], Any], timeout: float = 20.0,  # noqa: ASYNC109
                   interval: float = 0.1, what: str = "condition",
                   expect: Callable[[Any], bool] = bool) -> Any:
    """Poll an async or sync check until `expect(value)` holds (default: truthy)."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if asyncio.iscoroutine(last):
            last = await last
        if expect(last):
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"timed out waiting for {what} (last value {last!r})")
