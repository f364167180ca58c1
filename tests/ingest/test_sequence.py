"""SequenceTracker: per-gateway `seq` (CONTRACT §3): gaps recorded, repeats duplicates."""

from __future__ import annotations

from hazmon.ingest.sequence import Gap, SeqStatus, SequenceTracker
from tests.support import ENT, ENT2


def feed(t: SequenceTracker, seqs: list[int], ent: str = ENT, now: int = 0) -> list[SeqStatus]:
    return [t.observe(ent, s, now) for s in seqs]


def test_first_then_next() -> None:
    t = SequenceTracker()
    assert feed(t, [10, 11, 12]) == [SeqStatus.FIRST, SeqStatus.NEXT, SeqStatus.NEXT]
    assert t.gap_batches == 0
    assert t.duplicates == 0
    assert list(t.gaps) == []


def test_first_may_be_any_number() -> None:
    t = SequenceTracker()
    assert feed(t, [0, 1]) == [SeqStatus.FIRST, SeqStatus.NEXT]
    t2 = SequenceTracker()
    assert feed(t2, [123_456, 123_457]) == [SeqStatus.FIRST, SeqStatus.NEXT]


def test_gap_is_recorded() -> None:
    t = SequenceTracker()
    t.observe(ENT, 10, 1_000)
    assert t.observe(ENT, 14, 2_000) is SeqStatus.GAP
    assert list(t.gaps) == [Gap(ENT, 10, 14, 2_000)]
    assert t.gaps[-1].missing == 3
    assert t.gap_batches == 3
    # the gap's upper end is now the newest
    assert t.observe(ENT, 15, 3_000) is SeqStatus.NEXT
    assert t.observe(ENT, 17, 4_000) is SeqStatus.GAP
    assert list(t.gaps) == [Gap(ENT, 10, 14, 2_000), Gap(ENT, 15, 17, 4_000)]
    assert t.gap_batches == 4


def test_gaps_kept_is_bounded() -> None:
    t = SequenceTracker(gaps_kept=2)
    feed(t, [0, 2, 4, 6])
    assert [(g.after_seq, g.before_seq) for g in t.gaps] == [(2, 4), (4, 6)]
    assert t.gap_batches == 3  # the count is not bounded


def test_duplicates_within_the_window() -> None:
    t = SequenceTracker()
    assert feed(t, [5, 6, 7]) == [SeqStatus.FIRST, SeqStatus.NEXT, SeqStatus.NEXT]
    assert feed(t, [7, 5, 6, 7]) == [SeqStatus.DUPLICATE] * 4
    assert t.duplicates == 4
    # duplicates do not move the newest
    assert t.observe(ENT, 8, 0) is SeqStatus.NEXT


def test_repeat_of_the_first_is_a_duplicate() -> None:
    t = SequenceTracker()
    assert feed(t, [3, 3]) == [SeqStatus.FIRST, SeqStatus.DUPLICATE]


def test_late_fill_of_a_gap_then_its_repeat_is_a_duplicate() -> None:
    t = SequenceTracker()
    assert feed(t, [1, 5]) == [SeqStatus.FIRST, SeqStatus.GAP]
    assert feed(t, [3, 2, 4]) == [SeqStatus.LATE] * 3
    assert feed(t, [3, 2, 4]) == [SeqStatus.DUPLICATE] * 3
    assert t.duplicates == 3
    # a late fill does not move the newest
    assert t.observe(ENT, 6, 0) is SeqStatus.NEXT


def test_older_than_first_within_window_is_late() -> None:
    t = SequenceTracker(window=100)
    assert feed(t, [50, 20, 20]) == [SeqStatus.FIRST, SeqStatus.LATE, SeqStatus.DUPLICATE]


def test_reset_when_far_below_the_newest() -> None:
    t = SequenceTracker(window=10)
    feed(t, list(range(100, 121)))
    assert t.observe(ENT, 109, 0) is SeqStatus.RESET  # 120 - 109 = 11 > window
    # counting goes on from the new number, and the old ones are forgotten
    assert feed(t, [110, 111]) == [SeqStatus.NEXT, SeqStatus.NEXT]
    assert t.observe(ENT, 110, 0) is SeqStatus.DUPLICATE
    assert t.observe(ENT, 120, 0) is SeqStatus.GAP
    assert t.gaps[-1] == Gap(ENT, 111, 120, 0)


def test_restart_at_zero_is_a_reset_not_a_flood_of_duplicates() -> None:
    t = SequenceTracker(window=4096)
    feed(t, list(range(10_000, 10_010)))
    assert feed(t, [0, 1, 2]) == [SeqStatus.RESET, SeqStatus.NEXT, SeqStatus.NEXT]
    assert t.duplicates == 0


def test_at_the_window_edge_it_is_still_late_not_reset() -> None:
    t = SequenceTracker(window=10)
    feed(t, [100])
    assert t.observe(ENT, 90, 0) is SeqStatus.LATE  # 100 - 90 == window
    assert t.observe(ENT, 89, 0) is SeqStatus.RESET


def test_enterprises_are_independent() -> None:
    t = SequenceTracker()
    assert t.observe(ENT, 1, 0) is SeqStatus.FIRST
    assert t.observe(ENT2, 1, 0) is SeqStatus.FIRST  # not a duplicate of ENT's 1
    assert t.observe(ENT2, 5, 7) is SeqStatus.GAP
    assert t.observe(ENT, 2, 0) is SeqStatus.NEXT  # ENT2's gap is not ENT's
    assert list(t.gaps) == [Gap(ENT2, 1, 5, 7)]
    assert t.observe(ENT2, 1, 0) is SeqStatus.DUPLICATE
    assert t.observe(ENT, 3, 0) is SeqStatus.NEXT


def test_window_evicts_the_oldest_numbers() -> None:
    t = SequenceTracker(window=4)
    feed(t, list(range(1, 11)))  # remembers 7, 8, 9, 10
    assert feed(t, [7, 10]) == [SeqStatus.DUPLICATE, SeqStatus.DUPLICATE]
    # 6 was seen but has left the window: no longer known as a duplicate
    assert t.observe(ENT, 6, 0) is SeqStatus.LATE
    # remembering 6 evicted 7
    assert t.observe(ENT, 7, 0) is SeqStatus.LATE


def test_gap_fill_memory_is_bounded_by_the_window() -> None:
    t = SequenceTracker(window=3)
    feed(t, [1, 2, 3, 4, 5])
    assert t.observe(ENT, 5, 0) is SeqStatus.DUPLICATE
    feed(t, [6, 7, 8])
    assert t.observe(ENT, 5, 0) is SeqStatus.LATE
