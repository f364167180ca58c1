"""What the warning rounds know of the alarm store, kept between rounds: the open alarms
and the raises within the repeated-alarms window (`gather.Observations`).

A round reads only the occurrences written since the previous round (the store's change
feed, `AlarmStore.changed_since`), not every open alarm and a day of raises again. The
first round reads everything (a restart finds what the store holds), and so does a round
every `resync_ms`: the safety net for anything the feed could miss.

What the feed could miss: on PostgreSQL with several instances, a transaction of another
instance can commit a history id below one already read. Each round therefore reads again
from the mark of the round before the last (one round of overlap), which catches any
such write shorter than a round; the periodic full read catches the rest. Within one
instance writers take turns, so ids commit in order.
"""

from __future__ import annotations

from dataclasses import dataclass

from hazmon.alerts.lifecycle import Alarm
from hazmon.alerts.store import MAX_PAGE, AlarmFilter, AlarmStore
from hazmon.warnings.gather import Raise

RESYNC_MS = 15 * 60_000


async def _all(store: AlarmStore, flt: AlarmFilter) -> list[Alarm]:
    out: list[Alarm] = []
    cursor: str | None = None
    while True:
        page = await store.query(flt, limit=MAX_PAGE, cursor=cursor)
        out.extend(page.items)
        if page.next_cursor is None:
            return out
        cursor = page.next_cursor


@dataclass(frozen=True, slots=True)
class Read:
    """What one refresh read: a full read or the changes, and how many occurrences."""

    full: bool
    alarms: int


class AlarmView:
    """`await view.refresh(now)` once a round, then `open_alarms` and `raises()`.

    `window_ms`: how far back the raises reach (0: none kept, none read)."""

    def __init__(self, store: AlarmStore, window_ms: int, *,
                 resync_ms: int = RESYNC_MS) -> None:
        self.store = store
        self.window_ms = window_ms
        self.resync_ms = resync_ms
        self._open: dict[str, Alarm] = {}
        self._raises: dict[str, Raise] = {}  # by occurrence id
        self._open_list: list[Alarm] = []
        self._marks: tuple[int, int] | None = None  # (the round before last's, the last's)
        self._full_at: int | None = None
        self.last_read: Read | None = None

    @property
    def open_alarms(self) -> list[Alarm]:
        """Newest first, as the store lists them."""
        return self._open_list

    def raises(self, now: int) -> list[Raise]:
        """The first activations at or after `now - window_ms`, newest occurrence first."""
        since = now - self.window_ms
        return [r for _, r in sorted(self._raises.items(), reverse=True) if r.at_ms >= since]

    async def refresh(self, now: int) -> Read:
        """Bring the view up to the store. On a failure (the database away) the view is
        left as it was and the next refresh reads the same changes again."""
        if self._marks is None or self._full_at is None or now - self._full_at >= self.resync_ms:
            read = await self._full(now)
        else:
            read = await self._changes(now, self._marks)
        self._open_list = sorted(self._open.values(), key=lambda a: a.id, reverse=True)
        self.last_read = read
        return read

    async def _full(self, now: int) -> Read:
        mark = await self.store.change_mark()  # before the reads: nothing after it is lost
        open_alarms = await _all(self.store, AlarmFilter(open=True))
        recent = (await _all(self.store, AlarmFilter(since_ms=now - self.window_ms))
                  if self.window_ms else [])
        self._open = {a.id: a for a in open_alarms}
        self._raises = {}
        self._keep_raises(recent, now)
        self._marks, self._full_at = (mark, mark), now
        return Read(True, len(open_alarms) + len(recent))

    async def _changes(self, now: int, marks: tuple[int, int]) -> Read:
        mark = await self.store.change_mark()
        changed = await self.store.changed_since(marks[0])
        for a in changed:
            if a.is_open:
                self._open[a.id] = a
            else:
                self._open.pop(a.id, None)
        self._keep_raises(changed, now)
        since = now - self.window_ms
        self._raises = {k: r for k, r in self._raises.items() if r.at_ms >= since}
        self._marks = (marks[1], mark)
        return Read(False, len(changed))

    def _keep_raises(self, alarms: list[Alarm], now: int) -> None:
        if not self.window_ms:
            return
        since = now - self.window_ms
        for a in alarms:
            if a.tag is not None and a.raised_at_ms is not None and a.raised_at_ms >= since:
                self._raises[a.id] = Raise(a.enterprise, a.hazard_source, a.tag,
                                           a.raised_at_ms)
