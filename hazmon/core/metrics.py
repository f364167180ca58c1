"""A small Prometheus registry: counters and gauges with labels, text exposition 0.0.4.

Kept in-process and dependency-free; components get the registry passed in and create
their own metrics, so tests can read counters directly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Literal, TypeVar

LabelValues = tuple[str, ...]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


class _Metric:
    kind: Literal["counter", "gauge"]

    def __init__(self, name: str, help_text: str, labels: Iterable[str] = ()) -> None:
        self.name = name
        self.help = help_text
        self.labels = tuple(labels)
        self.values: dict[LabelValues, float] = {}
        if not self.labels:
            self.values[()] = 0.0

    def get(self, *labels: str) -> float:
        return self.values.get(labels, 0.0)

    def total(self) -> float:
        return sum(self.values.values())

    def render(self) -> list[str]:
        out = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} {self.kind}"]
        for key, value in sorted(self.values.items()):
            if key:
                pairs = ",".join(
                    f'{n}="{_escape(v)}"' for n, v in zip(self.labels, key, strict=True)
                )
                out.append(f"{self.name}{{{pairs}}} {value:.17g}")
            else:
                out.append(f"{self.name} {value:.17g}")
        return out


M = TypeVar("M", bound=_Metric)


class Counter(_Metric):
    kind: Literal["counter", "gauge"] = "counter"

    def inc(self, amount: float = 1.0, *labels: str) -> None:
        self.values[labels] = self.values.get(labels, 0.0) + amount


class Gauge(_Metric):
    kind: Literal["counter", "gauge"] = "gauge"

    def __init__(
        self,
        name: str,
        help_text: str,
        labels: Iterable[str] = (),
        fn: Callable[[], float] | None = None,
    ) -> None:
        super().__init__(name, help_text, labels)
        self.fn = fn

    def set(self, value: float, *labels: str) -> None:
        self.values[labels] = value

    def render(self) -> list[str]:
        if self.fn is not None:
            self.values[()] = float(self.fn())
        return super().render()


class _ReadCounter(Gauge):
    """A counter kept elsewhere (a component's own tally), read at exposition time."""

    kind = "counter"


class Metrics:
    def __init__(self) -> None:
        self._metrics: dict[str, _Metric] = {}

    def counter(self, name: str, help_text: str, labels: Iterable[str] = ()) -> Counter:
        m = Counter(name, help_text, labels)
        return self._add(m)

    def gauge(
        self,
        name: str,
        help_text: str,
        labels: Iterable[str] = (),
        fn: Callable[[], float] | None = None,
    ) -> Gauge:
        return self._add(Gauge(name, help_text, labels, fn))

    def _add(self, metric: M) -> M:
        existing = self._metrics.get(metric.name)
        if existing is not None:
            if type(existing) is not type(metric):
                raise ValueError(f"metric {metric.name} already registered as {existing.kind}")
            return existing  # same name and kind: share the one already registered
        self._metrics[metric.name] = metric
        return metric

    def counter_from(self, name: str, help_text: str, fn: Callable[[], float]) -> Gauge:
        return self._add(_ReadCounter(name, help_text, (), fn))

    def render(self) -> str:
        lines: list[str] = []
        for name in sorted(self._metrics):
            lines.extend(self._metrics[name].render())
        return "\n".join(lines) + "\n"
