"""The 值守巡查 view in a real headless Chromium (the site of tests/api/test_web_duties.py):
an enterprise user sets a source to 停车 — a missing reason, then a missing expected end,
each shown in Chinese beside its field — and sees the suppression it causes among the
holds; takes a sensor out of service by hand and back; files a 包保 duty record with a
hidden danger and marks it fixed. A province user sees the day's patrol sample with its
coverage and records a finding. At desktop width and at 390 px, without horizontal
overflow; the page logs no error but the refused run-state forms' 422."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from hazmon.alerts import AlarmStore
from hazmon.alerts.holds import HoldKind
from hazmon.duties.runstate import RunState
from tests.api.test_web_browser import WIDTH, Watched, browser, open_page
from tests.api.test_web_duties import DutySite, error_of, serving
from tests.support import ENT

with contextlib.suppress(ImportError):
    from playwright.async_api import Browser, Page, expect

pytestmark = pytest.mark.integration
__all__ = ["browser"]


async def sign_in(page: Page, site: DutySite, role: str) -> None:
    await page.goto(site.base + "/")
    await page.fill("#login-token", site.tokens[role])
    await page.click("#login-ok")
    await expect(page.locator("body")).to_have_attribute("data-ready", "1")
    await page.click("#tabs [data-view=watch]")


async def no_overflow(page: Page) -> None:
    wide = await page.evaluate("document.documentElement.scrollWidth")
    assert wide <= await page.evaluate("window.innerWidth"), "the page scrolls sideways"


@pytest.mark.parametrize("width", [WIDTH, 390])
async def test_run_state_holds_duty_records_and_the_patrol(
        browser: Browser, store: AlarmStore, tmp_path: Path, width: int) -> None:
    async with serving(store, warnings=True) as site:
        w: Watched = await open_page(browser, width, 1000, touch=width < 500)
        page = w.page
        await sign_in(page, site, "enterprise")
        await expect(page.locator("#pt-panel")).to_be_hidden()  # the officials' list
        rs = page.locator("#rs-list tbody tr")
        await expect(rs).to_have_count(1)
        hs = await rs.first.get_attribute("data-hs")
        assert hs
        await expect(rs.first).to_contain_text("未申报")
        await expect(page.locator("#hold-list tbody")).to_contain_text("无抑制或停用")

        # 停车: the reason is asked first, then the expected end, each beside its field
        await rs.first.locator(".rs-edit").click()
        form = page.locator("#rs-form")
        await form.locator('[name="state"]').select_option("stopped")
        await page.click("#rs-submit")
        await expect(error_of(page, "reason")).to_have_text("停车须填写原因")
        await form.locator('[name="reason"]').fill("换热器泄漏停车")
        await page.click("#rs-submit")
        await expect(error_of(page, "expected_end")).to_have_text("停车须填写预计结束时间")
        await expect(error_of(page, "reason")).to_have_text("")
        await form.locator('[name="expected_end"]').fill("2026-11-25T08:00")
        await page.click("#rs-submit")
        await expect(form).to_be_hidden()
        await expect(rs.first).to_have_attribute("data-state", "stopped")
        await expect(rs.first).to_contain_text("工艺报警抑制中")
        held = page.locator(f'#hold-list tr[data-hs="{hs}"][data-kind="suppressed"]')
        await expect(held).to_contain_text("换热器泄漏停车")
        kept = await site.duties.store.run_state(ENT, hs)
        assert kept is not None
        assert kept.state is RunState.STOPPED
        assert kept.reason == "换热器泄漏停车"

        # a whole source out of service by hand, then back in service
        await page.click("#hold-new-out_of_service")
        await page.locator('#hold-form [name="reason"]').fill("液位计更换")
        await page.click("#hold-submit")
        oos = page.locator('#hold-list tr[data-kind="out_of_service"]')
        await expect(oos).to_contain_text("液位计更换")
        await oos.locator(".hold-release").click()
        await expect(oos).to_have_count(0)
        await expect(held).to_have_count(1)  # the 停车 suppression stays
        kinds = {h.kind for h in await site.duties.alarms.holds(ENT)}
        assert kinds == {HoldKind.SUPPRESSED}

        # a 包保 duty record with one hidden danger, then the danger fixed
        dr = page.locator("#dr-form")
        await dr.locator('[name="role"]').select_option("technical")
        await dr.locator('[name="person"]').fill("王工")
        await dr.locator('[name="checked"]').fill("罐区液位联锁\n可燃气体报警仪")
        await page.click("#dr-add-danger")
        await dr.locator('[name="danger"]').fill("防火堤排水阀未关")
        await dr.locator('[name="fix_by"]').fill("2026-11-30")
        await page.click("#dr-submit")
        rec = page.locator("#dr-list tbody tr")
        await expect(rec).to_have_count(1)
        await expect(rec).to_contain_text("技术负责人")
        await expect(rec).to_contain_text("罐区液位联锁；可燃气体报警仪")
        danger = rec.locator(".dr-hd")
        await expect(danger).to_have_attribute("data-fixed", "0")
        await danger.locator(".dr-fix").click()
        await expect(danger).to_have_attribute("data-fixed", "1")
        [(_, stored)] = await site.duties.store.duty_records(ENT)
        assert stored.checked == ("罐区液位联锁", "可燃气体报警仪")
        assert stored.hidden_dangers[0].fixed_at_ms is not None
        await no_overflow(page)
        shot = tmp_path / f"watch-plant-{width}.png"
        await page.screenshot(path=str(shot), full_page=True)

        # the province: the day's sample, its coverage, a finding recorded
        regulator = (await open_page(browser, width, 1000, touch=width < 500)).page
        await sign_in(regulator, site, "province")
        for panel in ("#rs-panel", "#hold-panel", "#dr-panel"):
            await expect(regulator.locator(panel)).to_be_hidden()
        targets = regulator.locator("#pt-list tbody tr[data-enterprise]")
        await expect(targets).not_to_have_count(0)
        first = targets.first
        code = await first.get_attribute("data-enterprise")
        county = await first.get_attribute("data-county")
        coverage = regulator.locator(f'#pt-coverage .pt-cov[data-county="{county}"]')
        await expect(coverage).to_contain_text("已巡查 0%")
        await first.locator(".pt-record").click()
        pt = regulator.locator("#pt-form")
        await pt.locator('[name="open_warning"]').check()  # warning.open, warnings run
        await pt.locator('[name="level"]').select_option("blue")
        # what the system knows comes pre-set: no commitment filed today
        await expect(pt.locator('[name="check.commitment_filed"]')).not_to_be_checked()
        await pt.locator('[name="check.warnings_handled"]').uncheck()
        await pt.locator('[name="note"]').fill("预警未按时反馈")
        await regulator.click("#pt-submit")
        await expect(pt).to_be_hidden()
        done = regulator.locator(f'#pt-list tr[data-enterprise="{code}"]')
        await expect(done).to_have_attribute("data-patrolled", "1")
        await expect(coverage).not_to_contain_text("已巡查 0%")
        [record] = await site.duties.store.patrol_records(site.duties.today())
        assert (record.enterprise, record.note) == (code, "预警未按时反馈")
        assert [c.value for c in record.failed] == ["commitment_filed", "warnings_handled"]
        assert site.warnings is not None
        [warning] = await site.warnings.store.open_warnings()
        assert (warning.enterprise, warning.level.value) == (code, "blue")
        assert [r.text for r in warning.reasons] == ["预警未按时反馈"]
        await no_overflow(regulator)
        await regulator.screenshot(path=str(tmp_path / f"watch-patrol-{width}.png"),
                                   full_page=True)

        refused = [e for e in w.errors if (e.startswith("HTTP 422") and "/run-state" in e)
                   or (e.startswith("console: Failed to load resource") and "422" in e)]
        assert len(refused) == 4  # the two refused run-state forms
        assert [e for e in w.errors if e not in refused] == []
        for p in (page, regulator):
            await p.context.close()
