"""The warning endpoints for every role, county included, in the style of
test_scope_matrix: a caller sees and acts on its scope only (404 elsewhere, never
someone else's data), its role decides which steps it may take (403 naming the action),
the state machine's refusals answer 409 with their code and Chinese reason, and an
invalid feedback 422 with one Chinese message per field.

Warnings: wa on A's MHS-01 (320921, orange), wb on B's MHS-02 (320902, red), ws an
enterprise-wide one of B marked simulated (B plays the simulated plant here).

    role            sees
    province 32     wa, wb, ws
    city 3209       wa, wb, ws
    city 3210       -
    county 320921   wa
    county 320902   wb, ws
    enterprise A    wa
    simulator 32    ws
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from hazmon.alerts import AlarmStore, audit
from hazmon.domain.regions import load_regions
from hazmon.domain.registry import Registry
from hazmon.warnings.engine import WarningEngine
from hazmon.warnings.evaluate import Assessment, Reason
from hazmon.warnings.levels import WarningLevel
from hazmon.warnings.lifecycle import open_warning
from hazmon.warnings.policy import WarningPolicy
from hazmon.warnings.pushes import PushChannels, PushPlanner
from hazmon.warnings.store import WarningStore
from tests.api.support import ENT, ENT2, MINUTE, ROLES, T0, Api, ApiFactory, FakeClock

REGIONS = load_regions(Path(__file__).resolve().parents[2] / "deploy" / "regions.example.yaml")
POLICY = WarningPolicy()
EXTRA_ROLES = {"county_b": ("county", "320902")}  # ROLES has the county 320921
ALL_ROLES = [*ROLES, *EXTRA_ROLES]
SEES = {
    "province": {"wa", "wb", "ws"}, "city": {"wa", "wb", "ws"}, "other_city": set(),
    "county": {"wa"}, "county_b": {"wb", "ws"}, "enterprise": {"wa"}, "simulator": {"ws"},
}
REGULATORS = {"province", "city", "other_city", "county", "county_b"}
PLANT = {"enterprise", "simulator"}
FEEDBACK = {"cause": "仪表故障", "measures": "更换液位计并校准", "person": "王五",
            "phone": "13800000103", "handled_at": "2026-11-22T10:05:00+08:00",
            "cause_removed": True}


@dataclass
class World:
    api: Api
    engine: WarningEngine
    ids: dict[str, str]  # wa, wb, ws -> warning id


def _assessment(ent: str, source: str | None, region: str, level: WarningLevel,
                simulated: bool = False) -> Assessment:
    return Assessment(ent, source, source or "企业", region, 3, level,
                      (Reason(f"{level.value}_rule", "alarm_active", level, "报警持续中"),),
                      simulated)


@pytest.fixture
async def world(make_api: ApiFactory, store: AlarmStore, registry: Registry,
                clock: FakeClock) -> World:
    wstore = await WarningStore.open(store.db)
    planner = PushPlanner(POLICY, lambda: registry, REGIONS, PushChannels())
    clock.now = T0 + 5 * MINUTE
    engine = WarningEngine(wstore, POLICY, planner, clock)
    api: Api = await make_api(warnings=engine, regions=REGIONS)
    for name, (role, scope) in EXTRA_ROLES.items():
        api.tokens[name], _ = await api.ctx.tokens.create(role, scope, f"test-{name}", T0)
    ids = {}
    for key, a in (("wa", _assessment(ENT, "MHS-01", "320921", WarningLevel.ORANGE)),
                   ("wb", _assessment(ENT2, "MHS-02", "320902", WarningLevel.RED)),
                   ("ws", _assessment(ENT2, None, "320902", WarningLevel.YELLOW, True))):
        step = open_warning(f"01JWARN{key.upper()}0000000000000000"[:26], a, POLICY, T0)
        await wstore.save(step, created=True)
        ids[key] = step.warning.id
    return World(api, engine, ids)


def role_id(role: str) -> str:
    kind, _ = {**ROLES, **EXTRA_ROLES}[role]
    return f"{kind}:test-{role}"


@pytest.mark.parametrize("role", ALL_ROLES)
async def test_reads(world: World, role: str) -> None:
    api, visible = world.api, {world.ids[k] for k in SEES[role]}
    r = await api.get(role, "/api/v1/warnings")
    assert r.status_code == 200, r.text
    assert {w["id"] for w in r.json()["items"]} == visible
    assert r.json()["total"] == len(visible)
    for params in ({"enterprise": ENT}, {"enterprise": ENT2}, {"region": "320921"},
                   {"region": "3210"}, {"simulated": True}, {"simulated": False},
                   {"level": ["red", "yellow"]}, {"open": True}, {"overdue": False},
                   {"state": "open"}, {"hazard_source": "MHS-02"}):
        r = await api.get(role, "/api/v1/warnings", params=params)
        assert r.status_code == 200, params
        assert {w["id"] for w in r.json()["items"]} <= visible, params
    for key, wid in world.ids.items():
        r = await api.get(role, f"/api/v1/warnings/{wid}")
        assert r.status_code == (200 if wid in visible else 404), key
        if r.status_code == 404:
            assert r.json() == {"error": "not_found", "message": f"no warning {wid}"}
        else:
            d = r.json()
            assert [e["event"] for e in d["history"]] == ["opened"]
            assert d["history"][0]["event_label"] == "生成预警"
            assert d["state_label"] == "待反馈"
            assert d["level_label"] == {"wa": "橙色预警（较大）", "wb": "红色预警（重大）",
                                        "ws": "黄色预警（一般）"}[key]


async def test_list_filters_and_order(world: World) -> None:
    api = world.api
    r = await api.get("province", "/api/v1/warnings")
    assert [w["id"] for w in r.json()["items"]] == [world.ids[k] for k in ("wb", "wa", "ws")]
    r = await api.get("province", "/api/v1/warnings", params={"level": "red"})
    assert [w["id"] for w in r.json()["items"]] == [world.ids["wb"]]
    r = await api.get("province", "/api/v1/warnings", params={"simulated": True})
    assert [w["id"] for w in r.json()["items"]] == [world.ids["ws"]]
    r = await api.get("province", "/api/v1/warnings", params={"limit": 2})
    assert (len(r.json()["items"]), r.json()["next_offset"], r.json()["total"]) == (2, 2, 3)
    r = await api.get("province", "/api/v1/warnings", params={"level": "purple"})
    assert r.status_code == 422
    r = await api.get("province", "/api/v1/warnings/labels")
    labels = r.json()
    assert [x["label"] for x in labels["levels"]] == [
        "红色预警（重大）", "橙色预警（较大）", "黄色预警（一般）", "蓝色预警（低）"]
    assert [x["label"] for x in labels["causes"]] == [
        "仪表故障", "工艺波动", "检修作业", "真实泄漏/超限", "误报", "其他"]
    assert labels["levels"][0]["feedback_minutes"] == 30
    assert {x["value"]: x["label"] for x in labels["states"]}["closed"] == "已消警"


@pytest.mark.parametrize("role", ALL_ROLES)
async def test_feedback(world: World, role: str) -> None:
    api = world.api
    for key, wid in world.ids.items():
        before = await world.engine.store.history(wid)
        r = await api.post(role, f"/api/v1/warnings/{wid}/feedback", json=FEEDBACK)
        if role in REGULATORS:
            assert r.status_code == 403, (key, r.text)
            assert r.json()["action"] == "warning.feedback"
        elif key in SEES[role]:
            assert r.status_code == 200, (key, r.text)
            assert r.json()["state"] == "feedback_filed"
            after = await world.engine.store.history(wid)
            assert (after[-1].event, after[-1].actor) == ("feedback_filed", role_id(role))
            continue
        else:
            assert r.status_code == 404, key
        assert await world.engine.store.history(wid) == before


async def test_feedback_validation_names_each_field_in_chinese(world: World) -> None:
    wid = world.ids["wa"]
    r = await world.api.post("enterprise", f"/api/v1/warnings/{wid}/feedback", json={
        "cause": "其他", "measures": " ", "phone": "12345", "handled_at": "2026-11-22 10:00",
        "cause_removed": "maybe"})
    assert r.status_code == 422
    body = r.json()
    assert body["error"] == "invalid_feedback"
    assert body["problems"] == {
        "measures": "请填写已采取的处置措施",
        "person": "处置人为必填项",
        "phone": "联系电话格式不正确：请填写11位手机号，或带区号的固定电话（如 0515-86800000）",
        "handled_at": "处置时间须带时区，如 2026-12-01T10:30:00+08:00",
        "cause_removed": "请选择原因是否已消除（是/否）",
    }
    # someone else's warning answers 404 before its body is looked at
    r = await world.api.post("enterprise", f"/api/v1/warnings/{world.ids['wb']}/feedback",
                             json={})
    assert r.status_code == 404


@pytest.mark.parametrize("role", ALL_ROLES)
async def test_review_and_onsite_check(world: World, role: str) -> None:
    api = world.api
    for key in ("wa", "ws"):  # filed by their plants first
        plant = "enterprise" if key == "wa" else "simulator"
        r = await api.post(plant, f"/api/v1/warnings/{world.ids[key]}/feedback", json=FEEDBACK)
        assert r.status_code == 200, r.text
    for key, wid in world.ids.items():
        r = await api.post(role, f"/api/v1/warnings/{wid}/review",
                           json={"decision": "return", "reason": "措施不具体"})
        if role in PLANT:
            assert r.status_code == 403
            assert r.json()["action"] == "warning.review"
        elif key not in SEES[role]:
            assert r.status_code == 404
        elif key == "wb":  # no feedback yet
            assert r.status_code == 409
            assert (r.json()["refusal"], r.json()["reason"]) == (
                "no_feedback", "企业尚未提交处置反馈，无法退回")
        else:
            assert r.status_code == 200, r.text
            assert r.json()["state"] == "returned"
            assert r.json()["deadline"] is not None
            hist = await world.engine.store.history(wid)
            assert (hist[-1].event, hist[-1].actor, hist[-1].data["reason"]) == (
                "returned", role_id(role), "措施不具体")
        r = await api.post(role, f"/api/v1/warnings/{wid}/onsite-check",
                           json={"findings": "现场已处置", "inspectors": ["孙宏"]})
        if role in PLANT:
            assert r.status_code == 403
        else:
            assert r.status_code == (200 if key in SEES[role] else 404)


async def test_accept_closes_and_a_red_one_needs_its_onsite_check(world: World) -> None:
    api, wa, wb = world.api, world.ids["wa"], world.ids["wb"]
    await api.post("enterprise", f"/api/v1/warnings/{wa}/feedback", json=FEEDBACK)
    r = await api.post("county", f"/api/v1/warnings/{wa}/review",
                       json={"decision": "return"})
    assert (r.status_code, r.json()["refusal"]) == (409, "text_required")
    r = await api.post("county", f"/api/v1/warnings/{wa}/review",
                       json={"decision": "accept", "note": "已电话核实"})
    assert r.status_code == 200
    assert (r.json()["state"], r.json()["closed_by"]) == ("closed", role_id("county"))
    r = await api.post("county", f"/api/v1/warnings/{wa}/review", json={"decision": "accept"})
    assert (r.status_code, r.json()["refusal"]) == (409, "closed")

    # B's red warning: B files through a token of its own (an enterprise token of B)
    token, _ = await api.ctx.tokens.create("enterprise", ENT2, "test-b", T0)
    api.tokens["enterprise_b"] = token
    r = await api.post("enterprise_b", f"/api/v1/warnings/{wb}/feedback", json=FEEDBACK)
    assert r.status_code == 200, r.text
    assert r.json()["needs_onsite_check"] is True
    r = await api.post("county_b", f"/api/v1/warnings/{wb}/review", json={"decision": "accept"})
    assert (r.status_code, r.json()["refusal"]) == (409, "onsite_check_required")
    assert r.json()["reason"] == "红色预警（重大）须先完成现场核查才能消警"
    r = await api.post("county_b", f"/api/v1/warnings/{wb}/onsite-check",
                       json={"findings": "现场核查：探头故障已更换", "inspectors": ["钱伟", " "]})
    assert r.status_code == 200
    assert r.json()["onsite_check"]["inspectors"] == ["钱伟"]
    assert r.json()["needs_onsite_check"] is False
    r = await api.post("county_b", f"/api/v1/warnings/{wb}/review", json={"decision": "accept"})
    assert r.json()["state"] == "closed"
    d = (await api.get("province", f"/api/v1/warnings/{wb}")).json()
    assert [e["event"] for e in d["history"]] == [
        "opened", "feedback_filed", "onsite_checked", "accepted"]
    entries = await audit.entries(api.store.db, alarm_id=wb)
    assert [(e.action, e.actor) for e in entries] == [
        ("warning.opened", "system:warnings"), ("warning.feedback_filed", "enterprise:test-b"),
        ("warning.onsite_checked", role_id("county_b")),
        ("warning.accepted", role_id("county_b"))]
    assert (await audit.verify_chain(api.store.db)).ok


@pytest.mark.parametrize("role", ALL_ROLES)
async def test_open_by_hand(world: World, role: str) -> None:
    api = world.api
    body = {"enterprise": ENT, "hazard_source": None, "level": "blue",
            "text": "在线巡查发现视频监控离线"}
    r = await api.post(role, "/api/v1/warnings", json=body)
    if role in PLANT:
        assert r.status_code == 403
        assert r.json()["action"] == "warning.open"
        return
    if "wa" not in SEES[role]:  # A is outside this regulator's scope
        assert r.status_code == 404
        assert r.json()["message"] == f"no enterprise {ENT}"
        return
    assert r.status_code == 201, r.text
    w = r.json()
    assert (w["hazard_source"], w["level"], w["reasons"][0]["text"]) == (
        None, "blue", "在线巡查发现视频监控离线")
    (opened,) = await world.engine.store.history(w["id"])
    assert (opened.actor, opened.data["by_hand"]) == (role_id(role), True)
    # the source has one open already: never a second
    r = await api.post(role, "/api/v1/warnings", json={**body, "hazard_source": "MHS-01"})
    assert r.status_code == 409
    assert (r.json()["refusal"], r.json()["warning"]) == ("already_open", world.ids["wa"])
    r = await api.post(role, "/api/v1/warnings", json={**body, "hazard_source": "MHS-99"})
    assert r.status_code == 404


async def test_without_the_warning_part_the_endpoints_answer_503(make_api: ApiFactory) -> None:
    api: Api = await make_api()
    r = await api.get("province", "/api/v1/warnings")
    assert r.status_code == 503
    assert r.json()["error"] == "unavailable"


# The day of T0 in Asia/Shanghai, where the fixture's warnings were opened.
def _t0_day() -> str:
    from hazmon.warnings.report import local_day

    return local_day(T0).isoformat()


@pytest.mark.parametrize("role", ALL_ROLES)
async def test_report_counts_only_the_callers_scope(world: World, role: str) -> None:
    api = world.api
    r = await api.get(role, "/api/v1/warnings/report",
                      params={"period": "day", "day": _t0_day(), "include_simulated": True})
    assert r.status_code == 200, r.text
    body = r.json()
    # a simulator's report counts only simulated plants, whatever it asks
    expected = len(SEES[role])
    assert body["figures"]["total"] == expected, body["figures"]
    assert body["day"] == _t0_day()
    ranked = {e["enterprise"] for e in body["top_enterprises"]}
    seen = {ENT if k == "wa" else ENT2 for k in SEES[role]}
    assert ranked == seen


async def test_report_as_csv_and_printable_page_and_refusals(world: World) -> None:
    api = world.api
    params = {"period": "week", "day": _t0_day(), "region": "3209"}
    csv = await api.get("province", "/api/v1/warnings/report", params={**params, "format": "csv"})
    assert csv.status_code == 200
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.content.startswith("\ufeff".encode())
    assert "attachment" in csv.headers["content-disposition"]
    page = await api.get("province", "/api/v1/warnings/report",
                         params={**params, "format": "html"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "<script" not in page.text
    assert "盐城市安全风险预警处置周报" in page.text
    bad = await api.get("province", "/api/v1/warnings/report", params={"period": "year"})
    assert bad.status_code == 422
    future = await api.get("province", "/api/v1/warnings/report",
                           params={"period": "day", "day": "2099-01-01"})
    assert future.status_code == 422
    assert future.json()["error"] == "invalid_report"
    outside = await api.get("city", "/api/v1/warnings/report",
                            params={"period": "day", "day": _t0_day(), "region": "3210"})
    assert outside.status_code == 200
    assert outside.json()["figures"]["total"] == 0
