"""The enterprise's disposal feedback (处置反馈) on a warning, and its validation.

`parse_feedback` is what the API will call on a submitted form: every wrong field gets
its own message, in Chinese, keyed by the field's name, so the page can show each one
beside its input. The cause is given by its code (``instrument_fault``) or its Chinese
label (``仪表故障``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

MAX_TEXT: Final = 2000
MAX_NAME: Final = 64

# A mainland mobile number (optionally +86), or a landline with its area code and an
# optional extension: what a duty officer can call back.
_MOBILE = re.compile(r"(?:\+?86)?1[3-9][0-9]{9}")
_LANDLINE = re.compile(r"0[0-9]{2,3}-?[0-9]{7,8}(?:-[0-9]{1,6})?")


class Cause(StrEnum):
    INSTRUMENT_FAULT = "instrument_fault"
    PROCESS_FLUCTUATION = "process_fluctuation"
    MAINTENANCE = "maintenance"
    REAL_EXCEEDANCE = "real_leak_or_exceedance"
    FALSE_ALARM = "false_alarm"
    OTHER = "other"

    @property
    def label(self) -> str:
        return CAUSE_LABELS[self]


CAUSE_LABELS: Final[Mapping[Cause, str]] = {
    Cause.INSTRUMENT_FAULT: "仪表故障",
    Cause.PROCESS_FLUCTUATION: "工艺波动",
    Cause.MAINTENANCE: "检修作业",
    Cause.REAL_EXCEEDANCE: "真实泄漏/超限",
    Cause.FALSE_ALARM: "误报",
    Cause.OTHER: "其他",
}
_BY_LABEL: Final = {label: cause for cause, label in CAUSE_LABELS.items()}

# The page's names of the fields, and what to say when a value cannot be read at all.
FIELD_LABELS: Final[Mapping[str, str]] = {
    "cause": "原因类别",
    "cause_detail": "原因说明",
    "measures": "处置措施",
    "person": "处置人",
    "phone": "联系电话",
    "handled_at": "处置时间",
    "cause_removed": "原因是否消除",
}
_UNREADABLE: Final[Mapping[str, str]] = {
    "cause": "原因类别须为以下之一：" + "、".join(CAUSE_LABELS.values()),
    "cause_detail": "原因说明须为文字",
    "measures": "处置措施须为文字",
    "person": "处置人须为文字",
    "phone": "联系电话须为文字",
    "handled_at": "处置时间格式不正确，应为带时区的时间，如 2026-12-01T10:30:00+08:00",
    "cause_removed": "请选择原因是否已消除（是/否）",
}


def _text(value: str, what: str, limit: int) -> str:
    text = value.strip()
    if not text:
        raise ValueError(f"请填写{what}")
    if len(text) > limit:
        raise ValueError(f"{what}不能超过{limit}字")
    return text


class DisposalFeedback(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    cause: Cause
    cause_detail: str = ""  # required for "other"
    measures: str
    person: str
    phone: str
    handled_at: datetime  # when the disposal was done (timezone required)
    cause_removed: bool

    @field_validator("cause", mode="before")
    @classmethod
    def _cause(cls, value: Any) -> Any:
        return _BY_LABEL.get(value, value) if isinstance(value, str) else value

    @field_validator("cause_detail")
    @classmethod
    def _cause_detail(cls, value: str) -> str:
        detail = value.strip()
        if len(detail) > MAX_TEXT:
            raise ValueError(f"原因说明不能超过{MAX_TEXT}字")
        return detail

    @field_validator("measures")
    @classmethod
    def _measures(cls, value: str) -> str:
        return _text(value, "已采取的处置措施", MAX_TEXT)

    @field_validator("person")
    @classmethod
    def _person(cls, value: str) -> str:
        return _text(value, "处置人姓名", MAX_NAME)

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        phone = value.strip().replace(" ", "")
        if not (_MOBILE.fullmatch(phone) or _LANDLINE.fullmatch(phone)):
            raise ValueError(
                "联系电话格式不正确：请填写11位手机号，或带区号的固定电话（如 0515-86800000）"
            )
        return phone

    @field_validator("handled_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("处置时间须带时区，如 2026-12-01T10:30:00+08:00")
        return value

    @model_validator(mode="after")
    def _detail(self) -> DisposalFeedback:
        if self.cause is Cause.OTHER and not self.cause_detail:
            raise ValueError("cause_detail: 原因类别为“其他”时请说明具体原因")
        return self

    @property
    def handled_at_ms(self) -> int:
        return int(self.handled_at.timestamp() * 1000)

    def to_record(self) -> dict[str, Any]:
        """The feedback as stored and audited (JSON types)."""
        return self.model_dump(mode="json")


class FeedbackInvalid(ValueError):  # noqa: N818 - reads as what the form is
    """`problems`: field name → a Chinese message for that field."""

    def __init__(self, problems: Mapping[str, str]) -> None:
        self.problems = dict(problems)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.problems.items()))


def parse_feedback(data: Mapping[str, Any]) -> DisposalFeedback:
    """The feedback from a submitted form, or FeedbackInvalid with one message per field."""
    try:
        return DisposalFeedback.model_validate(dict(data))
    except ValidationError as exc:
        raise FeedbackInvalid(feedback_problems(exc)) from exc


def feedback_problems(exc: ValidationError) -> dict[str, str]:
    problems: dict[str, str] = {}
    for err in exc.errors():
        loc = err["loc"]
        name = str(loc[0]) if loc else ""
        msg = str(err["msg"]).removeprefix("Value error, ")
        if not name:  # a check across fields names its field first
            name, _, msg = msg.partition(": ")
        if err["type"] == "missing":
            msg = f"{FIELD_LABELS.get(name, name)}为必填项"
        elif err["type"] == "extra_forbidden":
            msg = "未知字段"
        elif err["type"] != "value_error":
            msg = _UNREADABLE.get(name, msg)
        problems.setdefault(name, msg)
    return problems
