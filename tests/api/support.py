"""Helpers of the API tests: roles and the `Api` handle the fixtures build, signals, a fake
clock, and an SSE reader that drives the ASGI app directly (httpx's ASGITransport buffers a
whole response, so it cannot read a stream that never ends)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
from fastapi import FastAPI

from hazmon.alerts import AlarmService, AlarmStore
from hazmon.api import ApiContext
from hazmon.domain.signal import AlarmSignal, Category, Priority, SignalKind
from tests.clock import MINUTE as MINUTE
from tests.clock import T0 as T0
from tests.clock import FakeClock as FakeClock
from tests.support import ENT, ENT2

TAG_A = "MHS-01.T101.LT01"
TAG_A2 = "MHS-01.T101.PT01"
TAG_B = "MHS-02.V201.TT01"
TAG_B2 = "MHS-02.GD01"
HS_A = "MHS-01"
HS_B = "MHS-02"

__all__ = ["ENT", "ENT2"]


def signal(kind: str = "raise", *, enterprise: str = ENT, hazard_source: str = HS_A,
           tag: str | None = TAG_A, rule: str = "high_high", ts: int = T0,
           value: float | None = 10.61, limit: float | None = 10.5,
           priority: Priority = Priority.HIGH, simulated: bool = False,
           message: str = "罐区一 T101 液位 10.61 m ≥ 高高限 10.5 m") -> AlarmSignal:
    return AlarmSignal(
        kind=SignalKind(kind), enterprise=enterprise, hazard_source=hazard_source, tag=tag,
        rule=rule, category=Category.PROCESS, priority=priority, ts_ms=ts, value=value,
        limit=limit, message=message, simulated=simulated,
    )


@dataclass
class SseReader:
    """`async with SseReader(app, url, token) as r:`; r.status, r.chunks, r.events()."""

    app: FastAPI
    url: str
    token: str | None = None
    status: int = 0
    chunks: list[str] = field(default_factory=list)
    _msgs: asyncio.Queue[MutableMapping[str, Any]] = field(default_factory=asyncio.Queue)
    _gone: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> SseReader:
        parts = urlsplit(self.url)
        headers = [(b"host", b"test")]
        if self.token:
            headers.append((b"authorization", f"Bearer {self.token}".encode()))
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": "GET", "scheme": "http", "path": parts.path,
            "raw_path": parts.path.encode(), "query_string": parts.query.encode(),
            "root_path": "", "headers": headers, "client": ("127.0.0.1", 40000),
            "server": ("test", 80),
        }
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await self._gone.wait()
            return {"type": "http.disconnect"}

        async def send(message: MutableMapping[str, Any]) -> None:
            self._msgs.put_nowait(message)

        self._task = asyncio.create_task(self.app(scope, receive, send))
        start = await asyncio.wait_for(self._msgs.get(), 5)
        self.status = start["status"]
        if self.status == 200:
            await self.wait_for(lambda: any(": connected" in c for c in self.chunks))
        return self

    async def _pump(self, timeout: float) -> bool:  # noqa: ASYNC109 - a bound, not an API
        try:
            msg = await asyncio.wait_for(self._msgs.get(), timeout)
        except TimeoutError:
            return False
        if msg["type"] == "http.response.body" and msg.get("body"):
            self.chunks.append(msg["body"].decode())
        return True

    async def wait_for(self, cond: Any, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not cond():
            left = deadline - loop.time()
            if left <= 0:
                raise AssertionError(f"stream condition not met; got {self.chunks!r}")
            await self._pump(left)

    def heartbeats(self) -> int:
        return sum(c.count(": heartbeat") for c in self.chunks)

    async def settle(self) -> None:
        """Wait until everything queued so far has gone through the filter: two
        heartbeats after this point mean the stream has been idle since."""
        seen = self.heartbeats()
        await self.wait_for(lambda: self.heartbeats() >= seen + 2)

    def events(self, name: str = "alarm") -> list[dict[str, Any]]:
        out = []
        for block in "".join(self.chunks).split("\n\n"):
            lines = block.split("\n")
            if f"event: {name}" in lines:
                data = next(ln for ln in lines if ln.startswith("data: "))
                out.append(json.loads(data.removeprefix("data: ")))
        return out

    async def body(self) -> dict[str, Any]:
        """The JSON body of a non-stream answer (an error)."""
        assert self._task is not None
        await asyncio.wait_for(self._task, 5)
        while not self._msgs.empty():
            await self._pump(0.1)
        parsed: dict[str, Any] = json.loads("".join(self.chunks))
        return parsed

    async def __aexit__(self, *exc: object) -> None:
        self._gone.set()
        if self._task is not None:
            await asyncio.wait_for(self._task, 5)


# role name used in tests -> (role, scope)
ROLES: dict[str, tuple[str, str]] = {
    "province": ("province", "32"),
    "city": ("city", "3209"),
    "other_city": ("city", "3210"),
    "county": ("county", "320921"),
    "enterprise": ("enterprise", ENT),
    "simulator": ("simulator", "32"),
}
SIMULATED = frozenset({ENT2})  # the test registry's second enterprise plays the simulated one


@dataclass
class Api:
    app: FastAPI
    ctx: ApiContext
    client: httpx.AsyncClient
    tokens: dict[str, str]
    clock: FakeClock
    alarms: AlarmService
    store: AlarmStore

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    async def get(self, role: str, url: str, **kw: Any) -> httpx.Response:
        headers = {**self.auth(role), **kw.pop("headers", {})}
        return await self.client.get(url, headers=headers, **kw)

    async def post(self, role: str, url: str, **kw: Any) -> httpx.Response:
        headers = {**self.auth(role), **kw.pop("headers", {})}
        return await self.client.post(url, headers=headers, **kw)


ApiFactory = Callable[..., Any]
