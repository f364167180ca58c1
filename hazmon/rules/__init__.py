"""Pure alarm rules: threshold, rate of change, trend, data health, voting.

`RulesEngine` turns readings, gateway status and clock ticks into `AlarmSignal`s; it does
no I/O and reads no clock. Rule configuration lives in `hazmon.domain.rulespec` (in the
registry) and optionally in a rules file (`load_rules_file`).
"""

from hazmon.rules.engine import RulesEngine
from hazmon.rules.file import (
    RulesConfigError,
    check_against,
    load_rules_file,
    parse_rules_file,
)
from hazmon.rules.priority import MATRIX, Severity, priority
from hazmon.rules.snapshot import SNAPSHOT_VERSION

__all__ = [
    "MATRIX",
    "SNAPSHOT_VERSION",
    "RulesConfigError",
    "RulesEngine",
    "Severity",
    "check_against",
    "load_rules_file",
    "parse_rules_file",
    "priority",
]
