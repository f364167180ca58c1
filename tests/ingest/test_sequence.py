"""SequenceTracker: duplicates by content, gaps by `seq`, no reading lost to a number."""

from __future__ import annotations

import pytest

from hazmon.domain.reading import Reading
from hazmon.domain.registry import Registry
from hazmon.ingest.sequence import Gap, SeqStatus, SequenceTracker
from tests.support import ENT, ENT2

BASE_MS = 1_795_312_800_000
TAG = "MHS-01.T101.LT01"
S = SeqStatus


class Feed:
    """Batches numbered `seq`, each with its own reading at time `k` (default: seq)."""

    def __init__(self, t: SequenceTracker, registry: Registry) -> None:
        self.t = t
        self.registry = registry

    def one(self, seq: int | None, k: int, ent: str = ENT, now: int = 0) -> SeqStatus:
        tag = TAG if ent == ENT else "MHS-02.V201.TT01"
        info = self.registry.sensors[(ent, tag)]
        return self.t.observe(ent, seq, [Reading(info, BASE_MS + k * 1000, float(k))], now)

    def seqs(self, seqs: list[int], ks: list[int] | None = None, ent: str = ENT,
             now: int = 0) -> list[SeqStatus]:
        return [self.one(s, k, ent, now) for s, k in zip(seqs, ks or seqs, strict=True)]


@pytest.fixture
def f(registry: Registry) -> Feed:
    return Feed(SequenceTracker(), registry)


def test_first_then_next(f: Feed) -> None:
    assert f.seqs([10, 11, 12]) == [S.FIRST, S.NEXT, S.NEXT]
    assert f.t.missing == 0
    assert f.t.duplicates == 0


def test_gap_is_recorded_with_its_range(f: Feed) -> None:
    assert f.one(10, 10, now=1_000) is S.FIRST
    assert f.one(14, 14, now=2_000) is S.GAP
    assert f.t.open_gaps(ENT) == [Gap(ENT, 11, 13, 2_000)]
    assert f.t.missing == 3
    assert f.seqs([15, 17], now=4_000) == [S.NEXT, S.GAP]
    assert [g.label() for g in f.t.open_gaps(ENT)] == ["11–13", "16"]
    assert f.t.counts(ENT) == {"opened": 4, "filled": 0, "missing": 4}


def test_early_reboot_counts_from_the_new_number_and_loses_nothing(f: Feed) -> None:
    """The bug of issue 12: 1..1000, then the gateway restarts at 1 — its new batches
    carry newer readings and must all be taken, not dropped as 'duplicates'."""
    f.seqs(list(range(1, 1001)))
    assert f.seqs([1, 2, 3], [1001, 1002, 1003]) == [S.RESET, S.NEXT, S.NEXT]
    assert f.t.duplicates == 0
    assert f.t.missing == 0
    # the new counter is tracked: a jump is a gap again
    assert f.one(6, 1006) is S.GAP
    assert [g.label() for g in f.t.open_gaps(ENT)] == ["4–5"]


def test_restart_at_zero_far_below_is_a_reset(f: Feed) -> None:
    f.seqs(list(range(10_000, 10_010)), list(range(10)))
    assert f.seqs([0, 1, 2], [10, 11, 12]) == [S.RESET, S.NEXT, S.NEXT]


def test_the_same_readings_again_are_a_duplicate_whatever_their_number(
    f: Feed, registry: Registry
) -> None:
    f.seqs([5, 6, 7])
    assert f.seqs([7, 5, 6]) == [S.DUPLICATE] * 3
    # a redelivery with no seq, or a resend under a new number, is the same data
    assert f.one(None, 6) is S.DUPLICATE
    assert f.t.duplicates == 4
    assert f.one(8, 6) is S.DUPLICATE
    assert f.one(9, 9) is S.NEXT  # the resend's number was counted as received
    assert f.t.missing == 0
    assert f.one(7, 7) is S.DUPLICATE  # a redelivery never moves the counter back
    assert f.one(10, 10) is S.NEXT


def test_new_values_at_times_seen_before_are_not_duplicates(registry: Registry) -> None:
    """A gateway whose clock went back sends new values at old times: the rules must
    see them (InfluxDB will keep one per time, but that is not a reason to drop them)."""
    t = SequenceTracker()
    info = registry.sensors[(ENT, TAG)]
    assert t.observe(ENT, 1, [Reading(info, BASE_MS, 1.0)], 0) is S.FIRST
    assert t.observe(ENT, 2, [Reading(info, BASE_MS, 2.0)], 0) is S.NEXT
    assert t.observe(ENT, 3, [Reading(info, BASE_MS, 2.0)], 0) is S.DUPLICATE
    assert t.duplicates == 1


def test_a_reused_number_with_new_older_readings_is_stored(f: Feed) -> None:
    f.seqs([1, 2, 3], [10, 11, 12])
    # not newer than what was seen, not in a gap: neither late nor a reset, but new data
    assert f.one(2, 5) is S.RESENT
    assert f.one(4, 13) is S.NEXT  # the counter stayed at 3


def test_reordered_burst_fills_its_gaps(f: Feed) -> None:
    assert f.seqs([1, 2, 6, 4, 3, 5, 7]) == [
        S.FIRST, S.NEXT, S.GAP, S.LATE, S.LATE, S.LATE, S.NEXT]
    assert f.t.missing == 0
    assert f.t.counts(ENT) == {"opened": 3, "filled": 3, "missing": 0}
    assert f.seqs([4, 3]) == [S.DUPLICATE, S.DUPLICATE]


def test_late_fill_splits_a_gap(f: Feed) -> None:
    f.seqs([1, 10])
    assert f.one(5, 5) is S.LATE
    assert [g.label() for g in f.t.open_gaps(ENT)] == ["2–4", "6–9"]
    assert f.seqs([2, 4, 9]) == [S.LATE] * 3
    assert [g.label() for g in f.t.open_gaps(ENT)] == ["3", "6–8"]


def test_in_a_gap_but_newer_than_everything_is_a_reset_not_a_fill(f: Feed) -> None:
    f.seqs([1, 10])  # gap 2..9
    # the gateway rebooted and starts at 3: newer readings, not the old batch 3
    assert f.one(3, 20) is S.RESET
    assert [g.label() for g in f.t.open_gaps(ENT)] == ["2–9"]
    assert f.one(4, 21) is S.NEXT


def test_online_status_makes_the_next_lower_number_a_reset(f: Feed) -> None:
    f.seqs([1, 2, 3], [10, 11, 12])
    f.t.expect_reset(ENT)
    # rebooted, sending its stored backlog first: older readings, yet a new counter
    assert f.one(1, 5) is S.RESET
    assert f.one(2, 6) is S.NEXT
    assert f.one(1, 4) is S.RESENT  # the expectation is spent by one batch


def test_online_status_then_the_next_number_is_just_next(f: Feed) -> None:
    f.seqs([1, 2])
    f.t.expect_reset(ENT)
    assert f.seqs([3, 1], [3, 0]) == [S.NEXT, S.RESENT]


def test_batches_without_seq_are_deduplicated_and_counted_nowhere(f: Feed) -> None:
    assert f.one(None, 1) is S.UNNUMBERED
    assert f.one(None, 1) is S.DUPLICATE
    assert f.one(1, 2) is S.FIRST


def test_an_empty_batch_is_never_a_duplicate(registry: Registry) -> None:
    t = SequenceTracker()
    assert t.observe(ENT, 1, [], 0) is S.FIRST
    assert t.observe(ENT, 2, [], 0) is S.NEXT
    assert t.duplicates == 0


def test_enterprises_are_independent(f: Feed) -> None:
    assert f.one(1, 1) is S.FIRST
    assert f.one(1, 1, ent=ENT2) is S.FIRST
    assert f.one(5, 5, ent=ENT2, now=7) is S.GAP
    assert f.one(2, 2) is S.NEXT
    assert f.t.open_gaps(ENT) == []
    assert f.t.open_gaps(ENT2) == [Gap(ENT2, 2, 4, 7)]
    assert list(f.t.gapped()) == [ENT2]


def test_content_memory_is_bounded_by_the_window(registry: Registry) -> None:
    f = Feed(SequenceTracker(window=3), registry)
    f.seqs([1, 2, 3, 4])  # remembers the content of 2, 3, 4
    assert f.one(2, 2) is S.DUPLICATE
    # 1 has left the window: taken again (stored again, which only overwrites itself)
    assert f.one(1, 1) is S.RESENT


def test_open_gaps_kept_is_bounded(registry: Registry) -> None:
    f = Feed(SequenceTracker(gaps_kept=2), registry)
    f.seqs([0, 2, 4, 6])
    assert [g.label() for g in f.t.open_gaps(ENT)] == ["3", "5"]
    assert f.t.counts(ENT)["opened"] == 3  # the total is not bounded


def test_snapshot_and_restore_keep_the_gaps(f: Feed, registry: Registry) -> None:
    f.seqs([1, 5], now=100)
    f.one(3, 3)
    snap = f.t.snapshot()
    again = Feed(SequenceTracker(), registry)
    again.t.restore(snap, clean=True)
    assert again.t.open_gaps(ENT) == [Gap(ENT, 2, 2, 100), Gap(ENT, 4, 4, 100)]
    assert again.t.counts(ENT) == {"opened": 3, "filled": 1, "missing": 2}
    assert again.one(4, 4) is S.LATE
    assert again.one(8, 8) is S.GAP


def test_after_an_unclean_stop_the_first_jump_opens_no_gap(f: Feed, registry: Registry) -> None:
    """The snapshot may predate batches taken just before a crash (stored, acknowledged,
    never redelivered): the first batch after it must not report them missing."""
    f.seqs([1, 2])
    snap = f.t.snapshot()
    again = Feed(SequenceTracker(), registry)
    again.t.restore(snap, clean=False)
    assert again.seqs([9, 10, 12]) == [S.RESUMED, S.NEXT, S.GAP]
    assert [g.label() for g in again.t.open_gaps(ENT)] == ["11"]
