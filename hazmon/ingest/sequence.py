"""Per-gateway batch tracking (docs/CONTRACT.md §3.4): duplicates by content, gaps by `seq`.

A sequence number is never the reason a reading is lost. Whether a batch was received
before is decided by what it carries — its readings — so a gateway
that restarts its counter after a reboot, or reuses a number, has its batches stored.
`seq` serves only to notice batches that never arrived (gaps) and those that arrive
late to fill them.

How a number below the newest is read:

- inside an open gap, readings not newer than the newest seen: ``late`` (fills it);
- readings newer than anything seen, or the first batch after the gateway said
  ``online`` (a reconnect, perhaps a reboot): ``reset`` — counting goes on from it;
- otherwise ``resent``: readings not seen before under a number already counted
  (stored; the counter stays where it is).

The content memory is the newest `window` batches of each gateway, in this process
only: it is not saved, because after a crash a batch acknowledged to nobody may have
been evaluated but never stored, and the broker's redelivery must then be taken.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from typing import Any, Literal

from hazmon.domain.reading import Reading


class SeqStatus(StrEnum):
    FIRST = "first"  # first numbered batch seen from this gateway
    NEXT = "next"
    GAP = "gap"  # some batches before this one never arrived (yet)
    DUPLICATE = "duplicate"  # the same readings were received before: not stored twice
    LATE = "late"  # below the newest, inside a gap: fills it
    RESET = "reset"  # the gateway restarted its counter
    RESENT = "resent"  # a number already counted, with readings not seen before
    RESUMED = "resumed"  # first batch after an unclean restart of hazmon: no gap judged
    UNNUMBERED = "unnumbered"  # no `seq` in the batch, not a duplicate


def batch_digest(readings: Sequence[Reading]) -> int | None:
    """What identifies a batch's content: tag, time, value and quality of its readings.

    Values count: a gateway whose clock went back sends new values at times it used
    before, and those must still reach the rules. None for a batch with no valid
    reading: there is nothing to lose or to store twice."""
    if not readings:
        return None
    return hash(tuple([(r.sensor.sensor.tag, r.ts_ms, r.value, r.quality) for r in readings]))


class _Newest(Enum):
    FROM_READINGS = 0  # `observe` works the newest time out itself


@dataclass(slots=True)
class Gap:
    """Batches `first`..`last` (inclusive) of one gateway not received, seen at
    `detected_ms` (arrival time of the batch that revealed it)."""

    enterprise: str
    first: int
    last: int
    detected_ms: int

    @property
    def missing(self) -> int:
        return self.last - self.first + 1

    def label(self) -> str:
        return str(self.first) if self.first == self.last else f"{self.first}–{self.last}"


@dataclass(slots=True)
class _Gateway:
    last: int | None = None  # newest counted seq
    newest_ms: int | None = None  # newest reading time seen from the gateway
    gaps: list[Gap] = field(default_factory=list)  # open, oldest first
    reset_expected: bool = False  # said "online": the next batch may restart the counter
    resumed: bool = False  # restored after an unclean stop: `last` may be behind
    digests: set[int] = field(default_factory=set)
    order: deque[int] = field(default_factory=deque)
    # totals since the tracker was first started (kept across restarts)
    opened: int = 0  # batches found missing when a gap opened
    filled: int = 0  # of those, arrived late


class SequenceTracker:
    def __init__(self, window: int = 2048, gaps_kept: int = 100) -> None:
        self.window = window  # batches of content remembered per gateway
        self.gaps_kept = gaps_kept  # open gaps kept per gateway; the oldest give way
        self._gateways: dict[str, _Gateway] = {}
        self.duplicates = 0
        self.changes = 0  # gaps opened or filled: when to save the state early

    def _gw(self, enterprise: str) -> _Gateway:
        gw = self._gateways.get(enterprise)
        if gw is None:
            gw = self._gateways[enterprise] = _Gateway()
        return gw

    def observe(
        self, enterprise: str, seq: int | None, readings: Sequence[Reading], now_ms: int,
        newest_ms: int | Literal[_Newest.FROM_READINGS] | None = _Newest.FROM_READINGS,
    ) -> SeqStatus:
        """`newest_ms`: the newest reading time when the caller has it (the decoder does)."""
        gw = self._gw(enterprise)
        digest = batch_digest(readings)
        newest = (max((r.ts_ms for r in readings), default=None)
                  if newest_ms is _Newest.FROM_READINGS else newest_ms)
        if digest is not None and digest in gw.digests:
            self.duplicates += 1
            if seq is not None:
                self._count_received(gw, enterprise, seq, now_ms)
            return SeqStatus.DUPLICATE
        status = SeqStatus.UNNUMBERED if seq is None else self._count(gw, enterprise, seq,
                                                                       newest, now_ms)
        if newest is not None and (gw.newest_ms is None or newest > gw.newest_ms):
            gw.newest_ms = newest
        if digest is not None:
            gw.digests.add(digest)
            gw.order.append(digest)
            if len(gw.order) > self.window:
                gw.digests.discard(gw.order.popleft())
        return status

    def _count(
        self, gw: _Gateway, enterprise: str, seq: int, newest: int | None, now_ms: int
    ) -> SeqStatus:
        reset_expected, gw.reset_expected = gw.reset_expected, False
        resumed, gw.resumed = gw.resumed, False
        last = gw.last
        if last is None:
            gw.last = seq
            return SeqStatus.FIRST
        if seq == last + 1:
            gw.last = seq
            return SeqStatus.NEXT
        if seq > last:
            gw.last = seq
            if resumed:  # the batches in between may have been taken before the crash
                return SeqStatus.RESUMED
            self._open(gw, Gap(enterprise, last + 1, seq - 1, now_ms))
            return SeqStatus.GAP
        newer = newest is not None and gw.newest_ms is not None and newest > gw.newest_ms
        if not newer and self._fill(gw, seq):
            return SeqStatus.LATE
        if newer or reset_expected:
            gw.last = seq
            return SeqStatus.RESET
        return SeqStatus.RESENT

    def _count_received(self, gw: _Gateway, enterprise: str, seq: int, now_ms: int) -> None:
        """A duplicate's number still says the batch arrived (a resend under a new number
        must not look like a gap); it never moves the counter back."""
        if gw.last is None or seq > gw.last:
            if gw.last is not None and seq > gw.last + 1 and not gw.resumed:
                self._open(gw, Gap(enterprise, gw.last + 1, seq - 1, now_ms))
            gw.last = seq
        else:
            self._fill(gw, seq)

    def _open(self, gw: _Gateway, gap: Gap) -> None:
        gw.gaps.append(gap)
        gw.opened += gap.missing
        self.changes += 1
        if len(gw.gaps) > self.gaps_kept:
            del gw.gaps[0]

    def _fill(self, gw: _Gateway, seq: int) -> bool:
        """Take `seq` out of the newest open gap holding it."""
        for i in range(len(gw.gaps) - 1, -1, -1):
            g = gw.gaps[i]
            if g.first <= seq <= g.last:
                parts = [Gap(g.enterprise, a, b, g.detected_ms)
                         for a, b in ((g.first, seq - 1), (seq + 1, g.last)) if a <= b]
                gw.gaps[i:i + 1] = parts
                gw.filled += 1
                self.changes += 1
                return True
        return False

    def forget(self, enterprise: str) -> None:
        """Start the gateway afresh: its batches were counted elsewhere meanwhile (another
        instance held its partition), so the numbers seen here since are no gap."""
        self._gateways.pop(enterprise, None)

    def expect_reset(self, enterprise: str) -> None:
        """The gateway said it is online (again): it may have rebooted."""
        self._gw(enterprise).reset_expected = True

    # --- what is missing ------------------------------------------------------------------

    def open_gaps(self, enterprise: str) -> list[Gap]:
        gw = self._gateways.get(enterprise)
        return list(gw.gaps) if gw is not None else []

    def gapped(self) -> Iterable[str]:
        """Enterprises with batches missing now."""
        return (ent for ent, gw in self._gateways.items() if gw.gaps)

    @property
    def missing(self) -> int:
        """Batches missing now, over every gateway."""
        return sum(g.missing for gw in self._gateways.values() for g in gw.gaps)

    def missing_of(self, enterprise: str) -> int:
        return sum(g.missing for g in self.open_gaps(enterprise))

    def counts(self, enterprise: str) -> dict[str, int]:
        gw = self._gateways.get(enterprise) or _Gateway()
        return {"opened": gw.opened, "filled": gw.filled,
                "missing": sum(g.missing for g in gw.gaps)}

    # --- kept across restarts -------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        return {ent: {"last": gw.last, "newest_ms": gw.newest_ms, "opened": gw.opened,
                      "filled": gw.filled,
                      "gaps": [[g.first, g.last, g.detected_ms] for g in gw.gaps]}
                for ent, gw in self._gateways.items()}

    def restore(self, snap: dict[str, Any], *, clean: bool) -> None:
        """Take back a snapshot. After an unclean stop it may be behind what was counted
        (batches taken after the last save): the first batch of each gateway then opens
        no gap, or every crash would report batches that were in fact stored."""
        for ent, d in snap.items():
            self._gateways[ent] = _Gateway(
                last=d["last"], newest_ms=d["newest_ms"], opened=int(d["opened"]),
                filled=int(d["filled"]), resumed=not clean,
                gaps=[Gap(ent, int(a), int(b), int(t)) for a, b, t in d["gaps"]],
            )
