"""The monitoring-centre page in a real headless Chromium, driven by Playwright for Python.

The browser is Debian's `chromium`, launched through `executable_path`: Playwright's wheel
bundles its driver, and no browser build is downloaded (`playwright install` is never
needed). Under CI (CI=true) a missing chromium or Playwright fails the test, naming what to
install; elsewhere it skips.

A real uvicorn server runs create_app(ctx) on a loopback port in this event loop, over a
real AlarmStore and the session InfluxDB. The page is logged in with a province token;
an alarm raised through AlarmService.handle_signal must appear in the live list, the
确认 button must acknowledge it (checked through the API), 搁置 and 备注 go through their
dialogs, the filters narrow the views, and the sensor view and KPI panel must render; the
page must log no error and load nothing from another origin. Screenshots go to the test's
tmp dir, and also to the directory named by HAZMON_SCREENSHOTS (e.g. docs/screenshots)
when that is set.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import re
import shutil
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import uvicorn

from hazmon.alerts import AlarmService, AlarmStore, RegistryDirectory, UlidFactory
from hazmon.api import ApiContext, Role, TokenStore, create_app
from hazmon.api.rights import DEFAULT_RIGHTS, Action, Rights
from hazmon.domain.registry import Registry, parse_registry
from hazmon.domain.signal import Priority
from hazmon.ingest.gateways import GatewayTracker
from hazmon.simulators.registry_gen import generate_registry
from hazmon.testing.influxdb import InfluxDB
from tests.api import influx_support as ifx
from tests.api.registry_support import flagged
from tests.api.support import HS_A, HS_B, TAG_A, TAG_A2, TAG_B, TAG_B2, signal
from tests.support import ENT, ENT2

try:
    from playwright.async_api import (
        Browser,
        ConsoleMessage,
        Page,
        Request,
        Response,
        async_playwright,
        expect,
    )
    from playwright.async_api import Error as PlaywrightError
except ImportError:  # reported by require_browser(), so that CI fails with a clear message
    HAVE_PLAYWRIGHT = False
else:
    HAVE_PLAYWRIGHT = True

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = pytest.mark.integration

# Without the background-networking flags Chromium keeps calling home on a closed network.
FLAGS = [
    "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-default-apps",
    "--disable-extensions", "--mute-audio",
]
WIDTH, HEIGHT = 1920, 1080
WAIT_MS = 10_000  # the longest any page condition is waited for
T = TypeVar("T")


def require_browser() -> str:
    """The chromium binary; without it or Playwright: fail under CI, skip elsewhere."""
    missing = []
    if not HAVE_PLAYWRIGHT:
        missing.append("Playwright for Python (pip install -e '.[dev]', or "
                       "bash scripts/bootstrap.sh; no `playwright install` is needed)")
    if CHROMIUM is None:
        missing.append("Debian's chromium (apt-get install chromium fonts-noto-cjk)")
    if not missing:
        assert CHROMIUM is not None
        return CHROMIUM
    why = "the browser tests need " + " and ".join(missing)
    if os.environ.get("CI") == "true":
        pytest.fail(why, pytrace=False)
    pytest.skip(why)


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


@dataclass
class Watched:
    """A page and what it reported: errors (console, uncaught, HTTP >= 400) and requests."""

    page: Page
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def on_console(self, msg: ConsoleMessage) -> None:
        if msg.type == "error":
            self.errors.append(f"console: {msg.text}")

    def on_page_error(self, error: PlaywrightError) -> None:
        self.errors.append(f"uncaught: {error}")

    def on_request(self, request: Request) -> None:
        self.requests.append(request.url)

    def on_response(self, response: Response) -> None:
        if response.status >= 400:
            self.errors.append(f"HTTP {response.status}: {response.url}")


def now_ms() -> int:
    return int(time.time() * 1000)


@contextlib.asynccontextmanager
async def serving(store: AlarmStore, registry: Registry, influxdb: InfluxDB, unique: str,
                  rights: Rights | None = None) -> AsyncIterator[Site]:
    """The API and page over `registry` on a loopback port, with a province token for 32."""
    await ifx.create_db(influxdb.url, unique)
    influx = ifx.client(influxdb.url, unique)
    alarms = AlarmService(store, directory=RegistryDirectory(registry), clock=now_ms,
                          ids=UlidFactory())
    tokens = await TokenStore.open(store.db)
    seen: dict[tuple[str, str], int] = {}
    simulated = frozenset(c for c, e in registry.enterprises.items() if e.simulated)
    ctx = ApiContext(
        registry=lambda: registry, alarms=alarms, alarm_store=store, tokens=tokens,
        gateways=GatewayTracker(), health=lambda: {"status": "ok"}, clock=now_ms,
        influx=influx, influx_database=unique, simulated_enterprises=lambda: simulated,
        sse_heartbeat_s=1.0, last_seen=lambda e, t: seen.get((e, t)),
        rights=rights or Rights(),
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
async def site(store: AlarmStore, influxdb: InfluxDB, unique: str) -> AsyncIterator[Site]:
    """The test registry, its second enterprise flagged simulated: a mixed centre."""
    # a site whose province centre may also acknowledge and shelve (http.rights), so the
    # page's buttons are there to drive; the demo centre below keeps the defaults
    province_acts = Rights({a: DEFAULT_RIGHTS[a] | {Role.PROVINCE}
                            for a in (Action.ALARM_ACK, Action.ALARM_SHELVE)})
    async with serving(store, flagged(ENT2), influxdb, unique, province_acts) as s:
        yield s


# A demo centre: the generated registry (every enterprise simulated) over all its regions.
DEMO_REGIONS = ("320921", "320902", "321002", "320707", "320412")


@pytest.fixture
async def demo(store: AlarmStore, influxdb: InfluxDB, unique: str) -> AsyncIterator[Site]:
    gen = generate_registry(12, seed=19, regions=DEMO_REGIONS)
    registry = parse_registry(gen.yaml_text, "demo registry")
    async with serving(store, registry, influxdb, unique) as s:
        yield s


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    chromium = require_browser()
    async with async_playwright() as pw:
        # Chromium's sandbox cannot start as root; a normal user keeps it
        b = await pw.chromium.launch(executable_path=chromium, headless=True,
                                     chromium_sandbox=os.geteuid() != 0, args=FLAGS)
        try:
            yield b
        finally:
            await b.close()


async def open_page(browser: Browser, width: int, height: int, *, touch: bool = False
                    ) -> Watched:
    context = await browser.new_context(viewport={"width": width, "height": height},
                                        device_scale_factor=1, has_touch=touch,
                                        is_mobile=touch)
    context.set_default_timeout(WAIT_MS)
    page = await context.new_page()
    w = Watched(page)
    page.on("console", w.on_console)
    page.on("pageerror", w.on_page_error)
    page.on("request", w.on_request)
    page.on("response", w.on_response)
    return w


@pytest.fixture
async def watched(browser: Browser) -> Watched:
    return await open_page(browser, WIDTH, HEIGHT)


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
    # the simulated plant's readings go to telemetry_sim, as the simulator stores them
    temp = [(TAG_B, t, 38.0 + 0.8 * math.sin(i / 7))
            for i, t in enumerate(range(now - 3_600_000, now, 30_000))]
    gas = [(TAG_B2, t, 2.5) for t in range(now - 1_800_000, now, 60_000)]
    await ifx.write(site.influx_url, site.db, site.registry, ENT2, temp + gas, simulated=True)
    for tag, t, _ in temp + gas:
        site.last_seen[(ENT2, tag)] = max(t, site.last_seen.get((ENT2, tag), 0))
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


async def api_alarm(site: Site, alarm_id: str) -> dict[str, object]:
    async with httpx.AsyncClient(base_url=site.base,
                                 headers={"Authorization": f"Bearer {site.token}"}) as http:
        got: dict[str, object] = (await http.get(f"/api/v1/alarms/{alarm_id}")).json()
    return got


async def quiet(page: Page) -> None:
    """Still for a picture: the new alarm's highlight and the toast's fade have run out."""
    await page.evaluate("document.querySelector('#toast').className = 'toast'")
    await page.wait_for_function("() => document.getAnimations().length === 0",
                                 timeout=WAIT_MS)


# watched first: without a browser it fails or skips before the site is built
async def test_page_alarm_ack_sensor_and_kpis(watched: Watched, site: Site, tmp_path: Path
                                              ) -> None:
    await seed(site)
    shots: list[Path] = []
    page = watched.page

    def shot(name: str) -> str:
        shots.append(tmp_path / f"{name}.png")
        return str(shots[-1])

    await page.goto(site.base + "/")
    await expect(page.locator("#login-dlg")).to_be_visible()
    await expect(page.locator("#login-token")).to_be_focused()
    # the shell made one tab per entry of the view table, in its order
    await expect(page.locator("#tabs button")).to_have_text(["总览", "传感器", "报警绩效", "预警",
                                                             "安全承诺", "值守巡查"])
    await page.screenshot(path=shot("login"))

    await page.fill("#login-token", site.token)
    await page.click("#login-ok")
    await expect(page.locator("body")).to_have_attribute("data-ready", "1")
    await expect(page.locator("#login-dlg")).to_be_hidden()
    await expect(page.locator("#hs-grid .hs-card")).to_have_count(2)
    await expect(page.locator("#conn")).to_have_attribute("data-status", "live")
    await expect(page.locator("#scope")).to_have_text("省级监测中心 · 辖区 32")
    await expect(page.locator("#tabs [data-view=overview]")).to_have_class("active")
    # the simulated plant's critical alarm colours its card; 模拟 is shown
    await expect(page.locator(f'[data-hs="{ENT2}/{HS_B}"]')).to_have_attribute(
        "data-priority", "critical")
    await expect(page.locator("#alarm-list .sim")).to_have_count(1)
    # the map: Jiangsu's boundaries, the located enterprise a marker, the other one listed
    # without coordinates
    await expect(page.locator("#map")).to_have_attribute("data-markers", "1")
    m = await map_state(page)
    assert (m["map"], m["features"]) == ("p32", 13)
    assert [(s["enterprise"], s["prio"]) for s in m["sites"]] == [(ENT, "medium")]
    await expect(page.locator("#map-note .dot-label.p-critical")).to_have_count(1)

    # an alarm raised now arrives over the stream
    raised = await site.alarms.handle_signal(signal(
        ts=now_ms(), priority=Priority.HIGH,
        message="高高报：罐区一 T101 液位 10.61 m ≥ 高高限 10.5 m"))
    assert raised is not None
    item = page.locator(f'#alarm-list li[data-id="{raised.id}"]')
    await expect(item).to_have_attribute("data-state", "unack_active")
    await expect(item.locator(".a-msg")).to_contain_text("液位 10.61 m")
    await expect(item.locator(".a-state")).to_have_text("未确认")
    await expect(page.locator(f'[data-hs="{ENT}/{HS_A}"]')).to_have_attribute(
        "data-priority", "high")
    assert await until(lambda: map_prios(page), [(ENT, "high")]) == [(ENT, "high")]

    # 确认 acknowledges it: the API says so, and the list shows it
    await item.locator(".act-ack").click()
    await expect(item).to_have_attribute("data-state", "ack_active")
    got = await api_alarm(site, raised.id)
    assert got["state"] == "ack_active"
    assert got["acked"]
    assert str(got["acked_by"]).startswith("province")
    history = got["history"]
    assert isinstance(history, list)
    assert history[-1]["event"] == "acknowledged"
    await expect(item.locator(".a-state")).to_have_text("已确认")
    await expect(item.locator(".act-ack")).to_have_count(0)

    # 搁置 (minutes + reason) and 备注 through their dialogs
    crit = page.locator("#alarm-list li.p-critical")
    crit_id = await crit.get_attribute("data-id")
    assert crit_id is not None
    await crit.locator(".act-shelve").click()
    await expect(page.locator("#shelve-dlg")).to_be_visible()
    await page.fill("#shelve-minutes", "45")
    await page.fill("#shelve-reason", "企业检修，已报备")
    await page.click("#shelve-form button[type=submit]")
    await expect(page.locator("#shelve-dlg")).to_be_hidden()
    await expect(crit.locator(".act-unshelve")).to_be_visible()
    await expect(crit.locator(".a-flag")).to_contain_text("已搁置至")
    await crit.locator(".act-comment").click()
    await page.fill("#comment-text", "已通知盐城市应急管理局")
    await page.click("#comment-form button[type=submit]")
    await expect(page.locator("#comment-dlg")).to_be_hidden()
    got = await api_alarm(site, crit_id)
    shelved = got["shelved"]
    assert isinstance(shelved, dict)
    assert shelved["reason"] == "企业检修，已报备"
    history = got["history"]
    assert isinstance(history, list)
    assert [h["event"] for h in history][-2:] == ["shelved", "commented"]

    # the tier filter narrows the grid, the map and the list; 全部 brings them back
    await page.select_option("#f-tier", "4")
    await expect(page.locator("#hs-grid .hs-card")).to_have_count(1)
    await expect(page.locator("#alarm-list li")).to_have_count(1)
    await expect(page.locator("#map")).to_have_attribute("data-markers", "0")
    await page.select_option("#f-tier", "")
    await expect(page.locator("#hs-grid .hs-card")).to_have_count(2)
    await expect(page.locator("#alarm-list li")).to_have_count(4)
    await quiet(page)
    await page.screenshot(path=shot("overview"))

    # clicking the hazard source opens the sensor view of its worst sensor
    await page.click(f'[data-hs="{ENT}/{HS_A}"]')
    await expect(page.locator("#view-sensor")).to_be_visible()
    await expect(page.locator("#view-overview")).to_have_count(0)  # one view at a time
    await expect(page.locator("#tabs [data-view=sensor]")).to_have_class("active")
    await expect(page.locator("#trend polyline.mean").first).to_be_attached()
    await expect(page.locator("#trend line.limit")).to_have_count(2)
    await expect(page.locator("#sv-history tbody tr.p-high")).to_have_count(1)
    await expect(page.locator("#sv-sensors .chip.active")).to_have_attribute("data-tag", TAG_A)
    limits = await page.locator("#trend line.limit").evaluate_all(
        "ls => ls.map(l => l.dataset.limit).sort().join()")
    assert limits == "high,high_high"
    await quiet(page)
    await page.screenshot(path=shot("sensor"))

    # KPI panel: the report's figures, data availability per enterprise from it
    await page.click("#tabs [data-view=kpi]")
    await expect(page.locator("#kpi-cards .card")).to_have_count(8)
    # the simulated plant is left out of the per-enterprise table too
    await expect(page.locator("#kpi-avail tr[data-enterprise]")).to_have_count(1)
    cards = await page.locator("#kpi-cards .card").evaluate_all(
        "cs => cs.map(c => [c.querySelector('.card-label').textContent, "
        "c.querySelector('.card-value').textContent])")
    # a mixed centre: 含模拟数据 is off by default and the page says what it leaves out.
    # Real alarms of the last 24 h: the medium, the low and the one raised above (the
    # critical one is simulated); ENT's level and pressure report, its GD03 does not
    await expect(page.locator("#kpi-sim")).not_to_be_checked()
    await expect(page.locator("#kpi-sim-note")).to_have_text(
        "未计入模拟数据：已排除模拟企业 1 家的报警激活 1 次、传感器 2 个。打开“含模拟数据”可计入。")
    assert dict(cards) == {
        "报警激活数": "3", "平均报警率": "0.02 /10分钟", "10分钟峰值": "1",
        "泛滥时间占比": "0 %", "确认时间（中位数）": cards[4][1], "颤振报警": "0",
        "陈旧报警": "0", "数据可用率": "66.67 %",
    }
    avail = '#kpi-avail tr[data-enterprise="{}"] .avail'
    await expect(page.locator(avail.format(ENT))).to_have_text("66.7 %")
    await expect(page.locator("#kpi-bad tbody tr")).to_have_count(3)
    legend = page.locator("#kpi-mix-legend")
    await expect(legend).to_contain_text("紧急 0（0%，目标≈5%）")
    await expect(legend).to_contain_text("中 1 · 低 1（66.67%，目标≈80%）")
    await quiet(page)
    await page.screenshot(path=shot("kpi"))
    # switched on: the simulated plant's critical alarm and its two reporting sensors count
    await page.click("label.switch")
    await expect(page.locator("#kpi-sim")).to_be_checked()
    await expect(page.locator("#kpi-sim-note")).to_contain_text("已计入模拟数据")
    await expect(page.locator("#kpi-cards .card").first.locator(".card-value")).to_have_text("4")
    await expect(page.locator("#kpi-cards .card").last.locator(".card-value")).to_have_text("80 %")
    await expect(page.locator(avail.format(ENT2))).to_have_text("100.0 %")
    await expect(page.locator("#kpi-mix-legend")).to_contain_text("紧急 1")

    # the sensor tab brings back the sensor chosen before; 返回总览 goes back to the grid
    await page.click("#tabs [data-view=sensor]")
    await expect(page.locator("#sv-sensors .chip.active")).to_have_attribute("data-tag", TAG_A)
    await expect(page.locator("#trend line.limit")).to_have_count(2)
    await page.click("#back")
    await expect(page.locator("#hs-grid .hs-card")).to_have_count(2)
    await expect(page.locator("#tabs [data-view=overview]")).to_have_class("active")

    # the simulated plant's latest values, read from its own measurement
    await page.click(f'[data-hs="{ENT2}/{HS_B}"]')
    await expect(page.locator(f'#sv-sensors .chip[data-tag="{TAG_B}"] .chip-val')).to_have_text(
        re.compile(r"^ 3\d(\.\d+)? °C$"))
    await expect(page.locator(f'#sv-sensors .chip[data-tag="{TAG_B2}"] .chip-val')).to_have_text(
        " 2.5 %LEL")
    await expect(page.locator("#sv-info")).to_contain_text("°C")
    await expect(page.locator("#sv-info")).not_to_contain_text("最新 —")

    # 退出: the token is gone, the list is emptied and the login dialog is back
    await page.click("#logout")
    await expect(page.locator("#login-dlg")).to_be_visible()
    await expect(page.locator("#scope")).to_have_text("未登录")
    await expect(page.locator("#conn")).to_have_attribute("data-status", "stopped")
    await expect(page.locator("#alarm-list li")).to_have_count(0)
    assert await page.evaluate("sessionStorage.getItem('hazmon.token')") is None

    assert watched.errors == []
    foreign = [u for u in watched.requests if not u.startswith((site.base, "data:", "about:"))]
    assert foreign == [], "the page must load nothing from elsewhere"
    await asyncio.to_thread(keep, shots)


# The map's ECharts instance, read through the page's own copy of the module.
MAP_STATE = """async () => {
  const echarts = await import('/static/vendor/echarts/echarts.esm.min.mjs');
  const o = echarts.getInstanceByDom(document.querySelector('#map')).getOption();
  const map = o.geo[0].map;
  return {
    map, features: echarts.getMap(map).geoJSON.features.length,
    sites: o.series.find((s) => s.id === 'sites').data.map((d) => ({
      name: d.name, enterprise: d.enterprise, enterprises: d.enterprises, prio: d.prio,
      color: d.itemStyle.color })),
  };
}"""


async def map_state(page: Page) -> dict[str, Any]:
    got: dict[str, Any] = await page.evaluate(MAP_STATE)
    return got


async def until(read: Callable[[], Awaitable[T]], want: T) -> T:
    """read() once it gives `want`, or its last value after WAIT_MS (as expect() waits)."""
    deadline = time.monotonic() + WAIT_MS / 1000
    got = await read()
    while got != want and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
        got = await read()
    return got


async def map_prios(page: Page) -> list[tuple[str, str]]:
    return [(s["enterprise"], s["prio"]) for s in (await map_state(page))["sites"]]


def keep(shots: list[Path]) -> None:
    for p in shots:
        assert p.stat().st_size > 10_000, p
    if out := os.environ.get("HAZMON_SCREENSHOTS"):
        Path(out).mkdir(parents=True, exist_ok=True)
        for p in shots:
            shutil.copy(p, Path(out) / p.name)


# Every visible element inside the viewport, no horizontal scroll, and every control a
# finger can hit (≥ 40 px high; inline links in text and the switch's hidden checkbox aside).
LAYOUT = """() => {
  const vw = document.documentElement.clientWidth;
  const rect = (el) => el.getBoundingClientRect();
  const seen = (el) => rect(el).width > 0 && rect(el).height > 0;
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
    + (typeof el.className === 'string' && el.className
      ? '.' + el.className.replace(/ /g, '.') : '');
  const wide = [...document.querySelectorAll('body *')].filter(seen)
    .filter((el) => rect(el).left < -0.5 || rect(el).right > vw + 0.5)
    .map((el) => `${name(el)} ${Math.round(rect(el).left)}..${Math.round(rect(el).right)}`);
  const controls = 'button, select, input:not([type=checkbox]), label.switch';
  const small = [...document.querySelectorAll(controls)].filter(seen)
    .filter((el) => rect(el).height < 40)
    .map((el) => `${name(el)} ${Math.round(rect(el).height)}px`);
  return { overflow: document.documentElement.scrollWidth - vw, wide, small };
}"""


async def layout_faults(page: Page) -> dict[str, Any]:
    got: dict[str, Any] = await page.evaluate(LAYOUT)
    return got


async def sign_in(page: Page, site: Site) -> None:
    await page.fill("#login-token", site.token)
    await page.click("#login-ok")
    await expect(page.locator("body")).to_have_attribute("data-ready", "1")


async def top(page: Page, selector: str) -> float:
    box = await page.locator(selector).bounding_box()
    assert box is not None, selector
    return float(box["y"])


async def test_demo_centre_map_and_phone_layout(browser: Browser, demo: Site, tmp_path: Path
                                                ) -> None:
    """A demo centre (every enterprise simulated): the province map with its clusters and
    markers, 含模拟数据 on by default, and the page at 390 and 360 px."""
    site = demo
    ents = sorted(site.registry.enterprises.values(), key=lambda e: e.code)
    assert all(e.simulated and e.location for e in ents)
    now = now_ms()
    raised = []
    for ent, prio in zip(ents[:3], (Priority.CRITICAL, Priority.HIGH, Priority.MEDIUM),
                         strict=True):
        hs = ent.hazard_sources[0]
        tag = hs.sensors[0].tag
        a = await site.alarms.handle_signal(signal(
            enterprise=ent.code, hazard_source=hs.code, tag=tag, ts=now - 600_000,
            priority=prio, simulated=True, value=1.0, limit=0.5,
            message=f"高报：{hs.name} {tag} 1.0 ≥ 高限 0.5"))
        assert a is not None
        raised.append((ent.code, hs.code, tag, prio.value))
    first, hs0, tag0, _ = raised[0]
    points = [(tag0, t, 0.6 + 0.1 * math.sin(i / 5))
              for i, t in enumerate(range(now - 3_600_000, now, 30_000))]
    await ifx.write(site.influx_url, site.db, site.registry, first, points, simulated=True)
    site.last_seen[(first, tag0)] = points[-1][1]
    shots: list[Path] = []

    def shot(name: str) -> str:
        shots.append(tmp_path / f"{name}.png")
        return str(shots[-1])

    # desktop: 一张图
    w = await open_page(browser, WIDTH, HEIGHT)
    page = w.page
    await page.goto(site.base + "/")
    await sign_in(page, site)
    await expect(page.locator("#map")).to_have_attribute("data-map", "32")
    await expect(page.locator("#map-title")).to_have_text("江苏省 · 重大危险源分布")
    m = await map_state(page)
    assert (m["map"], m["features"]) == ("p32", 13)
    # every enterprise is placed exactly once; 12 plants in 5 counties overlap at province
    # scale, so some are drawn as clusters
    placed = sorted(c for marker in m["sites"] for c in marker["enterprises"])
    assert placed == sorted(e.code for e in ents)
    assert len(m["sites"]) < len(ents)
    by_ent = {c: marker for marker in m["sites"] for c in marker["enterprises"]}
    assert (by_ent[first]["prio"], by_ent[first]["color"]) == ("critical", "#e5383b")
    await expect(page.locator("#map")).to_have_attribute("data-markers", str(len(m["sites"])))
    await quiet(page)
    await page.screenshot(path=shot("map"))
    # a click on a cluster zooms in around it: its plants come apart into more markers
    cluster = next(marker for marker in m["sites"] if marker["enterprise"] is None)
    px = await page.evaluate(CLUSTER_PIXEL, cluster["enterprises"])
    box = await page.locator("#map").bounding_box()
    assert box is not None
    # hovering it names its plants (the labels never overlap: they are in the tooltip)
    await page.mouse.move(box["x"] + px[0], box["y"] + px[1])
    tip = page.locator(".map-tooltip .map-tip")
    await expect(tip).to_be_visible()
    await expect(tip).to_contain_text(f"{len(cluster['enterprises'])} 家企业（点击放大）")
    await expect(tip).to_contain_text(site.registry.enterprises[cluster["enterprises"][0]].name)
    await page.mouse.click(box["x"] + px[0], box["y"] + px[1])
    await expect(page.locator("#map")).not_to_have_attribute("data-markers",
                                                             str(len(m["sites"])))
    assert len((await map_state(page))["sites"]) > len(m["sites"])
    await page.click("#map-reset")
    await expect(page.locator("#map")).to_have_attribute("data-markers", str(len(m["sites"])))
    # every enterprise simulated: 含模拟数据 is on by default and the alarms count
    await page.click("#tabs [data-view=kpi]")
    await expect(page.locator("#kpi-sim")).to_be_checked()
    await expect(page.locator("#kpi-sim-note")).to_contain_text(
        f"辖区 {len(ents)} 家企业中 {len(ents)} 家为模拟企业")
    await expect(page.locator("#kpi-cards .card").first.locator(".card-value")).to_have_text("3")
    await page.context.close()

    # a phone, 390 px wide, touch
    p = await open_page(browser, 390, 844, touch=True)
    page = p.page
    await page.goto(site.base + "/")
    await expect(page.locator("#login-dlg")).to_be_visible()
    await page.screenshot(path=shot("login-390"))
    await sign_in(page, site)
    await expect(page.locator("#alarm-list li")).to_have_count(3)
    # the default rights: a province centre comments on plant alarms, the plant acts
    await expect(page.locator("#alarm-list .act-comment")).to_have_count(3)
    await expect(page.locator("#alarm-list .act-ack")).to_have_count(0)
    await expect(page.locator("#alarm-list .act-shelve")).to_have_count(0)
    await expect(page.locator("#map")).to_have_attribute("data-map", "32")
    assert await layout_faults(page) == {"overflow": 0, "wide": [], "small": []}
    # 总览: the live alarms first, then the map, then the hazard-source cards
    assert await top(page, "#alarms") < await top(page, "#map") < await top(page, "#hs-grid")
    await quiet(page)
    await page.screenshot(path=shot("overview-390"))
    await page.locator(".map-box").scroll_into_view_if_needed()
    await page.screenshot(path=shot("map-390"))

    # a hazard source's trend comes first, above the alarm list; latest values are shown
    await page.locator(f'[data-hs="{first}/{hs0}"]').tap()
    await expect(page.locator("#view-sensor")).to_be_visible()
    await expect(page.locator(f'#sv-sensors .chip[data-tag="{tag0}"] .chip-val')).to_have_text(
        re.compile(r"^ 0\.\d+ "))
    await expect(page.locator("#trend polyline.mean").first).to_be_attached()
    assert await top(page, "#trend") < await top(page, "#alarms")
    assert await layout_faults(page) == {"overflow": 0, "wide": [], "small": []}
    await quiet(page)
    await page.screenshot(path=shot("sensor-390"))

    await page.locator("#tabs [data-view=kpi]").tap()
    await expect(page.locator("#kpi-cards .card")).to_have_count(8)
    await expect(page.locator("#kpi-sim")).to_be_checked()
    assert await layout_faults(page) == {"overflow": 0, "wide": [], "small": []}
    await quiet(page)
    await page.screenshot(path=shot("kpi-390"))

    # and the narrowest phone the page supports
    for view in ("kpi", "overview", "sensor"):
        await page.set_viewport_size({"width": 360, "height": 780})
        await page.locator(f"#tabs [data-view={view}]").tap()
        await expect(page.locator(f"#view-{view}")).to_be_visible()
        assert await layout_faults(page) == {"overflow": 0, "wide": [], "small": []}, view

    for watched_page in (w, p):
        assert watched_page.errors == []
        foreign = [u for u in watched_page.requests
                   if not u.startswith((site.base, "data:", "about:"))]
        assert foreign == [], "the page must load nothing from elsewhere"
    await asyncio.to_thread(keep, shots)


# Where a cluster marker (by its enterprises) is drawn, in pixels of the map element.
CLUSTER_PIXEL = """async (codes) => {
  const echarts = await import('/static/vendor/echarts/echarts.esm.min.mjs');
  const chart = echarts.getInstanceByDom(document.querySelector('#map'));
  const d = chart.getOption().series.find((s) => s.id === 'sites').data
    .find((x) => x.enterprises.join() === codes.join());
  return chart.convertToPixel({ geoIndex: 0 }, d.value);
}"""

