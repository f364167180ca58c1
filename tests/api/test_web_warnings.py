"""The page's 预警 view in a real headless Chromium (as tests/api/test_web_browser.py):
the enterprise user files the 处置反馈 (an invalid phone is shown beside its input, in
Chinese), the province's officer sees that the 红 warning needs its 现场核查, records it,
and closes the warning (消警); the API confirms each step."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
import uvicorn

from hazmon.alerts import AlarmService, AlarmStore, RegistryDirectory, UlidFactory
from hazmon.api import ApiContext, TokenStore, create_app
from hazmon.domain.regions import load_regions
from hazmon.ingest.gateways import GatewayTracker
from hazmon.warnings.engine import WarningEngine
from hazmon.warnings.evaluate import Assessment, Reason
from hazmon.warnings.levels import WarningLevel
from hazmon.warnings.lifecycle import open_warning
from hazmon.warnings.policy import WarningPolicy
from hazmon.warnings.pushes import PushChannels, PushPlanner
from hazmon.warnings.store import WarningStore
from tests.api import test_web_browser as web
from tests.api.registry_support import flagged
from tests.api.test_web_browser import HEIGHT, WIDTH, Watched, now_ms, open_page
from tests.support import ENT, ENT2

if TYPE_CHECKING:
    from playwright.async_api import Browser

pytestmark = pytest.mark.integration

REGIONS = load_regions(Path(__file__).resolve().parents[2] / "deploy" / "regions.example.yaml")
POLICY = WarningPolicy()
WID = "01JWEBWARN0000000000000000"


@dataclass
class Site:
    base: str
    tokens: dict[str, str]


@pytest.fixture
async def site(store: AlarmStore) -> AsyncIterator[Site]:
    registry = flagged(ENT2)
    alarms = AlarmService(store, directory=RegistryDirectory(registry), clock=now_ms,
                          ids=UlidFactory())
    tokens = await TokenStore.open(store.db)
    wstore = await WarningStore.open(store.db)
    engine = WarningEngine(wstore, POLICY, PushPlanner(POLICY, lambda: registry, REGIONS,
                                                       PushChannels()), now_ms)
    reason = Reason("critical_unacked", "alarm_unacked", WarningLevel.RED,
                    "报警超过10分钟未确认：罐区一 T101 液位 10.61 m ≥ 高高限 10.5 m")
    await wstore.save(open_warning(WID, Assessment(
        ENT, "MHS-01", "罐区一", "320921", 1, WarningLevel.RED, (reason,)), POLICY,
        now_ms() - 60_000), created=True)
    ctx = ApiContext(
        registry=lambda: registry, alarms=alarms, alarm_store=store, tokens=tokens,
        gateways=GatewayTracker(), health=lambda: {"status": "ok"}, clock=now_ms,
        simulated_enterprises=lambda: frozenset({ENT2}), sse_heartbeat_s=1.0,
        warnings=engine, regions=REGIONS)
    issued = {}
    for name, role, scope in (("province", "province", "32"), ("enterprise", "enterprise", ENT)):
        issued[name], _ = await tokens.create(role, scope, f"web-{name}", now_ms())
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
    assert server.started
    try:
        yield Site(f"http://127.0.0.1:{port}", issued)
    finally:
        server.should_exit = True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(task, 10)
        sock.close()


async def api_warning(site: Site) -> dict[str, object]:
    async with httpx.AsyncClient(base_url=site.base, headers={
            "Authorization": f"Bearer {site.tokens['province']}"}) as http:
        got: dict[str, object] = (await http.get(f"/api/v1/warnings/{WID}")).json()
    return got


async def signed_in(w: Watched, site: Site, who: str) -> None:
    from playwright.async_api import expect

    page = w.page
    await page.goto(site.base + "/")
    await page.fill("#login-token", site.tokens[who])
    await page.click("#login-ok")
    await expect(page.locator("body")).to_have_attribute("data-ready", "1")
    await page.click("#tabs button[data-view=warnings]")
    await expect(page.locator(f"#wn-list tr[data-id='{WID}']")).to_contain_text("红色预警（重大）")
    await page.click(f"#wn-list tr[data-id='{WID}']")
    await expect(page.locator("#wn-detail")).to_be_visible()


# test_web_browser's browser fixture, under this name here (skipped without a browser,
# failed under CI)
chromium = web.browser


# the browser first: without one it fails or skips before the site is built
async def test_feedback_onsite_check_and_close_on_the_page(
        chromium: Browser, site: Site, tmp_path: Path) -> None:
    from playwright.async_api import expect

    browser = chromium
    ent = await open_page(browser, WIDTH, HEIGHT)
    page = ent.page
    await signed_in(ent, site, "enterprise")
    await expect(page.locator("#wn-review")).to_be_hidden()  # not for an enterprise
    form = page.locator("#wn-feedback")
    await expect(form).to_be_visible()
    await form.locator("select[name=cause]").select_option(label="仪表故障")
    await form.locator("textarea[name=measures]").fill("更换液位计并校准")
    await form.locator("input[name=person]").fill("王五")
    await form.locator("input[name=phone]").fill("12345")
    await form.locator("input[name=handled_at]").fill(datetime.now().strftime("%Y-%m-%dT%H:%M"))
    await form.locator("input[name=cause_removed]").check()
    await form.locator("button[type=submit]").click()
    await expect(form.locator(".error[data-for=phone]")).to_contain_text("联系电话格式不正确")
    await page.screenshot(path=str(tmp_path / "feedback-error.png"))
    await form.locator("input[name=phone]").fill("13800000103")
    await form.locator("button[type=submit]").click()
    await expect(page.locator("#wn-summary")).to_contain_text("状态：待审核")
    await expect(page.locator("#wn-feedback-shown")).to_contain_text("仪表故障")
    assert (await api_warning(site))["state"] == "feedback_filed"
    assert sorted(ent.errors) == [  # only the refused feedback above
        "HTTP 422: " + site.base + f"/api/v1/warnings/{WID}/feedback",
        "console: Failed to load resource: the server responded with a status of 422 "
        "(Unprocessable Entity)"]
    await ent.page.context.close()

    gov = await open_page(browser, WIDTH, HEIGHT)
    page = gov.page
    await signed_in(gov, site, "province")
    await expect(page.locator("#wn-feedback")).to_be_hidden()
    await expect(page.locator("#wn-summary")).to_contain_text("消警前须现场核查")
    await page.click("#wn-accept")
    await expect(page.locator("#wn-review-error")).to_have_text(
        "红色预警（重大）须先完成现场核查才能消警")
    await page.fill("#wn-onsite textarea[name=findings]", "现场核查：液位计故障已更换")
    await page.fill("#wn-onsite input[name=inspectors]", "孙宏，吴军")
    await page.click("#wn-onsite button[type=submit]")
    await expect(page.locator("#wn-history")).to_contain_text("现场核查")
    await page.click("#wn-accept")
    await expect(page.locator("#wn-summary")).to_contain_text("状态：已消警")
    await expect(page.locator(f"#wn-list tr[data-id='{WID}']")).to_have_count(0)  # open only
    await page.screenshot(path=str(tmp_path / "closed.png"))
    w = await api_warning(site)
    assert w["state"] == "closed"
    assert w["onsite_check"]["inspectors"] == ["孙宏", "吴军"]  # type: ignore[index]
    assert sorted(gov.errors) == [  # only the refused review above
        "HTTP 409: " + site.base + f"/api/v1/warnings/{WID}/review",
        "console: Failed to load resource: the server responded with a status of 409 "
        "(Conflict)"]
    await gov.page.context.close()

    # on a phone: the closed warning is found with 全部, and nothing overflows sideways
    phone = await open_page(browser, 390, 844, touch=True)
    page = phone.page
    await page.goto(site.base + "/")
    await page.fill("#login-token", site.tokens["enterprise"])
    await page.click("#login-ok")
    await expect(page.locator("body")).to_have_attribute("data-ready", "1")
    await page.click("#tabs button[data-view=warnings]")
    await expect(page.locator("#wn-list")).to_contain_text("无预警")
    await page.select_option("#wn-state", "all")
    await expect(page.locator(f"#wn-list tr[data-id='{WID}']")).to_contain_text("已消警")
    await page.click(f"#wn-list tr[data-id='{WID}']")
    await expect(page.locator("#wn-feedback")).to_be_hidden()  # closed: nothing to file
    width = await page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= 390
    await page.screenshot(path=str(tmp_path / "phone.png"), full_page=True)
    assert phone.errors == []
    await phone.page.context.close()


async def test_the_overview_map_is_coloured_by_open_warning_level(
        chromium: Browser, site: Site, tmp_path: Path) -> None:
    from playwright.async_api import expect

    w = await open_page(chromium, WIDTH, HEIGHT)
    page = w.page
    await page.goto(site.base + "/")
    await page.fill("#login-token", site.tokens["province"])
    await page.click("#login-ok")
    await expect(page.locator("body")).to_have_attribute("data-ready", "1")
    # the regions file names the scope and the filter's counties (the registry has codes)
    await expect(page.locator("#scope")).to_have_text("省级监测中心 · 辖区 江苏省")
    await expect(page.locator("#f-region option[value='320921']")).to_have_text("\u3000响水县")
    the_map = page.locator("#map")
    await expect(the_map).to_have_attribute("data-mode", "warning")
    await expect(the_map).to_have_attribute("data-colours", "#d32f2f")  # its 红 warning
    await expect(page.locator("#legend-warning")).to_be_visible()
    card = "#hs-grid .hs-card[data-hs='{}'] .wn-level"
    await expect(page.locator(card.format(f"{ENT}/MHS-01"))).to_have_text("红色预警")
    await expect(page.locator(card.format(f"{ENT2}/MHS-02"))).to_have_count(0)
    await page.screenshot(path=str(tmp_path / "map-warnings.png"))
    await page.click("#map-mode button[data-mode=alarm]")
    await expect(the_map).to_have_attribute("data-mode", "alarm")
    await expect(the_map).to_have_attribute("data-colours", "#2a9d8f")  # it has no alarm
    await expect(page.locator("#legend-alarm")).to_be_visible()
    # the day's report (通报) of the 预警 view, as the printable page
    await page.click("#tabs button[data-view=warnings]")
    async with page.expect_download() as got:
        await page.click("#wn-report-html")
    report = await got.value
    assert report.suggested_filename == "预警处置日报.html"
    saved = tmp_path / "report.html"
    await report.save_as(saved)
    assert "红色预警" in saved.read_text(encoding="utf-8")
    assert w.errors == []
    await w.page.context.close()
