"""The log lines of rejected payloads, kept readable under a flood of bad input.

The first payload rejected for each (enterprise, reason) is logged in full; the ones
after it are only counted, and once a minute one line names the counts of those not
logged one by one. A pair that goes a whole minute without a rejection is forgotten, so
its next one is logged in full again. The reject store and the metrics keep every one:
this only decides what reaches the log.

Time comes from the caller (the ingest clock): the minute ends at the first rejection or
`flush` after it, and the ingest pipeline flushes on every message it handles.
"""

from __future__ import annotations

import logging
from collections import Counter

log = logging.getLogger("hazmon.ingest.rejects")

SUMMARY_MS = 60_000
# A flood from many gateways must not make one endless line either.
MAX_SUMMARY_PAIRS = 20

Pair = tuple[str, str]  # enterprise ("-" when unknown), reason


class RejectLog:
    def __init__(self, every_ms: int = SUMMARY_MS) -> None:
        self.every_ms = every_ms
        self._end_ms: int | None = None  # end of the current minute; None: none open
        self._now: set[Pair] = set()  # pairs rejected in the current minute
        self._before: set[Pair] = set()  # pairs rejected in the minute before it
        self._counted: Counter[Pair] = Counter()  # not logged one by one, this minute

    def rejected(self, now_ms: int, topic: str, enterprise: str, reason: str,
                 detail: str) -> None:
        """One payload rejected whole: logged if it is the first of its pair, else counted."""
        self.flush(now_ms)
        if self._end_ms is None:
            self._end_ms = now_ms + self.every_ms
        pair = (enterprise, reason)
        if pair in self._now or pair in self._before:
            self._counted[pair] += 1
        else:
            log.warning("rejected payload on %s: %s: %s (further ones from %s for %s are"
                             " counted in a summary every minute)",
                             topic, reason, detail, enterprise, reason)
        self._now.add(pair)

    def flush(self, now_ms: int) -> None:
        """End the current minute if it is over: log its summary and start the next."""
        if self._end_ms is None or now_ms < self._end_ms:
            return
        if self._counted:
            log.warning("rejected payloads not logged one by one in the last minute"
                             " (all kept in the reject store and the metrics): %s",
                             _summary(self._counted))
        # a whole minute after this one has passed without a rejection: nothing carries on
        quiet = now_ms >= self._end_ms + self.every_ms
        self._before = set() if quiet else self._now
        self._now = set()
        self._counted = Counter()
        self._end_ms = self._end_ms + self.every_ms if self._before else None


def _summary(counted: Counter[Pair]) -> str:
    pairs = sorted(counted.items(), key=lambda kv: (-kv[1], kv[0]))
    text = ", ".join(f"{ent} {reason} {n}" for (ent, reason), n in pairs[:MAX_SUMMARY_PAIRS])
    rest = pairs[MAX_SUMMARY_PAIRS:]
    if rest:
        text += f", and {len(rest)} more pairs {sum(n for _, n in rest)}"
    return text
