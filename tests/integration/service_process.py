"""The real service as a child process (`hazmon run`), killed and restarted by tests, and
a listener that counts the alarm events hazmon publishes to a plant's alarms topic."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiomqtt
import httpx
import orjson
import yaml

from hazmon.api import TokenStore
from hazmon.core.clock import wall_ms
from tests.helpers import SESSION_EXPIRY_S, wait_for


class ServiceProcess:
    """`hazmon run --config <file>` with its output in one log; each start appends."""

    def __init__(self, tmp: Path, config: dict[str, Any]) -> None:
        self.config_file = tmp / "hazmon.yaml"
        self.log = tmp / "service.log"
        self.config = config
        self.starts = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.token = ""

    def write_config(self) -> None:
        self.config.setdefault("mqtt", {}).setdefault("session_expiry_s", SESSION_EXPIRY_S)
        self.config_file.write_text(yaml.safe_dump(self.config, allow_unicode=True))

    def spawn(self) -> None:
        self.write_config()
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "hazmon.service.cli", "run", "--config",
                 str(self.config_file)],
                stdout=out, stderr=out, env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )

    async def start(self) -> None:
        """Start and wait until it has subscribed and serves HTTP."""
        self.spawn()
        nth = self.starts
        self.starts += 1
        await wait_for(lambda: len(re.findall(r"ready: subscribed", self.text())) > nth,
                       30, what=f"start {nth + 1} ready")
        self.port = int(re.findall(r"HTTP on port (\d+)", self.text())[nth])

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL: nothing saved, nothing flushed."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def terminate(self) -> None:
        """SIGTERM: a clean stop that must exit 0."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise
        assert code == 0, self.text()[-3000:]

    def stop(self, how: str) -> None:
        self.kill() if how == "SIGKILL" else self.terminate()

    def ensure_stopped(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    async def get(self, path: str) -> Any:
        """GET with the province token (made on first use): /health's detail and /metrics
        need the metrics right, which the province has by default."""
        if not self.token:
            await self.create_token()
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{self.port}",
                                     headers={"Authorization": f"Bearer {self.token}"}) as http:
            r = await http.get(path)
            r.raise_for_status()
            return r.json()

    async def health(self) -> dict[str, Any]:
        body: dict[str, Any] = await self.get("/health")
        return body

    async def replay_done(self) -> dict[str, Any]:
        """The startup replay's report, once it has finished."""
        async def state() -> dict[str, Any]:
            replay: dict[str, Any] = (await self.health())["rules_replay"]
            return replay

        done: dict[str, Any] = await wait_for(
            state, 60, what="the startup replay done",
            expect=lambda r: r["state"] not in ("waiting", "running"))
        return done

    async def create_token(self, role: str = "province", scope: str = "32") -> str:
        """A token in the service's own alarm database: by default the province's, for all
        of Jiangsu (32), kept as `self.token`; a plant's (role enterprise) for its actions
        on alarms (the enterprise acknowledges and shelves, hazmon.api.rights)."""
        data = Path(self.config["data_dir"])
        os.makedirs(data, exist_ok=True)
        tokens = await TokenStore.open_url(f"sqlite:///{data / 'alarms.db'}")
        try:
            token, _ = await tokens.create(role, scope, "值班员", wall_ms())
        finally:
            await tokens.close()
        if role == "province":
            self.token = token
        return token

    async def api(self, method: str, path: str, body: Any = None,
                  token: str | None = None) -> Any:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{self.port}",
                                     headers={"Authorization": f"Bearer {token or self.token}"}
                                     ) as http:
            r = await http.request(method, f"/api/v1{path}", json=body)
            assert r.status_code < 300, (r.status_code, r.text)
            return r.json()

    async def metric(self, name: str) -> float:
        if not self.token:
            await self.create_token()
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{self.port}",
                                     headers={"Authorization": f"Bearer {self.token}"}) as http:
            text = (await http.get("/metrics")).text
        for line in text.splitlines():
            if line.startswith(f"{name} "):
                return float(line.split()[1])
        raise AssertionError(f"metric {name} not found")


class AlarmListener:
    """Every alarm event published on the plants' alarms topics, kept in order."""

    def __init__(self, port: int, topic: str = "hazmon/v1/+/+/alarms") -> None:
        self.port = port
        self.topic = topic
        self.events: list[dict[str, Any]] = []

    def of(self, rule: str, event: str, tag: str | None = None) -> list[dict[str, Any]]:
        return [e for e in self.events if e["rule"] == rule and e["event"] == event
                and (tag is None or e["tag"] == tag)]

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[AlarmListener]:
        ready = asyncio.Event()

        async def listen() -> None:
            async with aiomqtt.Client("127.0.0.1", self.port) as client:
                await client.subscribe(self.topic, qos=1)
                ready.set()
                async for msg in client.messages:
                    assert isinstance(msg.payload, bytes)
                    self.events.append(orjson.loads(msg.payload))

        task = asyncio.create_task(listen())
        await asyncio.wait_for(ready.wait(), 10)
        try:
            yield self
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
