"""Alarm ids: 26 chars of Crockford base32, sortable by time, unique within a ms."""

from __future__ import annotations

from itertools import count

from hazmon.alerts.ulid import CROCKFORD, UlidFactory, decode_time, encode, is_ulid
from tests.alerts.support import T0


def counter_bytes() -> UlidFactory:
    n = count()
    return UlidFactory(lambda k: next(n).to_bytes(k, "big"))


def test_shape_and_time_round_trip() -> None:
    uid = UlidFactory().new(T0)
    assert len(uid) == 26
    assert is_ulid(uid)
    assert set(uid) <= set(CROCKFORD)
    assert decode_time(uid) == T0


def test_known_value() -> None:
    assert encode(0, 0) == "0" * 26
    assert encode(1, 0) == "0000000001" + "0" * 16
    assert encode((1 << 48) - 1, (1 << 80) - 1) == "7" + "Z" * 25


def test_sorted_by_time_and_monotonic_within_a_millisecond() -> None:
    f = counter_bytes()
    ids = [f.new(T0), f.new(T0), f.new(T0), f.new(T0 + 1), f.new(T0 + 1000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


def test_injected_randomness_makes_ids_reproducible() -> None:
    assert counter_bytes().new(T0) == counter_bytes().new(T0)
