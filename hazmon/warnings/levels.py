"""The warning levels, gravest first: 红 重大, 橙 较大, 黄 一般, 蓝 低."""

from __future__ import annotations

from enum import StrEnum


class WarningLevel(StrEnum):
    RED = "red"
    ORANGE = "orange"
    YELLOW = "yellow"
    BLUE = "blue"

    @property
    def rank(self) -> int:
        """0 for red (the gravest) to 3 for blue."""
        return _ORDER.index(self)

    def graver_than(self, other: WarningLevel) -> bool:
        return self.rank < other.rank

    @property
    def label(self) -> str:
        """The Chinese name shown on the page."""
        return _LABELS[self]


_ORDER: tuple[WarningLevel, ...] = (
    WarningLevel.RED, WarningLevel.ORANGE, WarningLevel.YELLOW, WarningLevel.BLUE,
)
_LABELS: dict[WarningLevel, str] = {
    WarningLevel.RED: "红色预警（重大）",
    WarningLevel.ORANGE: "橙色预警（较大）",
    WarningLevel.YELLOW: "黄色预警（一般）",
    WarningLevel.BLUE: "蓝色预警（低）",
}


def gravest(levels: list[WarningLevel]) -> WarningLevel | None:
    return min(levels, key=lambda lv: lv.rank) if levels else None
