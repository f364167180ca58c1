"""The 安全承诺 view in a real headless Chromium (as tests/api/test_web_browser.py): an
enterprise user files today's commitment through the form — each wrong field shows its
Chinese message beside it, first the schema's, then the checks across fields — and the
province's list puts the missing plant first, then the one with a source in 停车. At
desktop width and at 390 px; the page logs no error but the refused forms' 422."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn

from hazmon.alerts import AlarmService, AlarmStore, RegistryDirectory, UlidFactory
from hazmon.api import ApiContext, TokenStore, create_app
from hazmon.duties.config import DutiesConfig
from hazmon.duties.service import DutyService
from hazmon.duties.store import DutyStore
from hazmon.ingest.gateways import GatewayTracker
from hazmon.warnings.engine import WarningEngine
from hazmon.warnings.pushes import PushChannels, PushPlanner
from hazmon.warnings.store import WarningStore
from tests.api.registry_support import flagged
from tests.api.test_web_browser import WIDTH, Watched, browser, now_ms, open_page
from tests.api.test_web_warnings import POLICY, REGIONS
from tests.clock import FakeClock
from tests.duties.support import shanghai_ms
from tests.support import ENT, ENT2

# Without Playwright the browser fixture reports it (fails under CI, skips elsewhere).
with contextlib.suppress(ImportError):
    from playwright.async_api import Browser, Locator, Page, expect

pytestmark = pytest.mark.integration
__all__ = ["browser"]  # the fixture, from the page's own browser tests

# 10:30 in Shanghai: past the deadline, so a plant that has not filed is missing
DUTY_NOW = shanghai_ms(2026, 11, 22, 10, 30)


@dataclass
class DutySite:
    base: str
    tokens: dict[str, str]
    duties: DutyService
    warnings: WarningEngine | None = None


@contextlib.asynccontextmanager
async def serving(store: AlarmStore, *, warnings: bool = False) -> AsyncIterator[DutySite]:
    """The page's site with the duty part; `warnings`: the warning part runs too."""
    registry = flagged(ENT2)
    alarms = AlarmService(store, directory=RegistryDirectory(registry), clock=now_ms,
                          ids=UlidFactory())
    tokens = await TokenStore.open(store.db)
    engine = None if not warnings else WarningEngine(
        await WarningStore.open(store.db), POLICY,
        PushPlanner(POLICY, lambda: registry, REGIONS, PushChannels()), now_ms)
    duties = DutyService(await DutyStore.open(store.db), DutiesConfig(), alarms,
                         FakeClock(DUTY_NOW), registry=lambda: registry)
    ctx = ApiContext(
        registry=lambda: registry, alarms=alarms, alarm_store=store, tokens=tokens,
        gateways=GatewayTracker(), health=lambda: {"status": "ok"}, clock=now_ms,
        simulated_enterprises=lambda: frozenset({ENT2}), sse_heartbeat_s=1.0, duties=duties,
        warnings=engine, regions=REGIONS if engine is not None else None)
    issued = {}
    for role, scope in (("enterprise", ENT), ("province", "32"), ("county", "320921")):
        issued[role], _ = await tokens.create(role, scope, f"web-{role}", now_ms())
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(ctx), log_level="warning",
                                           lifespan="off", timeout_graceful_shutdown=2))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.025)
    assert server.started, "uvicorn did not start"
    try:
        yield DutySite(f"http://127.0.0.1:{sock.getsockname()[1]}", issued, duties, engine)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
        sock.close()


async def sign_in(page: Page, site: DutySite, role: str) -> None:
    await page.goto(site.base + "/")
    await page.fill("#login-token", site.tokens[role])
    await page.click("#login-ok")
    await expect(page.locator("body")).to_have_attribute("data-ready", "1")
    await page.click("#tabs [data-view=duties]")
    await expect(page.locator("#duty-list tbody tr")).not_to_have_count(0)


def error_of(page: Page, path: str) -> Locator:
    return page.locator(f'.field-error[data-for="{path}"]')


@pytest.mark.parametrize("width", [WIDTH, 390])
async def test_the_commitment_form_and_the_regulators_day_list(
        browser: Browser, store: AlarmStore, tmp_path: Path, width: int) -> None:
    async with serving(store) as site:
        w: Watched = await open_page(browser, width, 1000, touch=width < 500)
        page = w.page
        await sign_in(page, site, "enterprise")
        form = page.locator("#duty-form")
        await expect(page.locator("#duty-form-panel")).to_be_visible()
        await expect(page.locator("#duty-template")).to_contain_text("我承诺")
        await expect(page.locator(f'#duty-list tr[data-enterprise="{ENT}"]')).to_have_attribute(
            "data-status", "missing")
        # the schema's problems first, each beside its field
        await form.locator('[name="duty_leader.phone"]').fill("call me")
        await page.click("#duty-submit")
        await expect(error_of(page, "committer")).to_have_text("请填写承诺人")
        await expect(error_of(page, "duty_leader.phone")).to_have_text("值班领导电话格式不正确")
        # then the checks across fields
        await form.locator('[name="committer"]').fill("张三")
        await form.locator('[name="duty_leader.name"]').fill("李四")
        await form.locator('[name="duty_leader.phone"]').fill("+8613800000002")
        await form.locator('.duty-source [name="run_state"]').select_option("stopped")
        await page.click("#duty-submit")
        await expect(error_of(page, "hazard_sources[0].reason")).to_have_text("停车须填写原因")
        await expect(error_of(page, "hazard_sources[0].expected_end")).to_have_text(
            "停车须填写预计结束时间")
        await expect(error_of(page, "confirmed")).to_have_text("请阅读并确认承诺内容")
        await expect(error_of(page, "committer")).to_have_text("")
        await form.locator('.duty-source [name="reason"]').fill("换热器检修")
        await form.locator('.duty-source [name="expected_end"]').fill("2026-11-25T08:00")
        await form.locator('[name="confirmed"]').check()
        await page.click("#duty-submit")
        await expect(page.locator("#duty-form-note")).to_contain_text("逾期填报")
        row = page.locator(f'#duty-list tr[data-enterprise="{ENT}"]')
        await expect(row).to_have_attribute("data-status", "late")
        await page.screenshot(path=str(tmp_path / f"duties-form-{width}.png"), full_page=True)
        kept = await site.duties.store.commitment(ENT, site.duties.today())
        assert kept is not None
        src = kept.commitment.input.hazard_sources[0]
        assert (src.run_state.value, src.reason) == ("stopped", "换热器检修")
        assert src.expected_end is not None
        assert src.expected_end.isoformat() == "2026-11-25T08:00:00+08:00"

        regulator = (await open_page(browser, width, 1000, touch=width < 500)).page
        await sign_in(regulator, site, "province")
        await expect(regulator.locator("#duty-form-panel")).to_be_hidden()
        rows = regulator.locator("#duty-list tbody tr")
        await expect(rows).to_have_count(2)
        assert [await r.get_attribute("data-enterprise") for r in await rows.all()] == [
            ENT2, ENT]  # missing first, then the plant with a source stopped
        await expect(rows.nth(0).locator(".duty-status")).to_have_text("未填报")
        await expect(rows.nth(1)).to_contain_text("MHS-01")
        await expect(regulator.locator("#duty-counts")).to_contain_text("未填报 1")
        # 值班点名: the regulator calls the region's roll, the plant answers on its page
        await regulator.click("#rc-call")
        calls = regulator.locator("#rc-list tbody tr")
        await expect(calls).to_have_count(2)
        await expect(calls.locator(".rc-status")).to_have_text(["待应答", "待应答"])
        await expect(page.locator("#rc-call")).to_be_hidden()
        await page.click("#rc-reload")
        mine = page.locator("#rc-list tbody tr")
        await expect(mine).to_have_count(1)  # its own call only
        await mine.locator(".rc-answer").click()
        await expect(mine.locator(".rc-status")).to_have_text("已应答")
        await expect(mine.locator(".rc-answer")).to_have_count(0)
        await regulator.click("#rc-reload")
        await expect(regulator.locator('#rc-list tr[data-status="answered"]')).to_have_count(1)
        await regulator.screenshot(path=str(tmp_path / f"duties-list-{width}.png"),
                                   full_page=True)
        # the two refused forms, as the network and the console report them
        refused = [e for e in w.errors if (e.startswith("HTTP 422") and "/commitments" in e)
                   or (e.startswith("console: Failed to load resource") and "422" in e)]
        assert len(refused) == 4
        assert [e for e in w.errors if e not in refused] == []
        assert all(u.startswith(site.base) for u in w.requests)
        for p in (page, regulator):  # streams closed before the server stops
            await p.context.close()
