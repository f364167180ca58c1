"""Which partition a region belongs to, and the part of the registry a partition holds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from hazmon.domain.registry import Registry
from hazmon.domain.rulespec import RulesFile


def partition_of(region: str, partitions: Mapping[str, Sequence[str]]) -> str | None:
    for name, prefixes in partitions.items():
        if any(region.startswith(p) for p in prefixes):
            return name
    return None


def enterprise_partitions(registry: Registry, partitions: Mapping[str, Sequence[str]]
                          ) -> dict[str, str]:
    """Enterprise code -> partition name (enterprises in no partition are left out)."""
    out = {}
    for code, ent in registry.enterprises.items():
        name = partition_of(ent.region, partitions)
        if name is not None:
            out[code] = name
    return out


def unassigned(registry: Registry, partitions: Mapping[str, Sequence[str]]) -> list[str]:
    """Regions of the registry that no partition covers: nobody would serve them."""
    return sorted(r for r in registry.regions if partition_of(r, partitions) is None)


def subset(registry: Registry, codes: frozenset[str] = frozenset()) -> Registry:
    """The registry cut down to these enterprises (the objects are shared, not copied)."""
    return Registry(
        enterprises={c: e for c, e in registry.enterprises.items() if c in codes},
        hazard_sources={k: v for k, v in registry.hazard_sources.items() if k[0] in codes},
        sensors={k: v for k, v in registry.sensors.items() if k[0] in codes},
        warnings=(),
        source=registry.source,
        _by_enterprise={c: registry.sensors_of(c) for c in codes
                        if c in registry.enterprises},
    )


def rules_subset(rules: RulesFile | None, codes: frozenset[str]) -> RulesFile | None:
    """The rules file cut to these enterprises (it is checked against the engine's
    registry, which holds only them)."""
    if rules is None:
        return None
    return rules.model_copy(update={"enterprises": {
        c: r for c, r in rules.enterprises.items() if c in codes}})
