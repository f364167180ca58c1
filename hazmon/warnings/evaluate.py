"""Which warnings should be open, pure: `evaluate(policy, facts, now_ms)`.

Each hazard source is judged on its own alarms and data; the enterprise as a whole on
its enterprise-wide alarms, its gateway and its daily commitment. A subject gets one
`Assessment`: the level of the gravest rule that holds and every rule that holds as a
`Reason` (a machine code, a Chinese text for the page, the alarms behind it). Whether
that opens a new warning, raises an open one or changes nothing is `lifecycle.decide`'s
business: an assessment is what is true now, not an action.

Durations are compared with ``>=``: a rule of 10 minutes holds at 10 minutes exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hazmon.domain.registry import SensorKind
from hazmon.domain.signal import Category
from hazmon.duties.facts import DutyFact
from hazmon.warnings.facts import (
    TREND_SECOND_LEVEL_RULES,
    AlarmFact,
    EnterpriseFacts,
    HazardSourceFacts,
)
from hazmon.warnings.levels import WarningLevel
from hazmon.warnings.policy import (
    AlarmActive,
    AlarmSelector,
    AlarmUnacked,
    CommitmentMissing,
    GatewayOffline,
    LowAvailability,
    RepeatedAlarms,
    Rule,
    SecondLevelSensors,
    TrendForecast,
    WarningPolicy,
)

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
_QUOTED = 3  # alarm messages quoted in one reason text; the rest are counted

_KIND_NAMES: Mapping[str, str] = {
    SensorKind.GAS_TOXIC: "有毒气体",
    SensorKind.GAS_COMBUSTIBLE: "可燃气体",
    SensorKind.OXYGEN: "氧气",
    SensorKind.PRESSURE: "压力",
    SensorKind.TEMPERATURE: "温度",
    SensorKind.LEVEL: "液位",
    SensorKind.FLOW: "流量",
    SensorKind.HUMIDITY: "湿度",
}


@dataclass(frozen=True, slots=True)
class Reason:
    code: str  # the policy rule's code, e.g. "critical_unacked"
    kind: str  # the rule's kind, e.g. "alarm_unacked"
    level: WarningLevel
    text: str  # Chinese, for the page and the push
    alarm_ids: tuple[str, ...] = ()
    data: Mapping[str, Any] = field(default_factory=dict)  # the figures behind it


@dataclass(frozen=True, slots=True)
class Assessment:
    enterprise: str
    hazard_source: str | None  # None: an enterprise-wide cause
    name: str  # the hazard source's name, or the enterprise's
    region: str
    tier: int | None
    level: WarningLevel  # the gravest reason's
    reasons: tuple[Reason, ...]  # gravest first, then in the policy's order
    simulated: bool = False

    @property
    def key(self) -> tuple[str, str | None]:
        """One open warning per key (`lifecycle.decide`)."""
        return (self.enterprise, self.hazard_source)


def evaluate(
    policy: WarningPolicy, facts: EnterpriseFacts, now_ms: int
) -> tuple[Assessment, ...]:
    """The enterprise-wide assessment first (when any rule holds), then its sources'."""
    out: list[Assessment] = []
    reasons = [
        r for rule in policy.rules
        if rule.applies_to(facts.tier)
        for r in _enterprise_rule(rule, facts, now_ms)
    ]
    reasons.extend(_duty_reasons(policy, facts.duty_facts))
    if reasons:
        out.append(_assess(facts, None, facts.name, facts.tier, reasons))
    for hs in facts.hazard_sources:
        reasons = [
            r for rule in policy.rules
            if rule.applies_to(hs.tier)
            for r in _source_rule(rule, hs, now_ms)
        ]
        reasons.extend(_duty_reasons(policy, hs.duty_facts))
        if reasons:
            out.append(_assess(facts, hs.code, hs.name, hs.tier, reasons))
    return tuple(out)


def evaluate_all(
    policy: WarningPolicy, facts: Iterable[EnterpriseFacts], now_ms: int
) -> tuple[Assessment, ...]:
    return tuple(a for f in facts for a in evaluate(policy, f, now_ms))


def _assess(
    facts: EnterpriseFacts, source: str | None, name: str, tier: int | None,
    reasons: list[Reason],
) -> Assessment:
    ordered = tuple(sorted(reasons, key=lambda r: r.level.rank))  # stable: policy order kept
    return Assessment(facts.code, source, name, facts.region, tier, ordered[0].level, ordered,
                      facts.simulated)


# --- the rules at each scope -------------------------------------------------------------


DUTY_FACT_KIND = "duty_fact"


def _duty_reasons(policy: WarningPolicy, facts: Sequence[DutyFact]) -> list[Reason]:
    """One reason per duty fact the policy grades, in the order given, each once."""
    out: dict[str, Reason] = {}
    for f in facts:
        level = policy.duty_levels.get(f.kind)
        if level is None:
            continue
        code = f"duty_{f.kind.value}:{f.key}"
        out.setdefault(code, Reason(
            code, DUTY_FACT_KIND, level, f.detail,
            data={"fact": f.kind.value, "key": f.key, "at_ms": f.at_ms,
                  "day": f.day.isoformat() if f.day is not None else None}))
    return list(out.values())


def _enterprise_rule(rule: Rule, facts: EnterpriseFacts, now: int) -> list[Reason]:
    match rule:
        case AlarmUnacked():
            return _unacked(rule, facts.alarms, now)
        case AlarmActive():
            return _active(rule, facts.alarms, now)
        case GatewayOffline():
            gw = facts.gateway
            if gw is None or gw.online or now - gw.since_ms < rule.minutes * MINUTE_MS:
                return []
            minutes = (now - gw.since_ms) // MINUTE_MS
            return [_reason(rule, f"数据采集网关离线已{minutes}分钟（≥{rule.minutes}分钟）",
                            data={"offline_since_ms": gw.since_ms, "minutes": rule.minutes})]
        case CommitmentMissing():
            if not facts.commitment_missing:
                return []
            return [_reason(rule, "今日安全承诺未报送或逾期报送")]
        case _:
            return []


def _source_rule(rule: Rule, hs: HazardSourceFacts, now: int) -> list[Reason]:
    match rule:
        case AlarmUnacked():
            return _unacked(rule, hs.alarms, now)
        case AlarmActive():
            return _active(rule, hs.alarms, now)
        case SecondLevelSensors():
            return _second_level(rule, hs.alarms)
        case TrendForecast():
            return _trend(rule, hs.alarms, now)
        case RepeatedAlarms():
            return _repeated(rule, hs.alarm_raises, now)
        case LowAvailability():
            if hs.availability is None or not hs.availability < rule.below:
                return []
            return [_reason(
                rule,
                f"近{rule.window_hours}小时数据可用率{hs.availability * 100:.1f}%，"
                f"低于{rule.below * 100:g}%",
                data={"availability": hs.availability, "below": rule.below,
                      "window_hours": rule.window_hours},
            )]
        case _:
            return []


def _selected(select: AlarmSelector, alarms: Sequence[AlarmFact]) -> list[AlarmFact]:
    return [
        a for a in alarms
        if select.matches(a.rule, a.category, a.priority, a.second_level)
    ]


def _unacked(rule: AlarmUnacked, alarms: Sequence[AlarmFact], now: int) -> list[Reason]:
    hits = [
        a for a in _selected(rule.select, alarms)
        if not a.acked and now - a.raised_at_ms >= rule.minutes * MINUTE_MS
    ]
    if not hits:
        return []
    return [_reason(rule, f"报警超过{rule.minutes}分钟未确认：{_quote(hits)}", hits,
                    {"minutes": rule.minutes})]


def _active(rule: AlarmActive, alarms: Sequence[AlarmFact], now: int) -> list[Reason]:
    hits = [
        a for a in _selected(rule.select, alarms)
        if a.active_since_ms is not None
        and now - a.active_since_ms >= rule.minutes * MINUTE_MS
    ]
    if not hits:
        return []
    lead = "报警持续中" if rule.minutes == 0 else f"报警持续超过{rule.minutes}分钟"
    return [_reason(rule, f"{lead}：{_quote(hits)}", hits, {"minutes": rule.minutes})]


def _second_level(rule: SecondLevelSensors, alarms: Sequence[AlarmFact]) -> list[Reason]:
    by_tag: dict[str, AlarmFact] = {}
    for a in alarms:
        if a.tag is not None and a.active and a.second_level and a.category is Category.PROCESS:
            by_tag.setdefault(a.tag, a)
    if len(by_tag) < rule.min_sensors:
        return []
    hits = list(by_tag.values())
    tags = "、".join(sorted(by_tag))
    return [_reason(rule, f"{len(by_tag)}个传感器同时处于二级报警（≥{rule.min_sensors}个）：{tags}",
                    hits, {"sensors": sorted(by_tag), "min_sensors": rule.min_sensors})]


def _trend(rule: TrendForecast, alarms: Sequence[AlarmFact], now: int) -> list[Reason]:
    hits = [
        a for a in alarms
        if a.active and a.rule in TREND_SECOND_LEVEL_RULES
        and a.sensor_kind in rule.sensor_kinds
        and a.predicted_at_ms is not None
        and a.predicted_at_ms - now <= rule.within_minutes * MINUTE_MS
    ]
    if not hits:
        return []
    kinds = "、".join(dict.fromkeys(_KIND_NAMES.get(a.sensor_kind or "", "") for a in hits))
    return [_reason(
        rule, f"趋势预测{rule.within_minutes}分钟内达到{kinds}二级报警：{_quote(hits)}", hits,
        {"within_minutes": rule.within_minutes,
         "predicted_at_ms": min(a.predicted_at_ms or now for a in hits)},
    )]


def _repeated(
    rule: RepeatedAlarms, raises: Mapping[str, Sequence[int]], now: int
) -> list[Reason]:
    window = rule.window_hours * HOUR_MS
    counts = {
        tag: n for tag, times in raises.items()
        if (n := sum(1 for t in times if now - window <= t <= now)) >= rule.count
    }
    if not counts:
        return []
    listed = "；".join(f"{tag} {n}次" for tag, n in sorted(counts.items()))
    return [_reason(
        rule, f"同一传感器{rule.window_hours}小时内报警≥{rule.count}次：{listed}",
        data={"counts": dict(sorted(counts.items())), "count": rule.count,
              "window_hours": rule.window_hours},
    )]


def _reason(
    rule: Rule, text: str, alarms: Sequence[AlarmFact] = (),
    data: Mapping[str, Any] | None = None,
) -> Reason:
    return Reason(rule.code, rule.kind, rule.level, text, tuple(a.id for a in alarms),
                  dict(data or {}))


def _quote(alarms: Sequence[AlarmFact]) -> str:
    said = [a.message or f"{a.tag or '全源'} {a.rule}" for a in alarms[:_QUOTED]]
    more = len(alarms) - _QUOTED
    return "；".join(said) + (f"等{len(alarms)}条" if more > 0 else "")
