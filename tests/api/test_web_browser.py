"""The monitoring-centre page in a real headless Chromium (Debian `chromium`), driven over
the DevTools protocol on a pipe (--remote-debugging-pipe: no websocket library needed).

A real uvicorn server runs create_app(ctx) on a loopback port in this event loop, over a
real AlarmStore and the session InfluxDB. The page is logged in with a province token;
an alarm raised through AlarmService.handle_signal must appear in the live list, the
确认 button must acknowledge it (checked through the API), and the sensor view and KPI
panel must render. Screenshots go to the test's tmp dir, and also to the directory named
by HAZMON_SCREENSHOTS (e.g. docs/screenshots) when that is set.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import fcntl
import json
import math
import os
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from hazmon.alerts import AlarmService, AlarmStore, RegistryDirectory, UlidFactory
from hazmon.api import ApiContext, TokenStore, create_app
from hazmon.domain.registry import Registry
from hazmon.domain.signal import Priority
from hazmon.ingest.gateways import GatewayTracker
from hazmon.testing.influxdb import InfluxDB
from tests.api import influx_support as ifx
from tests.api.conftest import SIMULATED
from tests.api.support import HS_A, HS_B, TAG_A, TAG_A2, TAG_B, signal
from tests.conftest import ENT, ENT2
from tests.real_parts import missing

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(CHROMIUM is None,
                       reason=missing("Chromium (Debian `chromium`)", "apt-get install chromium")),
]

# Without the background-networking flags Chromium keeps calling home on a closed network.
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-extensions", "--mute-audio",
    "--remote-debugging-pipe", "--window-size=1920,1080",
]
WIDTH, HEIGHT = 1920, 1080


class CdpError(Exception):
    pass


@dataclass
class Cdp:
    """Chrome DevTools Protocol over --remote-debugging-pipe: NUL-terminated JSON
    messages, commands on the child's fd 3, answers and events on its fd 4."""

    proc: subprocess.Popen[bytes]
    reader: asyncio.StreamReader
    write_fd: int
    session: str = ""
    pending: dict[int, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    next_id: int = 0
    pump: asyncio.Task[None] | None = None

    @classmethod
    async def launch(cls, binary: str, profile: Path) -> Cdp:
        to_child, from_us = os.pipe()
        to_us, from_child = os.pipe()
        # out of the way of 3 and 4 before dup2 in the child (and closed on exec)
        hi = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in (to_child, from_child)]
        for fd in (to_child, from_child):
            os.close(fd)

        def child_fds() -> None:
            os.dup2(hi[0], 3)
            os.dup2(hi[1], 4)

        # close_fds=False: Python's own fds are not inheritable anyway, 3 and 4 are
        with (profile.parent / "chromium.log").open("wb") as log:
            proc = subprocess.Popen(  # noqa: ASYNC220 - started, not waited for
                [binary, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log,
                close_fds=False, preexec_fn=child_fds,
            )
        for fd in hi:
            os.close(fd)
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=1 << 28)  # screenshots are large
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader),
                                     os.fdopen(to_us, "rb", 0))
        cdp = cls(proc, reader, from_us)
        cdp.pump = asyncio.create_task(cdp._read())
        return cdp

    async def _read(self) -> None:
        while True:
            try:
                raw = await self.reader.readuntil(b"\0")
            except (asyncio.IncompleteReadError, ConnectionError):
                for waiting in self.pending.values():
                    if not waiting.done():
                        waiting.set_exception(CdpError("chromium closed the pipe"))
                return
            msg = json.loads(raw[:-1])
            fut = self.pending.pop(msg["id"]) if msg.get("id") in self.pending else None
            if fut is not None and not fut.done():
                fut.set_result(msg)
            elif "method" in msg:
                self.events.append(msg)

    async def send(self, method: str, params: dict[str, Any] | None = None, *,
                   browser: bool = False,
                   timeout: float = 15) -> dict[str, Any]:  # noqa: ASYNC109 - a bound
        self.next_id += 1
        msg: dict[str, Any] = {"id": self.next_id, "method": method, "params": params or {}}
        if not browser:
            msg["sessionId"] = self.session
        fut = asyncio.get_running_loop().create_future()
        self.pending[self.next_id] = fut
        os.write(self.write_fd, json.dumps(msg).encode() + b"\0")
        answer = await asyncio.wait_for(fut, timeout)
        if "error" in answer:
            raise CdpError(f"{method}: {answer['error']}")
        result: dict[str, Any] = answer.get("result", {})
        return result

    async def open_page(self) -> None:
        target = await self.send("Target.createTarget", {"url": "about:blank"}, browser=True)
        attached = await self.send("Target.attachToTarget",
                                   {"targetId": target["targetId"], "flatten": True},
                                   browser=True)
        self.session = attached["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            await self.send(f"{domain}.enable")
        await self.send("Emulation.setDeviceMetricsOverride",
                        {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1,
                         "mobile": False})

    async def js(self, expression: str) -> Any:
        r = await self.send("Runtime.evaluate", {"expression": expression,
                                                 "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in r:
            raise CdpError(f"{expression}: {r['exceptionDetails']}")
        return r["result"].get("value")

    async def wait_js(self, expression: str,
                      timeout: float = 10) -> Any:  # noqa: ASYNC109 - a bound
        deadline = time.monotonic() + timeout
        while True:
            value = await self.js(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"page condition not met in {timeout}s: {expression}\n"
                                     f"page errors: {self.page_errors()}")
            await asyncio.sleep(0.1)

    async def screenshot(self, path: Path) -> None:
        r = await self.send("Page.captureScreenshot", {"format": "png"}, timeout=30)
        await asyncio.to_thread(path.write_bytes, base64.b64decode(r["data"]))

    def page_errors(self) -> list[str]:
        out = []
        for e in self.events:
            p = e.get("params", {})
            if e["method"] == "Runtime.exceptionThrown":
                out.append(json.dumps(p.get("exceptionDetails"), ensure_ascii=False)[:500])
            elif e["method"] == "Log.entryAdded" and p["entry"]["level"] == "error":
                out.append(p["entry"].get("text", ""))
            elif e["method"] == "Runtime.consoleAPICalled" and p.get("type") == "error":
                out.append(json.dumps(p.get("args"), ensure_ascii=False)[:500])
        return out

    def requested_urls(self) -> list[str]:
        return [e["params"]["request"]["url"] for e in self.events
                if e["method"] == "Network.requestWillBeSent"]

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.send("Browser.close", browser=True, timeout=3)
        try:
            await asyncio.wait_for(asyncio.to_thread(self.proc.wait), 5)
        except TimeoutError:
            self.proc.kill()
            await asyncio.to_thread(self.proc.wait)
        os.close(self.write_fd)
        if self.pump is not None:
            self.pump.cancel()


@dataclass
class Site:
    base: str
    token: str
    alarms: AlarmService
    registry: Registry
    influx_url: str
    db: str
    # (enterprise, tag) -> newest reading, as the rules engine keeps it: filled by seed()
    last_seen: dict[tuple[str, str], int] = field(default_factory=dict)


def now_ms() -> int:
    return int(time.time() * 1000)


@pytest.fixture
async def site(store: AlarmStore, registry: Registry, influxdb: InfluxDB, unique: str
               ) -> AsyncIterator[Site]:
    await ifx.create_db(influxdb.url, unique)
    influx = ifx.client(influxdb.url, unique)
    alarms = AlarmService(store, directory=RegistryDirectory(registry), clock=now_ms,
                          ids=UlidFactory())
    tokens = await TokenStore.open(store.db)
    seen: dict[tuple[str, str], int] = {}
    ctx = ApiContext(
        registry=lambda: registry, alarms=alarms, alarm_store=store, tokens=tokens,
        gateways=GatewayTracker(), health=lambda: {"status": "ok"}, clock=now_ms,
        influx=influx, influx_database=unique, simulated_enterprises=lambda: SIMULATED,
        sse_heartbeat_s=1.0, last_seen=lambda e, t: seen.get((e, t)),
    )
    token, _ = await tokens.create("province", "32", "web-test", now_ms())
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(ctx), log_level="warning",
                                           lifespan="off", timeout_graceful_shutdown=2))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.025)
    assert server.started, "uvicorn did not start"
    try:
        yield Site(f"http://127.0.0.1:{port}", token, alarms, registry, influxdb.url, unique,
                   seen)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
        sock.close()
        await influx.aclose()


@pytest.fixture
async def browser(tmp_path: Path) -> AsyncIterator[Cdp]:
    assert CHROMIUM is not None
    profile = tmp_path / "profile"
    profile.mkdir()
    cdp = await Cdp.launch(CHROMIUM, profile)
    try:
        await cdp.open_page()
        yield cdp
    finally:
        await cdp.close()


async def seed(site: Site) -> None:
    """An hour of level and pressure readings, and alarms in three states."""
    now = now_ms()
    level = [(TAG_A, t, 8.6 + 1.9 * (i / 360) + 0.25 * math.sin(i / 9))
             for i, t in enumerate(range(now - 3_600_000, now, 10_000))]
    pressure = [(TAG_A2, t, 0.62 + 0.05 * math.sin(i / 15))
                for i, t in enumerate(range(now - 1_800_000, now, 20_000))]
    await ifx.write(site.influx_url, site.db, site.registry, ENT, level + pressure)
    for tag, t, _ in level + pressure:
        site.last_seen[(ENT, tag)] = max(t, site.last_seen.get((ENT, tag), 0))
    a = site.alarms
    crit = await a.handle_signal(signal(
        enterprise=ENT2, hazard_source=HS_B, tag=TAG_B, rule="high_high", ts=now - 900_000,
        value=51.2, limit=50, priority=Priority.CRITICAL, simulated=True,
        message="高高报：液化烃罐区 V201 温度 51.2 °C ≥ 高高限 50 °C"))
    med = await a.handle_signal(signal(
        tag=TAG_A2, rule="high", ts=now - 2_400_000, value=0.83, limit=0.8,
        priority=Priority.MEDIUM, message="高报：罐区一 T101 压力 0.83 MPa ≥ 高限 0.8 MPa"))
    assert crit is not None
    assert med is not None
    await a.ack(med.id, "province:值班员", "已电话通知企业")
    await a.handle_signal(signal(
        tag="MHS-01.GD03", rule="high", ts=now - 1_500_000, value=0.5, limit=0.33,
        priority=Priority.LOW,
        message="一级报警：罐区一 MHS-01.GD03 有毒气体(氯) 0.5 ppm ≥ 一级报警值 0.33 ppm"))
    await a.handle_signal(signal(
        "clear", tag="MHS-01.GD03", rule="high", ts=now - 1_200_000, value=0.2, limit=0.33,
        priority=Priority.LOW, message="一级报警恢复：罐区一 MHS-01.GD03 0.2 ppm"))


TIER_FILTER = ("(() => { const t = document.querySelector('#f-tier'); t.value = '%s';"
               "t.dispatchEvent(new Event('change')); return true; })()")


def save(shots: list[Path], tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.png"
    shots.append(path)
    return path


async def test_page_alarm_ack_sensor_and_kpis(site: Site, browser: Cdp, tmp_path: Path
                                              ) -> None:
    await seed(site)
    shots: list[Path] = []
    cdp = browser
    await cdp.send("Page.navigate", {"url": site.base + "/"})
    await cdp.wait_js("document.readyState === 'complete' && "
                      "document.querySelector('#login-dlg').open")
    await cdp.screenshot(save(shots, tmp_path, "login"))
    await cdp.js(f"document.querySelector('#login-token').value = {json.dumps(site.token)};"
                 "document.querySelector('#login-form').requestSubmit(); true")
    await cdp.wait_js("document.body.dataset.ready === '1' && "
                      "document.querySelectorAll('#hs-grid .hs-card').length === 2")
    await cdp.wait_js("document.querySelector('#conn').dataset.status === 'live'")
    assert await cdp.js("document.querySelector('#scope').textContent") == "省级监测中心 · 辖区 32"
    # the simulated plant's critical alarm colours its card; 模拟 is shown
    assert await cdp.js(
        f"document.querySelector('[data-hs=\"{ENT2}/{HS_B}\"]').dataset.priority") == "critical"
    assert await cdp.js("document.querySelectorAll('#alarm-list .sim').length") == 1

    # an alarm raised now arrives over the stream
    raised = await site.alarms.handle_signal(signal(
        ts=now_ms(), priority=Priority.HIGH,
        message="高高报：罐区一 T101 液位 10.61 m ≥ 高高限 10.5 m"))
    assert raised is not None
    item = f"document.querySelector('#alarm-list li[data-id=\"{raised.id}\"]')"
    await cdp.wait_js(f"{item} && {item}.dataset.state === 'unack_active'")
    assert "液位 10.61 m" in await cdp.js(f"{item}.querySelector('.a-msg').textContent")
    assert await cdp.js(f"{item}.querySelector('.a-state').textContent") == "未确认"
    await cdp.wait_js(
        f"document.querySelector('[data-hs=\"{ENT}/{HS_A}\"]').dataset.priority === 'high'")

    # 确认 acknowledges it: the API says so, and the list shows it
    await cdp.js(f"{item}.querySelector('.act-ack').click(); true")
    await cdp.wait_js(f"{item} && {item}.dataset.state === 'ack_active'")
    async with httpx.AsyncClient(base_url=site.base,
                                 headers={"Authorization": f"Bearer {site.token}"}) as http:
        got = (await http.get(f"/api/v1/alarms/{raised.id}")).json()
    assert got["state"] == "ack_active"
    assert got["acked"]
    assert got["acked_by"].startswith("province")
    assert got["history"][-1]["event"] == "acknowledged"
    assert await cdp.js(f"{item}.querySelector('.a-state').textContent") == "已确认"

    # 搁置 (minutes + reason) and 备注 through their dialogs
    crit = "document.querySelector('#alarm-list li.p-critical')"
    crit_id = await cdp.js(f"{crit}.dataset.id")
    await cdp.js(f"{crit}.querySelector('.act-shelve').click();"
                 "document.querySelector('#shelve-minutes').value = '45';"
                 "document.querySelector('#shelve-reason').value = '企业检修，已报备';"
                 "document.querySelector('#shelve-form').requestSubmit(); true")
    await cdp.wait_js(f"{crit}.querySelector('.act-unshelve') && "
                      "!document.querySelector('#shelve-dlg').open")
    await cdp.js(f"{crit}.querySelector('.act-comment').click();"
                 "document.querySelector('#comment-text').value = '已通知盐城市应急管理局';"
                 "document.querySelector('#comment-form').requestSubmit(); true")
    await cdp.wait_js("!document.querySelector('#comment-dlg').open")
    async with httpx.AsyncClient(base_url=site.base,
                                 headers={"Authorization": f"Bearer {site.token}"}) as http:
        got = (await http.get(f"/api/v1/alarms/{crit_id}")).json()
    assert got["shelved"]["reason"] == "企业检修，已报备"
    assert [h["event"] for h in got["history"]][-2:] == ["shelved", "commented"]

    # the tier filter narrows the grid, the map and the list
    await cdp.js(TIER_FILTER % "4")
    assert await cdp.js("document.querySelectorAll('#hs-grid .hs-card').length") == 1
    assert await cdp.js("document.querySelectorAll('#alarm-list li').length") == 1
    await cdp.js(TIER_FILTER % "")
    await asyncio.sleep(0.5)  # let the highlight of the new alarm fade for the picture
    await cdp.screenshot(save(shots, tmp_path, "overview"))

    # clicking the hazard source opens the sensor view of its worst sensor
    await cdp.js(f"document.querySelector('[data-hs=\"{ENT}/{HS_A}\"]').click(); true")
    await cdp.wait_js("!document.querySelector('#view-sensor').hidden && "
                      "document.querySelector('#trend polyline.mean') && "
                      "document.querySelectorAll('#trend line.limit').length === 2 && "
                      "document.querySelectorAll('#sv-history tbody tr.p-high').length === 1")
    assert await cdp.js("document.querySelector('#sv-sensors .chip.active').dataset.tag") == TAG_A
    limits = await cdp.js("[...document.querySelectorAll('#trend line.limit')]"
                          ".map(l => l.dataset.limit).sort().join()")
    assert limits == "high,high_high"
    await cdp.js("document.querySelector('#toast').className = 'toast'; true")  # 已确认
    await cdp.screenshot(save(shots, tmp_path, "sensor"))

    # KPI panel: the report's figures, data availability per enterprise from it
    await cdp.js("document.querySelector('#tabs [data-view=kpi]').click(); true")
    await cdp.wait_js("document.querySelectorAll('#kpi-cards .card').length === 8 && "
                      "document.querySelectorAll('#kpi-avail tr[data-enterprise]').length === 2")
    cards = await cdp.js("[...document.querySelectorAll('#kpi-cards .card')].map(c => "
                         "[c.querySelector('.card-label').textContent, "
                         "c.querySelector('.card-value').textContent])")
    # real alarms of the last 24 h: the medium, the low and the one raised above (the
    # critical one is simulated); ENT's level and pressure report, its GD03 does not
    assert dict(cards) == {
        "报警激活数": "3", "平均报警率": "0.02 /10分钟", "10分钟峰值": "1",
        "泛滥时间占比": "0 %", "确认时间（中位数）": cards[4][1], "颤振报警": "0",
        "陈旧报警": "0", "数据可用率": "40 %",
    }
    avail = "document.querySelector('#kpi-avail tr[data-enterprise=\"{}\"] .avail')"
    assert await cdp.js(avail.format(ENT) + ".textContent") == "66.7 %"
    assert await cdp.js(avail.format(ENT2) + ".textContent") == "0.0 %"
    assert await cdp.js("document.querySelectorAll('#kpi-bad tbody tr').length") == 3
    legend = await cdp.js("document.querySelector('#kpi-mix-legend').textContent")
    assert "紧急 0（0%，目标≈5%）" in legend
    assert "中 1 · 低 1（66.67%，目标≈80%）" in legend
    await cdp.screenshot(save(shots, tmp_path, "kpi"))

    assert cdp.page_errors() == []
    foreign = [u for u in cdp.requested_urls()
               if not u.startswith((site.base, "data:", "about:"))]
    assert foreign == [], "the page must load nothing from elsewhere"
    await asyncio.to_thread(keep, shots)


def keep(shots: list[Path]) -> None:
    for p in shots:
        assert p.stat().st_size > 10_000, p
    if out := os.environ.get("HAZMON_SCREENSHOTS"):
        Path(out).mkdir(parents=True, exist_ok=True)
        for p in shots:
            shutil.copy(p, Path(out) / p.name)
