"""The sample window behind rate and trend: subsampling, late readings, capacity."""

from __future__ import annotations

import itertools

from hazmon.rules.window import CAPACITY, SampleWindow


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
