"""A small time-ordered sample window for the rate and trend rules.

Fixed capacity: 64 points. A window longer than 64 readings is subsampled: the newest
slot is overwritten by each new reading until it lies `spacing_ms` past the slot before
it, and only then does the next reading take a new slot. So the window always ends with
the latest value while the older slots stay about `spacing_ms` apart (window / 60).

Storage is linear and kept sorted (the oldest slot drops out by a shift when full) rather
than a wrap-around ring, so a late reading can be inserted in time order and a time range
is one `bisect` away. Both are rare or cheap next to the Python around them.

Memory is what this module is shaped by: with tens of thousands of sensors, the windows
are most of the rules engine's footprint. So the windows of one engine live as rows of a
few large flat arrays (`WindowPool`, blocks of 256 rows) rather than as two small arrays
each (which cost a 64-112-byte header apiece), and times are stored as int32 milliseconds
after a per-row base rather than as int64/float64: 4 + 8 bytes per slot, 776 bytes per
sensor. An int32 offset spans 24.8 days; the longest rule window is one day (rulespec),
so a sample that much older than the newest is of no use to any fit and is dropped.
Offsets, differences of offsets and the values the fits compute from them are exact, so
the rules see the same numbers as with absolute times.
"""

from __future__ import annotations

import functools
from array import array
from bisect import bisect_left
from operator import attrgetter
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
    """`rows` windows' storage: times as offsets from each row's base, and values, row
    after row in flat arrays (`array.array`: indexing one slot from Python is a few times
    cheaper than a numpy scalar access, and the bytes per slot are the same)."""

    FIELDS: Final = ("base", "ts", "vs")
    __slots__ = FIELDS

    def __init__(self, rows: int) -> None:
        # Made by repetition, which allocates exactly; `array(code, bytes(n))` grows its
        # buffer as if appended to (1/16 spare) and cost ~250 B of RSS per sensor.
        self.ts: array[int] = array("i", [0]) * (rows * CAPACITY)
        self.vs: array[float] = array("d", [0.0]) * (rows * CAPACITY)
        self.base: array[int] = array("q", [0]) * rows


class WindowPool:
    """Hands out rows for windows, a block at a time. Rows are not reused: a pool lives as
    long as the engine configuration that made it (a reload builds a new one)."""

    FIELDS: Final = ("_block", "_next", "_rows")
    __slots__ = FIELDS

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
    FIELDS: Final = ("_block", "_row", "n", "spacing_ms")
    __slots__ = FIELDS

    def __init__(self, span_ms: int, pool: WindowPool | None = None) -> None:
        self.spacing_ms = _spacing(span_ms)
        self._block, self._row = (pool or WindowPool(1)).take()
        self.n = 0

    def __len__(self) -> int:
        return self.n

    @property
    def base_ms(self) -> int:
        """Epoch ms that the times `last` and `recent` return are offsets from."""
        return self._block.base[self._row]

    @property
    def newest_ms(self) -> int | None:
        if not self.n:
            return None
        return self._block.base[self._row] + self._block.ts[self._row * CAPACITY + self.n - 1]

    @property
    def nbytes(self) -> int:
        """Bytes of storage this window holds in its pool (its row of each array)."""
        b = self._block
        rows = len(b.base)
        return (len(b.ts) * b.ts.itemsize + len(b.vs) * b.vs.itemsize
                + rows * b.base.itemsize) // rows

    def add(self, ts_ms: int, value: float) -> bool:
        """Add a sample; True when it took a new slot (the moment worth evaluating)."""
        n = self.n
        b, row = self._block, self._row
        o = row * CAPACITY  # the row's first slot
        ts = b.ts
        if n == 0:
            b.base[row] = ts_ms
            ts[o] = 0
            b.vs[o] = value
            self.n = 1
            return True
        off = ts_ms - b.base[row]
        last = ts[o + n - 1]
        if off <= last:
            self._insert_late(ts_ms, value)
            return False
        if off > MAX_SPAN_MS:
            self._drop_older_than(ts_ms - MAX_SPAN_MS)
            return self.add(ts_ms, value)  # once: the offset fits now
        vs = b.vs
        # The newest slot floats (is overwritten) until it is a full spacing past the
        # slot before it; only then does a newer reading get a slot of its own.
        if n >= 2 and last - ts[o + n - 2] < self.spacing_ms:
            ts[o + n - 1] = off
            vs[o + n - 1] = value
            return False
        if n == CAPACITY:
            ts[o : o + CAPACITY - 1] = ts[o + 1 : o + CAPACITY]
            vs[o : o + CAPACITY - 1] = vs[o + 1 : o + CAPACITY]
            n -= 1
        ts[o + n] = off
        vs[o + n] = value
        self.n = n + 1
        return True

    def _drop_older_than(self, oldest_ms: int) -> None:
        """Drop samples before `oldest_ms` and make the oldest kept one the base."""
        b, row, n = self._block, self._row, self.n
        o = row * CAPACITY
        ts, vs = b.ts, b.vs
        base = b.base[row]
        target = oldest_ms - base
        if target <= 0:
            k = 0
        elif target > MAX_SPAN_MS:
            k = n  # every offset is below it
        else:
            k = bisect_left(ts, target, o, o + n) - o
        keep = n - k
        if keep:
            shift = ts[o + k]
            for i in range(keep):
                ts[o + i] = ts[o + k + i] - shift
            vs[o : o + keep] = vs[o + k : o + n]
            b.base[row] = base + shift
        self.n = keep

    def _insert_late(self, ts_ms: int, value: float) -> None:
        # Late readings fill gaps in time order; one that lands within the spacing of a
        # neighbour would have been subsampled away had it come on time, so it is dropped.
        b, row, n = self._block, self._row, self.n
        o = row * CAPACITY
        ts, vs = b.ts, b.vs
        base = b.base[row]
        if base + ts[o + n - 1] - ts_ms > MAX_SPAN_MS:
            return  # older than any rule window looks back
        if ts_ms < base:
            # Earlier than the base: move the base back to it (offsets stay in int32,
            # since newest − ts_ms is within MAX_SPAN_MS).
            moved = base - ts_ms
            for i in range(o, o + n):
                ts[i] += moved
            b.base[row] = base = ts_ms
        off = ts_ms - base
        pos = bisect_left(ts, off, o, o + n) - o
        if pos < n and ts[o + pos] - off < self.spacing_ms:
            return
        if pos > 0 and off - ts[o + pos - 1] < self.spacing_ms:
            return
        if n == CAPACITY:
            if pos == 0:
                return  # older than everything kept
            ts[o : o + pos - 1] = ts[o + 1 : o + pos]
            vs[o : o + pos - 1] = vs[o + 1 : o + pos]
            ts[o + pos - 1] = off
            vs[o + pos - 1] = value
            return
        ts[o + pos + 1 : o + n + 1] = ts[o + pos : o + n]
        vs[o + pos + 1 : o + n + 1] = vs[o + pos : o + n]
        ts[o + pos] = off
        vs[o + pos] = value
        self.n = n + 1

    def _start(self, span_ms: float) -> int:
        """Index (in the row) of the oldest sample within `span_ms` of the newest."""
        o = self._row * CAPACITY
        ts = self._block.ts
        return bisect_left(ts, ts[o + self.n - 1] - span_ms, o, o + self.n) - o

    def recent(self, span_ms: float) -> tuple[list[int], list[float]]:
        """The samples within `span_ms` of the newest as lists (the fits' input): times
        as ms after `base_ms`, and values."""
        n = self.n
        if n == 0:
            return [], []
        o = self._row * CAPACITY
        b = self._block
        start = o + self._start(span_ms)
        return b.ts[start : o + n].tolist(), b.vs[start : o + n].tolist()

    def last(self, span_ms: float) -> tuple[I32, F64]:
        """Views of the samples within `span_ms` of the newest (no copies): times as ms
        after `base_ms`, and values, as numpy arrays."""
        b, n = self._block, self.n
        o = self._row * CAPACITY
        start = self._start(span_ms) if n else 0
        ts: I32 = np.frombuffer(b.ts, dtype=np.int32, count=n - start, offset=4 * (o + start))
        vs: F64 = np.frombuffer(b.vs, dtype=np.float64, count=n - start,
                                offset=8 * (o + start))
        return ts, vs

    def to_lists(self) -> tuple[list[int], list[float]]:
        b, n = self._block, self.n
        o = self._row * CAPACITY
        base = self.base_ms
        return [base + t for t in b.ts[o : o + n]], b.vs[o : o + n].tolist()

    def load(self, ts: list[int], vs: list[float]) -> None:
        """Refill from a snapshot (keeping the newest points if there are too many)."""
        pairs = sorted(zip(ts, vs, strict=True))[-CAPACITY:]
        if pairs:
            newest = pairs[-1][0]
            pairs = [p for p in pairs if newest - p[0] <= MAX_SPAN_MS]
        b, row = self._block, self._row
        o = row * CAPACITY
        self.n = len(pairs)
        if not pairs:
            return
        base = pairs[0][0]
        b.base[row] = base
        for i, (t, v) in enumerate(pairs):
            b.ts[o + i] = t - base
            b.vs[o + i] = v


# --- cold path: the samples in a sensor's snapshot entry ---------------------------------
# Read untyped: compiled, `sensor.window` would be checked to be this very class, and the
# tests run the engine with the numpy window of before in its place.
_window_of: Final = attrgetter("window")


def dump(sensor: SensorState) -> list[list[Any]] | None:
    window: Any = _window_of(sensor)
    return list(window.to_lists()) if window is not None and len(window) else None


def load(sensor: SensorState, saved: list[list[Any]] | None) -> None:
    window: Any = _window_of(sensor)
    if window is not None and saved is not None:
        ts, vs = saved
        window.load(ts, vs)


def _holds(sensor: SensorState, rule: str) -> bool | None:
    return None  # samples, not a condition


KIND: Final[SensorKind] = SensorKind("window", ("window",), dump, load, _holds)
