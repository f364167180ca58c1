"""The rules' numerics as they were before the plain-loop rewrite (numpy on each
window's row, commit fb0785d), kept verbatim as the reference the new code is compared
with: `SampleWindow`/`WindowPool` (numpy rows), `fit_line`, `theil_sen_per_s`,
`rate_per_min`. Only `recent` is added (the name the engine now calls)."""

from __future__ import annotations

import functools
import math
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from hazmon.rules.trend import Fit

CAPACITY: Final = 64
_SLOTS_PER_WINDOW: Final = 60
BLOCK_ROWS: Final = 256
MAX_SPAN_MS: Final = 2**31 - 1
_MIN_SPAN: Final = 0.5

F64 = npt.NDArray[np.float64]
I32 = npt.NDArray[np.int32]
Times = npt.NDArray[Any]


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

    def recent(self, span_ms: float) -> tuple[I32, F64]:
        return self.last(span_ms)

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



def fit_line(ts_ms: Times, values: F64, base_ms: int = 0) -> Fit | None:
    n = len(ts_ms)
    if n < 3:
        return None
    x = (ts_ms - ts_ms[-1]) * 0.001
    dx = x - x.mean()
    sxx = float(dx @ dx)
    if sxx <= 0.0:
        return None
    ym = float(values.mean())
    b = float(dx @ values) / sxx
    level = ym - b * float(x.mean())
    resid = values - (level + b * x)
    s2 = float(resid @ resid) / (n - 2)
    se = math.sqrt(s2 / sxx)
    if se <= 1e-12 * max(1.0, abs(ym)):
        t = 0.0 if b == 0.0 else math.copysign(math.inf, b)
    else:
        t = b / se
    return Fit(n, b, level, t, base_ms + int(ts_ms[-1]))


def theil_sen_per_s(ts_ms: Times, values: F64) -> float:
    dt = np.subtract.outer(ts_ms, ts_ms)
    later = dt > 0
    slopes = np.subtract.outer(values, values)[later] / dt[later]
    return float(np.median(slopes)) * 1000.0


def rate_per_min(window: Any, window_ms: int) -> float | None:
    ts, vs = window.last(window_ms)
    if len(ts) < 3 or ts[-1] - ts[0] < _MIN_SPAN * window_ms:
        return None
    return theil_sen_per_s(ts, vs) * 60.0
