"""Per-gateway `seq` tracking (CONTRACT §3): gaps are recorded, repeats are duplicates."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum


class SeqStatus(StrEnum):
    FIRST = "first"  # first batch seen from this gateway since start
    NEXT = "next"
    GAP = "gap"  # some batches before this one never arrived (yet)
    DUPLICATE = "duplicate"  # seen before: not stored twice
    LATE = "late"  # older than the newest, not seen before: fills a gap
    RESET = "reset"  # far below the newest: the gateway restarted its counter


@dataclass(frozen=True, slots=True)
class Gap:
    enterprise: str
    after_seq: int
    before_seq: int
    detected_ms: int

    @property
    def missing(self) -> int:
        return self.before_seq - self.after_seq - 1


@dataclass(slots=True)
class _Gateway:
    last: int
    recent: set[int] = field(default_factory=set)
    order: deque[int] = field(default_factory=deque)


class SequenceTracker:
    """Remembers the newest `window` sequence numbers of each gateway.

    A repeat within the window is a duplicate; a number far below the newest (beyond
    the window) is taken as a counter reset, not as thousands of duplicates.
    """

    def __init__(self, window: int = 4096, gaps_kept: int = 1000) -> None:
        self.window = window
        self._gateways: dict[str, _Gateway] = {}
        self.gaps: deque[Gap] = deque(maxlen=gaps_kept)
        self.gap_batches = 0
        self.duplicates = 0

    def observe(self, enterprise: str, seq: int, now_ms: int) -> SeqStatus:
        gw = self._gateways.get(enterprise)
        if gw is None:
            self._gateways[enterprise] = gw = _Gateway(seq)
            self._remember(gw, seq)
            return SeqStatus.FIRST
        if seq in gw.recent:
            self.duplicates += 1
            return SeqStatus.DUPLICATE
        if seq == gw.last + 1:
            status = SeqStatus.NEXT
        elif seq > gw.last:
            gap = Gap(enterprise, gw.last, seq, now_ms)
            self.gaps.append(gap)
            self.gap_batches += gap.missing
            status = SeqStatus.GAP
        elif gw.last - seq > self.window:
            gw.recent.clear()
            gw.order.clear()
            status = SeqStatus.RESET
        else:
            self._remember(gw, seq)
            return SeqStatus.LATE
        gw.last = seq
        self._remember(gw, seq)
        return status

    def _remember(self, gw: _Gateway, seq: int) -> None:
        gw.recent.add(seq)
        gw.order.append(seq)
        if len(gw.order) > self.window:
            gw.recent.discard(gw.order.popleft())
