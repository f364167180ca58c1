"""Sortable unique alarm ids: ULID layout (48-bit ms time + 80 random bits, 26 chars of
Crockford base32). Time and randomness are injected, so ids are reproducible in tests."""

from __future__ import annotations

import os
from collections.abc import Callable

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_MAX_TIME = (1 << 48) - 1
_MAX_RAND = (1 << 80) - 1


def encode(ts_ms: int, rand: int) -> str:
    if not 0 <= ts_ms <= _MAX_TIME:
        raise ValueError(f"ULID time out of range: {ts_ms}")
    value = (ts_ms << 80) | (rand & _MAX_RAND)
    chars = []
    for _ in range(26):
        chars.append(CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def decode_time(ulid: str) -> int:
    """The millisecond time an id was made at."""
    value = 0
    for ch in ulid[:10].upper():
        value = (value << 5) | CROCKFORD.index(ch)
    return value  # 10 chars carry 50 bits: 2 zero bits of padding, then the 48-bit time


def is_ulid(text: str) -> bool:
    return len(text) == 26 and text[0] in "01234567" and all(c in CROCKFORD for c in text)


class UlidFactory:
    """Makes ids that sort in creation order, also within one millisecond (monotonic
    ULID: the random part is incremented instead of redrawn when time does not move)."""

    def __init__(self, randbytes: Callable[[int], bytes] = os.urandom) -> None:
        self._randbytes = randbytes
        self._last_ts = -1
        self._last_rand = 0

    def new(self, ts_ms: int) -> str:
        if ts_ms == self._last_ts and self._last_rand < _MAX_RAND:
            rand = self._last_rand + 1  # same ms: stay above the previous id
        else:
            rand = int.from_bytes(self._randbytes(10), "big")
        self._last_ts, self._last_rand = ts_ms, rand
        return encode(ts_ms, rand)
