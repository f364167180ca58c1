"""Who may do what: the action-rights table (docs/SECURITY.md, "Action rights").

Seeing a thing is the scope's business (`hazmon.api.scope`); acting on it is this table's.
The defaults follow ISA-18.2 and the 2021 包保 rules: the operator acts on plant alarms,
so the enterprise acknowledges, shelves and takes instruments out of service; the
regulators (county, city, province) comment, review and close warnings, check on site,
call rolls and patrol. A site changes the table in settings (`http.rights`), per action:
the roles listed there replace the default for that action.

The simulator role acts for simulated plants only (its scope sees nothing else), so it may
do what an enterprise does: that is how the drills answer roll calls and file feedback.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Final

from pydantic import BeforeValidator

from hazmon.api.errors import Forbidden
from hazmon.api.scope import Principal, Role


class Action(StrEnum):
    ALARM_ACK = "alarm.ack"
    ALARM_SHELVE = "alarm.shelve"  # shelve and unshelve
    ALARM_COMMENT = "alarm.comment"
    HOLD_SUPPRESS = "hold.suppress"  # a hazard source suppressed by design (停车/检修)
    HOLD_OUT_OF_SERVICE = "hold.out_of_service"  # a sensor or source under maintenance
    WARNING_OPEN = "warning.open"  # a warning opened by hand (a patrol's finding)
    WARNING_FEEDBACK = "warning.feedback"  # 处置反馈
    WARNING_REVIEW = "warning.review"  # accept (消警) or return
    WARNING_ONSITE = "warning.onsite"  # 现场核查 record
    COMMITMENT_FILE = "commitment.file"  # 安全承诺
    RUNSTATE_SET = "runstate.set"
    DUTY_RECORD = "duty.record"  # 包保 duty records
    ROLLCALL_CALL = "rollcall.call"
    ROLLCALL_ANSWER = "rollcall.answer"
    PATROL_RECORD = "patrol.record"  # 在线巡查 findings
    METRICS_READ = "metrics.read"


_PLANT: Final = frozenset({Role.ENTERPRISE, Role.SIMULATOR})
_REGULATOR: Final = frozenset({Role.COUNTY, Role.CITY, Role.PROVINCE})
_EVERYONE: Final = _PLANT | _REGULATOR

DEFAULT_RIGHTS: Final[Mapping[Action, frozenset[Role]]] = {
    Action.ALARM_ACK: _PLANT,
    Action.ALARM_SHELVE: _PLANT,
    Action.ALARM_COMMENT: _EVERYONE,
    Action.HOLD_SUPPRESS: _PLANT,
    Action.HOLD_OUT_OF_SERVICE: _PLANT,
    Action.WARNING_OPEN: _REGULATOR,
    Action.WARNING_FEEDBACK: _PLANT,
    Action.WARNING_REVIEW: _REGULATOR,
    Action.WARNING_ONSITE: _REGULATOR,
    Action.COMMITMENT_FILE: _PLANT,
    Action.RUNSTATE_SET: _PLANT,
    Action.DUTY_RECORD: _PLANT,
    Action.ROLLCALL_CALL: _REGULATOR,
    Action.ROLLCALL_ANSWER: _PLANT,
    Action.PATROL_RECORD: _REGULATOR,
    Action.METRICS_READ: frozenset({Role.PROVINCE}),
}


# What each action is, for the table in docs/SECURITY.md (rights_markdown).
ACTION_TEXT: Final[Mapping[Action, str]] = {
    Action.ALARM_ACK: "acknowledge an alarm (确认)",
    Action.ALARM_SHELVE: "shelve and unshelve an alarm (搁置)",
    Action.ALARM_COMMENT: "comment on an alarm (备注)",
    Action.HOLD_SUPPRESS: "suppress a hazard source by design (停车/检修)",
    Action.HOLD_OUT_OF_SERVICE: "take a sensor or source out of service (维修)",
    Action.WARNING_OPEN: "open a warning by hand (巡查发现)",
    Action.WARNING_FEEDBACK: "file disposal feedback on a warning (处置反馈)",
    Action.WARNING_REVIEW: "review a warning: accept (消警) or return",
    Action.WARNING_ONSITE: "record an on-site check (现场核查)",
    Action.COMMITMENT_FILE: "file the daily safety commitment (安全承诺)",
    Action.RUNSTATE_SET: "set a hazard source's run state",
    Action.DUTY_RECORD: "record a 包保 duty",
    Action.ROLLCALL_CALL: "call a roll (值班点名)",
    Action.ROLLCALL_ANSWER: "answer a roll call",
    Action.PATROL_RECORD: "record an online patrol finding (在线巡查)",
    Action.METRICS_READ: "read /metrics and the /health detail",
}
_COLUMNS: Final = (Role.PROVINCE, Role.CITY, Role.COUNTY, Role.ENTERPRISE, Role.SIMULATOR)


def rights_markdown(rights: Mapping[Action, frozenset[Role]] = DEFAULT_RIGHTS) -> str:
    """The table as Markdown, one row per action (docs/SECURITY.md holds the defaults; a
    test keeps the two equal)."""
    head = "| action | what | " + " | ".join(r.value for r in _COLUMNS) + " |"
    rule = "|---|---|" + "---|" * len(_COLUMNS)
    rows = [f"| `{a.value}` | {ACTION_TEXT[a]} | "
            + " | ".join("✓" if r in rights[a] else "" for r in _COLUMNS) + " |"
            for a in Action]
    return "\n".join([head, rule, *rows]) + "\n"


def _as_roles(value: object) -> object:
    # YAML gives a list; a set of roles is what the table means
    return frozenset(value) if isinstance(value, list | tuple) else value


RoleSet = Annotated[frozenset[Role], BeforeValidator(_as_roles)]


class Rights:
    """The table in force: the defaults with a site's overrides laid over them."""

    def __init__(self, overrides: Mapping[Action, frozenset[Role]] | None = None) -> None:
        self._table: dict[Action, frozenset[Role]] = dict(DEFAULT_RIGHTS)
        self._table.update(overrides or {})

    def may(self, role: Role, action: Action) -> bool:
        return role in self._table[action]

    def roles(self, action: Action) -> frozenset[Role]:
        return self._table[action]

    def check(self, principal: Principal, action: Action) -> None:
        """Forbidden (403) unless the caller's role may do `action`."""
        if not self.may(principal.role, action):
            allowed = ", ".join(sorted(r.value for r in self._table[action])) or "nobody"
            raise Forbidden(f"a {principal.role.value} token may not {action.value} "
                            f"(allowed: {allowed}; see http.rights)", action=action.value)

    def table(self) -> dict[str, list[str]]:
        """The table as plain data, for docs and GET endpoints."""
        return {a.value: sorted(r.value for r in roles) for a, roles in self._table.items()}
