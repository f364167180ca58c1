"""Failed-authentication limit per client address: a sliding one-minute window.

In memory, with an injected clock (tests never sleep). While an address is over the
limit even a valid token is refused: otherwise a guesser could still tell a right token
from a wrong one by the answer. The table is bounded; the stalest addresses go first.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable

WINDOW_MS = 60_000
MAX_ADDRESSES = 10_000


class FailureLimiter:
    def __init__(self, clock: Callable[[], int], per_minute: int = 10,
                 max_addresses: int = MAX_ADDRESSES) -> None:
        self._clock = clock
        self.per_minute = per_minute
        self._max = max_addresses
        self._failures: OrderedDict[str, deque[int]] = OrderedDict()

    def _recent(self, address: str, now: int) -> deque[int] | None:
        times = self._failures.get(address)
        if times is None:
            return None
        while times and times[0] <= now - WINDOW_MS:
            times.popleft()
        if not times:
            del self._failures[address]
            return None
        return times

    def retry_after_s(self, address: str) -> int | None:
        """Seconds until `address` may try again, or None when it may try now."""
        now = self._clock()
        times = self._recent(address, now)
        if times is None or len(times) < self.per_minute:
            return None
        # the window frees a slot when the oldest failure that still counts ages out
        oldest = times[len(times) - self.per_minute]
        return max(1, -(-(oldest + WINDOW_MS - now) // 1000))

    def failed(self, address: str) -> None:
        now = self._clock()
        times = self._recent(address, now)
        if times is None:
            times = self._failures[address] = deque(maxlen=self.per_minute)
            while len(self._failures) > self._max:
                self._failures.popitem(last=False)
        else:
            self._failures.move_to_end(address)
        times.append(now)
