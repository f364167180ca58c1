"""Wording shared by the Chinese alarm messages for duty officers.

Each rule kind writes its own messages (`threshold.message`, `trend.message`, ...) with
these helpers, so the words of a kind live beside its rule.

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
from hazmon.domain.registry import GAS_KINDS, SensorInfo

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


def where(info: SensorInfo) -> str:
    """Hazard source and sensor, the place every sensor message starts with."""
    return f"{info.hazard_source.name} {sensor_label(info)}"


def level_names(info: SensorInfo, rule: str) -> tuple[str, str]:
    """(alarm name, limit name) of a threshold rule for this kind of sensor."""
    table = _GAS if info.sensor.kind in GAS_KINDS else _PROCESS
    return table[rule]
