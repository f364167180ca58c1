"""The duty endpoints: commitments (422 with each field's Chinese message, 409 on a second
filing, history, CSV with a BOM, the regulator's day list in its order), run state and
the suppression it places, holds by hand, duty records, roll calls, patrols, rights."""

from __future__ import annotations

import csv
import io
from dataclasses import replace

import pytest

from hazmon.alerts.audit import entries
from hazmon.domain.signal import Category
from tests.api.duties_support import ENT, ENT2, SEES, duty_api, form_of, shanghai_ms, source
from tests.api.support import HS_A, TAG_A, Api, ApiFactory, signal

MORNING = shanghai_ms(2026, 11, 22, 9, 30)


@pytest.fixture
async def api(make_api: ApiFactory) -> Api:
    a = await duty_api(make_api)
    a.clock.now = MORNING
    return a


async def test_a_commitment_is_filed_once_and_read_back(api: Api) -> None:
    r = await api.post("enterprise", f"/api/v1/enterprises/{ENT}/commitments",
                       json=form_of(ENT))
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["status"], body["late"], body["filed_by"]) == ("on_time", False,
                                                                "enterprise:test-enterprise")
    assert "响水某化工有限公司" in body["text"]
    assert body["hazard_sources"][0]["run_state_label"] == "运行"
    again = await api.post("enterprise", f"/api/v1/enterprises/{ENT}/commitments",
                           json=form_of(ENT))
    assert again.status_code == 409
    assert again.json()["message"] == "2026-11-22的安全承诺已填报"
    hist = (await api.get("county", f"/api/v1/enterprises/{ENT}/commitments")).json()
    assert hist["total"] == 1
    assert hist["items"][0]["committer"] == "张三"


async def test_every_wrong_field_is_listed_with_its_chinese_message(api: Api) -> None:
    bad = form_of(ENT, units={"total": 3, "running": 1, "stopped": 1}, committer="",
                  duty_leader={"name": "李四", "phone": "call me"})
    r = await api.post("enterprise", f"/api/v1/enterprises/{ENT}/commitments", json=bad)
    assert r.status_code == 422
    body = r.json()
    assert body["error"] == "invalid_form"
    assert {p["path"]: p["message"] for p in body["problems"]} == {
        "committer": "请填写承诺人", "duty_leader.phone": "值班领导电话格式不正确"}
    # the schema passes, the cross-field checks speak
    r = await api.post("enterprise", f"/api/v1/enterprises/{ENT}/commitments",
                       json=form_of(ENT, units={"total": 3, "running": 1, "stopped": 1},
                                    hazard_sources=[source(state="stopped", reason="")]))
    assert {p["path"]: p["message"] for p in r.json()["problems"]} == {
        "units.total": "运行装置数(1)与停车装置数(1)之和须等于装置总数(3)",
        "hazard_sources[0].reason": "停车须填写原因"}


async def test_the_csv_export_is_utf8_with_a_bom(api: Api) -> None:
    await api.post("enterprise", f"/api/v1/enterprises/{ENT}/commitments", json=form_of(ENT))
    r = await api.get("enterprise", f"/api/v1/enterprises/{ENT}/commitments.csv")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["日期", "企业编码", "企业名称", "状态"]
    assert rows[1][:4] == ["2026-11-22", ENT, "响水某化工有限公司", "按时填报"]
    assert rows[1][4] == "2026-11-22T09:30:00+08:00"


async def test_the_day_list_puts_missing_first_then_start_up_and_shutdown(api: Api) -> None:
    stopped = form_of(ENT, hazard_sources=[source(state="stopped")])
    assert (await api.post("enterprise", f"/api/v1/enterprises/{ENT}/commitments",
                           json=stopped)).status_code == 201
    before = (await api.get("province", "/api/v1/commitments/day")).json()
    assert [(i["enterprise"], i["status"]) for i in before["items"]] == [
        (ENT, "on_time"), (ENT2, "pending")]
    api.clock.now = shanghai_ms(2026, 11, 22, 10, 0, 1)
    after = (await api.get("province", "/api/v1/commitments/day")).json()
    assert [(i["enterprise"], i["status"], i["transient"]) for i in after["items"]] == [
        (ENT2, "missing", False), (ENT, "on_time", True)]
    assert after["counts"]["missing"] == 1
    assert after["deadline"] == "2026-11-22T10:00:00+08:00"
    late = await api.post("simulator", f"/api/v1/enterprises/{ENT2}/commitments",
                          json=form_of(ENT2))
    assert late.json()["late"] is True
    csv_text = (await api.get("city", "/api/v1/commitments/day.csv")).content.decode("utf-8-sig")
    assert "逾期填报" in csv_text


@pytest.mark.parametrize("role", ["province", "city", "other_city", "county", "enterprise",
                                  "simulator"])
async def test_every_role_sees_and_files_only_in_its_scope(api: Api, role: str) -> None:
    day = (await api.get(role, "/api/v1/commitments/day")).json()
    assert {i["enterprise"] for i in day["items"]} == SEES[role]
    for ent in (ENT, ENT2):
        r = await api.post(role, f"/api/v1/enterprises/{ent}/commitments", json=form_of(ent))
        plant = role in ("enterprise", "simulator")
        expected = (201 if ent in SEES[role] else 404) if plant else 403
        assert r.status_code == expected, (ent, r.text)
        h = await api.get(role, f"/api/v1/enterprises/{ent}/commitments")
        assert h.status_code == (200 if ent in SEES[role] else 404)
        rs = await api.get(role, f"/api/v1/enterprises/{ent}/hazard-sources/"
                                 f"{'MHS-01' if ent == ENT else 'MHS-02'}/run-state")
        assert rs.status_code == (200 if ent in SEES[role] else 404)
    states = (await api.get(role, "/api/v1/run-states")).json()
    assert {s["enterprise"] for s in states} == SEES[role]
    calls = await api.post(role, "/api/v1/roll-calls", json={"enterprise": ENT})
    regulator = role in ("province", "city", "other_city", "county")
    assert calls.status_code == ((201 if ENT in SEES[role] else 404) if regulator else 403)


@pytest.mark.parametrize("role", ["province", "city", "other_city", "county", "enterprise",
                                  "simulator"])
async def test_every_duty_list_holds_only_the_callers_scope(api: Api, role: str) -> None:
    for ent, hs in ((ENT, "MHS-01"), (ENT2, "MHS-02")):
        await api.alarms.suppress_hazard_source(ent, hs, "test", "停车")
        await api.ctx.duties.call_roll([ent], "test")  # type: ignore[union-attr]
    api.clock.advance(minutes=10)  # the calls missed: a finding for each
    sees = SEES[role]
    holds = (await api.get(role, "/api/v1/holds")).json()
    assert {h["enterprise"] for h in holds} == sees
    findings = (await api.get(role, "/api/v1/duties/findings")).json()
    assert {f["enterprise"] for f in findings if f["kind"] == "roll_call_missed"} == sees
    calls = (await api.get(role, "/api/v1/roll-calls")).json()
    assert {c["enterprise"] for c in calls} == sees
    rates = (await api.get(role, "/api/v1/roll-calls/rates")).json()
    assert {r["enterprise"] for r in rates} == sees
    draws = (await api.get(role, "/api/v1/patrols/day")).json()
    plant = role in ("enterprise", "simulator")
    assert {e["enterprise"] for d in draws for e in d["enterprises"]} == (
        set() if plant else sees)
    for ent in (ENT, ENT2):
        r = await api.get(role, f"/api/v1/enterprises/{ent}/duty-records")
        assert r.status_code == (200 if ent in sees else 404)
        csv_r = await api.get(role, f"/api/v1/enterprises/{ent}/commitments.csv")
        assert csv_r.status_code == (200 if ent in sees else 404)


async def test_stopping_a_source_suppresses_its_process_alarms_not_its_data_health(
        api: Api) -> None:
    process = await api.alarms.handle_signal(signal())
    assert process is not None
    url = f"/api/v1/enterprises/{ENT}/hazard-sources/{HS_A}/run-state"
    # a refusal names the field at fault, so the page shows it beside that field
    for body, problem in (
            ({"state": "stopped"}, {"path": "reason", "message": "停车须填写原因"}),
            ({"state": "stopped", "reason": "停车检修"},
             {"path": "expected_end", "message": "停车须填写预计结束时间"})):
        bad = await api.client.put(url, headers=api.auth("enterprise"), json=body)
        assert bad.status_code == 422
        assert bad.json()["problems"] == [problem]
    r = await api.client.put(url, headers=api.auth("enterprise"), json={
        "state": "stopped", "reason": "停车检修", "expected_end": "2026-11-23T08:00:00+08:00"})
    assert r.status_code == 200, r.text
    assert r.json()["process_alarms_suppressed"] is True
    held = (await api.get("enterprise", f"/api/v1/alarms/{process.id}")).json()
    assert held["suppressed"]["reason"] == "运行状态:停车(停车检修)"
    stale = replace(signal(tag=TAG_A, rule="stale", ts=api.clock.now, value=None, limit=None),
                    category=Category.DATA_HEALTH)
    health = await api.alarms.handle_signal(stale)
    assert health is not None
    assert health.suppressed is None  # data health is never suppressed by design
    refused = await api.client.put(url, headers=api.auth("enterprise"),
                                   json={"state": "running"})
    assert refused.status_code == 422
    assert refused.json()["problems"] == [{"path": "state", "message": "不能从停车直接转为运行"}]
    r = await api.client.put(url, headers=api.auth("enterprise"),
                             json={"state": "startup", "reason": "检修完毕开车"})
    assert r.json()["process_alarms_suppressed"] is False
    back = (await api.get("enterprise", f"/api/v1/alarms/{process.id}")).json()
    assert back["suppressed"] is None
    detail = (await api.get("county", url)).json()
    assert [h["state"] for h in detail["history"]] == ["startup", "stopped"]
    actions = [e.action for e in await entries(api.store.db)]
    assert "hold_suppressed" in actions
    assert "release_suppressed" in actions
    forbidden = await api.client.put(url, headers=api.auth("county"), json={"state": "running"})
    assert forbidden.status_code == 403


async def test_holds_by_hand_follow_the_rights_table(api: Api) -> None:
    a = await api.alarms.handle_signal(signal())
    assert a is not None
    url = f"/api/v1/enterprises/{ENT}/hazard-sources/{HS_A}/holds"
    no = await api.post("county", url, json={"kind": "out_of_service", "tag": TAG_A,
                                             "reason": "液位计更换"})
    assert no.status_code == 403
    assert no.json()["action"] == "hold.out_of_service"
    r = await api.post("enterprise", url, json={"kind": "out_of_service", "tag": TAG_A,
                                                "reason": "液位计更换"})
    assert r.status_code == 201, r.text
    assert [x["id"] for x in r.json()["alarms"]] == [a.id]
    assert r.json()["hold"]["by"] == "enterprise:test-enterprise"
    holds = (await api.get("city", "/api/v1/holds")).json()
    assert [(h["kind"], h["tag"]) for h in holds] == [("out_of_service", TAG_A)]
    assert (await api.get("other_city", "/api/v1/holds")).json() == []
    unknown = await api.post("enterprise", url, json={"kind": "out_of_service",
                                                      "tag": "MHS-02.GD01", "reason": "x"})
    assert unknown.status_code == 404
    again = await api.post("enterprise", url, json={"kind": "out_of_service", "tag": TAG_A,
                                                    "reason": "again"})
    assert again.status_code == 409
    back = await api.post("enterprise", f"{url}/release",
                          json={"kind": "out_of_service", "tag": TAG_A, "reason": "更换完毕"})
    assert [x["out_of_service"] for x in back.json()["alarms"]] == [None]
    out_of_scope = await api.post("simulator", url, json={"kind": "suppressed", "reason": "x"})
    assert out_of_scope.status_code == 404


async def test_roll_call_answered_late_and_missed(api: Api) -> None:
    first = (await api.post("county", "/api/v1/roll-calls", json={"enterprise": ENT})).json()
    [c1] = first["calls"]
    assert (c1["status"], c1["status_label"]) == ("waiting", "待应答")
    api.clock.advance(minutes=2)
    ok = await api.post("enterprise", f"/api/v1/roll-calls/{c1['id']}/answer")
    assert ok.json()["status"] == "answered"
    sample = (await api.post("city", "/api/v1/roll-calls",
                             json={"region": "3209", "size": 5})).json()
    assert sorted(c["enterprise"] for c in sample["calls"]) == sorted([ENT, ENT2])
    assert isinstance(sample["seed"], int)
    api.clock.advance(minutes=6)  # past the 5-minute answer deadline
    by_ent = {c["enterprise"]: c["id"] for c in sample["calls"]}
    late = await api.post("enterprise", f"/api/v1/roll-calls/{by_ent[ENT]}/answer")
    assert late.json()["status"] == "answered_late"
    wrong = await api.post("enterprise", f"/api/v1/roll-calls/{by_ent[ENT2]}/answer")
    assert wrong.status_code == 404  # another enterprise's call
    listed = (await api.get("province", "/api/v1/roll-calls")).json()
    assert sorted(c["status"] for c in listed) == ["answered", "answered_late", "missed"]
    rates = {r["enterprise"]: r for r in
             (await api.get("province", "/api/v1/roll-calls/rates")).json()}
    assert (rates[ENT]["answered"], rates[ENT]["late"], rates[ENT]["rate"]) == (1, 1, 0.5)
    assert rates[ENT2]["missed"] == 1
    findings = (await api.get("province", "/api/v1/duties/findings",
                              params={"kind": "roll_call_missed"})).json()
    assert sorted((f["enterprise"], f["detail"]) for f in findings) == sorted([
        (ENT, "值班点名超时应答"), (ENT2, "值班点名未应答")])
    county = (await api.get("county", "/api/v1/duties/findings")).json()
    assert {f["enterprise"] for f in county} == {ENT}


async def test_a_hidden_danger_past_its_fix_by_day_is_a_finding_until_fixed(api: Api) -> None:
    r = await api.post("enterprise", f"/api/v1/enterprises/{ENT}/duty-records", json={
        "hazard_source": HS_A, "role": "technical", "person": "李四",
        "checked": ["液位联锁", "可燃气体报警器"],
        "hidden_dangers": [{"description": "T101 液位计漂移", "fix_by": "2026-11-22"}]})
    assert r.status_code == 201, r.text
    danger = r.json()["hidden_dangers"][0]["id"]
    api.clock.now = shanghai_ms(2026, 11, 23, 0, 0)
    kinds = {f["kind"] for f in (await api.get("county", "/api/v1/duties/findings")).json()
             if f["enterprise"] == ENT}
    assert "hidden_danger_overdue" in kinds
    fixed = await api.post("enterprise", f"/api/v1/enterprises/{ENT}/hidden-dangers/{danger}"
                                         "/fixed")
    assert fixed.json()["fixed_at"] is not None
    kinds = {f["kind"] for f in (await api.get("county", "/api/v1/duties/findings")).json()}
    assert "hidden_danger_overdue" not in kinds
    future = await api.post("enterprise", f"/api/v1/enterprises/{ENT}/duty-records", json={
        "hazard_source": HS_A, "role": "operational", "person": "王五", "checked": ["巡检"],
        "at": "2027-01-01T00:00:00+08:00"})
    assert future.json()["problems"] == [{"path": "at", "message": "检查时间不能晚于当前时间"}]


async def test_the_patrol_sample_is_the_countys_and_records_its_findings(api: Api) -> None:
    county = (await api.get("county", "/api/v1/patrols/day")).json()
    assert [(d["county"], [e["enterprise"] for e in d["enterprises"]]) for d in county] == [
        ("320921", [ENT])]
    assert county[0]["coverage"] == 0.0
    assert (await api.get("enterprise", "/api/v1/patrols/day")).json() == []
    province = (await api.get("province", "/api/v1/patrols/day")).json()
    assert [d["county"] for d in province] == ["320902", "320921"]
    missing = await api.post("county", "/api/v1/patrols", json={
        "enterprise": ENT, "findings": {"data_online": True}})
    assert missing.status_code == 422
    assert len(missing.json()["problems"]) == 3
    r = await api.post("county", "/api/v1/patrols", json={
        "enterprise": ENT, "note": "点名未应答",
        "findings": {"data_online": True, "commitment_filed": False,
                     "warnings_handled": True, "roll_call_answered": True}})
    assert r.status_code == 201, r.text
    assert (r.json()["failed_labels"], r.json()["sampled"]) == (["承诺已填报"], True)
    again = (await api.get("county", "/api/v1/patrols/day")).json()
    assert again[0]["coverage"] == 1.0
    assert again[0]["seed"] == county[0]["seed"]  # drawn once a day
    assert (await api.post("enterprise", "/api/v1/patrols", json={
        "enterprise": ENT, "findings": {}})).status_code == 403


async def test_labels_for_the_page(api: Api) -> None:
    labels = (await api.get("enterprise", "/api/v1/duties/labels")).json()
    assert labels["run_states"]["turnaround"] == "检修"
    assert labels["fields"]["duty_leader.phone"] == "值班领导电话"
    assert labels["special_works"]["hot_work_special"] == "特级动火作业"
    assert labels["deadline"] == "10:00"


@pytest.mark.parametrize("role", ["province", "city", "other_city", "county", "enterprise",
                                  "simulator"])
async def test_one_enterprise_duties_for_every_role_in_its_scope(api: Api, role: str) -> None:
    """What a regulator's page reads of one plant (?enterprise=): its run states, holds,
    duty records, open findings and commitments, the plant's own only in scope."""
    for ent, hs in ((ENT, "MHS-01"), (ENT2, "MHS-02")):
        await api.alarms.suppress_hazard_source(ent, hs, "test", "停车")
        await api.ctx.duties.call_roll([ent], "test")  # type: ignore[union-attr]
    api.clock.advance(minutes=10)
    sees = SEES[role]
    for ent in (ENT, ENT2):
        q = {"enterprise": ent}
        states = (await api.get(role, "/api/v1/run-states", params=q)).json()
        assert {s["enterprise"] for s in states} == ({ent} & sees)
        holds = (await api.get(role, "/api/v1/holds", params=q)).json()
        assert {(h["enterprise"], h["reason"]) for h in holds} == (
            {(ent, "停车")} if ent in sees else set())
        found = (await api.get(role, "/api/v1/duties/findings", params=q)).json()
        assert {f["enterprise"] for f in found} == ({ent} & sees)
        records = await api.get(role, f"/api/v1/enterprises/{ent}/duty-records")
        assert records.status_code == (200 if ent in sees else 404)
        history = await api.get(role, f"/api/v1/enterprises/{ent}/commitments")
        assert history.status_code == (200 if ent in sees else 404)
