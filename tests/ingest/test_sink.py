"""InfluxSink with a fake InfluxClient: batching, durability before acks, spool, back-pressure."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import cast

import pytest

from hazmon.core.metrics import Metrics
from hazmon.ingest.influx import InfluxClient, InfluxRejected, InfluxUnavailable
from hazmon.ingest.settings import InfluxSettings
from hazmon.ingest.sink import InfluxSink
from hazmon.ingest.spool import Spool

WAIT_S = 3.0  # upper bound only: every wait below ends as soon as its condition holds


class FakeInflux:
    """Stands in for InfluxClient.write: succeeds, is down, or refuses, as the test says."""

    def __init__(self) -> None:
        self.mode = "ok"  # ok | down | reject
        self.bodies: list[bytes] = []  # bodies written successfully, in order
        self.attempts: list[bytes] = []  # every call, whatever the outcome
        self.gate: asyncio.Event | None = None  # when set to an unset event, writes wait
        self.on_write: Callable[[bytes], None] | None = None

    async def write(self, body: bytes) -> None:
        self.attempts.append(body)
        if self.on_write is not None:
            self.on_write(body)
        if self.gate is not None:
            await self.gate.wait()
        if self.mode == "down":
            raise InfluxUnavailable("connection refused")
        if self.mode == "reject":
            raise InfluxRejected("InfluxDB refused the data: bad line")
        self.bodies.append(body)

    def lines(self) -> list[str]:
        return b"".join(self.bodies).decode().splitlines()


class Harness:
    def __init__(self, tmp_path: Path, **settings: int | float) -> None:
        defaults: dict[str, int | float] = dict(
            batch_size=3, queue_batches=4, flush_interval_s=0.01, retry_min_s=0.01,
            retry_max_s=0.02, drain_batch_lines=3,
        )
        defaults.update(settings)
        self.settings = InfluxSettings.model_validate(defaults)
        self.fake = FakeInflux()
        self.spool = Spool(tmp_path / "spool", 10_000_000)
        self.metrics = Metrics()
        self.dead_letter = tmp_path / "dead.lp"
        self.sink = InfluxSink(
            cast(InfluxClient, self.fake), self.spool, self.settings, self.metrics,
            self.dead_letter,
        )
        self.acked: list[str] = []
        self.task: asyncio.Task[None] | None = None

    def ack(self, name: str) -> Callable[[], None]:
        return lambda: self.acked.append(name)

    async def put(self, name: str, lines: list[str]) -> None:
        await self.sink.put(lines, self.ack(name))

    def start(self) -> None:
        self.task = asyncio.create_task(self.sink.run())

    async def stop(self) -> None:
        self.sink.stop()
        if self.task is not None:
            await asyncio.wait_for(self.task, WAIT_S)


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    harness = Harness(tmp_path)
    yield harness
    if harness.fake.gate is not None:
        harness.fake.gate.set()
    harness.fake.mode = "ok"
    await harness.stop()


async def until(cond: Callable[[], bool], what: str = "condition") -> None:
    """Let the writer run until `cond` holds (polling, so no sleeping beyond what it takes)."""
    deadline = asyncio.get_running_loop().time() + WAIT_S
    while asyncio.get_running_loop().time() < deadline:
        if cond():
            return
        await asyncio.sleep(0.001)
    raise AssertionError(f"timed out waiting for {what}")


def lines(prefix: str, n: int) -> list[str]:
    return [f"m,t={prefix} v={i} {i}" for i in range(n)]


def body_of(*groups: list[str]) -> bytes:
    return "".join(line + "\n" for g in groups for line in g).encode()


# --- writes and acks ----------------------------------------------------------------------


async def test_acks_run_after_the_write_in_order(h: Harness) -> None:
    h.fake.gate = asyncio.Event()
    await h.put("a", lines("a", 1))
    await h.put("b", lines("b", 1))
    await h.put("c", lines("c", 1))
    h.start()
    await until(lambda: len(h.fake.attempts) == 1, "the write")
    for _ in range(5):
        await asyncio.sleep(0)
    assert h.acked == []  # the write is still in flight
    h.fake.gate.set()
    await until(lambda: len(h.acked) == 3, "acks")
    assert h.acked == ["a", "b", "c"]
    assert h.fake.bodies == [body_of(lines("a", 1), lines("b", 1), lines("c", 1))]
    assert h.sink.stored.get() == 3
    assert h.sink.pending == 0
    assert h.spool.empty


async def test_a_partial_batch_is_flushed_after_the_interval(h: Harness) -> None:
    h.start()
    await h.put("a", lines("a", 1))  # below batch_size
    await until(lambda: h.acked == ["a"], "the timed flush")
    assert h.fake.bodies == [body_of(lines("a", 1))]


async def test_batches_split_at_batch_size(h: Harness) -> None:
    for i in range(7):
        await h.put(f"m{i}", [f"m v={i} {i}"])
    h.start()
    await until(lambda: len(h.acked) == 7, "acks")
    assert [len(b.splitlines()) for b in h.fake.bodies] == [3, 3, 1]
    assert h.fake.lines() == [f"m v={i} {i}" for i in range(7)]
    assert h.acked == [f"m{i}" for i in range(7)]


async def test_messages_are_not_split_across_batches(h: Harness) -> None:
    await h.put("a", lines("a", 2))
    await h.put("b", lines("b", 2))  # 2 + 2 > batch_size 3: next batch
    await h.put("c", lines("c", 5))  # bigger than a batch: goes alone, whole
    await h.put("d", lines("d", 1))
    h.start()
    await until(lambda: len(h.acked) == 4, "acks")
    assert h.fake.bodies == [
        body_of(lines("a", 2)), body_of(lines("b", 2)), body_of(lines("c", 5)),
        body_of(lines("d", 1)),
    ]


async def test_an_empty_message_is_acked_in_its_place(h: Harness) -> None:
    h.fake.gate = asyncio.Event()
    await h.put("a", lines("a", 1))
    await h.sink.put([], h.ack("dup"))  # a duplicate: nothing to store
    h.start()
    await until(lambda: len(h.fake.attempts) == 1, "the write")
    for _ in range(5):
        await asyncio.sleep(0)
    assert h.acked == []  # not before the message ahead of it is durable
    h.fake.gate.set()
    await until(lambda: len(h.acked) == 2, "acks")
    assert h.acked == ["a", "dup"]
    assert h.fake.bodies == [body_of(lines("a", 1))]


async def test_a_failing_ack_does_not_stop_the_writer(
    h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """An ack that raises (the broker connection just went) is logged; the acks behind it
    in the batch still run, and the writer goes on with the next messages."""
    tried: list[str] = []

    def boom() -> None:
        tried.append("a")
        raise RuntimeError("broker gone")

    await h.sink.put(lines("a", 1), boom)
    await h.put("b", lines("b", 1))
    h.start()
    assert h.task is not None
    await until(lambda: bool(tried), "the failing ack")
    await until(lambda: h.task is not None and (h.task.done() or h.acked == ["b"]),
                "the ack after the failing one, or the writer's end")
    assert not h.task.done(), "the writer stopped on a failing ack"
    assert h.acked == ["b"]  # the ack behind the failing one ran
    assert "acknowledging a message failed" in caplog.text
    await h.put("c", lines("c", 1))
    await until(lambda: h.task is not None and (h.task.done() or h.acked == ["b", "c"]),
                "the next message's ack, or the writer's end")
    assert not h.task.done(), "the writer stopped after a failing ack"
    assert h.acked == ["b", "c"]
    assert tried == ["a"]  # each ack runs once: a failed one is not retried by the writer
    # the data of the message whose ack failed was written all the same
    assert h.fake.lines() == lines("a", 1) + lines("b", 1) + lines("c", 1)


# --- InfluxDB down: the spool -------------------------------------------------------------


async def test_while_down_batches_go_to_the_spool_and_are_acked(h: Harness) -> None:
    h.fake.mode = "down"
    spool_lines_at_ack: list[int] = []
    h.start()
    await h.sink.put(lines("a", 3), lambda: spool_lines_at_ack.append(h.spool.lines))
    await h.sink.put(lines("b", 3), lambda: spool_lines_at_ack.append(h.spool.lines))
    await until(lambda: len(spool_lines_at_ack) == 2, "acks")
    assert spool_lines_at_ack == [3, 6]  # each ack after its lines were in the spool
    assert h.fake.bodies == []
    assert h.fake.attempts  # it did try
    assert h.spool.lines == 6
    assert h.spool.files == 2
    assert h.spool.oldest(100).body == body_of(lines("a", 3), lines("b", 3))
    assert h.sink.up is False
    assert h.sink.spooled.get() == 6
    assert h.sink.write_errors.get() >= 1
    assert h.sink.stored.get() == 0
    assert "hazmon_influx_up 0" in h.metrics.render()
    assert "hazmon_spool_readings 6" in h.metrics.render()


async def test_when_back_the_spool_drains_oldest_first_and_new_data_waits(
    h: Harness,
) -> None:
    h.fake.mode = "down"
    h.start()
    await h.put("a", lines("a", 3))
    await h.put("b", lines("b", 3))
    await until(lambda: h.acked == ["a", "b"], "acks while down")
    assert h.spool.files == 2

    h.fake.gate = asyncio.Event()  # hold the first write after the outage
    h.fake.mode = "ok"
    n = len(h.fake.attempts)
    await until(lambda: len(h.fake.attempts) > n, "a retry")
    assert h.fake.attempts[-1] == body_of(lines("a", 3))  # the oldest first
    await h.put("c", lines("c", 3))  # new data arrives meanwhile
    await h.put("d", lines("d", 1))
    h.fake.gate.set()

    await until(lambda: len(h.fake.lines()) == 10 and len(h.acked) == 4, "everything")
    assert h.fake.lines() == lines("a", 3) + lines("b", 3) + lines("c", 3) + lines("d", 1)
    assert h.fake.bodies[:2] == [body_of(lines("a", 3)), body_of(lines("b", 3))]
    assert h.acked == ["a", "b", "c", "d"]
    await until(lambda: h.spool.empty, "the spool to empty")
    assert h.sink.up is True
    assert h.sink.drained.get() >= 6
    assert h.sink.stored.get() == 10

    # and afterwards writes go straight to InfluxDB again
    spooled = h.sink.spooled.get()
    await h.put("e", lines("e", 3))
    await until(lambda: "e" in h.acked, "ack e")
    assert h.fake.bodies[-1] == body_of(lines("e", 3))
    assert h.sink.spooled.get() == spooled


async def test_drain_groups_spool_files_up_to_drain_batch_lines(tmp_path: Path) -> None:
    h = Harness(tmp_path, drain_batch_lines=4)
    h.fake.mode = "down"
    h.start()
    try:
        await h.put("a", lines("a", 2))
        await until(lambda: h.acked == ["a"], "ack a")
        await h.put("b", lines("b", 2))
        await until(lambda: h.acked == ["a", "b"], "ack b")
        await h.put("c", lines("c", 2))
        await until(lambda: h.acked == ["a", "b", "c"], "ack c")
        assert h.spool.files == 3
        h.fake.mode = "ok"
        await until(lambda: h.spool.empty, "drain")
        assert h.fake.bodies == [
            body_of(lines("a", 2), lines("b", 2)), body_of(lines("c", 2)),
        ]
    finally:
        await h.stop()


async def test_spool_left_from_before_is_drained_first(tmp_path: Path) -> None:
    Spool(tmp_path / "spool", 10_000_000).append(body_of(lines("old", 2)), 2)
    h = Harness(tmp_path)
    await h.put("new", lines("new", 3))
    h.start()
    try:
        await until(lambda: len(h.fake.lines()) == 5, "both")
        assert h.fake.lines() == lines("old", 2) + lines("new", 3)
        assert h.acked == ["new"]
    finally:
        await h.stop()


# --- InfluxDB refuses the data ------------------------------------------------------------


async def test_refused_batches_go_to_the_dead_letter_file_and_are_acked(h: Harness) -> None:
    h.fake.mode = "reject"
    h.start()
    await h.put("a", lines("a", 3))
    await h.put("b", lines("b", 2))
    await until(lambda: h.acked == ["a", "b"], "acks")
    assert h.fake.bodies == []
    assert h.dead_letter.read_bytes() == body_of(lines("a", 3), lines("b", 2))
    assert h.sink.dropped.get() == 2
    assert h.spool.empty  # not retried
    assert h.sink.up is True  # refusing data is not being down

    h.fake.mode = "ok"
    await h.put("c", lines("c", 1))
    await until(lambda: "c" in h.acked, "ack c")
    assert h.fake.bodies == [body_of(lines("c", 1))]


async def test_a_refused_spool_chunk_goes_to_the_dead_letter_file(h: Harness) -> None:
    h.fake.mode = "down"
    h.start()
    await h.put("a", lines("a", 3))
    await until(lambda: h.acked == ["a"], "ack while down")
    h.fake.mode = "reject"
    await until(lambda: h.spool.empty, "the spool to be emptied")
    assert h.dead_letter.read_bytes() == body_of(lines("a", 3))
    assert h.sink.dropped.get() == 1


async def test_refused_without_a_dead_letter_file_is_still_acked(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    h.sink.dead_letter = None
    h.fake.mode = "reject"
    h.start()
    try:
        await h.put("a", lines("a", 3))
        await until(lambda: h.acked == ["a"], "ack")
        assert not h.dead_letter.exists()
    finally:
        await h.stop()


# --- back-pressure ------------------------------------------------------------------------


async def test_put_blocks_when_pending_reaches_max_pending(h: Harness) -> None:
    assert h.sink.max_pending == 12  # batch_size 3 x queue_batches 4
    for i in range(4):
        await h.put(f"m{i}", lines(f"m{i}", 3))
    assert h.sink.pending == 12
    assert "hazmon_ingest_pending_readings 12" in h.metrics.render()

    with pytest.raises(TimeoutError):
        await asyncio.wait_for(h.put("x", lines("x", 1)), 0.05)
    assert h.sink.pending == 12  # the cancelled put added nothing

    blocked = asyncio.create_task(h.put("late", lines("late", 1)))
    for _ in range(5):
        await asyncio.sleep(0)
    assert not blocked.done()

    h.start()  # the writer makes room
    await asyncio.wait_for(blocked, WAIT_S)
    await until(lambda: len(h.acked) == 5, "acks")
    assert h.acked == ["m0", "m1", "m2", "m3", "late"]
    assert h.fake.lines() == [
        *lines("m0", 3), *lines("m1", 3), *lines("m2", 3), *lines("m3", 3), *lines("late", 1),
    ]


async def test_stop_flushes_what_is_pending(h: Harness) -> None:
    h.start()
    await h.put("a", lines("a", 1))
    await h.stop()
    assert h.acked == ["a"]
    assert h.fake.lines() == lines("a", 1)
    assert h.task is not None
    assert h.task.done()
