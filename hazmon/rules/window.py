"""A small time-ordered sample window for the rate and trend rules.

Fixed capacity (64 points, two float64 arrays: about 1.3 KiB per sensor, allocated once).
A window longer than 64 readings is subsampled: the newest slot is overwritten by each
new reading until it lies `spacing_ms` past the slot before it, and only then does the
next reading take a new slot. So the window always ends with the latest value while the
older slots stay about `spacing_ms` apart (window / 60).

Storage is linear and kept sorted (the oldest slot drops out by a shift when full) rather
than a wrap-around ring, so a late reading can be inserted in time order and a time range
is one `searchsorted` away. Both are rare or cheap next to the Python around them.
"""

from __future__ import annotations

import functools
from typing import Final

import numpy as np
import numpy.typing as npt

CAPACITY: Final = 64
_SLOTS_PER_WINDOW: Final = 60  # leaves a few slots spare for the newest, floating one

F64 = npt.NDArray[np.float64]


@functools.cache
def _spacing(span_ms: int) -> int:
    return max(1, span_ms // _SLOTS_PER_WINDOW)  # cached: one int object per window length


class SampleWindow:
    __slots__ = ("n", "spacing_ms", "ts", "vs")

    def __init__(self, span_ms: int) -> None:
        self.spacing_ms = _spacing(span_ms)
        self.ts: F64 = np.zeros(CAPACITY, dtype=np.float64)  # epoch ms (exact below 2**53)
        self.vs: F64 = np.zeros(CAPACITY, dtype=np.float64)
        self.n = 0

    def __len__(self) -> int:
        return self.n

    @property
    def newest_ms(self) -> int | None:
        return int(self.ts[self.n - 1]) if self.n else None

    def add(self, ts_ms: int, value: float) -> bool:
        """Add a sample; True when it took a new slot (the moment worth evaluating)."""
        n = self.n
        ts, vs = self.ts, self.vs
        if n == 0:
            ts[0] = ts_ms
            vs[0] = value
            self.n = 1
            return True
        last = ts[n - 1]
        if ts_ms > last:
            # The newest slot floats (is overwritten) until it is a full spacing past the
            # slot before it; only then does a newer reading get a slot of its own.
            if n >= 2 and last - ts[n - 2] < self.spacing_ms:
                ts[n - 1] = ts_ms
                vs[n - 1] = value
                return False
            if n == CAPACITY:
                ts[:-1] = ts[1:]
                vs[:-1] = vs[1:]
                n -= 1
            ts[n] = ts_ms
            vs[n] = value
            self.n = n + 1
            return True
        self._insert_late(ts_ms, value)
        return False

    def _insert_late(self, ts_ms: int, value: float) -> None:
        # Late readings fill gaps in time order; one that lands within the spacing of a
        # neighbour would have been subsampled away had it come on time, so it is dropped.
        n = self.n
        ts, vs = self.ts, self.vs
        pos = int(np.searchsorted(ts[:n], ts_ms))
        if pos < n and ts[pos] - ts_ms < self.spacing_ms:
            return
        if pos > 0 and ts_ms - ts[pos - 1] < self.spacing_ms:
            return
        if n == CAPACITY:
            if pos == 0:
                return  # older than everything kept
            ts[: pos - 1] = ts[1:pos]
            vs[: pos - 1] = vs[1:pos]
            ts[pos - 1] = ts_ms
            vs[pos - 1] = value
            return
        ts[pos + 1 : n + 1] = ts[pos:n].copy()
        vs[pos + 1 : n + 1] = vs[pos:n].copy()
        ts[pos] = ts_ms
        vs[pos] = value
        self.n = n + 1

    def last(self, span_ms: float) -> tuple[F64, F64]:
        """Views of the samples within `span_ms` of the newest (no copies)."""
        n = self.n
        if n == 0:
            return self.ts[:0], self.vs[:0]
        start = int(np.searchsorted(self.ts[:n], self.ts[n - 1] - span_ms))
        return self.ts[start:n], self.vs[start:n]

    def to_lists(self) -> tuple[list[int], list[float]]:
        return [int(t) for t in self.ts[: self.n]], [float(v) for v in self.vs[: self.n]]

    def load(self, ts: list[int], vs: list[float]) -> None:
        """Refill from a snapshot (keeping the newest points if there are too many)."""
        pairs = sorted(zip(ts, vs, strict=True))[-CAPACITY:]
        self.n = len(pairs)
        for i, (t, v) in enumerate(pairs):
            self.ts[i] = t
            self.vs[i] = v
