"""Chinese alarm messages for duty officers.

Examples:

- ``高高报：罐区一 T101 液位 10.61 m ≥ 高高限 10.5 m``
- ``二级报警：罐区一 MHS-01.GD03 有毒气体(氯) 0.8 ppm ≥ 二级报警值 0.6781 ppm``
- ``趋势预警：罐区一 T101 液位 当前 8.2 m，按 +0.6 m/min 预计约 4 分钟后（11-22 10:04）
  达到高高限 10.5 m``

Gas detectors use the GB 50493 level names (一级报警 / 二级报警); process limits the
names of Chinese DCS practice (高报 / 高高报 / 低报 / 低低报). A sensor is named by
`Sensor.name`, else by its tag and kind. Times are Beijing time (UTC+8, no DST). These
strings are built only when a signal is emitted, never per reading.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Final

from hazmon.domain import gases
from hazmon.domain.registry import GAS_KINDS, Enterprise, SensorInfo
from hazmon.domain.rulespec import VotingRule
from hazmon.rules.threshold import is_high

BEIJING: Final = timezone(timedelta(hours=8), "CST")

KIND_CN: Final = {
    "pressure": "压力",
    "temperature": "温度",
    "level": "液位",
    "flow": "流量",
    "gas_combustible": "可燃气体",
    "gas_toxic": "有毒气体",
    "oxygen": "氧含量",
    "humidity": "湿度",
}

# rule → (alarm name, limit name)
_PROCESS: Final = {
    "high_high": ("高高报", "高高限"),
    "high": ("高报", "高限"),
    "low": ("低报", "低限"),
    "low_low": ("低低报", "低低限"),
}
_GAS: Final = {
    "high_high": ("二级报警", "二级报警值"),
    "high": ("一级报警", "一级报警值"),
    "low": ("低报", "低限"),
    "low_low": ("低低报", "低低限"),
}
_LEVEL_CN: Final = {"first": "一级报警", "second": "二级报警"}


def fmt(v: float) -> str:
    """A number as a duty officer wants to read it: 10.61, 0.3391, 1234.5."""
    if v != 0 and abs(v) < 1:
        return f"{v:.4g}"
    s = f"{v:.3f}".rstrip("0").rstrip(".")
    return "0" if s == "-0" else s


def beijing_time(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).astimezone(BEIJING).strftime(
        "%m-%d %H:%M"
    )


def minutes(ms: float) -> str:
    m = ms / 60_000
    return f"{m:.0f}" if m >= 10 else f"{m:.1f}".removesuffix(".0")


def sensor_label(info: SensorInfo) -> str:
    s = info.sensor
    if s.name:
        return s.name
    kind = KIND_CN.get(s.kind, str(s.kind))
    if s.gas is not None:
        gas = gases.find_gas(s.gas)
        kind = f"{kind}({gas.name_cn if gas is not None else s.gas})"
    return f"{s.tag} {kind}"


def _where(info: SensorInfo) -> str:
    return f"{info.hazard_source.name} {sensor_label(info)}"


def level_names(info: SensorInfo, rule: str) -> tuple[str, str]:
    """(alarm name, limit name) of a threshold rule for this kind of sensor."""
    table = _GAS if info.sensor.kind in GAS_KINDS else _PROCESS
    return table[rule]


def threshold(info: SensorInfo, rule: str, raised: bool, value: float, limit: float) -> str:
    name, limit_name = level_names(info, rule)
    unit = info.sensor.unit
    high = is_high(rule)
    if raised:
        op = "≥" if high else "≤"
        return f"{name}：{_where(info)} {fmt(value)} {unit} {op} {limit_name} {fmt(limit)} {unit}"
    op = "<" if high else ">"
    return (
        f"{name}消除：{_where(info)} {fmt(value)} {unit} {op} {limit_name} {fmt(limit)} {unit}"
    )


def rate(info: SensorInfo, rise: bool, raised: bool, per_min: float, limit: float) -> str:
    unit = f"{info.sensor.unit}/min"
    what = "上升速率" if rise else "下降速率"
    speed = fmt(abs(per_min))
    if raised:
        return f"变化率报警：{_where(info)} {what} {speed} {unit} ≥ 限值 {fmt(limit)} {unit}"
    return f"变化率报警消除：{_where(info)} {what} {speed} {unit}"


def trend(
    info: SensorInfo,
    target: str,
    raised: bool,
    value: float,
    limit: float,
    slope_per_s: float,
    at_ms: int,
    predicted_ms: int,
) -> str:
    _, limit_name = level_names(info, target)
    unit = info.sensor.unit
    if not raised:
        return f"趋势预警消除：{_where(info)} 当前 {fmt(value)} {unit}，不再趋向{limit_name}"
    slope = slope_per_s * 60
    sign = "+" if slope > 0 else "-"
    return (
        f"趋势预警：{_where(info)} 当前 {fmt(value)} {unit}，按 {sign}{fmt(abs(slope))} "
        f"{unit}/min 预计约 {minutes(predicted_ms - at_ms)} 分钟后"
        f"（{beijing_time(predicted_ms)}）达到{limit_name} {fmt(limit)} {unit}"
    )


def stale(info: SensorInfo, raised: bool, silent_ms: int) -> str:
    if raised:
        return f"数据中断：{_where(info)} 已 {minutes(silent_ms)} 分钟无数据"
    return f"数据恢复：{_where(info)}"


def frozen(info: SensorInfo, raised: bool, value: float, held_ms: int) -> str:
    unit = info.sensor.unit
    if raised:
        return (
            f"数据冻结：{_where(info)} 数值 {fmt(value)} {unit} "
            f"已 {minutes(held_ms)} 分钟无变化"
        )
    return f"数据冻结消除：{_where(info)} 数值恢复变化，当前 {fmt(value)} {unit}"


def bad_quality(info: SensorInfo, raised: bool) -> str:
    if raised:
        return f"数据质量异常：{_where(info)} 上报质量为坏值(bad)"
    return f"数据质量恢复：{_where(info)}"


def out_of_range(info: SensorInfo, raised: bool, value: float) -> str:
    unit = info.sensor.unit
    lo, hi = info.sensor.range
    if raised:
        return (
            f"超量程：{_where(info)} {fmt(value)} {unit} "
            f"超出仪表量程 [{fmt(lo)}, {fmt(hi)}] {unit}，疑似仪表故障"
        )
    return f"超量程消除：{_where(info)} {fmt(value)} {unit}"


def gateway(enterprise: Enterprise, raised: bool, reason: str, silent_ms: int) -> str:
    if not raised:
        return f"网关恢复在线：{enterprise.name}"
    if reason == "status":
        return f"网关离线：{enterprise.name} 网关上报离线"
    return f"网关离线：{enterprise.name} 已 {minutes(silent_ms)} 分钟未收到任何数据"


def vote(hs_name: str, spec: VotingRule, raised: bool, over: list[str]) -> str:
    level = _LEVEL_CN[spec.level]
    n = len(spec.tags)
    if raised:
        return (
            f"联合报警（{spec.k}oo{n}）：{hs_name} {len(over)}/{n} 个气体探测器达到{level}"
            f"（{'、'.join(over)}）"
        )
    return f"联合报警消除（{spec.k}oo{n}）：{hs_name} 达到{level}的探测器 {len(over)}/{n}"
