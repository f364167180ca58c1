"""A county official looks at an enterprise's duties in a real headless Chromium (the
site of tests/api/test_web_duties.py): picked in the 值守巡查 view, or clicked in the
安全承诺 day list, the plant's run state, its holds (the 停车 suppression with who placed
it, why and its expected end; a sensor out of service), its 包保 duty records with the
hidden danger past its fix-by day marked, its open duty findings and its commitment
history (with its CSV), all read-only. Only the county's enterprises can be picked. At
desktop width and at 390 px, without horizontal overflow or any page error."""

from __future__ import annotations

import contextlib
from datetime import date
from pathlib import Path

import pytest

from hazmon.alerts import AlarmStore
from hazmon.duties.chain import ChainRole, DutyRecord, HiddenDanger
from hazmon.duties.runstate import RunState
from tests.api.support import HS_A, TAG_A
from tests.api.test_web_browser import WIDTH, Watched, browser, open_page
from tests.api.test_web_duties import DUTY_NOW, DutySite, serving
from tests.duties.support import form, shanghai_ms
from tests.support import ENT

with contextlib.suppress(ImportError):
    from playwright.async_api import Browser, Page, expect

pytestmark = pytest.mark.integration
__all__ = ["browser"]

PLANT = "enterprise:web-enterprise"


async def seed(site: DutySite) -> None:
    """The plant's day: filed late (10:30), a source stopped with an expected end, a
    sensor out of service, a 包保 check with one hidden danger overdue and one not."""
    duties = site.duties
    ent = duties.registry().enterprises[ENT]  # type: ignore[misc]
    await duties.file_commitment(ent, form(day="2026-11-22"), PLANT)
    await duties.set_run_state(ENT, HS_A, RunState.STOPPED, by=PLANT, reason="换热器泄漏停车",
                               expected_end_ms=shanghai_ms(2026, 11, 25, 8))
    await duties.alarms.out_of_service(ENT, HS_A, TAG_A, PLANT, "液位计更换")
    await duties.record_duty(DutyRecord(
        ENT, HS_A, ChainRole.TECHNICAL, "王工", DUTY_NOW - 3 * 86_400_000,
        ("罐区液位联锁", "可燃气体报警仪"),
        (HiddenDanger(duties.new_id(), "防火堤排水阀未关", date(2026, 11, 20)),
         HiddenDanger(duties.new_id(), "消防通道堆放杂物", date(2026, 11, 30)))), PLANT)
    await duties.call_roll([ENT], "county:web-county")


async def sign_in(page: Page, site: DutySite, role: str) -> None:
    await page.goto(site.base + "/")
    await page.fill("#login-token", site.tokens[role])
    await page.click("#login-ok")
    await expect(page.locator("body")).to_have_attribute("data-ready", "1")


async def no_overflow(page: Page) -> None:
    wide = await page.evaluate("document.documentElement.scrollWidth")
    assert wide <= await page.evaluate("window.innerWidth"), "the page scrolls sideways"


async def sees_the_plant(page: Page) -> None:
    for panel in ("#rs-panel", "#hold-panel", "#dr-panel", "#cm-panel"):
        await expect(page.locator(panel)).to_be_visible()
    rs = page.locator(f'#rs-list tr[data-hs="{HS_A}"]')
    await expect(rs).to_have_attribute("data-state", "stopped")
    await expect(rs).to_contain_text("工艺报警抑制中")
    held = page.locator(f'#hold-list tr[data-hs="{HS_A}"][data-kind="suppressed"]')
    await expect(held).to_contain_text("运行状态:停车(换热器泄漏停车)")
    await expect(held.locator(".hold-end")).to_contain_text("11-25")
    oos = page.locator(f'#hold-list tr[data-kind="out_of_service"][data-tag="{TAG_A}"]')
    await expect(oos).to_contain_text("液位计更换")
    # a regulator reads: no form, no release, no change of the plant's run state
    await expect(page.locator("#hold-list .hold-release")).to_have_count(0)
    await expect(page.locator("#rs-list .rs-edit")).to_have_count(0)
    await expect(page.locator("#dr-form")).to_be_hidden()
    rec = page.locator("#dr-list tbody tr")
    await expect(rec).to_have_count(1)
    await expect(rec).to_contain_text("技术负责人")
    await expect(rec).to_contain_text("王工")
    await expect(rec).to_contain_text("罐区液位联锁；可燃气体报警仪")
    late = rec.locator('.dr-hd[data-overdue="1"]')
    await expect(late).to_have_count(1)
    await expect(late).to_contain_text("防火堤排水阀未关（2026-11-20前整改） 已逾期")
    await expect(rec.locator('.dr-hd[data-overdue="0"]')).to_contain_text("消防通道堆放杂物")
    await expect(page.locator("#dr-list .dr-fix")).to_have_count(0)
    found = page.locator('#ent-findings li[data-kind="hidden_danger_overdue"]')
    await expect(found).to_contain_text("隐患超期未整改")
    cm = page.locator('#cm-list tr[data-day="2026-11-22"]')
    await expect(cm).to_have_attribute("data-status", "late")
    await expect(cm).to_contain_text("逾期填报")
    await expect(cm).to_contain_text("张三")


@pytest.mark.parametrize("width", [WIDTH, 390])
async def test_a_county_official_sees_a_plants_duty_records_and_holds(
        browser: Browser, store: AlarmStore, tmp_path: Path, width: int) -> None:
    async with serving(store) as site:
        await seed(site)
        w: Watched = await open_page(browser, width, 1000, touch=width < 500)
        page = w.page
        await sign_in(page, site, "county")
        await page.click("#tabs [data-view=watch]")
        await expect(page.locator("#ent-panel")).to_be_visible()
        for panel in ("#rs-panel", "#hold-panel", "#dr-panel", "#cm-panel"):
            await expect(page.locator(panel)).to_be_hidden()  # until one is picked
        # only the county's enterprise (ENT2 is in another county)
        await expect(page.locator("#ent-pick option")).to_have_count(2)
        await page.select_option("#ent-pick", ENT)
        await sees_the_plant(page)
        async with page.expect_download() as got:
            await page.click("#cm-csv")
        csv_file = await got.value
        assert csv_file.suggested_filename.startswith("安全承诺-")
        saved = tmp_path / "commitments.csv"
        await csv_file.save_as(saved)
        assert "逾期填报" in saved.read_text(encoding="utf-8-sig")
        await no_overflow(page)
        shot = tmp_path / f"watch-county-{width}.png"
        await page.screenshot(path=str(shot), full_page=True)

        # from the 安全承诺 day list: the name opens the same view of the plant
        await page.click("#tabs [data-view=duties]")
        async with page.expect_download() as day_csv:
            await page.click("#duty-csv")
        assert (await day_csv.value).suggested_filename == "安全承诺-2026-11-22.csv"
        await page.locator(f'#duty-list tr[data-enterprise="{ENT}"] .duty-open').click()
        await expect(page.locator("#tabs [data-view=watch]")).to_have_class("active")
        await expect(page.locator("#ent-pick")).to_have_value(ENT)
        await sees_the_plant(page)
        # and so does its name in the roll-call list
        await page.click("#tabs [data-view=duties]")
        await page.locator("#rc-list tr .duty-open").first.click()
        await expect(page.locator("#tabs [data-view=watch]")).to_have_class("active")
        await expect(page.locator("#ent-pick")).to_have_value(ENT)
        assert w.errors == []
        await page.context.close()
