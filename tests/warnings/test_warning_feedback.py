"""The disposal feedback: each wrong field gets its own Chinese message."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from hazmon.warnings.feedback import (
    CAUSE_LABELS,
    Cause,
    FeedbackInvalid,
    parse_feedback,
)

GOOD: dict[str, Any] = {
    "cause": "instrument_fault",
    "measures": "更换探头并重新标定",
    "person": "张三",
    "phone": "13812345678",
    "handled_at": "2026-12-01T10:30:00+08:00",
    "cause_removed": True,
}


def problems(**changes: Any) -> dict[str, str]:
    data = {k: v for k, v in {**GOOD, **changes}.items() if v is not ...}
    with pytest.raises(FeedbackInvalid) as info:
        parse_feedback(data)
    return info.value.problems


def test_a_good_feedback_is_read_and_recorded_in_json_types() -> None:
    fb = parse_feedback(GOOD)
    assert fb.cause is Cause.INSTRUMENT_FAULT
    assert fb.handled_at == datetime(2026, 12, 1, 2, 30, tzinfo=UTC)
    assert fb.handled_at_ms == int(datetime(2026, 12, 1, 2, 30, tzinfo=UTC).timestamp() * 1000)
    assert fb.to_record() == {**GOOD, "cause_detail": ""}


def test_the_fixed_list_of_causes_by_code_or_chinese_label() -> None:
    assert [c.label for c in Cause] == ["仪表故障", "工艺波动", "检修作业", "真实泄漏/超限",
                                        "误报", "其他"]
    for cause, label in CAUSE_LABELS.items():
        detail = {"cause_detail": "雷击"} if cause is Cause.OTHER else {}
        assert parse_feedback({**GOOD, "cause": label, **detail}).cause is cause
        assert parse_feedback({**GOOD, "cause": cause.value, **detail}).cause is cause
    assert problems(cause="天气") == {
        "cause": "原因类别须为以下之一：仪表故障、工艺波动、检修作业、真实泄漏/超限、误报、其他"}


def test_other_needs_its_explanation() -> None:
    assert problems(cause="other") == {"cause_detail": "原因类别为“其他”时请说明具体原因"}
    assert problems(cause="其他", cause_detail="   ") == {
        "cause_detail": "原因类别为“其他”时请说明具体原因"}
    fb = parse_feedback({**GOOD, "cause": "其他", "cause_detail": " 雷击 "})
    assert fb.cause_detail == "雷击"


@pytest.mark.parametrize(
    "phone", ["13812345678", "+8613812345678", "0515-86800000", "025-83360000-801",
              "051586800000", "138 1234 5678"],
)
def test_phones_a_duty_officer_can_call_back(phone: str) -> None:
    assert parse_feedback({**GOOD, "phone": phone}).phone == phone.replace(" ", "")


@pytest.mark.parametrize("phone", ["12812345678", "1381234567", "call me", "86800000", ""])
def test_bad_phones(phone: str) -> None:
    assert problems(phone=phone) == {
        "phone": "联系电话格式不正确：请填写11位手机号，或带区号的固定电话（如 0515-86800000）"}


def test_every_wrong_field_has_its_own_message_at_once() -> None:
    got = problems(measures="  ", person=..., phone="123", handled_at="2026-12-01T10:30:00",
                   cause_removed="maybe", colour="red")
    assert got == {
        "measures": "请填写已采取的处置措施",
        "person": "处置人为必填项",
        "phone": "联系电话格式不正确：请填写11位手机号，或带区号的固定电话（如 0515-86800000）",
        "handled_at": "处置时间须带时区，如 2026-12-01T10:30:00+08:00",
        "cause_removed": "请选择原因是否已消除（是/否）",
        "colour": "未知字段",
    }


def test_unreadable_values_and_limits() -> None:
    assert problems(handled_at="yesterday") == {
        "handled_at": "处置时间格式不正确，应为带时区的时间，如 2026-12-01T10:30:00+08:00"}
    assert problems(measures="措" * 2001) == {"measures": "已采取的处置措施不能超过2000字"}
    assert problems(person="张" * 65) == {"person": "处置人姓名不能超过64字"}
    assert problems(measures=12) == {"measures": "处置措施须为文字"}
    assert problems(cause=...) == {"cause": "原因类别为必填项"}
    assert problems(cause_removed=...) == {"cause_removed": "原因是否消除为必填项"}


def test_a_time_with_any_offset_is_the_same_instant() -> None:
    east8 = timezone(timedelta(hours=8))
    fb = parse_feedback({**GOOD, "handled_at": datetime(2026, 12, 1, 10, 30, tzinfo=east8)})
    assert fb.handled_at_ms == parse_feedback(GOOD).handled_at_ms
