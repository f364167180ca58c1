from __future__ import annotations

from datetime import time
from typing import Any

import pytest

from hazmon.duties.commitment import CommitmentError, file_commitment, run_states
from hazmon.duties.config import CommitmentConfig, DutiesConfig
from hazmon.duties.runstate import RunState, process_alarms_suppressed, transition
from tests.duties.support import CONFIG, enterprise, form, shanghai_ms

NOW = shanghai_ms(2026, 11, 22, 9, 30)


def problems(data: Any, now: int = NOW) -> dict[str, str]:
    with pytest.raises(CommitmentError) as exc:
        file_commitment(data, enterprise(), now_ms=now, by="tok", config=CONFIG)
    return {p.path: p.message for p in exc.value.problems}


def test_a_valid_commitment_is_filed_with_the_template_text() -> None:
    c = file_commitment(form(), enterprise(), now_ms=NOW, by="tok", config=CONFIG)
    assert c.filed_at_ms == NOW
    assert c.day.isoformat() == "2026-11-22"
    assert "响水某化工有限公司" in c.text
    assert "罐区一" in c.text
    assert "张三" in c.text
    assert "2026年11月22日" in c.text
    assert c.transient_sources == ()


@pytest.mark.parametrize(("data", "path", "message"), [
    (form(units={"total": 3, "running": 2}), "units.stopped", "请填写停车装置数"),
    (form(units={"total": 3, "running": -1, "stopped": 1}), "units.running",
     "运行装置数不能小于0"),
    (form(units={"total": 1000, "running": 0, "stopped": 0}), "units.total",
     "装置总数不能大于999"),
    (form(units={"total": "三", "running": 2, "stopped": 1}), "units.total", "装置总数须为整数"),
    (form(special_works={"lifting": 1.5}), "special_works.lifting", "吊装作业数须为整数"),
    (form(special_works={"hot_work_3": 1}), "special_works.hot_work_3", "未知字段:hot_work_3"),
    (form(major_hidden_danger="也许"), "major_hidden_danger", "是否存在重大隐患须选择“是”或“否”"),
    (form(risk_grade="red"), "risk_grade", "风险等级只能是:重大、较大、一般、低"),
    (form(committer=""), "committer", "请填写承诺人"),
    (form(duty_leader={"name": "李四", "phone": "call me"}), "duty_leader.phone",
     "值班领导电话格式不正确"),
    (form(day="2026-13-01"), "day", "承诺日期不是有效日期(年-月-日)"),
    (form(hazard_sources=[]), "hazard_sources", "请至少填报一个危险源"),
    (form(hazard_sources=[{"code": "MHS-01", "run_state": "idle", "baobao_in_place": True}]),
     "hazard_sources[0].run_state", "运行状态只能是:运行、停车、检修、开车、试生产"),
    (form(hazard_sources=[{"code": "MHS-01", "run_state": "stopped", "reason": "x",
                           "expected_end": "2026-11-23T10:00:00", "baobao_in_place": True}]),
     "hazard_sources[0].expected_end", "预计结束时间须带时区"),
    (form(hazard_sources=[{"code": "MHS-01", "run_state": "running"}]),
     "hazard_sources[0].baobao_in_place", "请填写包保责任人是否在岗"),
])
def test_each_wrong_field_has_its_own_message(data: Any, path: str, message: str) -> None:
    assert problems(data) == {path: message}


@pytest.mark.parametrize(("data", "path", "message"), [
    (form(units={"total": 4, "running": 2, "stopped": 1}), "units.total",
     "运行装置数(2)与停车装置数(1)之和须等于装置总数(4)"),
    (form(day="2026-11-21"), "day", "只能填报当天的承诺"),
    (form(major_hidden_danger=True), "major_hidden_danger_note", "存在重大隐患时须填写隐患说明"),
    (form(confirmed=False), "confirmed", "请阅读并确认承诺内容"),
    (form(hazard_sources=[{"code": "MHS-01", "run_state": "startup", "baobao_in_place": True}]),
     "hazard_sources[0].reason", "开车须填写原因"),
    (form(hazard_sources=[{"code": "MHS-01", "run_state": "turnaround", "reason": "大修",
                           "baobao_in_place": True}]),
     "hazard_sources[0].expected_end", "检修须填写预计结束时间"),
    (form(hazard_sources=[{"code": "MHS-01", "run_state": "stopped", "reason": "停电",
                           "expected_end": "2026-11-22T09:00:00+08:00",
                           "baobao_in_place": True}]),
     "hazard_sources[0].expected_end", "预计结束时间须晚于当前时间"),
])
def test_each_inconsistency_is_placed_on_its_field(data: Any, path: str, message: str) -> None:
    assert problems(data) == {path: message}


def test_hazard_sources_must_be_the_enterprises_each_once() -> None:
    ok = {"code": "MHS-01", "run_state": "running", "baobao_in_place": True}
    assert problems(form(hazard_sources=[ok, ok])) == {
        "hazard_sources[1].code": "危险源MHS-01重复填报"}
    other = {"code": "MHS-02", "run_state": "running", "baobao_in_place": True}
    assert problems(form(hazard_sources=[other])) == {
        "hazard_sources[0].code": "本企业没有危险源MHS-02",
        "hazard_sources": "缺少危险源:MHS-01",
    }


def test_every_problem_is_reported_at_once() -> None:
    found = problems(form(units={"total": -1, "running": 0, "stopped": 0}, committer="",
                          risk_grade="x"))
    assert set(found) == {"units.total", "committer", "risk_grade"}


def test_the_day_is_the_provinces_day_across_midnight() -> None:
    # 23:59 on the 21st in Shanghai is 15:59 UTC on the 21st; 00:01 on the 22nd is 16:01 UTC
    # on the 21st: the same UTC date, two local days.
    assert problems(form(), now=shanghai_ms(2026, 11, 21, 23, 59)) == {
        "day": "只能填报当天的承诺"}
    c = file_commitment(form(), enterprise(), now_ms=shanghai_ms(2026, 11, 22, 0, 1), by="t",
                        config=CONFIG)
    assert c.day.isoformat() == "2026-11-22"


def test_transient_sources_and_trial_production_are_derived() -> None:
    src = {"code": "MHS-01", "run_state": "startup", "reason": "检修后开车",
           "baobao_in_place": True}
    c = file_commitment(form(hazard_sources=[src]), enterprise(), now_ms=NOW, by="t",
                        config=CONFIG)
    assert c.transient_sources == ("MHS-01",)
    assert not c.trial_production


def test_a_province_window_refuses_filing_before_its_start() -> None:
    dalian = DutiesConfig(commitment=CommitmentConfig(window_start=time(9, 0)))
    with pytest.raises(CommitmentError) as exc:
        file_commitment(form(), enterprise(), now_ms=shanghai_ms(2026, 11, 22, 8, 59),
                        by="t", config=dalian)
    assert {p.path: p.message for p in exc.value.problems} == {"day": "承诺须在09:00之后填报"}
    file_commitment(form(), enterprise(), now_ms=shanghai_ms(2026, 11, 22, 9, 0), by="t",
                    config=dalian)


def test_the_commitment_sets_each_sources_run_state() -> None:
    src = {"code": "MHS-01", "run_state": "stopped", "reason": " 停电 ",
           "expected_end": "2026-11-23T08:00:00+08:00", "baobao_in_place": True}
    c = file_commitment(form(hazard_sources=[src]), enterprise(), now_ms=NOW, by="t",
                        config=CONFIG)
    running = transition(None, c.enterprise, "MHS-01", RunState.RUNNING, at_ms=0, by="u")
    states = run_states(c, {"MHS-01": running})
    r = states["MHS-01"]
    assert (r.state, r.since_ms, r.reason) == (RunState.STOPPED, NOW, "停电")
    assert r.expected_end_ms == shanghai_ms(2026, 11, 23, 8)
    assert process_alarms_suppressed(r)
    assert run_states(c, states)["MHS-01"].since_ms == NOW  # same state: since kept
