"""The grouping stage: an alarm flood must not become a notification flood.

Per recipient (or per channel, `group_by: channel`): at most `threshold` messages alone
in any `window_s`, the most urgent first. Beyond that, deliveries are held and go out
together as one digest once the oldest held one has waited `digest_wait_s` (default: the
window). While a digest went to the recipient within the window, new deliveries join the
next digest, so a long flood gives one message per window. Example with the defaults
(5 in 60 s): 30 alarms in one minute → 5 messages alone, then one digest of 25.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from hazmon.alerts.notify.config import GroupingConfig
from hazmon.alerts.notify.record import GroupState
from hazmon.core.clock import rfc3339
from hazmon.domain.signal import PRIORITY_RANK, Priority

T = TypeVar("T")

PRIORITIES = tuple(p.value for p in Priority)


def _rank(priority: str) -> int:
    try:
        return PRIORITY_RANK[Priority(priority)]
    except ValueError:
        return len(PRIORITY_RANK)


def split(pending: Sequence[tuple[str, T]], state: GroupState,
          cfg: GroupingConfig) -> tuple[list[T], list[T]]:
    """(send alone, hold for the digest) from (priority, item) pairs in arrival order."""
    if state.digest_in_window or state.oldest_held_ms is not None:
        return [], [item for _, item in pending]  # a flood is on: join the digest
    budget = max(0, cfg.threshold - state.singles_in_window)
    order = sorted(range(len(pending)), key=lambda i: (_rank(pending[i][0]), i))
    alone = set(order[:budget])
    return ([pending[i][1] for i in range(len(pending)) if i in alone],
            [pending[i][1] for i in range(len(pending)) if i not in alone])


def flush_at(oldest_held_ms: int, cfg: GroupingConfig) -> int:
    return oldest_held_ms + cfg.wait_ms


def digest(digest_id: str, items: Sequence[Mapping[str, Any]], cfg: GroupingConfig,
           now_ms: int) -> tuple[dict[str, Any], str, str]:
    """(JSON body, subject, text) of one digest of alarm events."""
    by_priority = Counter(str(i.get("priority")) for i in items)
    ordered = sorted(items, key=lambda i: (_rank(str(i.get("priority"))), str(i.get("ts"))))
    top = [
        {k: i.get(k) for k in ("id", "event", "priority", "enterprise", "hazard_source",
                               "tag", "rule", "value", "limit", "ts", "message",
                               "simulated")}
        | ({"escalation": i["escalation"]} if i.get("escalation") else {})
        for i in ordered[: cfg.top]
    ]
    enterprises = sorted({str(i.get("enterprise")) for i in items})
    simulated = bool(items) and all(bool(i.get("simulated")) for i in items)
    body: dict[str, Any] = {
        "event": "digest",
        "id": digest_id,
        "ts": rfc3339(now_ms),
        "simulated": simulated,
        "digest": {
            "count": len(items),
            "by_priority": {p: by_priority.get(p, 0) for p in PRIORITIES},
            "enterprises": enterprises,
            "first": min((str(i.get("ts")) for i in items), default=None),
            "last": max((str(i.get("ts")) for i in items), default=None),
            "items": top,
            "more": max(0, len(items) - len(top)),
        },
    }
    counts = "，".join(f"{p} {by_priority[p]}" for p in PRIORITIES if by_priority.get(p))
    prefix = "[演练] " if simulated else ""
    subject = f"{prefix}hazmon 报警汇总: {len(items)} 条 ({counts})"
    lines = [subject] + [
        f"- [{i['priority']}] {i.get('ts')} {i.get('message') or i.get('rule')}" for i in top
    ]
    if body["digest"]["more"]:
        lines.append(f"… 另有 {body['digest']['more']} 条")
    return body, subject, "\n".join(lines)
