"""One configuration of the rules engine, built from a registry and an optional rules file.

Cold path: runs at start and at each reload. Everything is built before anything is
handed to the engine, so a rules file that does not fit the registry raises
`RulesConfigError` and leaves the running configuration as it was.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import NamedTuple

from hazmon.domain.registry import Registry
from hazmon.domain.rulespec import EnterpriseRules, RulesFile, level_limit_name
from hazmon.rules import voting
from hazmon.rules.file import RulesConfigError, check_against, resolve_problems
from hazmon.rules.gateway import GatewayWatch
from hazmon.rules.kind import VoteKey
from hazmon.rules.sensor import SensorState, Share, VoteMember
from hazmon.rules.window import WindowPool

log = logging.getLogger(__name__)


class Configuration(NamedTuple):
    sensors: dict[tuple[str, str], SensorState]  # (enterprise, tag) → state
    votes: dict[VoteKey, voting.Vote]
    gateways: dict[str, GatewayWatch]  # enterprise code → its gateway


def build(
    registry: Registry, rules: RulesFile | None, gateway_silence_s: float
) -> Configuration:
    """Every sensor's state, every vote wired to its detectors' thresholds, every
    gateway; raise `RulesConfigError` listing all problems found."""
    problems: list[str] = []
    file_rules: Mapping[str, EnterpriseRules] = {}
    if rules is not None:
        problems.extend(check_against(rules, registry))
        file_rules = rules.enterprises
    sensors: dict[tuple[str, str], SensorState] = {}
    pool = WindowPool()  # every sample window of this configuration, in a few arrays
    share = Share()
    for key, info in registry.sensors.items():
        ent_rules = file_rules.get(key[0])
        override = ent_rules.sensors.get(key[1]) if ent_rules is not None else None
        found = resolve_problems(info.sensor.kind, info.sensor.rules, override)
        if found:
            problems.extend(f"{key[0]} {key[1]} rules: {p}" for p in found)
            continue
        hsi = registry.hazard_sources.get((key[0], info.hazard_source.code))
        sensors[key] = SensorState(info, override, hsi.grading.tier if hsi else None, pool, share)
    if problems:
        raise RulesConfigError(registry.source or "<registry>", problems)

    votes: dict[VoteKey, voting.Vote] = {}
    for (ent, hs_code), hsi in registry.hazard_sources.items():
        for spec in hsi.hazard_source.voting:
            level = level_limit_name(spec.level)
            members: list[voting.Member | None] = []
            vote = voting.Vote(spec, ent, hs_code, members)
            for tag in spec.tags:
                member = sensors.get((ent, tag))
                if member is None or not member.has_limit(level):
                    log.warning("vote %s/%s: %s has no %s limit", hs_code, spec.name, tag, level)
                    members.append(None)
                else:
                    # Only detectors that vote get a map of their own (see SensorState.votes).
                    feeds = member.votes if isinstance(member.votes, dict) else {}
                    feeds.setdefault(level, []).append(vote)
                    member.votes = feeds
                    members.append(VoteMember(member, level))
            votes[(ent, hs_code, spec.rule)] = vote

    gateways: dict[str, GatewayWatch] = {}
    for code, enterprise in registry.enterprises.items():
        tiers = [
            hsi.grading.tier
            for (e, _), hsi in registry.hazard_sources.items()
            if e == code and hsi.grading.tier is not None
        ]
        ent_rules = file_rules.get(code)
        gateway_rule = ent_rules.gateway if ent_rules is not None else None
        silence = gateway_rule.silence_s if gateway_rule is not None else gateway_silence_s
        gateways[code] = GatewayWatch(enterprise, silence, min(tiers) if tiers else None)

    for sensor in sensors.values():
        sensor.gateway = gateways.get(sensor.enterprise)
    return Configuration(sensors, votes, gateways)
