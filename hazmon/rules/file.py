"""The rules file: per-enterprise overrides of sensor rules, outside the registry.

```yaml
enterprises:
  91320921MA1XXXXX0Q:
    gateway: {silence_s: 600}
    sensors:
      MHS-01.T101.LT01:
        threshold: {on_delay_s: 30}
        rate: {rise_per_min: 0.5, window_s: 120}
        trend: {horizon_s: 3600}
```

It loads into the strict models of `hazmon.domain.rulespec` (unknown keys fail), then is
checked against the registry (unknown enterprises and tags fail). Every problem is
collected and raised together in one `RulesConfigError`, each with its path and line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from hazmon.domain.registry import (
    YAML_LOADER,
    LineIndex,
    Loc,
    Registry,
    format_loc,
    yaml_problem,
)

# Shared with the registry loader so both report places the same way.
from hazmon.domain.registry import _pydantic_loc as pydantic_loc
from hazmon.domain.registry import _where as where
from hazmon.domain.rulespec import RulesFile, SensorRules, resolve


class RulesConfigError(Exception):
    """Rule configuration cannot be used; `problems` lists each one with its path."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"invalid rules {source}: {len(self.problems)} problem(s)\n{lines}")


def load_rules_file(path: str | Path, registry: Registry | None = None) -> RulesFile:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise RulesConfigError(str(p), [f"cannot read file: {exc.strerror or exc}"]) from exc
    return parse_rules_file(text, source=str(p), registry=registry)


def parse_rules_file(
    text: str, source: str = "<rules>", registry: Registry | None = None
) -> RulesFile:
    """Validate a rules file; with a registry, also check its enterprises and tags exist."""
    try:
        data: Any = yaml.load(text, Loader=YAML_LOADER)  # a safe loader (C or Python)
    except yaml.YAMLError as exc:
        raise RulesConfigError(source, [yaml_problem(exc)]) from exc
    lines = LineIndex(text)
    try:
        rules = RulesFile.model_validate({} if data is None else data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = pydantic_loc(err["loc"])
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key"
            problems.append(f"{where(loc, lines)}: {msg}")
        raise RulesConfigError(source, problems) from exc
    if registry is not None:
        problems = check_against(rules, registry, lines)
        if problems:
            raise RulesConfigError(source, problems)
    return rules


def check_against(
    rules: RulesFile, registry: Registry, lines: Mapping[Loc, int] | None = None
) -> list[str]:
    """Problems of a rules file with respect to a registry (unknown enterprise or tag)."""
    at = lines if lines is not None else {}  # not `or`: that would build a LineIndex
    problems: list[str] = []
    for ent, ent_rules in rules.enterprises.items():
        eloc: Loc = ("enterprises", ent)
        if ent not in registry.enterprises:
            problems.append(f"{where(eloc, at)}: unknown enterprise {ent}")
            continue
        known = registry.sensors_of(ent)
        for tag, sensor_rules in ent_rules.sensors.items():
            sloc: Loc = (*eloc, "sensors", tag)
            info = known.get(tag)
            if info is None:
                problems.append(f"{where(sloc, at)}: unknown tag {tag} of enterprise {ent}")
                continue
            problems.extend(
                f"{where(sloc, at)}: {p}" for p in resolve_problems(info.sensor.kind, sensor_rules)
            )
    return problems


def resolve_problems(kind: str, *overrides: SensorRules | None) -> list[str]:
    """Problems of merging overrides onto the kind defaults (empty when they merge)."""
    try:
        resolve(kind, *overrides)
    except ValidationError as exc:
        return [
            f"{format_loc(pydantic_loc(e['loc']))}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        ]
    return []
