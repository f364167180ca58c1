"""A small time-ordered sample window for the rate and trend rules.

Fixed capacity: 64 points. A window longer than 64 readings is subsampled: the newest
slot is overwritten by each new reading until it lies `spacing_ms` past the slot before
it, and only then does the next reading take a new slot. So the window always ends with
the latest value while the older slots stay about `spacing_ms` apart (window / 60).

Storage is linear and kept sorted (the oldest slot drops out by a shift when full) rather
than a wrap-around ring, so a late reading can be inserted in time order and a time range
is one `searchsorted` away. Both are rare or cheap next to the Python around them.

Memory is what this module is shaped by: with tens of thousands of sensors, the windows
are most of the rules engine's footprint. So the windows of one engine live as rows of a
few large arrays (`WindowPool`, blocks of 256 rows) rather than as two small arrays each
(which cost a 112-byte array header apiece), and times are stored as int32 milliseconds
after a per-row base rather than as int64/float64: 4 + 8 bytes per slot, 776 bytes per
sensor. An int32 offset spans 24.8 days; the longest rule window is one day (rulespec),
so a sample that much older than the newest is of no use to any fit and is dropped.
Offsets, differences of offsets and the values the fits compute from them are exact, so
the rules see the same numbers as with absolute times.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import numpy.typing as npt

from hazmon.rules.kind import SensorKind

if TYPE_CHECKING:
    from hazmon.rules.sensor import SensorState

CAPACITY: Final = 64
_SLOTS_PER_WINDOW: Final = 60  # leaves a few slots spare for the newest, floating one
BLOCK_ROWS: Final = 256  # rows per block: a row index is always a small (cached) int
MAX_SPAN_MS: Final = 2**31 - 1  # newest − oldest sample; int32 offsets from the oldest

F64 = npt.NDArray[np.float64]
I32 = npt.NDArray[np.int32]
Times = npt.NDArray[Any]  # ms: int32 offsets from a window, or absolute float64/int64


@functools.cache
def _spacing(span_ms: int) -> int:
    return max(1, span_ms // _SLOTS_PER_WINDOW)  # cached: one int object per window length


class _Block:
    """`rows` windows' storage: times as offsets from each row's base, and values."""

    __slots__ = ("base", "ts", "vs")

    def __init__(self, rows: int) -> None:
        # np.zeros: pages are touched (and count in RSS) only once a row is written.
        self.ts: I32 = np.zeros((rows, CAPACITY), dtype=np.int32)
        self.vs: F64 = np.zeros((rows, CAPACITY), dtype=np.float64)
        self.base: npt.NDArray[np.int64] = np.zeros(rows, dtype=np.int64)


class WindowPool:
    """Hands out rows for windows, a block at a time. Rows are not reused: a pool lives as
    long as the engine configuration that made it (a reload builds a new one)."""

    __slots__ = ("_block", "_next", "_rows")

    def __init__(self, rows_per_block: int = BLOCK_ROWS) -> None:
        self._rows = rows_per_block
        self._block: _Block | None = None
        self._next = rows_per_block

    def take(self) -> tuple[_Block, int]:
        if self._block is None or self._next == self._rows:
            self._block = _Block(self._rows)
            self._next = 0
        row = self._next
        self._next += 1
        return self._block, row


class SampleWindow:
    __slots__ = ("_block", "_row", "n", "spacing_ms")

    def __init__(self, span_ms: int, pool: WindowPool | None = None) -> None:
        self.spacing_ms = _spacing(span_ms)
        self._block, self._row = (pool or WindowPool(1)).take()
        self.n = 0

    def __len__(self) -> int:
        return self.n

    @property
    def base_ms(self) -> int:
        """Epoch ms that the times `last` returns are offsets from."""
        return int(self._block.base.item(self._row))

    @property
    def newest_ms(self) -> int | None:
        return self.base_ms + int(self._block.ts.item(self._row, self.n - 1)) if self.n else None

    @property
    def nbytes(self) -> int:
        """Bytes of storage this window holds in its pool (its row of each array)."""
        b = self._block
        return (b.ts.nbytes + b.vs.nbytes + b.base.nbytes) // len(b.base)

    def add(self, ts_ms: int, value: float) -> bool:
        """Add a sample; True when it took a new slot (the moment worth evaluating)."""
        n = self.n
        b, row = self._block, self._row
        if n == 0:
            b.base[row] = ts_ms
            b.ts[row, 0] = 0
            b.vs[row, 0] = value
            self.n = 1
            return True
        ts = b.ts
        off = ts_ms - b.base.item(row)
        last = ts.item(row, n - 1)
        if off <= last:
            self._insert_late(ts_ms, value)
            return False
        if off > MAX_SPAN_MS:
            self._drop_older_than(ts_ms - MAX_SPAN_MS)
            return self.add(ts_ms, value)  # once: the offset fits now
        vs = b.vs
        # The newest slot floats (is overwritten) until it is a full spacing past the
        # slot before it; only then does a newer reading get a slot of its own.
        if n >= 2 and last - ts.item(row, n - 2) < self.spacing_ms:
            ts[row, n - 1] = off
            vs[row, n - 1] = value
            return False
        if n == CAPACITY:
            ts[row, :-1] = ts[row, 1:]
            vs[row, :-1] = vs[row, 1:]
            n -= 1
        ts[row, n] = off
        vs[row, n] = value
        self.n = n + 1
        return True

    def _drop_older_than(self, oldest_ms: int) -> None:
        """Drop samples before `oldest_ms` and make the oldest kept one the base."""
        b, row, n = self._block, self._row, self.n
        ts, vs = b.ts, b.vs
        base = b.base.item(row)
        target = oldest_ms - base
        if target <= 0:
            k = 0
        elif target > MAX_SPAN_MS:
            k = n  # every offset is below it
        else:
            k = int(np.searchsorted(ts[row, :n], target))
        keep = n - k
        if keep:
            shift = ts.item(row, k)
            ts[row, :keep] = ts[row, k:n] - shift
            vs[row, :keep] = vs[row, k:n]
            b.base[row] = base + shift
        self.n = keep

    def _insert_late(self, ts_ms: int, value: float) -> None:
        # Late readings fill gaps in time order; one that lands within the spacing of a
        # neighbour would have been subsampled away had it come on time, so it is dropped.
        b, row, n = self._block, self._row, self.n
        ts, vs = b.ts, b.vs
        base = b.base.item(row)
        if base + ts.item(row, n - 1) - ts_ms > MAX_SPAN_MS:
            return  # older than any rule window looks back
        if ts_ms < base:
            # Earlier than the base: move the base back to it (offsets stay in int32,
            # since newest − ts_ms is within MAX_SPAN_MS).
            ts[row, :n] += base - ts_ms
            b.base[row] = base = ts_ms
        off = ts_ms - base
        row_ts = ts[row, :n]
        pos = int(np.searchsorted(row_ts, off))
        if pos < n and ts.item(row, pos) - off < self.spacing_ms:
            return
        if pos > 0 and off - ts.item(row, pos - 1) < self.spacing_ms:
            return
        if n == CAPACITY:
            if pos == 0:
                return  # older than everything kept
            ts[row, : pos - 1] = ts[row, 1:pos]
            vs[row, : pos - 1] = vs[row, 1:pos]
            ts[row, pos - 1] = off
            vs[row, pos - 1] = value
            return
        ts[row, pos + 1 : n + 1] = ts[row, pos:n].copy()
        vs[row, pos + 1 : n + 1] = vs[row, pos:n].copy()
        ts[row, pos] = off
        vs[row, pos] = value
        self.n = n + 1

    def last(self, span_ms: float) -> tuple[I32, F64]:
        """Views of the samples within `span_ms` of the newest (no copies): times as ms
        after `base_ms`, and values."""
        b, row, n = self._block, self._row, self.n
        ts = b.ts[row, :n]
        if n == 0:
            return ts, b.vs[row, :0]
        start = int(np.searchsorted(ts, b.ts.item(row, n - 1) - span_ms))
        return ts[start:], b.vs[row, start:n]

    def to_lists(self) -> tuple[list[int], list[float]]:
        b, row, n = self._block, self._row, self.n
        base = self.base_ms
        return [base + t for t in b.ts[row, :n].tolist()], b.vs[row, :n].tolist()

    def load(self, ts: list[int], vs: list[float]) -> None:
        """Refill from a snapshot (keeping the newest points if there are too many)."""
        pairs = sorted(zip(ts, vs, strict=True))[-CAPACITY:]
        if pairs:
            newest = pairs[-1][0]
            pairs = [p for p in pairs if newest - p[0] <= MAX_SPAN_MS]
        b, row = self._block, self._row
        self.n = len(pairs)
        if not pairs:
            return
        base = pairs[0][0]
        b.base[row] = base
        for i, (t, v) in enumerate(pairs):
            b.ts[row, i] = t - base
            b.vs[row, i] = v


# --- cold path: the samples in a sensor's snapshot entry ---------------------------------


def dump(sensor: SensorState) -> list[list[Any]] | None:
    window = sensor.window
    return list(window.to_lists()) if window is not None and len(window) else None


def load(sensor: SensorState, saved: list[list[Any]] | None) -> None:
    if sensor.window is not None and saved is not None:
        ts, vs = saved
        sensor.window.load(ts, vs)


def _holds(sensor: SensorState, rule: str) -> bool | None:
    return None  # samples, not a condition


KIND: Final = SensorKind("window", ("window",), dump, load, _holds)
