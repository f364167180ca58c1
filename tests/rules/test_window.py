"""The sample window behind rate and trend: subsampling, late readings, capacity."""

from __future__ import annotations

import itertools

import numpy as np

from hazmon.rules.window import CAPACITY, MAX_SPAN_MS, SampleWindow, WindowPool


def test_subsamples_to_the_spacing_and_keeps_the_newest() -> None:
    w = SampleWindow(600_000)  # spacing 10 s
    appended = [w.add(t * 1000, float(t)) for t in range(0, 3600)]
    ts, vs = w.to_lists()
    assert len(ts) == CAPACITY
    assert ts[-1] == 3_599_000
    assert vs[-1] == 3599.0
    gaps = {b - a for a, b in itertools.pairwise(ts)}
    assert gaps <= {10_000, 9_000}  # the last gap may be short
    assert sum(appended) < 3600 / 9  # about one evaluation per spacing


def test_every_reading_gets_a_slot_when_sparse() -> None:
    w = SampleWindow(60_000)  # spacing 1 s
    assert all(w.add(t * 5000, 1.0) for t in range(10))
    assert len(w) == 10


def test_last_selects_the_span() -> None:
    w = SampleWindow(60_000)
    for t in range(100):
        w.add(t * 1000, float(t))
    ts, vs = w.last(10_000)
    assert list(ts) == [float(t * 1000) for t in range(89, 100)]
    assert list(vs) == [float(t) for t in range(89, 100)]


def test_late_readings_fill_gaps_in_order() -> None:
    w = SampleWindow(600_000)
    w.add(0, 0.0)
    w.add(60_000, 6.0)
    assert w.add(30_000, 3.0) is False  # late: never an evaluation moment
    w.add(35_000, 3.5)  # within the spacing of its neighbour: dropped
    assert w.to_lists() == ([0, 30_000, 60_000], [0.0, 3.0, 6.0])


def test_late_reading_when_full() -> None:
    w = SampleWindow(60_000)  # spacing 1 s
    for t in range(10, 138, 2):
        w.add(t * 1000, float(t))
    assert len(w) == CAPACITY
    assert w.to_lists()[0][0] == 10_000
    w.add(1000, 1.0)  # older than everything kept: dropped
    assert w.to_lists()[0][0] == 10_000
    w.add(63_000, 63.0)  # fills a gap; the oldest slot makes room
    ts, _ = w.to_lists()
    assert len(ts) == CAPACITY
    assert ts[0] == 12_000
    assert 63_000 in ts
    assert ts == sorted(ts)


def test_load_roundtrip() -> None:
    w = SampleWindow(60_000)
    for t in range(5):
        w.add(t * 1000, t * 2.0)
    v = SampleWindow(60_000)
    v.load(*w.to_lists())
    assert v.to_lists() == w.to_lists()


def test_windows_of_a_pool_are_rows_of_shared_arrays() -> None:
    pool = WindowPool(rows_per_block=3)
    windows = [SampleWindow(60_000, pool) for _ in range(5)]
    for i, w in enumerate(windows):
        for t in range(4):
            w.add(1_795_312_800_000 + t * 1000, float(10 * i + t))
    for i, w in enumerate(windows):  # no window sees another's samples
        assert w.to_lists() == (
            [1_795_312_800_000 + t * 1000 for t in range(4)],
            [float(10 * i + t) for t in range(4)],
        )
    assert windows[0]._block is windows[2]._block
    assert windows[3]._block is not windows[0]._block  # a new block after three rows


def test_times_are_int32_offsets_from_the_base_and_exact() -> None:
    t0 = 1_795_312_800_123  # epoch ms far beyond int32
    w = SampleWindow(60_000)
    for t in range(10):
        w.add(t0 + t * 1500, float(t))
    ts, _vs = w.last(60_000)
    assert ts.dtype == np.int32
    assert w.base_ms == t0
    assert [w.base_ms + int(t) for t in ts] == [t0 + t * 1500 for t in range(10)]
    assert w.newest_ms == t0 + 9 * 1500


def test_a_gap_longer_than_int32_drops_what_no_rule_looks_back_to() -> None:
    t0 = 1_795_312_800_000
    w = SampleWindow(600_000)
    for t in range(5):
        w.add(t0 + t * 10_000, float(t))
    later = t0 + 30 * 86_400_000  # a month offline, then back
    assert w.add(later, 9.0) is True
    assert w.to_lists() == ([later], [9.0])
    assert w.base_ms == later
    assert w.add(later + 10_000, 9.5) is True
    assert w.to_lists() == ([later, later + 10_000], [9.0, 9.5])


def test_a_gap_just_within_int32_keeps_both_ends() -> None:
    t0 = 1_795_312_800_000
    w = SampleWindow(600_000)
    w.add(t0, 1.0)
    w.add(t0 + 10_000, 2.0)
    far = t0 + 10_000 + MAX_SPAN_MS  # newest − oldest is then just over the span
    w.add(far, 3.0)
    assert w.to_lists() == ([t0 + 10_000, far], [2.0, 3.0])
    assert w.base_ms == t0 + 10_000
    ts, _ = w.last(float(MAX_SPAN_MS))
    assert int(ts[-1]) - int(ts[0]) == MAX_SPAN_MS


def test_a_late_reading_before_the_base_moves_the_base() -> None:
    t0 = 1_795_312_800_000
    w = SampleWindow(600_000)
    w.add(t0, 1.0)
    w.add(t0 + 60_000, 2.0)
    w.add(t0 - 30_000, 0.5)  # late and older than the oldest: fills the past
    assert w.to_lists() == ([t0 - 30_000, t0, t0 + 60_000], [0.5, 1.0, 2.0])
    assert w.base_ms == t0 - 30_000
    w.add(t0 - 40 * 86_400_000, 0.1)  # older than any window looks back: dropped
    assert w.to_lists() == ([t0 - 30_000, t0, t0 + 60_000], [0.5, 1.0, 2.0])


def test_load_keeps_absolute_times_and_drops_the_unreachable() -> None:
    t0 = 1_795_312_800_000
    w = SampleWindow(600_000)
    w.load([t0 - 40 * 86_400_000, t0, t0 + 10_000], [1.0, 2.0, 3.0])
    assert w.to_lists() == ([t0, t0 + 10_000], [2.0, 3.0])
    assert w.add(t0 + 20_000, 4.0) is True
    assert w.newest_ms == t0 + 20_000
